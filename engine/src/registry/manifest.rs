//! Manifest media types and the parts of manifests a pull reads. The raw bytes are always kept
//! as received: digests are computed over them, never over a re-serialisation.

use serde::Deserialize;

use crate::error::{EngineError, Result};
use crate::image::import::Platform;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// `Accept` for manifest requests: every format a pull understands.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Manifests and image configs larger than this are refused (docker uses 4 MiB too): they are
/// read into memory.
pub const MAX_MANIFEST_SIZE: usize = 4 << 20;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub platform: Option<DescriptorPlatform>,
    #[serde(default)]
    pub annotations: Option<std::collections::HashMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DescriptorPlatform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
}

/// What a manifest GET returned, parsed by kind.
#[derive(Debug, Clone)]
pub enum ManifestKind {
    /// OCI index or docker manifest list.
    Index(Vec<Descriptor>),
    /// OCI or docker schema2 image manifest.
    Image {
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    #[serde(default)]
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// Parse manifest bytes. The media type comes from the Content-Type header, else from the
/// document's own `mediaType`, else from its shape (OCI documents may omit `mediaType`).
pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<(String, ManifestKind)> {
    let raw: RawManifest = serde_json::from_slice(bytes)
        .map_err(|e| EngineError::invalid(format!("invalid manifest: {e}")))?;
    if raw.schema_version == Some(1) {
        return Err(EngineError::invalid(
            "Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been \
             removed. Suggest the author of the image to push it with a newer registry",
        ));
    }
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim().to_string())
        .filter(|c| [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST].contains(&c.as_str()));
    let media_type = header
        .or(raw.media_type.clone().filter(|m| !m.is_empty()))
        .unwrap_or_else(|| {
            if raw.manifests.is_some() {
                OCI_INDEX.to_string()
            } else {
                OCI_MANIFEST.to_string()
            }
        });
    match media_type.as_str() {
        OCI_INDEX | DOCKER_LIST => {
            let manifests = raw
                .manifests
                .ok_or_else(|| EngineError::invalid("invalid manifest list: no manifests"))?;
            Ok((media_type, ManifestKind::Index(manifests)))
        }
        OCI_MANIFEST | DOCKER_MANIFEST => {
            let config = raw
                .config
                .ok_or_else(|| EngineError::invalid("invalid image manifest: no config"))?;
            let layers = raw.layers.unwrap_or_default();
            for d in std::iter::once(&config).chain(&layers) {
                validate_digest(&d.digest)?;
            }
            Ok((media_type, ManifestKind::Image { config, layers }))
        }
        other => Err(EngineError::invalid(format!(
            "unsupported manifest media type {other}"
        ))),
    }
}

/// Only sha256 digests are accepted: they name blob files in the store.
pub fn validate_digest(d: &str) -> Result<()> {
    match d.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && crate::image::reference::is_lower_hex(hex) => Ok(()),
        _ => Err(EngineError::invalid(format!("invalid digest {d:?}"))),
    }
}

/// Pick the manifest for `want` from an index, the way containerd's platform matcher does: exact
/// architecture and os; a wanted variant must match (arm64 treats a missing variant as v8);
/// without a wanted variant the first entry of the architecture wins. Attestation manifests
/// (`unknown/unknown`) never match.
pub fn select_platform<'a>(entries: &'a [Descriptor], want: &Platform) -> Option<&'a Descriptor> {
    let norm = |arch: &str, v: Option<&str>| -> Option<String> {
        match (arch, v) {
            ("arm64", None) => Some("v8".into()),
            (_, v) => v.map(str::to_string),
        }
    };
    let want_variant = norm(&want.architecture, want.variant.as_deref());
    let candidates = entries.iter().filter(|d| {
        let Some(p) = &d.platform else { return false };
        p.os == "linux" && p.architecture == want.architecture
    });
    let mut first = None;
    for d in candidates {
        let p = d.platform.as_ref().expect("filtered");
        let variant = norm(&p.architecture, p.variant.as_deref());
        if variant == want_variant {
            return Some(d);
        }
        if first.is_none() && (want.variant.is_none() || want.architecture == "arm64") {
            first = Some(d);
        }
    }
    first
}

/// A short human description of the platforms an index offers (for the "no matching manifest"
/// error).
pub fn platform_string(p: &Platform) -> String {
    match &p.variant {
        Some(v) => format!("linux/{}/{v}", p.architecture),
        None => format!("linux/{}", p.architecture),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(arch: &str, variant: Option<&str>, os: &str) -> Descriptor {
        Descriptor {
            media_type: OCI_MANIFEST.into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            size: 1,
            platform: Some(DescriptorPlatform {
                architecture: arch.into(),
                os: os.into(),
                variant: variant.map(str::to_string),
            }),
            annotations: None,
        }
    }

    #[test]
    fn platform_selection() {
        let list = vec![
            d("unknown", None, "unknown"),
            d("arm", Some("v6"), "linux"),
            d("arm", Some("v7"), "linux"),
            d("arm64", None, "linux"),
            d("amd64", None, "linux"),
        ];
        let p = |a: &str, v: Option<&str>| Platform {
            architecture: a.into(),
            variant: v.map(str::to_string),
        };
        let pick = |want: Platform| {
            select_platform(&list, &want).map(|d| {
                let p = d.platform.clone().unwrap();
                (p.architecture, p.variant)
            })
        };
        assert_eq!(pick(p("amd64", None)), Some(("amd64".into(), None)));
        assert_eq!(
            pick(p("arm", Some("v7"))),
            Some(("arm".into(), Some("v7".into())))
        );
        assert_eq!(pick(p("arm64", Some("v8"))), Some(("arm64".into(), None)));
        assert_eq!(pick(p("s390x", None)), None);
        assert_eq!(pick(p("arm", Some("v5"))), None);
    }

    #[test]
    fn parse_kinds_and_limits() {
        let idx = br#"{"schemaVersion":2,"manifests":[]}"#;
        let (mt, k) = parse(None, idx).unwrap();
        assert_eq!(mt, OCI_INDEX);
        assert!(matches!(k, ManifestKind::Index(v) if v.is_empty()));
        let bad = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"digest":"sha256:../../etc","size":1}},"layers":[]}}"#
        );
        assert!(
            parse(None, bad.as_bytes()).is_err(),
            "path-like digests are refused"
        );
        assert!(parse(None, br#"{"schemaVersion":1}"#).is_err());
        assert!(parse(Some("text/plain"), b"not json").is_err());
    }
}
