//! `berth system check [--repair]`: re-verify the image store.
//!
//! Every blob is re-hashed (a blob is named by its digest, so a mismatch is corruption); every
//! image's config and manifest are read back (bounded, digest-checked, parsed), its layer blobs
//! and unpacked layer directories must be there and uncorrupted, and its config must name the
//! layers the record lists. Blobs and layers no image references, no ingest lease pins and no
//! interrupted pull keeps for resuming are orphans; tags naming an image that is not there are
//! dangling. `repair` removes broken images (with their tags), dangling tags, corrupt blobs and
//! orphans; content shared with healthy images always stays.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::Read;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{lock, ImageService, Inner};
use crate::error::{EngineError, Result};
use crate::image::import::{parse_config, MAX_JSON_BLOB};
use crate::image::reference::familiar_string;

/// One image the check found broken, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct BrokenImage {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub problems: Vec<String>,
}

/// What `POST /berth/v1/system/check` answers.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckReport {
    pub images_checked: usize,
    pub blobs_checked: usize,
    pub layers_checked: usize,
    pub broken_images: Vec<BrokenImage>,
    /// Blobs whose content does not hash to their name.
    pub corrupt_blobs: Vec<String>,
    pub orphan_blobs: Vec<String>,
    pub orphan_layers: Vec<String>,
    /// Tags ("name:tag") that name a missing image.
    pub dangling_tags: Vec<String>,
    /// Verified content an interrupted pull left for the next one to resume from (kept).
    pub resumable: Vec<String>,
    pub repaired: bool,
    /// What the repair removed: image ids, tags, blob and layer digests.
    pub removed_images: Vec<String>,
    pub removed_tags: Vec<String>,
    pub removed_blobs: Vec<String>,
    pub removed_layers: Vec<String>,
}

impl CheckReport {
    /// Whether the store is healthy (resumable content is not a problem).
    pub fn clean(&self) -> bool {
        self.broken_images.is_empty()
            && self.corrupt_blobs.is_empty()
            && self.orphan_blobs.is_empty()
            && self.orphan_layers.is_empty()
            && self.dangling_tags.is_empty()
    }
}

/// sha256 of a file, streamed.
fn hash_file(path: &std::path::Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("sha256:{}", hex::encode(h.finalize())))
}

impl ImageService {
    /// Digests of every blob and layer the store holds that no image references and no lease
    /// pins (for `system check`).
    pub fn unreferenced(&self) -> Result<(Vec<String>, Vec<String>)> {
        let inner = &self.inner;
        let (used_layers, used_blobs) = inner.in_use();
        let blobs = inner.blobs.list()?;
        let layers = inner.layers.list()?;
        let used: HashSet<&String> = used_blobs.iter().collect();
        Ok((
            blobs.into_iter().filter(|b| !used.contains(b)).collect(),
            layers
                .into_iter()
                .filter(|l| !used_layers.contains(l))
                .collect(),
        ))
    }

    /// Check the store; with `repair`, also remove what is broken or orphaned. Runs on the
    /// blocking pool (it hashes every blob).
    pub async fn check(&self, repair: bool) -> Result<CheckReport> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.check(repair))
            .await
            .map_err(|e| EngineError::internal(format!("check task failed: {e}")))?
    }
}

