//! Writing docker ≥ 25's save format: an OCI image layout (`oci-layout`, `index.json`,
//! `blobs/sha256/...`) plus the legacy `manifest.json` and `repositories`, so both old and new
//! loaders (and skopeo's docker-archive and oci-archive transports) read it.
//!
//! Blobs are written exactly as stored (a pulled image keeps its compressed layers and its
//! manifest, so the manifest digest stays valid); the members come in the order docker writes
//! them: blobs first, then the index files.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use oci_spec::image::{ImageIndexBuilder, MediaType};
use serde_json::{json, Value};

use super::{blob_member_name, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, OCI_MANIFEST};
use crate::error::{EngineError, IoContext, Result};
use crate::image::reference::Reference;
use crate::registry::manifest::{descriptor, document_media_type, to_json_bytes};

/// A layer blob to write.
#[derive(Debug, Clone)]
pub struct SaveLayer {
    pub blob_digest: String,
    pub blob_path: PathBuf,
    pub blob_size: u64,
}

/// One image of a save.
#[derive(Debug, Clone)]
pub struct SaveImage {
    pub config: Vec<u8>,
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    pub layers: Vec<SaveLayer>,
    /// Tags to record (full references with a tag).
    pub tags: Vec<Reference>,
}

fn header(size: u64, mode: u32, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(mode);
    h.set_entry_type(kind);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h
}

fn tar_io(e: io::Error) -> EngineError {
    EngineError::Io {
        context: "writing the image archive".into(),
        source: e,
    }
}

fn append_bytes<W: Write>(b: &mut tar::Builder<W>, name: &str, data: &[u8]) -> Result<()> {
    let mut h = header(data.len() as u64, 0o644, tar::EntryType::Regular);
    b.append_data(&mut h, name, data).map_err(tar_io)
}

fn append_dir<W: Write>(b: &mut tar::Builder<W>, name: &str) -> Result<()> {
    let mut h = header(0, 0o755, tar::EntryType::Directory);
    b.append_data(&mut h, name, io::empty()).map_err(tar_io)
}

