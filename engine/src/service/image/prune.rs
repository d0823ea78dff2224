//! `POST /images/prune`.

use super::{ImageListFilter, ImageService, ImageUse};
use crate::error::{EngineError, Result};
use crate::model::image::{ImageDeleteItem, ImageSummary};

impl ImageService {
    /// `POST /images/prune`: remove the images no container uses (running or not) that pass
    /// `filter` (docker: dangling ones only unless `dangling=false`). A tagged image goes by
    /// untagging each of its tags, as `rmi` of each would. Returns what was removed and the bytes
    /// reclaimed.
    pub async fn prune(
        &self,
        filter: ImageListFilter,
        until: Option<i64>,
        usage: Vec<ImageUse>,
    ) -> Result<(Vec<ImageDeleteItem>, u64)> {
        let candidates: Vec<ImageSummary> = self
            .list(&filter)?
            .into_iter()
            .filter(|img| !usage.iter().any(|(id, _, _)| *id == img.id))
            .filter(|img| until.is_none_or(|t| img.created < t))
            .collect();
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut removed = Vec::new();
            let mut reclaimed = 0u64;
            for img in candidates {
                let names = if img.repo_tags.is_empty() {
                    vec![img.id.clone()]
                } else {
                    img.repo_tags.clone()
                };
                for name in names {
                    match inner.remove(&name, false, &usage) {
                        Ok((items, parent)) => {
                            removed.extend(items);
                            if let Some(parent) = parent {
                                inner.remove_untagged_parents(parent, &usage, &mut removed)?;
                            }
                        }
                        // Removed meanwhile, or now in use: prune skips it, as docker does.
                        Err(e) => tracing::debug!(image = %name, error = %e, "prune skipped"),
                    }
                }
                if !inner.exists(&img.id) {
                    reclaimed += u64::try_from(img.size).unwrap_or(0);
                }
            }
            Ok((removed, reclaimed))
        })
        .await
        .map_err(|e| EngineError::internal(format!("prune task failed: {e}")))?
    }
}
