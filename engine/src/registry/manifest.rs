//! Manifests and descriptors: media types, parsing what a pull or a load reads, building what
//! berth writes (import, load, push, save). The documents are oci-spec's types (`ImageManifest`,
//! `ImageIndex`, `Descriptor`), which read docker schema2 too; berth's own code is only the
//! leniency and the byte form around them.
//!
//! The raw bytes are always kept as received: digests are computed over them, never over a
//! re-serialisation. Documents berth builds are serialised once (`to_json_bytes`) and stored or
//! sent as those bytes.

use std::str::FromStr;

pub use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};
use oci_spec::image::{Digest, ImageManifestBuilder, Os};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{EngineError, Result};
use crate::image::import::Platform;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// `Accept` for manifest requests: every format a pull understands.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Manifests and image configs larger than this are refused (docker uses 4 MiB too): they are
/// read into memory.
pub const MAX_MANIFEST_SIZE: usize = 4 << 20;

/// What a manifest GET returned, parsed by kind (oci-spec's types read docker schema2 too: the
/// same fields, with docker's media types as `MediaType::Other`).
#[derive(Debug, Clone)]
pub enum ManifestKind {
    /// OCI index or docker manifest list.
    Index(Box<ImageIndex>),
    /// OCI or docker schema2 image manifest.
    Image(Box<ImageManifest>),
}

/// The top-level fields that say what a document is, read before the typed parse (which needs
/// the kind). Berth's own: oci-spec has no "any manifest" type.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    config: Option<serde::de::IgnoredAny>,
}

/// The document's own `mediaType`, when it is JSON and has one.
pub fn document_media_type(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<Probe>(bytes)
        .ok()
        .and_then(|p| p.media_type)
        .filter(|m| !m.is_empty())
}

/// Parse manifest bytes. The media type comes from the Content-Type header, else from the
/// document's own `mediaType`, else from its shape (OCI documents may omit `mediaType`).
pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<(String, ManifestKind)> {
    let probe: Probe = serde_json::from_slice(bytes)
        .map_err(|e| EngineError::invalid(format!("invalid manifest: {e}")))?;
    if probe.schema_version == Some(1) {
        return Err(EngineError::invalid(
            "Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been \
             removed. Suggest the author of the image to push it with a newer registry",
        ));
    }
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim().to_string())
        .filter(|c| [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST].contains(&c.as_str()));
    let media_type = header
        .or(probe.media_type.clone().filter(|m| !m.is_empty()))
        .unwrap_or_else(|| {
            if probe.manifests.is_some() {
                OCI_INDEX.to_string()
            } else {
                OCI_MANIFEST.to_string()
            }
        });
    let invalid = |e: serde_json::Error| EngineError::invalid(format!("invalid manifest: {e}"));
    match media_type.as_str() {
        OCI_INDEX | DOCKER_LIST => {
            if probe.manifests.is_none() {
                return Err(EngineError::invalid("invalid manifest list: no manifests"));
            }
            let index = parse_index(bytes).map_err(invalid)?;
            Ok((media_type, ManifestKind::Index(Box::new(index))))
        }
        OCI_MANIFEST | DOCKER_MANIFEST => {
            if probe.config.is_none() {
                return Err(EngineError::invalid("invalid image manifest: no config"));
            }
            let m = parse_image_manifest(bytes).map_err(invalid)?;
            for d in std::iter::once(m.config()).chain(m.layers()) {
                validate_digest(d.digest().as_ref())?;
            }
            Ok((media_type, ManifestKind::Image(Box::new(m))))
        }
        other => Err(EngineError::invalid(format!(
            "unsupported manifest media type {other}"
        ))),
    }
}

/// An image index (or docker manifest list) as oci-spec's `ImageIndex`, lenient as berth always
/// was: see `fill_spec_defaults`.
pub fn parse_index(bytes: &[u8]) -> serde_json::Result<ImageIndex> {
    parse_lenient(bytes, "manifests")
}

/// An image manifest (OCI or docker schema2) as oci-spec's `ImageManifest`, lenient as berth
/// always was: see `fill_spec_defaults`.
pub fn parse_image_manifest(bytes: &[u8]) -> serde_json::Result<ImageManifest> {
    parse_lenient(bytes, "layers")
}

/// Parse `bytes` as `T` after `fill_spec_defaults`; a missing `list` (the document's descriptor
/// list) is an empty one.
fn parse_lenient<T: DeserializeOwned>(bytes: &[u8], list: &str) -> serde_json::Result<T> {
    let mut v: Value = serde_json::from_slice(bytes)?;
    if let Value::Object(o) = &mut v {
        o.entry(list).or_insert_with(|| Value::Array(Vec::new()));
    }
    fill_spec_defaults(&mut v);
    serde_json::from_value(v)
}

/// oci-spec requires fields that documents in the wild leave out and that berth never required:
/// `schemaVersion`, and a descriptor's `mediaType` and `size` (and a platform's `architecture`
/// and `os`). Fill them with empty values ("" media type, size 0: unknown) so such documents
/// still parse; callers treat an empty media type as "not said" and a zero size as "unknown".
fn fill_spec_defaults(doc: &mut Value) {
    fn descriptor(d: &mut Value) {
        let Value::Object(o) = d else { return };
        o.entry("mediaType").or_insert_with(|| json!(""));
        o.entry("size").or_insert_with(|| json!(0));
        if let Some(Value::Object(p)) = o.get_mut("platform") {
            p.entry("architecture").or_insert_with(|| json!(""));
            p.entry("os").or_insert_with(|| json!(""));
        }
    }
    let Value::Object(o) = doc else { return };
    o.entry("schemaVersion").or_insert_with(|| json!(2));
    for key in ["config", "subject"] {
        if let Some(d) = o.get_mut(key) {
            descriptor(d);
        }
    }
    for key in ["layers", "manifests"] {
        if let Some(Value::Array(list)) = o.get_mut(key) {
            list.iter_mut().for_each(descriptor);
        }
    }
}

