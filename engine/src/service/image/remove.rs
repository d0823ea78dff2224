//! `DELETE /images/{name}` with docker's untag/delete rules.

use std::collections::{HashMap, HashSet};

use super::{entry_labels, lock, short_id, ImageService, ImageUse, Inner};
use crate::error::{EngineError, Result};
use crate::image::reference::{familiar_string, Reference};
use crate::model::image::ImageDeleteItem;

/// Whether `name` designates the image by id rather than by a reference (docker's
/// isImageIDPrefix).
fn is_id_prefix(id: &str, name: &str) -> bool {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    let n = name.strip_prefix("sha256:").unwrap_or(name);
    !n.is_empty() && hex.starts_with(n)
}

/// All tags belong to one repository (docker's isSingleReference).
pub(super) fn single_repository(refs: &[String]) -> bool {
    let names: HashSet<String> = refs
        .iter()
        .filter_map(|r| Reference::parse(r).ok().map(|r| r.name()))
        .collect();
    names.len() <= 1
}

impl ImageService {
    /// `DELETE /images/{name}` with docker's untag/delete rules. `usage` lists the containers
    /// that use images. Unless `noprune`, deleting an image also deletes its untagged parents
    /// that nothing else uses (a build's intermediate images), as docker does.
    pub async fn remove(
        &self,
        name: &str,
        force: bool,
        noprune: bool,
        usage: Vec<ImageUse>,
    ) -> Result<Vec<ImageDeleteItem>> {
        let inner = self.inner.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || {
            let (mut records, parent) = inner.remove(&name, force, &usage)?;
            if let (false, Some(parent)) = (noprune, parent) {
                inner.remove_untagged_parents(parent, &usage, &mut records)?;
            }
            Ok(records)
        })
        .await
        .map_err(|e| EngineError::internal(format!("remove task failed: {e}")))?
    }
}

impl Inner {
    /// Remove, then report what happened: `untag` for each removed reference and `delete` for
    /// the image, with the image id as the name, as docker does. Also returns the deleted
    /// image's parent, if it had one.
    pub(super) fn remove(
        &self,
        name: &str,
        force: bool,
        usage: &[ImageUse],
    ) -> Result<(Vec<ImageDeleteItem>, Option<String>)> {
        let (id, labels, records, parent) = self.remove_locked(name, force, usage)?;
        for item in &records {
            match item {
                ImageDeleteItem::Untagged(_) => self.emit("untag", &id, &labels, &id),
                ImageDeleteItem::Deleted(d) if *d == id => {
                    self.emit("delete", &id, &HashMap::new(), &id)
                }
                // Deleted layers are not images: docker reports no event for them.
                ImageDeleteItem::Deleted(_) => {}
            }
        }
        Ok((records, parent))
    }

    /// Docker's image deletion with pruning: after an image goes, its parent goes too when it
    /// is untagged, has no other child and no container uses it; and so on up the chain.
    pub(super) fn remove_untagged_parents(
        &self,
        mut parent: String,
        usage: &[ImageUse],
        records: &mut Vec<ImageDeleteItem>,
    ) -> Result<()> {
        loop {
            let removable = {
                let idx = lock(&self.index);
                idx.images.contains_key(&parent)
                    && idx.refs_of(&parent).is_empty()
                    && !idx
                        .images
                        .values()
                        .any(|e| e.record.parent.as_deref() == Some(parent.as_str()))
                    && !usage.iter().any(|(img, _, _)| *img == parent)
            };
            if !removable {
                return Ok(());
            }
            let (more, next) = self.remove(&parent, false, usage)?;
            records.extend(more);
            match next {
                Some(n) => parent = n,
                None => return Ok(()),
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn remove_locked(
        &self,
        name: &str,
        force: bool,
        usage: &[ImageUse],
    ) -> Result<(
        String,
        HashMap<String, String>,
        Vec<ImageDeleteItem>,
        Option<String>,
    )> {
        let _commit = lock(&self.commit_lock);
        let mut idx = lock(&self.index);
        let id = idx.lookup(name)?;
        let labels = idx.entry(&id).map(|e| entry_labels(&e)).unwrap_or_default();
        let short = short_id(&id);
        let users: Vec<(&str, bool)> = usage
            .iter()
            .filter(|(img, _, _)| *img == id)
            .map(|(_, c, running)| (c.as_str(), *running))
            .collect();
        let running = users.iter().find(|(_, r)| *r).map(|(c, _)| short_id(c));
        let stopped = users.iter().find(|(_, r)| !*r).map(|(c, _)| short_id(c));
        let hard = |c: &String| {
            EngineError::conflict(format!(
                "conflict: unable to delete {short} (cannot be forced) - image is being used by running container {c}"
            ))
        };
        let soft = |c: &String| {
            EngineError::conflict(format!(
                "conflict: unable to delete {short} (must be forced) - image is being used by stopped container {c}"
            ))
        };

        let mut records = Vec::new();
        let mut quiet = false;
        let repo_refs = idx.refs_of(&id);
        if !is_id_prefix(&id, name) {
            // A reference: untag it; the image goes only with its last tag.
            if !force && repo_refs.len() == 1 {
                if let Some((c, _)) = users.first() {
                    return Err(EngineError::conflict(format!(
                        "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {short}",
                        short_id(c)
                    )));
                }
            }
            let r = Reference::parse(name)?.with_default_tag();
            if idx.refs.remove(&r.full()).is_some() {
                records.push(ImageDeleteItem::Untagged(r.familiar()));
                self.meta.write_refs(&idx.refs)?;
            }
            if !idx.refs_of(&id).is_empty() {
                return Ok((id, labels, records, None));
            }
            quiet = true;
        } else if single_repository(&repo_refs) {
            if let Some(c) = &running {
                return Err(hard(c));
            }
            if let (false, Some(c)) = (force, &stopped) {
                return Err(soft(c));
            }
            for r in &repo_refs {
                idx.refs.remove(r);
                records.push(ImageDeleteItem::Untagged(familiar_string(r)));
            }
            if !repo_refs.is_empty() {
                self.meta.write_refs(&idx.refs)?;
            }
        }

        let remaining = idx.refs_of(&id);
        let conflict = if let Some(c) = &running {
            Some(hard(c))
        } else if force {
            None
        } else if let Some(c) = &stopped {
            Some(soft(c))
        } else if !remaining.is_empty() {
            Some(EngineError::conflict(format!(
                "conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories"
            )))
        } else {
            None
        };
        if let Some(err) = conflict {
            // After untagging its last tag, an image still used by a container stays (docker
            // keeps it as dangling rather than failing the untag).
            if quiet && !users.is_empty() {
                return Ok((id, labels, records, None));
            }
            return Err(err);
        }
        for r in &remaining {
            idx.refs.remove(r);
            records.push(ImageDeleteItem::Untagged(familiar_string(r)));
        }
        if !remaining.is_empty() {
            self.meta.write_refs(&idx.refs)?;
        }

        self.meta.remove(&id)?;
        let entry = idx.images.remove(&id);
        records.push(ImageDeleteItem::Deleted(id.clone()));
        drop(idx);
        if let Some(entry) = &entry {
            for chain in self.release_layers(&entry.record)? {
                records.push(ImageDeleteItem::Deleted(chain));
            }
        }
        tracing::info!(image = %id, "removed image");
        let parent = entry.and_then(|e| e.record.parent.clone());
        Ok((id, labels, records, parent))
    }
}
