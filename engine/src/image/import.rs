//! `docker import` format logic: input decompression, the image config and manifest of a
//! single-layer image, and platform handling.

use std::io::{self, Cursor, Read};

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::{EngineError, Result};
use crate::model::image::ImageContainerConfig;

pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_TAR_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";

/// Largest config or manifest we will read back (they are a few KiB in practice).
pub const MAX_JSON_BLOB: u64 = 8 << 20;

/// Wrap `r` so it yields the uncompressed tar: gzip and zstd are detected by their magic bytes;
/// other compressions docker accepts are refused with a clear message instead of failing as
/// "bad tar". Works on borrowed readers, so callers can keep hashing the raw bytes underneath.
pub fn decompressed<'a, R: Read + 'a>(mut r: R) -> Result<Box<dyn Read + 'a>> {
    let mut head = Vec::with_capacity(8);
    let mut buf = [0u8; 8];
    while head.len() < 6 {
        let n = r
            .read(&mut buf[..6 - head.len()])
            .map_err(|e| EngineError::invalid(format!("reading the archive: {e}")))?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    if head.is_empty() {
        return Err(EngineError::invalid("the archive is empty"));
    }
    let compressed = |name: &str| {
        EngineError::invalid(format!(
            "{name}-compressed archives are not supported: use an uncompressed, gzip- or zstd-compressed tar"
        ))
    };
    if head.starts_with(b"BZh") {
        return Err(compressed("bzip2"));
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Err(compressed("xz"));
    }
    let stream = Cursor::new(head.clone()).chain(r);
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(1 << 20, stream),
        )));
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let d =
            zstd::stream::read::Decoder::with_buffer(io::BufReader::with_capacity(1 << 20, stream))
                .map_err(|e| EngineError::invalid(format!("reading the zstd stream: {e}")))?;
        return Ok(Box::new(d));
    }
    Ok(Box::new(stream))
}

/// Image platform (os is always linux here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub architecture: String,
    pub variant: Option<String>,
}

/// The engine host's platform in OCI/Go naming.
pub fn host_platform() -> Platform {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
    .to_string();
    let variant = (architecture == "arm64").then(|| "v8".to_string());
    Platform {
        architecture,
        variant,
    }
}

/// Parse `platform=` ("linux", "linux/amd64", "linux/arm/v7"); empty means the host's.
pub fn parse_platform(p: Option<&str>) -> Result<Platform> {
    let Some(p) = p.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(host_platform());
    };
    let parts: Vec<&str> = p.split('/').collect();
    if parts.len() > 3 || parts.iter().any(|s| s.is_empty()) {
        return Err(EngineError::invalid(format!(
            "invalid platform {p:?}: expected os[/arch[/variant]]"
        )));
    }
    if !parts[0].eq_ignore_ascii_case("linux") {
        return Err(EngineError::invalid(format!(
            "operating system is not supported: {}",
            parts[0]
        )));
    }
    let Some(arch) = parts.get(1) else {
        return Ok(host_platform());
    };
    let arch = arch.to_ascii_lowercase();
    let arch = match arch.as_str() {
        "x86_64" | "x86-64" => "amd64".to_string(),
        "aarch64" => "arm64".to_string(),
        _ => arch,
    };
    Ok(Platform {
        variant: parts.get(2).map(|v| v.to_string()),
        architecture: arch,
    })
}

/// Serialise a container config the way docker writes it, without null fields.
fn container_config_value(c: &ImageContainerConfig) -> Value {
    let v = serde_json::to_value(c).unwrap_or_else(|_| json!({}));
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

/// The image config JSON of an imported single-layer image (docker's image config format).
pub fn build_config(
    config: &ImageContainerConfig,
    diff_id: &str,
    platform: &Platform,
    comment: &str,
    created: &str,
) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("architecture".into(), json!(platform.architecture));
    if let Some(v) = &platform.variant {
        m.insert("variant".into(), json!(v));
    }
    m.insert("comment".into(), json!(comment));
    m.insert("config".into(), container_config_value(config));
    m.insert("created".into(), json!(created));
    m.insert(
        "history".into(),
        json!([{ "created": created, "comment": comment }]),
    );
    m.insert("os".into(), json!("linux"));
    m.insert(
        "rootfs".into(),
        json!({ "type": "layers", "diff_ids": [diff_id] }),
    );
    serde_json::to_vec(&Value::Object(m)).expect("json values serialise")
}