/// The bytes berth writes for a manifest or index it builds: keys in sorted order (serde_json's
/// map order), as berth always wrote them, so a manifest built from the same parts keeps its
/// digest, and the output is stable (annotations are a HashMap in oci-spec's types).
pub fn to_json_bytes<T: Serialize>(doc: &T) -> Vec<u8> {
    let v = serde_json::to_value(doc).expect("oci-spec documents serialise");
    serde_json::to_vec(&v).expect("json values serialise")
}

/// A descriptor for content berth holds (its digest is one berth computed).
pub fn descriptor(media_type: &str, digest: &str, size: u64) -> Result<Descriptor> {
    let digest = Digest::from_str(digest)
        .map_err(|e| EngineError::internal(format!("invalid digest {digest:?}: {e}")))?;
    Ok(Descriptor::new(MediaType::from(media_type), size, digest))
}

/// A schema-2 image manifest of `media_type` (OCI or docker) for a config and layers.
pub fn image_manifest(
    media_type: &str,
    config: Descriptor,
    layers: Vec<Descriptor>,
) -> Result<ImageManifest> {
    ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::from(media_type))
        .config(config)
        .layers(layers)
        .build()
        .map_err(|e| EngineError::internal(format!("building a manifest: {e}")))
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
        let Some(p) = d.platform() else { return false };
        *p.os() == Os::Linux && p.architecture().to_string() == want.architecture
    });
    let mut first = None;
    for d in candidates {
        let p = d.platform().as_ref().expect("filtered");
        let arch = p.architecture().to_string();
        let variant = norm(&arch, p.variant().as_deref());
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
        let mut d = descriptor(OCI_MANIFEST, &format!("sha256:{}", "a".repeat(64)), 1).unwrap();
        let mut p = oci_spec::image::Platform::default();
        p.set_architecture(arch.into());
        p.set_os(os.into());
        p.set_variant(variant.map(str::to_string));
        d.set_platform(Some(p));
        d
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
                let p = d.platform().clone().unwrap();
                (p.architecture().to_string(), p.variant().clone())
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
        assert!(matches!(k, ManifestKind::Index(v) if v.manifests().is_empty()));
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

    #[test]
    fn docker_schema2_parses_with_its_media_types() {
        let (c, l) = ("c".repeat(64), "d".repeat(64));
        let doc = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"{DOCKER_CONFIG}","size":7,"digest":"sha256:{c}"}},"layers":[{{"mediaType":"{DOCKER_LAYER_GZIP}","size":9,"digest":"sha256:{l}"}}]}}"#
        );
        let (mt, k) = parse(None, doc.as_bytes()).unwrap();
        assert_eq!(mt, DOCKER_MANIFEST);
        let ManifestKind::Image(m) = k else {
            panic!("not an image manifest")
        };
        assert_eq!(m.config().media_type().as_ref(), DOCKER_CONFIG);
        assert_eq!(m.layers()[0].media_type().as_ref(), DOCKER_LAYER_GZIP);
        assert_eq!(m.layers()[0].size(), 9);
        let list = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[{{"mediaType":"{DOCKER_MANIFEST}","size":1,"digest":"sha256:{c}","platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#
        );
        let (mt, k) = parse(
            Some("application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8"),
            list.as_bytes(),
        )
        .unwrap();
        assert_eq!(mt, DOCKER_LIST);
        assert!(matches!(k, ManifestKind::Index(i) if i.manifests().len() == 1));
    }

    #[test]
    fn descriptors_without_media_type_or_size_still_parse() {
        let c = "c".repeat(64);
        let doc = format!(r#"{{"config":{{"digest":"sha256:{c}"}}}}"#);
        let (mt, k) = parse(None, doc.as_bytes()).unwrap();
        assert_eq!(mt, OCI_MANIFEST);
        let ManifestKind::Image(m) = k else {
            panic!("not an image manifest")
        };
        assert_eq!(m.config().media_type().as_ref(), "");
        assert_eq!(m.config().size(), 0);
        assert!(m.layers().is_empty());
        assert!(parse(None, br#"{"schemaVersion":2,"layers":[]}"#).is_err());
        assert_eq!(
            document_media_type(doc.as_bytes()),
            None,
            "no mediaType of its own"
        );
    }

    #[test]
    fn built_manifests_keep_the_bytes_berth_always_wrote() {
        let (c, l) = (
            format!("sha256:{}", "c".repeat(64)),
            format!("sha256:{}", "d".repeat(64)),
        );
        let m = image_manifest(
            OCI_MANIFEST,
            descriptor(OCI_CONFIG, &c, 7).unwrap(),
            vec![descriptor("application/vnd.oci.image.layer.v1.tar", &l, 9).unwrap()],
        )
        .unwrap();
        let before = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": { "mediaType": OCI_CONFIG, "digest": c, "size": 7 },
            "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": l, "size": 9 }],
        }))
        .unwrap();
        assert_eq!(to_json_bytes(&m), before);
        assert!(descriptor(OCI_CONFIG, "sha256:../../etc", 1).is_err());
    }
}
