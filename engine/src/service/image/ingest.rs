//! Ingesting images made elsewhere (pull, load): stream each layer blob into the store while
//! unpacking it, then commit the image.
//!
//! Order on disk keeps `kill -9` safe: a layer's blob and its unpacked directory are renamed into
//! place only when complete and verified (each marked resumable first, see store::resumable), and
//! the image record that references them is written last. Until then an ingest lease pins them so
//! a concurrent rmi or prune does not collect them.

use std::io::{self, Read};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{created_unix, entry_labels, lock, ImageEntry, ImageService, Inner};
use crate::error::{EngineError, Result};
use crate::image::extract::{extract_layer, HashingReader};
use crate::image::import::{decompressed, parse_config, MAX_JSON_BLOB};
use crate::image::reference::Reference;
use crate::store::images::ImageRecord;

/// What the caller knows about a layer blob before reading it; every given field is verified.
#[derive(Debug, Clone, Copy, Default)]
pub struct LayerSource<'a> {
    /// Expected "sha256:..." of the blob bytes.
    pub digest: Option<&'a str>,
    /// Expected blob size in bytes.
    pub size: Option<u64>,
    /// Expected diff_id (sha256 of the uncompressed tar), from the image config.
    pub diff_id: Option<&'a str>,
    /// The blob's media type as the manifest names it (kept for save and push).
    pub media_type: Option<&'a str>,
}

/// A layer whose blob and unpacked directory are in the store (pinned by a lease).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestedLayer {
    pub blob_digest: String,
    pub blob_size: u64,
    pub diff_id: String,
    /// Sum of regular file sizes in the layer.
    pub content_size: u64,
}

/// An image to commit from ingested parts.
#[derive(Debug, Clone)]
pub struct NewImage {
    /// Exact config bytes; the image id is their sha256.
    pub config: Vec<u8>,
    /// Exact bytes of the image manifest (OCI or docker schema2).
    pub manifest: Vec<u8>,
    /// Bottom layer first, matching the config's rootfs.diff_ids.
    pub layers: Vec<IngestedLayer>,
    pub tags: Vec<Reference>,
    /// "name@sha256:<manifest digest>".
    pub repo_digests: Vec<String>,
    /// Event action to publish: "pull" or "load"; None for a build step's image (docker
    /// publishes only the build's `tag` events).
    pub event: Option<&'static str>,
    /// The image a build step built on (None for pulled and loaded images).
    pub parent: Option<String>,
}

/// Holds what an ingest has stored or found until its image is committed (or the ingest gives
/// up): garbage collection treats pinned content as in use.
pub struct IngestLease {
    inner: Arc<Inner>,
    id: u64,
}

impl IngestLease {
    fn pin(&self, digest: &str) {
        lock(&self.inner.pins)
            .entry(self.id)
            .or_default()
            .insert(digest.to_string());
    }
}

impl Drop for IngestLease {
    fn drop(&mut self) {
        lock(&self.inner.pins).remove(&self.id);
    }
}

/// Counts bytes as they are read and reports the running total.
struct ProgressReader<'a, R> {
    inner: R,
    total: u64,
    progress: &'a mut dyn FnMut(u64),
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        if n > 0 {
            (self.progress)(self.total);
        }
        Ok(n)
    }
}

/// The first bytes of `r` (up to 4, fewer only at end of stream), to tell gzip and zstd from a
/// plain tar however the source happens to chunk its reads.
fn read_head<R: Read>(mut r: R) -> Result<(Vec<u8>, R)> {
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match r.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(EngineError::invalid(format!("reading the layer: {e}"))),
        }
    }
    Ok((head[..n].to_vec(), r))
}

fn mismatch(what: &str, expected: &str, got: &str) -> EngineError {
    EngineError::invalid(format!(
        "{what} mismatch: expected {expected}, got {got}; the content was discarded"
    ))
}

