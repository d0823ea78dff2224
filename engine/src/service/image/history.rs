//! `GET /images/{name}/history`.

use super::{lock, ImageService};
use crate::error::{EngineError, Result};
use crate::image::import::MAX_JSON_BLOB;

impl ImageService {
    /// `GET /images/{name}/history` (docker's rules, see `image::history`). A layer's size is its
    /// recorded content size, as the image's Size sums them.
    pub async fn history(&self, name: &str) -> Result<Vec<crate::image::history::HistoryItem>> {
        let (id, tags, layers) = {
            let idx = lock(&self.inner.index);
            let id = idx.lookup(name)?;
            let entry = idx.entry(&id)?;
            let mut tags = idx.repo_tags(&id);
            tags.sort();
            (id, tags, entry.record.diff_ids.clone())
        };
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let config = inner.blobs.read(&id, MAX_JSON_BLOB)?;
            crate::image::history::history(&id, &config, tags, |d| {
                if !layers.iter().any(|l| l == d) {
                    return Err(EngineError::internal(format!(
                        "history names layer {d} the image lacks"
                    )));
                }
                inner.layers.content_size(d)
            })
        })
        .await
        .map_err(|e| EngineError::internal(format!("history task failed: {e}")))?
    }
}
