//! Garbage collection: which layers and blobs are in use (referenced by an image, pinned by an
//! ingest lease, or a compressed copy of a used layer), and removing the rest.

use std::collections::HashSet;

use super::{lock, Inner};
use crate::error::Result;
use crate::store::blobs::{digest_hex, sha256_digest};
use crate::store::images::ImageRecord;

impl Inner {
    /// Remove the layers and blobs of a deleted image that no remaining image uses. Returns the
    /// chain ids of removed layers (what docker reports as deleted layers). Called with the
    /// commit lock held.
    pub(super) fn release_layers(&self, record: &ImageRecord) -> Result<Vec<String>> {
        let (used_layers, used_blobs) = self.in_use();
        let mut removed = Vec::new();
        let mut chain: Option<String> = None;
        for d in &record.diff_ids {
            // chainID(n) = sha256(chainID(n-1) + " " + diffID(n)); chainID(0) = diffID(0).
            let c = match &chain {
                None => d.clone(),
                Some(prev) => sha256_digest(format!("{prev} {d}").as_bytes()),
            };
            chain = Some(c.clone());
            if !used_layers.contains(d) {
                self.layers.remove(d)?;
                removed.push(c);
            }
        }
        let mut blobs = vec![record.id.clone(), record.manifest_digest.clone()];
        blobs.extend(record.layer_blobs.iter().cloned());
        // Compressed copies made for pushes go with their layer.
        let gone: Vec<String> = record
            .diff_ids
            .iter()
            .filter(|d| !used_layers.contains(*d))
            .cloned()
            .collect();
        blobs.extend(self.compressed.blobs_of(&gone));
        self.compressed.retain_layers(&used_layers)?;
        for b in blobs {
            if !used_blobs.contains(&b) {
                self.blobs.remove(&b)?;
            }
        }
        Ok(removed)
    }

    /// Layers and blobs referenced by the images in the index or pinned by ingest leases.
    pub(super) fn in_use(&self) -> (HashSet<String>, HashSet<String>) {
        let idx = lock(&self.index);
        let mut layers = HashSet::new();
        let mut blobs = HashSet::new();
        for e in idx.images.values() {
            layers.extend(e.record.diff_ids.iter().cloned());
            blobs.insert(e.record.id.clone());
            blobs.insert(e.record.manifest_digest.clone());
            blobs.extend(e.record.layer_blobs.iter().cloned());
            // A pull that found the image already here (same config) adds its registry
            // manifest only as a RepoDigest: that manifest blob belongs to the image too.
            blobs.extend(
                e.record
                    .repo_digests
                    .iter()
                    .filter_map(|d| d.rsplit_once('@'))
                    .map(|(_, digest)| digest.to_owned()),
            );
        }
        drop(idx);
        for pinned in lock(&self.pins).values() {
            layers.extend(pinned.iter().cloned());
            blobs.extend(pinned.iter().cloned());
        }
        blobs.extend(self.compressed.blobs_of(&layers));
        (layers, blobs)
    }

    /// Remove layers and blobs that no image references (left by a removal or an import that
    /// was interrupted between its commit steps). With `spare_resumable`, verified content of an
    /// interrupted pull or load (marked, younger than the grace period) stays so the next pull
    /// resumes from it.
    pub(super) fn collect_garbage(&self, spare_resumable: bool) -> Result<()> {
        let _commit = lock(&self.commit_lock);
        let (used_layers, used_blobs) = self.in_use();
        let spared = |d: &str| spare_resumable && self.marks.is_fresh(d);
        self.compressed.retain_layers(&used_layers)?;
        for d in self.layers.list()? {
            if !used_layers.contains(&d) && !spared(&d) {
                tracing::info!(layer = %d, "removing unreferenced layer");
                self.layers.remove(&d)?;
            }
        }
        for b in self.blobs.list()? {
            if !used_blobs.contains(&b) && digest_hex(&b).is_ok() && !spared(&b) {
                tracing::info!(blob = %b, "removing unreferenced blob");
                self.blobs.remove(&b)?;
            }
        }
        // A mark outlives its purpose once the content is gone or an image references it.
        self.marks.retain(|d| {
            let unreferenced = !used_layers.contains(d) && !used_blobs.contains(d);
            unreferenced && (self.layers.exists(d) || self.blobs.exists(d))
        })?;
        Ok(())
    }
}