impl Inner {
    fn check(&self, repair: bool) -> Result<CheckReport> {
        let mut report = CheckReport::default();

        // 1. Every blob against its name. Hashing is the slow part: no lock held, so pulls and
        //    removals go on (a blob removed meanwhile is simply skipped).
        let mut corrupt: BTreeSet<String> = BTreeSet::new();
        for b in self.blobs.list()? {
            let path = self.blobs.path(&b)?;
            match hash_file(&path) {
                Ok(d) if d == b => {}
                Ok(d) => {
                    tracing::warn!(blob = %b, actual = %d, "corrupt blob");
                    corrupt.insert(b.clone());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    tracing::warn!(blob = %b, error = %e, "unreadable blob");
                    corrupt.insert(b.clone());
                }
            }
            report.blobs_checked += 1;
        }

        // 2. Images, orphans and tags under the commit lock: ingests pin and rename content and
        //    write records under it, so what is referenced or pinned cannot change meanwhile.
        let _commit = lock(&self.commit_lock);
        let (entries, refs) = {
            let idx = lock(&self.index);
            (
                idx.images
                    .iter()
                    .map(|(id, e)| (id.clone(), e.clone()))
                    .collect::<Vec<_>>(),
                idx.refs.clone(),
            )
        };
        let mut tags_of: HashMap<&str, Vec<String>> = HashMap::new();
        for (r, id) in &refs {
            tags_of
                .entry(id.as_str())
                .or_default()
                .push(familiar_string(r));
        }
        for (id, entry) in &entries {
            report.images_checked += 1;
            let rec = &entry.record;
            let mut problems = Vec::new();
            let blob_problem = |what: &str, d: &str, problems: &mut Vec<String>| {
                if corrupt.contains(d) {
                    problems.push(format!("{what} {d} is corrupt"));
                } else if !self.blobs.exists(d) {
                    problems.push(format!("{what} {d} is missing"));
                }
            };
            blob_problem("config blob", &rec.id, &mut problems);
            blob_problem("manifest blob", &rec.manifest_digest, &mut problems);
            if problems.is_empty() {
                match self
                    .blobs
                    .read(&rec.id, MAX_JSON_BLOB)
                    .and_then(|c| parse_config(&c))
                {
                    Ok(cfg) if cfg.rootfs.diff_ids != rec.diff_ids => problems.push(
                        "the config's rootfs.diff_ids do not match the image's layers".into(),
                    ),
                    Ok(_) => {}
                    Err(e) => problems.push(format!("config: {e}")),
                }
                if let Err(e) = self
                    .blobs
                    .read(&rec.manifest_digest, MAX_JSON_BLOB)
                    .and_then(|m| {
                        serde_json::from_slice::<serde_json::Value>(&m).map_err(|e| {
                            EngineError::internal(format!("invalid manifest JSON: {e}"))
                        })
                    })
                {
                    problems.push(format!("manifest: {e}"));
                }
            }
            if rec.layer_blobs.len() != rec.diff_ids.len() {
                problems
                    .push("the record lists different numbers of layer blobs and layers".into());
            }
            for b in &rec.layer_blobs {
                blob_problem("layer blob", b, &mut problems);
            }
            for d in &rec.diff_ids {
                if !self.layers.exists(d) {
                    problems.push(format!("layer {d} is missing"));
                }
            }
            if !problems.is_empty() {
                let mut repo_tags = tags_of.get(id.as_str()).cloned().unwrap_or_default();
                repo_tags.sort();
                tracing::warn!(image = %id, ?problems, "broken image");
                report.broken_images.push(BrokenImage {
                    id: id.clone(),
                    repo_tags,
                    problems,
                });
            }
        }
        let known: HashSet<&String> = entries.iter().map(|(id, _)| id).collect();
        report.dangling_tags = refs
            .iter()
            .filter(|(_, id)| !known.contains(id))
            .map(|(r, _)| familiar_string(r))
            .collect();

        let (used_layers, used_blobs) = self.in_use();
        let layers = self.layers.list()?;
        report.layers_checked = layers.len();
        let mut resumable = BTreeSet::new();
        for l in layers {
            if used_layers.contains(&l) {
                continue;
            }
            if self.marks.is_fresh(&l) {
                resumable.insert(l);
            } else {
                report.orphan_layers.push(l);
            }
        }
        for b in self.blobs.list()? {
            if used_blobs.contains(&b) {
                continue;
            }
            if self.marks.is_fresh(&b) && !corrupt.contains(&b) {
                resumable.insert(b);
            } else {
                report.orphan_blobs.push(b);
            }
        }
        report.resumable = resumable.into_iter().collect();
        report.corrupt_blobs = corrupt.iter().cloned().collect();
        report.orphan_blobs.sort();
        report.orphan_layers.sort();
        report.broken_images.sort_by(|a, b| a.id.cmp(&b.id));

        if repair {
            self.repair(&mut report, &corrupt)?;
        }
        Ok(report)
    }

    /// Remove what `report` found, with the commit lock held by the caller.
    fn repair(&self, report: &mut CheckReport, corrupt: &BTreeSet<String>) -> Result<()> {
        report.repaired = true;
        let broken: HashSet<&str> = report.broken_images.iter().map(|b| b.id.as_str()).collect();
        let mut removed_entries = Vec::new();
        {
            let mut idx = lock(&self.index);
            let before = idx.refs.clone();
            let known: HashSet<String> = idx.images.keys().cloned().collect();
            idx.refs
                .retain(|_, id| known.contains(id) && !broken.contains(id.as_str()));
            for (r, _) in before.iter().filter(|(r, _)| !idx.refs.contains_key(*r)) {
                report.removed_tags.push(familiar_string(r));
            }
            if idx.refs.len() != before.len() {
                self.meta.write_refs(&idx.refs)?;
            }
            for id in &broken {
                self.meta.remove(id)?;
                if let Some(e) = idx.images.remove(*id) {
                    removed_entries.push(e);
                }
                report.removed_images.push(id.to_string());
            }
        }
        for e in &removed_entries {
            self.emit("delete", &e.record.id, &HashMap::new(), &e.record.id);
            tracing::info!(image = %e.record.id, "system check removed a broken image");
        }

        // Orphans now include what only the removed images used.
        let (used_layers, used_blobs) = self.in_use();
        for l in self.layers.list()? {
            if !used_layers.contains(&l) && !self.marks.is_fresh(&l) {
                self.layers.remove(&l)?;
                report.removed_layers.push(l);
            }
        }
        for b in self.blobs.list()? {
            let bad = corrupt.contains(&b);
            if bad || (!used_blobs.contains(&b) && !self.marks.is_fresh(&b)) {
                self.blobs.remove(&b)?;
                if bad {
                    self.marks.unmark(&b);
                }
                report.removed_blobs.push(b);
            }
        }
        report.removed_tags.sort();
        report.removed_images.sort();
        Ok(())
    }
}
