//! The manifest a push sends when its blobs are not the stored ones.

use serde_json::{json, Value};

use super::layer::PushBlob;
use crate::error::{EngineError, Result};
use crate::image::compress::Compression;
use crate::image::reference::is_full_hex_id;
use crate::registry::manifest::{DOCKER_MANIFEST, OCI_CONFIG, OCI_MANIFEST};
use crate::service::image::parts::ImageParts;

pub(super) const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// The media type of stored manifest bytes (their `mediaType`; OCI when absent, as the OCI
/// spec allows).
pub(super) fn manifest_media_type(manifest: &[u8]) -> String {
    serde_json::from_slice::<Value>(manifest)
        .ok()
        .and_then(|v| {
            v.get("mediaType")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| OCI_MANIFEST.to_string())
}

/// A manifest naming the blobs actually pushed: docker schema2 when the image's own manifest is
/// one and every layer is gzip (docker types have no zstd), OCI otherwise.
pub(super) fn build_manifest(
    parts: &ImageParts,
    blobs: &[PushBlob],
    compression: Compression,
) -> Result<(String, Vec<u8>)> {
    let docker = manifest_media_type(&parts.manifest) == DOCKER_MANIFEST
        && compression == Compression::Gzip
        && blobs.iter().all(|b| !b.media_type.contains("zstd"));
    let layer_type = |b: &PushBlob| -> String {
        if !docker || b.as_stored {
            b.media_type.clone()
        } else {
            DOCKER_LAYER_GZIP.to_string()
        }
    };
    let layers: Vec<Value> = blobs
        .iter()
        .map(|b| json!({ "mediaType": layer_type(b), "digest": b.digest, "size": b.size }))
        .collect();
    let (mt, config_type) = if docker {
        (DOCKER_MANIFEST, DOCKER_CONFIG)
    } else {
        (OCI_MANIFEST, OCI_CONFIG)
    };
    let m = json!({
        "schemaVersion": 2,
        "mediaType": mt,
        "config": { "mediaType": config_type, "digest": parts.id, "size": parts.config.len() },
        "layers": layers,
    });
    let bytes = serde_json::to_vec(&m)?;
    if !is_full_hex_id(parts.id.trim_start_matches("sha256:")) {
        return Err(EngineError::internal(format!("bad image id {}", parts.id)));
    }
    Ok((mt.to_string(), bytes))
}
