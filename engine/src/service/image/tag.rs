//! `POST /images/{name}/tag`.

use std::sync::Arc;

use super::{entry_labels, lock, ImageEntry, ImageService, Inner};
use crate::error::{EngineError, Result};
use crate::image::reference::Reference;

/// The reference `POST /images/{name}/tag?repo=&tag=` (or an import's `repo=&tag=`) creates.
pub fn target_reference(repo: &str, tag: Option<&str>) -> Result<Reference> {
    let r = Reference::parse(repo)?;
    if r.digest.is_some() {
        return Err(EngineError::invalid(
            "refusing to create a tag with a digest reference",
        ));
    }
    match tag.filter(|t| !t.is_empty()) {
        Some(t) => Reference::parse(&format!("{}:{t}", r.name())),
        None => Ok(r.with_default_tag()),
    }
}

impl ImageService {
    /// Tag image `name` as `repo[:tag]`.
    pub async fn tag(&self, name: &str, repo: &str, tag: Option<&str>) -> Result<()> {
        let inner = self.inner.clone();
        let name = name.to_string();
        let target = target_reference(repo, tag)?;
        tokio::task::spawn_blocking(move || inner.tag(&name, &target))
            .await
            .map_err(|e| EngineError::internal(format!("tag task failed: {e}")))?
    }
}

impl Inner {
    fn tag(&self, name: &str, target: &Reference) -> Result<()> {
        let mut idx = lock(&self.index);
        let id = idx.lookup(name)?;
        let entry = idx.entry(&id)?;
        idx.refs.insert(target.full(), id.clone());
        self.meta.write_refs(&idx.refs)?;
        let mut record = entry.record.clone();
        record.last_tag_time = Some(crate::util::now_rfc3339());
        self.meta.write(&record)?;
        idx.images.insert(
            id.clone(),
            Arc::new(ImageEntry {
                record,
                config: entry.config.clone(),
                created_unix: entry.created_unix,
            }),
        );
        drop(idx);
        self.emit("tag", &id, &entry_labels(&entry), &target.familiar());
        Ok(())
    }
}
