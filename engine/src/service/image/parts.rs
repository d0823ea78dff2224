//! The read side of the store that save and push need: an image's config, manifest and layer
//! blobs as stored, and the repo digests a push learns.

use std::path::PathBuf;
use std::sync::Arc;

use super::{lock, ImageEntry, ImageService};
use crate::error::{EngineError, Result};
use crate::image::import::MAX_JSON_BLOB;
use crate::image::reference::familiar_string;
use crate::registry::manifest::parse_image_manifest;

/// Media type of a layer stored as a plain tar (imported or loaded images).
pub use crate::image::import::LAYER_TAR_MEDIA_TYPE as TAR_LAYER_MEDIA_TYPE;

/// One layer of a stored image, for save and push.
#[derive(Debug, Clone)]
pub struct LayerPart {
    pub blob_digest: String,
    pub blob_path: PathBuf,
    pub blob_size: u64,
    pub media_type: String,
    pub diff_id: String,
}

/// Everything save and push need about a stored image.
#[derive(Debug, Clone)]
pub struct ImageParts {
    pub id: String,
    pub config: Vec<u8>,
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    pub layers: Vec<LayerPart>,
    /// Familiar "name:tag".
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
}

impl ImageService {
    /// The stored pieces of image `name`, for save and push.
    pub fn image_parts(&self, name: &str) -> Result<ImageParts> {
        let inner = &self.inner;
        let (id, entry, repo_tags) = {
            let idx = lock(&inner.index);
            let id = idx.lookup(name)?;
            let entry = idx.entry(&id)?;
            let tags = idx
                .refs_of(&id)
                .iter()
                .map(|r| familiar_string(r))
                .collect();
            (id, entry, tags)
        };
        let rec = &entry.record;
        let config = inner.blobs.read(&rec.id, MAX_JSON_BLOB)?;
        let manifest = inner.blobs.read(&rec.manifest_digest, MAX_JSON_BLOB)?;
        let media_types = manifest_layer_media_types(&manifest);
        let mut layers = Vec::with_capacity(rec.diff_ids.len());
        for (i, (blob, diff_id)) in rec.layer_blobs.iter().zip(&rec.diff_ids).enumerate() {
            layers.push(LayerPart {
                blob_digest: blob.clone(),
                blob_path: inner.blobs.path(blob)?,
                blob_size: inner.blobs.size(blob)?,
                media_type: media_types
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| TAR_LAYER_MEDIA_TYPE.to_string()),
                diff_id: diff_id.clone(),
            });
        }
        Ok(ImageParts {
            id,
            config,
            manifest,
            manifest_digest: rec.manifest_digest.clone(),
            layers,
            repo_tags,
            repo_digests: rec.repo_digests.clone(),
        })
    }

    /// Record that image `id` is in a registry as `repo_digest` ("name@sha256:..."): what a
    /// push learns. Replaces an older digest for the same repository, as docker does.
    pub fn add_repo_digest(&self, id: &str, repo_digest: &str) -> Result<()> {
        let inner = &self.inner;
        let repo = repo_digest
            .split_once('@')
            .map(|(r, _)| r)
            .ok_or_else(|| EngineError::invalid(format!("invalid repo digest {repo_digest:?}")))?;
        let mut idx = lock(&inner.index);
        let entry = idx.entry(id)?;
        let mut record = entry.record.clone();
        record
            .repo_digests
            .retain(|d| d.split_once('@').map(|(r, _)| r) != Some(repo));
        record.repo_digests.push(repo_digest.to_string());
        inner.meta.write(&record)?;
        idx.images.insert(
            id.to_string(),
            Arc::new(ImageEntry {
                record,
                config: entry.config.clone(),
                created_unix: entry.created_unix,
            }),
        );
        Ok(())
    }
}

/// The `mediaType` of each layer a manifest lists (empty when it is not a manifest we read; a
/// plain tar when a layer does not say).
fn manifest_layer_media_types(manifest: &[u8]) -> Vec<String> {
    let Ok(m) = parse_image_manifest(manifest) else {
        return Vec::new();
    };
    m.layers()
        .iter()
        .map(|l| match l.media_type().as_ref() {
            "" => TAR_LAYER_MEDIA_TYPE.to_string(),
            t => t.to_string(),
        })
        .collect()
}
