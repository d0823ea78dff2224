//! Blob-store access for push: the stored layer blobs it reads and the compressed blobs it keeps.

use std::path::PathBuf;

use crate::error::{EngineError, Result};
use crate::image::compress::{Compressed, Compression};
use crate::service::image::{lock, ImageService};
use crate::store::blobs::BlobWriter;

impl ImageService {
    /// Path of a stored blob (NotFound when it is missing).
    pub(crate) fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        let p = self.inner.blobs.path(digest)?;
        if !p.is_file() {
            return Err(EngineError::not_found(format!("blob {digest} is missing")));
        }
        Ok(p)
    }

    pub(crate) fn blob_writer(&self) -> Result<BlobWriter> {
        self.inner.blobs.writer()
    }

    /// The remembered compressed blob of a layer, when it is still in the store.
    pub(crate) fn compressed_layer(&self, diff_id: &str, c: Compression) -> Option<Compressed> {
        self.inner
            .compressed
            .get(diff_id, c)
            .filter(|b| self.inner.blobs.exists(&b.digest))
    }

    /// Keep a compressed blob made for a layer and remember it, so later pushes reuse it. Under
    /// the commit lock, so a concurrent garbage collection sees either neither or both.
    pub(crate) fn store_compressed(
        &self,
        diff_id: &str,
        c: Compression,
        writer: BlobWriter,
        blob: &Compressed,
    ) -> Result<()> {
        let _commit = lock(&self.inner.commit_lock);
        if !self.inner.layers.exists(diff_id) {
            // The image went away while its layer was being compressed: nothing to remember.
            return Ok(());
        }
        self.inner.compressed.remember(diff_id, c, blob.clone())?;
        self.inner.blobs.commit(writer, &blob.digest)
    }
}
