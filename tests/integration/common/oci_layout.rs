//! OCI image layouts for the registry tests: layers (plain, gzip, zstd; files, directories,
//! whiteouts), images and multi-platform indexes written as OCI layouts that skopeo copies into
//! a test registry.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

use super::sha256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One layer: tar entries (path, content; `None` content = directory).
pub struct Layer {
    pub files: Vec<(String, Option<Vec<u8>>)>,
    pub compression: Compression,
}

impl Layer {
    pub fn new(compression: Compression) -> Layer {
        Layer {
            files: Vec::new(),
            compression,
        }
    }
    pub fn file(mut self, path: &str, data: &[u8]) -> Layer {
        self.files.push((path.into(), Some(data.to_vec())));
        self
    }
    pub fn dir(mut self, path: &str) -> Layer {
        self.files.push((path.into(), None));
        self
    }
    /// A whiteout deleting `path` of a lower layer.
    pub fn whiteout(self, path: &str) -> Layer {
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (format!("{d}/"), n.to_string()),
            None => (String::new(), path.to_string()),
        };
        self.file(&format!("{dir}.wh.{name}"), b"")
    }

    fn tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in &self.files {
            let mut h = tar::Header::new_gnu();
            h.set_mtime(1_700_000_000);
            match data {
                Some(d) => {
                    h.set_size(d.len() as u64);
                    h.set_mode(0o755);
                    h.set_entry_type(tar::EntryType::Regular);
                    b.append_data(&mut h, path, &d[..]).unwrap();
                }
                None => {
                    h.set_size(0);
                    h.set_mode(0o755);
                    h.set_entry_type(tar::EntryType::Directory);
                    b.append_data(&mut h, path, std::io::empty()).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }
}

/// Busybox as a base layer (the tar the other tests import), so pulled images run.
pub fn busybox_layer(compression: Compression) -> (Vec<u8>, Compression) {
    (super::image::busybox_rootfs_tar(), compression)
}

fn compress(tar: &[u8], c: Compression) -> (Vec<u8>, &'static str) {
    match c {
        Compression::None => (tar.to_vec(), "application/vnd.oci.image.layer.v1.tar"),
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).unwrap();
            (
                e.finish().unwrap(),
                "application/vnd.oci.image.layer.v1.tar+gzip",
            )
        }
        Compression::Zstd => (
            zstd::encode_all(tar, 3).unwrap(),
            "application/vnd.oci.image.layer.v1.tar+zstd",
        ),
    }
}

/// An image for one platform: raw layer tars (bottom first) with their compression.
pub struct OciImage {
    pub arch: String,
    pub layers: Vec<(Vec<u8>, Compression)>,
    pub cmd: Vec<String>,
}

/// What a written image consists of.
#[derive(Debug, Clone)]
pub struct Written {
    pub manifest_digest: String,
    pub config_digest: String,
    pub layer_digests: Vec<String>,
}

impl OciImage {
    pub fn new(arch: &str) -> OciImage {
        OciImage {
            arch: arch.into(),
            layers: Vec::new(),
            cmd: vec!["sh".into()],
        }
    }
    pub fn layer(mut self, l: Layer) -> OciImage {
        let c = l.compression;
        self.layers.push((l.tar(), c));
        self
    }
    pub fn raw_layer(mut self, tar: Vec<u8>, c: Compression) -> OciImage {
        self.layers.push((tar, c));
        self
    }

    fn write_blobs(&self, layout: &Path) -> (Written, Vec<u8>) {
        let blobs = layout.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let put = |data: &[u8]| -> String {
            let d = sha256(data);
            std::fs::write(blobs.join(d.trim_start_matches("sha256:")), data).unwrap();
            d
        };
        let mut layer_descs = Vec::new();
        let mut diff_ids = Vec::new();
        let mut layer_digests = Vec::new();
        for (tar, c) in &self.layers {
            diff_ids.push(sha256(tar));
            let (blob, mt) = compress(tar, *c);
            let d = put(&blob);
            layer_digests.push(d.clone());
            layer_descs.push(serde_json::json!({"mediaType": mt, "digest": d, "size": blob.len()}));
        }
        let config = serde_json::json!({
            "architecture": self.arch,
            "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": {"Cmd": self.cmd, "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": self.layers.iter().map(|_| serde_json::json!({"created": "2024-01-01T00:00:00Z", "created_by": "test"})).collect::<Vec<_>>(),
        })
        .to_string()
        .into_bytes();
        let config_digest = put(&config);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": layer_descs,
        })
        .to_string()
        .into_bytes();
        let manifest_digest = put(&manifest);
        (
            Written {
                manifest_digest,
                config_digest,
                layer_digests,
            },
            manifest,
        )
    }

    /// Write a single-image OCI layout tagged `tag`.
    pub fn write_layout(&self, layout: &Path, tag: &str) -> Written {
        let (w, manifest) = self.write_blobs(layout);
        write_index(
            layout,
            vec![serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": w.manifest_digest,
                "size": manifest.len(),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            })],
        );
        w
    }
}

fn write_index(layout: &Path, manifests: Vec<serde_json::Value>) {
    std::fs::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
}

/// Write a multi-platform layout: an image index blob (tagged `tag` in index.json) listing one
/// manifest per image. Returns (index digest, per-image results).
pub fn write_multiarch_layout(
    layout: &Path,
    tag: &str,
    images: &[OciImage],
) -> (String, Vec<Written>) {
    let mut entries = Vec::new();
    let mut written = Vec::new();
    for img in images {
        let (w, manifest) = img.write_blobs(layout);
        entries.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": w.manifest_digest,
            "size": manifest.len(),
            "platform": {"architecture": img.arch, "os": "linux"},
        }));
        written.push(w);
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    })
    .to_string()
    .into_bytes();
    let digest = sha256(&index);
    std::fs::write(
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
        &index,
    )
    .unwrap();
    write_index(
        layout,
        vec![serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest,
            "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        })],
    );
    (digest, written)
}

/// The host architecture in OCI naming.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
