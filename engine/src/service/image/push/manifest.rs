//! The manifest a push sends when its blobs are not the stored ones.

use super::layer::PushBlob;
use crate::error::{EngineError, Result};
use crate::image::compress::Compression;
use crate::image::reference::is_full_hex_id;
use crate::registry::manifest::{
    descriptor, document_media_type, image_manifest, to_json_bytes, DOCKER_CONFIG,
    DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_CONFIG, OCI_MANIFEST,
};
use crate::service::image::parts::ImageParts;

/// The media type of stored manifest bytes (their `mediaType`; OCI when absent, as the OCI
/// spec allows).
pub(super) fn manifest_media_type(manifest: &[u8]) -> String {
    document_media_type(manifest).unwrap_or_else(|| OCI_MANIFEST.to_string())
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
    if !is_full_hex_id(parts.id.trim_start_matches("sha256:")) {
        return Err(EngineError::internal(format!("bad image id {}", parts.id)));
    }
    let layers = blobs
        .iter()
        .map(|b| descriptor(&layer_type(b), &b.digest, b.size))
        .collect::<Result<Vec<_>>>()?;
    let (mt, config_type) = if docker {
        (DOCKER_MANIFEST, DOCKER_CONFIG)
    } else {
        (OCI_MANIFEST, OCI_CONFIG)
    };
    let config = descriptor(config_type, &parts.id, parts.config.len() as u64)?;
    let bytes = to_json_bytes(&image_manifest(mt, config, layers)?);
    Ok((mt.to_string(), bytes))
}