/// Write the archive of `images` to `out`.
pub fn write_archive<W: Write>(out: W, images: &[SaveImage]) -> Result<()> {
    let mut b = tar::Builder::new(out);
    append_dir(&mut b, "blobs")?;
    append_dir(&mut b, "blobs/sha256")?;
    let mut written: HashSet<String> = HashSet::new();
    let mut index = Vec::new();
    let mut legacy = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for img in images {
        for l in &img.layers {
            if !written.insert(l.blob_digest.clone()) {
                continue;
            }
            let file = File::open(&l.blob_path)
                .io_context(|| format!("opening layer blob {}", l.blob_digest))?;
            let mut h = header(l.blob_size, 0o644, tar::EntryType::Regular);
            // `take` guards the header's promise: a blob that changed size fails the copy
            // instead of corrupting the archive.
            let mut limited = file.take(l.blob_size);
            b.append_data(&mut h, blob_member_name(&l.blob_digest)?, &mut limited)
                .map_err(tar_io)?;
        }
        let config_digest = crate::store::blobs::sha256_digest(&img.config);
        for (digest, data) in [
            (&config_digest, &img.config),
            (&img.manifest_digest, &img.manifest),
        ] {
            if written.insert(digest.clone()) {
                append_bytes(&mut b, &blob_member_name(digest)?, data)?;
            }
        }
        let media_type =
            document_media_type(&img.manifest).unwrap_or_else(|| OCI_MANIFEST.to_string());
        let manifest = descriptor(&media_type, &img.manifest_digest, img.manifest.len() as u64)?;
        if img.tags.is_empty() {
            index.push(manifest.clone());
        }
        for t in &img.tags {
            let mut d = manifest.clone();
            d.set_annotations(Some(HashMap::from([
                (ANNOTATION_IMAGE_NAME.to_string(), t.full()),
                (
                    ANNOTATION_REF_NAME.to_string(),
                    t.tag.clone().unwrap_or_else(|| "latest".into()),
                ),
            ])));
            index.push(d);
            if let Some(top) = img.layers.last() {
                repositories.entry(t.familiar_name()).or_default().insert(
                    t.tag.clone().unwrap_or_else(|| "latest".into()),
                    top.blob_digest.trim_start_matches("sha256:").to_string(),
                );
            }
        }
        let tags: Vec<String> = img.tags.iter().map(Reference::familiar).collect();
        legacy.push(json!({
            "Config": blob_member_name(&config_digest)?,
            "RepoTags": if tags.is_empty() { Value::Null } else { json!(tags) },
            "Layers": img.layers.iter().map(|l| blob_member_name(&l.blob_digest)).collect::<Result<Vec<_>>>()?,
        }));
    }
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(index)
        .build()
        .map_err(|e| EngineError::internal(format!("building index.json: {e}")))?;
    // Written with sorted keys, as berth always wrote it (see `to_json_bytes`).
    let mut index = to_json_bytes(&index);
    index.push(b'\n');
    append_bytes(&mut b, "index.json", &index)?;
    append_bytes(&mut b, "manifest.json", &to_json(&Value::Array(legacy)))?;
    append_bytes(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    if !repositories.is_empty() {
        append_bytes(&mut b, "repositories", &to_json(&json!(repositories)))?;
    }
    let mut out = b.into_inner().map_err(tar_io)?;
    out.flush().map_err(tar_io)
}

fn to_json(v: &Value) -> Vec<u8> {
    let mut data = serde_json::to_vec(v).expect("json values serialise");
    data.push(b'\n');
    data
}

#[cfg(test)]
mod tests {
    use super::super::plan::{plan, LoadedLayer};
    use super::super::read::{scan, tests::layer_tar, tests::Collect};
    use super::*;
    use crate::store::blobs::sha256_digest;
    use std::collections::HashMap;
    use std::io::Cursor;

    #[test]
    fn archive_write_then_read_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let l1 = layer_tar(&[("a", b"1")]);
        let d1 = sha256_digest(&l1);
        let p1 = dir.path().join("l1");
        std::fs::write(&p1, &l1).unwrap();
        let cfg = serde_json::to_vec(&json!({"os": "linux", "architecture": "amd64",
            "rootfs": {"type": "layers", "diff_ids": [d1]}}))
        .unwrap();
        let manifest = super::super::plan::synthesize_manifest(
            &cfg,
            &[&LoadedLayer {
                blob_digest: d1.clone(),
                blob_size: l1.len() as u64,
                diff_id: d1.clone(),
                media_type: crate::image::import::LAYER_TAR_MEDIA_TYPE.into(),
            }],
        )
        .unwrap();
        let img = SaveImage {
            manifest_digest: sha256_digest(&manifest),
            config: cfg.clone(),
            manifest: manifest.clone(),
            layers: vec![SaveLayer {
                blob_digest: d1.clone(),
                blob_path: p1,
                blob_size: l1.len() as u64,
            }],
            tags: vec![
                Reference::parse("busybox:latest").unwrap(),
                Reference::parse("example.com/x/y:2").unwrap(),
            ],
        };
        let mut out = Vec::new();
        write_archive(&mut out, &[img]).unwrap();

        let mut sink = Collect::default();
        let s = scan(&mut Cursor::new(out), &mut sink).unwrap();
        let repos: Value = serde_json::from_slice(&s.files["repositories"]).unwrap();
        assert_eq!(repos["busybox"]["latest"], &d1[7..]);
        assert_eq!(repos["example.com/x/y"]["2"], &d1[7..]);
        let index: Value = serde_json::from_slice(&s.files["index.json"]).unwrap();
        assert_eq!(
            index["manifests"][0]["annotations"][ANNOTATION_IMAGE_NAME],
            "docker.io/library/busybox:latest"
        );
        // Byte for byte what berth wrote before it used oci-spec's types (sorted keys).
        let descriptor = |name: &str, tag: &str| {
            json!({"mediaType": OCI_MANIFEST, "digest": sha256_digest(&manifest),
                "size": manifest.len(),
                "annotations": {ANNOTATION_IMAGE_NAME: name, ANNOTATION_REF_NAME: tag}})
        };
        let mut before = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": super::super::OCI_INDEX,
            "manifests": [
                descriptor("docker.io/library/busybox:latest", "latest"),
                descriptor("example.com/x/y:2", "2"),
            ],
        }))
        .unwrap();
        before.push(b'\n');
        assert_eq!(s.files["index.json"], before);
        let loaded: HashMap<String, LoadedLayer> = sink
            .0
            .iter()
            .map(|(k, (b, h))| {
                (
                    k.clone(),
                    LoadedLayer {
                        blob_digest: sha256_digest(b),
                        blob_size: b.len() as u64,
                        diff_id: sha256_digest(b),
                        media_type: h.media_type.into(),
                    },
                )
            })
            .collect();
        let imgs = plan(&s, &loaded).unwrap();
        assert_eq!(imgs.len(), 1);
        assert_eq!(imgs[0].tags, vec!["busybox:latest", "example.com/x/y:2"]);
        assert_eq!(
            imgs[0].manifest, manifest,
            "the OCI manifest is kept exactly"
        );
        assert_eq!(imgs[0].config, cfg);
    }
}
