//! Resolving a name (a reference, a full or short id, a digest reference) to an image, the way
//! docker does.

use std::path::PathBuf;
use std::sync::Arc;

use super::{lock, ImageEntry, ImageService, Index};
use crate::error::{EngineError, Result};
use crate::image::reference::{familiar_string, is_lower_hex, Reference};
use crate::model::image::ResolvedImage;

impl Index {
    /// Resolve a name to an image id the way docker does: a "sha256:" id (or prefix), a
    /// reference, then an unambiguous hex prefix of an id.
    pub(super) fn lookup(&self, name: &str) -> Result<String> {
        let not_found = || EngineError::not_found(format!("No such image: {name}"));
        if name.is_empty() {
            return Err(not_found());
        }
        if let Some(hex) = name.strip_prefix("sha256:") {
            if hex.is_empty() || hex.len() > 64 || !is_lower_hex(hex) {
                return Err(not_found());
            }
            return self.by_prefix(hex, name);
        }
        let looks_like_id = name.len() <= 64 && is_lower_hex(name);
        let parsed = Reference::parse(name);
        // dockerd names a missing image in its familiar form with the default tag
        // ("No such image: nosuch:latest" for `nosuch` or `library/nosuch`).
        let shown = match &parsed {
            Ok(r) if r.digest.is_none() => r.clone().with_default_tag().familiar(),
            _ => name.to_owned(),
        };
        let not_found = || EngineError::not_found(format!("No such image: {shown}"));
        match parsed {
            Ok(r) if r.digest.is_none() => {
                if let Some(id) = self.refs.get(&r.with_default_tag().full()) {
                    return Ok(id.clone());
                }
            }
            // Digest references name registry manifests: pulled images record them in
            // RepoDigests (familiar or full names; compared normalised).
            Ok(r) => {
                let want = format!("{}@{}", r.name(), r.digest.unwrap_or_default());
                let found = self.images.iter().find(|(_, e)| {
                    e.record.repo_digests.iter().any(|d| {
                        Reference::parse(d)
                            .ok()
                            .map(|p| format!("{}@{}", p.name(), p.digest.unwrap_or_default()))
                            == Some(want.clone())
                    })
                });
                return found.map(|(id, _)| id.clone()).ok_or_else(not_found);
            }
            Err(e) if !looks_like_id => return Err(e),
            Err(_) => {}
        }
        if looks_like_id {
            return self.by_prefix(name, &shown);
        }
        Err(not_found())
    }

    fn by_prefix(&self, hex: &str, name: &str) -> Result<String> {
        let mut found = self
            .images
            .keys()
            .filter(|id| id.strip_prefix("sha256:").unwrap_or(id).starts_with(hex));
        match (found.next(), found.next()) {
            (Some(id), None) => Ok(id.clone()),
            (None, _) => Err(EngineError::not_found(format!("No such image: {name}"))),
            (Some(_), Some(_)) => Err(EngineError::invalid(format!(
                "ambiguous image id prefix {name}: it matches more than one image"
            ))),
        }
    }

    pub(super) fn refs_of(&self, id: &str) -> Vec<String> {
        self.refs
            .iter()
            .filter(|(_, v)| v.as_str() == id)
            .map(|(k, _)| k.clone())
            .collect()
    }

    pub(super) fn repo_tags(&self, id: &str) -> Vec<String> {
        self.refs_of(id)
            .iter()
            .map(|k| familiar_string(k))
            .collect()
    }

    pub(super) fn entry(&self, id: &str) -> Result<Arc<ImageEntry>> {
        self.images
            .get(id)
            .cloned()
            .ok_or_else(|| EngineError::not_found(format!("No such image: {id}")))
    }
}

impl ImageService {
    /// Resolve a name ("busybox", "busybox:1", "docker.io/library/busybox", a full or short id,
    /// "sha256:...") to an image. Unknown → NotFound("No such image: NAME").
    pub fn resolve(&self, name: &str) -> Result<ResolvedImage> {
        let idx = lock(&self.inner.index);
        let id = idx.lookup(name)?;
        let entry = idx.entry(&id)?;
        let layer_dirs = entry
            .record
            .diff_ids
            .iter()
            .rev()
            .map(|d| self.inner.layers.diff_path(d))
            .collect::<Result<Vec<PathBuf>>>()?;
        Ok(ResolvedImage {
            id,
            config: entry.config.config.clone().unwrap_or_default(),
            layer_dirs,
        })
    }
}

impl ImageService {
    /// The images named (those that exist) and all their ancestors by `parent`: what a build's
    /// `cachefrom` lets the cache use.
    pub fn ancestry(&self, names: &[String]) -> std::collections::HashSet<String> {
        let idx = lock(&self.inner.index);
        let mut out = std::collections::HashSet::new();
        for n in names {
            let Ok(mut id) = idx.lookup(n) else { continue };
            loop {
                if !out.insert(id.clone()) {
                    break;
                }
                match idx.images.get(&id).and_then(|e| e.record.parent.clone()) {
                    Some(p) => id = p,
                    None => break,
                }
            }
        }
        out
    }

    /// Whether image `id` (full id) is in the store.
    pub fn contains(&self, id: &str) -> bool {
        self.inner.exists(id)
    }

    /// The exact config bytes of image `name`.
    pub fn config_bytes(&self, name: &str) -> Result<(String, Vec<u8>)> {
        let id = lock(&self.inner.index).lookup(name)?;
        let bytes = self
            .inner
            .blobs
            .read(&id, crate::image::import::MAX_JSON_BLOB)?;
        Ok((id, bytes))
    }
}

impl ImageService {
    /// Whether image `id` is an intermediate a build cache prune may delete: in the store,
    /// untagged, and no other image's parent.
    pub fn is_bare_intermediate(&self, id: &str) -> bool {
        let idx = lock(&self.inner.index);
        idx.images.contains_key(id)
            && idx.refs_of(id).is_empty()
            && !idx
                .images
                .values()
                .any(|e| e.record.parent.as_deref() == Some(id))
    }

    /// The images that tagged images are built on (each tagged image and its ancestors): what
    /// a build cache prune without `all` keeps.
    pub fn tagged_ancestry(&self) -> std::collections::HashSet<String> {
        let tagged: Vec<String> = {
            let idx = lock(&self.inner.index);
            idx.refs.values().cloned().collect()
        };
        self.ancestry(&tagged)
    }
}
