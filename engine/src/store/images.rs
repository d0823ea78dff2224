//! Image metadata (`<image>/images/<id hex>.json`) and the refs file (`<image>/refs.json`:
//! normalised "name:tag" → image id). Both are written atomically; an image's metadata is written
//! last during an import, so its presence means config, manifest and layers are complete.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{IoContext, Result};
use crate::store::atomic::{sync_dir, write_json_atomic};
use crate::store::blobs::digest_hex;

/// What the store records about one image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRecord {
    /// "sha256:<hex>" of the config bytes.
    pub id: String,
    pub manifest_digest: String,
    /// Layer diff_ids, bottom first (the config's rootfs.diff_ids).
    pub diff_ids: Vec<String>,
    /// Layer blob digests, in the same order.
    pub layer_blobs: Vec<String>,
    /// Unpacked content size in bytes.
    pub size: u64,
    #[serde(default)]
    pub last_tag_time: Option<String>,
    /// "name@sha256:<manifest digest>" for each repository the image was pulled from or pushed to.
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// The image this one was built on (a build step's previous image): docker's `Parent`,
    /// which hides untagged intermediate images from `docker images` and lets `rmi` take the
    /// untagged chain with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

pub struct ImageMetaStore {
    dir: PathBuf,
    refs_path: PathBuf,
}

/// Whether a file name is an atomic-write leftover (`.<name>.tmp-<pid>`).
fn is_tmp_leftover(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

fn remove_tmp_leftovers(dir: &Path) -> Result<()> {
    for e in fs::read_dir(dir).io_context(|| format!("reading {}", dir.display()))? {
        let e = e.io_context(|| format!("reading {}", dir.display()))?;
        if is_tmp_leftover(&e.file_name().to_string_lossy()) {
            tracing::info!(path = %e.path().display(), "removing leftover temporary file");
            let _ = fs::remove_file(e.path());
        }
    }
    Ok(())
}

impl ImageMetaStore {
    pub fn open(image_root: &Path) -> Result<Self> {
        let dir = image_root.join("images");
        crate::store::blobs::ensure_private_dir(&dir)?;
        remove_tmp_leftovers(&dir)?;
        remove_tmp_leftovers(image_root)?;
        Ok(ImageMetaStore {
            dir,
            refs_path: image_root.join("refs.json"),
        })
    }

    /// Every record that parses; broken files are skipped with a warning.
    pub fn load_all(&self) -> Result<Vec<ImageRecord>> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.dir).io_context(|| format!("reading {}", self.dir.display()))? {
            let e = e.io_context(|| format!("reading {}", self.dir.display()))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.starts_with('.') {
                continue;
            }
            let parsed = fs::read(e.path())
                .map_err(|e| e.to_string())
                .and_then(|d| serde_json::from_slice::<ImageRecord>(&d).map_err(|e| e.to_string()));
            match parsed {
                Ok(r) => out.push(r),
                Err(err) => {
                    tracing::warn!(path = %e.path().display(), error = %err, "skipping unreadable image metadata")
                }
            }
        }
        Ok(out)
    }

    pub fn write(&self, rec: &ImageRecord) -> Result<()> {
        let p = self.dir.join(format!("{}.json", digest_hex(&rec.id)?));
        write_json_atomic(&p, rec)
    }

    pub fn remove(&self, id: &str) -> Result<()> {
        let p = self.dir.join(format!("{}.json", digest_hex(id)?));
        match fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).io_context(|| format!("removing {}", p.display()))
            }
            _ => {}
        }
        sync_dir(&self.dir)
    }

    pub fn load_refs(&self) -> Result<BTreeMap<String, String>> {
        match fs::read(&self.refs_path) {
            Ok(d) => Ok(serde_json::from_slice(&d).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "refs.json is unreadable; starting with no tags");
                BTreeMap::new()
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(e).io_context(|| format!("reading {}", self.refs_path.display())),
        }
    }

    pub fn write_refs(&self, refs: &BTreeMap<String, String>) -> Result<()> {
        write_json_atomic(&self.refs_path, refs)
    }
}