/// An OCI image manifest for the config and (uncompressed) layer blobs.
pub fn build_manifest(
    config_digest: &str,
    config_size: u64,
    layers: &[(String, u64)],
) -> Result<Vec<u8>> {
    use crate::registry::manifest::{descriptor, image_manifest, to_json_bytes};
    let layers = layers
        .iter()
        .map(|(d, s)| descriptor(LAYER_TAR_MEDIA_TYPE, d, *s))
        .collect::<Result<Vec<_>>>()?;
    let config = descriptor(CONFIG_MEDIA_TYPE, config_digest, config_size)?;
    Ok(to_json_bytes(&image_manifest(
        MANIFEST_MEDIA_TYPE,
        config,
        layers,
    )?))
}

/// The parts of an image config the engine reads back.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ParsedConfig {
    pub architecture: String,
    pub variant: Option<String>,
    pub os: String,
    pub created: Option<String>,
    pub author: Option<String>,
    pub comment: Option<String>,
    pub docker_version: Option<String>,
    pub config: Option<ImageContainerConfig>,
    pub rootfs: ParsedRootFs,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ParsedRootFs {
    #[serde(rename = "type")]
    pub kind: String,
    pub diff_ids: Vec<String>,
}

pub fn parse_config(data: &[u8]) -> Result<ParsedConfig> {
    serde_json::from_slice(data)
        .map_err(|e| EngineError::internal(format!("invalid image config: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_platform_parsing() {
        assert_eq!(parse_platform(None).unwrap(), host_platform());
        assert_eq!(parse_platform(Some("linux")).unwrap(), host_platform());
        let p = parse_platform(Some("linux/arm/v7")).unwrap();
        assert_eq!(p.architecture, "arm");
        assert_eq!(p.variant.as_deref(), Some("v7"));
        assert!(parse_platform(Some("windows/amd64")).is_err());
        assert!(parse_platform(Some("linux//")).is_err());
    }

    #[test]
    fn import_config_is_docker_shaped() {
        let cfg = ImageContainerConfig {
            cmd: Some(vec!["sh".into()]),
            ..Default::default()
        };
        let d = format!("sha256:{}", "b".repeat(64));
        let bytes = build_config(
            &cfg,
            &d,
            &host_platform(),
            "Imported from -",
            "2024-01-01T00:00:00Z",
        );
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["os"], "linux");
        assert_eq!(v["rootfs"]["type"], "layers");
        assert_eq!(v["rootfs"]["diff_ids"][0], d.as_str());
        assert_eq!(v["config"]["Cmd"][0], "sh");
        assert!(v["config"].get("Env").is_none());
        assert_eq!(v["history"][0]["comment"], "Imported from -");
        let parsed = parse_config(&bytes).unwrap();
        assert_eq!(parsed.rootfs.diff_ids, vec![d]);
        assert_eq!(parsed.config.unwrap().cmd.unwrap(), vec!["sh"]);
    }

    #[test]
    fn import_detects_compression() {
        let mut out = Vec::new();
        decompressed(Cursor::new(b"plain tar bytes".to_vec()))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"plain tar bytes");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, b"zipped").unwrap();
        let mut out = Vec::new();
        decompressed(Cursor::new(gz.finish().unwrap()))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"zipped");
        assert!(decompressed(Cursor::new(Vec::new())).is_err());
        assert!(decompressed(Cursor::new(b"BZh91AY".to_vec())).is_err());
        let zst = zstd::encode_all(Cursor::new(b"squeezed".to_vec()), 3).unwrap();
        let mut out = Vec::new();
        decompressed(Cursor::new(zst))
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"squeezed");
    }
}