impl ImageService {
    /// Start an ingest: content it stores or finds stays pinned until the lease is dropped.
    pub fn lease(&self) -> IngestLease {
        IngestLease {
            inner: self.inner.clone(),
            id: self.inner.next_lease.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The layer with blob `blob_digest` and diff_id `diff_id`, when both are already stored
    /// (another image has them, or an interrupted pull verified them): the download can be
    /// skipped. Pins them on `lease`.
    pub fn layer_present(
        &self,
        lease: &IngestLease,
        blob_digest: &str,
        diff_id: &str,
    ) -> Result<Option<IngestedLayer>> {
        let inner = &self.inner;
        // Pin first, then look: a removal that runs in between either sees the pin or has
        // already removed the content, which the check below then notices.
        lease.pin(blob_digest);
        lease.pin(diff_id);
        if !inner.blobs.exists(blob_digest) || !inner.layers.exists(diff_id) {
            return Ok(None);
        }
        Ok(Some(IngestedLayer {
            blob_digest: blob_digest.to_string(),
            blob_size: inner.blobs.size(blob_digest)?,
            diff_id: diff_id.to_string(),
            content_size: inner.layers.content_size(diff_id)?,
        }))
    }

    /// Stream one layer blob from `reader` (the bytes exactly as the registry or archive holds
    /// them) into the blob store while decompressing (gzip, zstd or none, by magic) and
    /// unpacking it safely. Verifies what `src` gives; on any mismatch nothing is kept.
    /// `progress` gets the running count of blob bytes read. Blocking; ingests may run in
    /// parallel.
    pub fn ingest_layer(
        &self,
        lease: &IngestLease,
        reader: &mut dyn Read,
        src: LayerSource<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<IngestedLayer> {
        let inner = &self.inner;
        let pending = inner.layers.begin()?;
        let mut blob = inner.blobs.writer()?;
        let counted = ProgressReader {
            inner: reader,
            total: 0,
            progress,
        };
        let (head, counted) = read_head(counted)?;
        let compressed =
            head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
        let source = io::Cursor::new(head).chain(counted);
        let (blob_digest, blob_size, stats) = if compressed {
            let mut raw = HashingReader::new(source, Some(&mut blob));
            let stats = {
                let tar = decompressed(&mut raw)?;
                extract_layer(tar, None, &pending.diff_path())?
            };
            // The tar reader stops at the end-of-archive marker; the blob digest covers
            // everything (compression trailers, padding), so read the rest.
            io::copy(&mut raw, &mut io::sink())
                .map_err(|e| EngineError::invalid(format!("reading the layer: {e}")))?;
            let (digest, size) = raw.finish();
            (digest, size, stats)
        } else {
            // A plain tar is its own blob: one pass hashes it once (blob digest = diff_id).
            let stats = extract_layer(source, Some(&mut blob), &pending.diff_path())?;
            (stats.diff_id.clone(), stats.tar_size, stats)
        };
        if let Some(d) = src.digest {
            if d != blob_digest {
                return Err(mismatch("layer digest", d, &blob_digest));
            }
        }
        if let Some(n) = src.size {
            if n != blob_size {
                return Err(mismatch(
                    "layer size",
                    &n.to_string(),
                    &blob_size.to_string(),
                ));
            }
        }
        if let Some(d) = src.diff_id {
            if d != stats.diff_id {
                return Err(mismatch("layer diff_id", d, &stats.diff_id));
            }
        }
        let layer = IngestedLayer {
            blob_digest,
            blob_size,
            diff_id: stats.diff_id,
            content_size: stats.content_size,
        };
        self.commit_layer(lease, pending, blob, &layer)?;
        Ok(layer)
    }

    /// Make the overlay upper dir `upper` a layer by moving it into the store (it must be on
    /// the store's filesystem and nothing may have it mounted): a build step's change, without
    /// unpacking its tar again. The blob is the tar written from the moved dir. On an error
    /// before the move (`Ok(None)`: another filesystem), `upper` is where it was.
    pub fn adopt_layer(
        &self,
        lease: &IngestLease,
        upper: &std::path::Path,
    ) -> Result<Option<IngestedLayer>> {
        let inner = &self.inner;
        let pending = inner.layers.begin()?;
        let diff = pending.diff_path();
        std::fs::remove_dir(&diff).map_err(|e| EngineError::Io {
            context: format!("preparing {}", diff.display()),
            source: e,
        })?;
        match std::fs::rename(upper, &diff) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => return Ok(None),
            Err(e) => {
                return Err(EngineError::Io {
                    context: format!("moving {} into the layer store", upper.display()),
                    source: e,
                })
            }
        }
        let content_size =
            crate::archive::layer_dir::adopt_upper(&diff).map_err(|e| EngineError::Io {
                context: "making the step's changes a layer".into(),
                source: e,
            })?;
        let mut blob = inner.blobs.writer()?;
        let (diff_id, tar_size) = {
            let mut hashing = crate::image::compress::HashingWriter::new(&mut blob);
            crate::archive::layer_tar::write_layer_tar(&diff, &mut hashing).map_err(|e| {
                EngineError::Io {
                    context: "writing the layer".into(),
                    source: e,
                }
            })?;
            let (_, tar) = hashing.finish();
            (tar.digest, tar.size)
        };
        let layer = IngestedLayer {
            blob_digest: diff_id.clone(),
            blob_size: tar_size,
            diff_id,
            content_size,
        };
        self.commit_layer(lease, pending, blob, &layer)?;
        Ok(Some(layer))
    }

    /// Put a finished layer's blob and directory in place, pinned by `lease`.
    fn commit_layer(
        &self,
        lease: &IngestLease,
        pending: crate::store::layers::PendingLayer,
        blob: crate::store::blobs::BlobWriter,
        layer: &IngestedLayer,
    ) -> Result<()> {
        let inner = &self.inner;
        pending.set_content_size(layer.content_size)?;
        lease.pin(&layer.blob_digest);
        lease.pin(&layer.diff_id);
        let _commit = lock(&inner.commit_lock);
        inner.marks.mark(&layer.blob_digest)?;
        inner.marks.mark(&layer.diff_id)?;
        inner.blobs.commit(blob, &layer.blob_digest)?;
        inner.layers.commit(pending, &layer.diff_id)?;
        tracing::debug!(blob = %layer.blob_digest, diff_id = %layer.diff_id, bytes = layer.blob_size, "layer ingested");
        Ok(())
    }

    /// Commit an image from ingested layers: config and manifest blobs, the image record (the
    /// commit point), then its tags; publishes `img.event`. Committing an image that exists adds
    /// its tags and repo digests. Returns the image id. Blocking.
    pub fn commit_image(&self, lease: IngestLease, img: NewImage) -> Result<String> {
        let inner = &self.inner;
        if img.config.len() as u64 > MAX_JSON_BLOB || img.manifest.len() as u64 > MAX_JSON_BLOB {
            return Err(EngineError::invalid(
                "image config or manifest is too large",
            ));
        }
        let config = parse_config(&img.config)
            .map_err(|e| EngineError::invalid(format!("invalid image config: {e}")))?;
        let diff_ids: Vec<String> = img.layers.iter().map(|l| l.diff_id.clone()).collect();
        if config.rootfs.diff_ids != diff_ids {
            return Err(EngineError::invalid(
                "the image config's rootfs.diff_ids do not match its layers",
            ));
        }
        let commit = lock(&inner.commit_lock);
        for l in &img.layers {
            if !inner.blobs.exists(&l.blob_digest) || !inner.layers.exists(&l.diff_id) {
                return Err(EngineError::internal(format!(
                    "layer {} vanished before its image was committed",
                    l.diff_id
                )));
            }
        }
        let id = inner.blobs.put(&img.config)?;
        let manifest_digest = inner.blobs.put(&img.manifest)?;
        let now = crate::util::now_rfc3339();
        let mut idx = lock(&inner.index);
        let existing = idx.images.get(&id).cloned();
        let mut record = match &existing {
            Some(e) => e.record.clone(),
            None => ImageRecord {
                id: id.clone(),
                manifest_digest,
                diff_ids,
                layer_blobs: img.layers.iter().map(|l| l.blob_digest.clone()).collect(),
                size: img.layers.iter().map(|l| l.content_size).sum(),
                last_tag_time: None,
                repo_digests: Vec::new(),
                parent: img.parent.clone(),
            },
        };
        for d in &img.repo_digests {
            if !record.repo_digests.contains(d) {
                record.repo_digests.push(d.clone());
            }
        }
        if !img.tags.is_empty() {
            record.last_tag_time = Some(now);
        }
        inner.meta.write(&record)?;
        let entry = Arc::new(ImageEntry {
            created_unix: created_unix(config.created.as_deref()),
            config,
            record,
        });
        idx.images.insert(id.clone(), entry.clone());
        let mut retagged = Vec::new();
        for t in &img.tags {
            let full = t.clone().with_default_tag().full();
            if idx.refs.get(&full) != Some(&id) {
                idx.refs.insert(full.clone(), id.clone());
                retagged.push(full);
            }
        }
        if !retagged.is_empty() {
            inner.meta.write_refs(&idx.refs)?;
        }
        drop(idx);
        // Referenced now: the marks have done their job.
        for l in &img.layers {
            inner.marks.unmark(&l.blob_digest);
            inner.marks.unmark(&l.diff_id);
        }
        drop(commit);
        drop(lease);
        let labels = entry_labels(&entry);
        let name = img
            .tags
            .first()
            .map(|t| t.clone().with_default_tag().familiar())
            .unwrap_or_else(|| id.clone());
        if let Some(event) = img.event {
            inner.emit(event, &id, &labels, &name);
        }
        tracing::info!(image = %id, event = ?img.event, "committed image");
        Ok(id)
    }
}
