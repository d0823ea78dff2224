//! Committing a build step's result: the parent image's layers plus at most one new layer, with
//! the step's config, as an untagged image whose `parent` is the previous step's image (docker's
//! legacy builder commits every step this way, so ` ---> <id>` names a real image).

use super::ingest::{IngestLease, IngestedLayer, NewImage};
use super::ImageService;
use crate::error::{EngineError, Result};
use crate::image::import::{
    parse_config, CONFIG_MEDIA_TYPE, LAYER_TAR_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, MAX_JSON_BLOB,
};
use crate::registry::manifest::{descriptor, image_manifest, to_json_bytes};

/// What a build step produced.
#[derive(Debug, Clone)]
pub struct ChildImage {
    /// The image the step ran on; None for the first step on `FROM scratch`.
    pub parent: Option<String>,
    /// The step's filesystem change, already ingested (None for a config-only step, or a RUN
    /// that changed nothing).
    pub layer: Option<IngestedLayer>,
    /// Exact config bytes; its rootfs.diff_ids are the parent's plus the new layer's.
    pub config: Vec<u8>,
}

impl ImageService {
    /// The layers of image `id` as ingested parts (blob digest and size, diff_id, content size)
    /// with each blob's media type: what a child image reuses.
    pub fn layers_of(&self, id: &str) -> Result<Vec<(IngestedLayer, String)>> {
        let parts = self.image_parts(id)?;
        parts
            .layers
            .into_iter()
            .map(|l| {
                let content_size = self.inner.layers.content_size(&l.diff_id)?;
                Ok((
                    IngestedLayer {
                        blob_digest: l.blob_digest,
                        blob_size: l.blob_size,
                        diff_id: l.diff_id,
                        content_size,
                    },
                    l.media_type,
                ))
            })
            .collect()
    }

    /// Commit `child` as an untagged image (no event: docker publishes only the build's tags).
    /// Committing the same config twice gives the same image. Blocking.
    pub fn commit_child(&self, lease: IngestLease, child: ChildImage) -> Result<String> {
        if child.config.len() as u64 > MAX_JSON_BLOB {
            return Err(EngineError::invalid("image config is too large"));
        }
        let mut layers = match &child.parent {
            Some(p) => self.layers_of(p)?,
            None => Vec::new(),
        };
        if let Some(l) = &child.layer {
            layers.push((l.clone(), LAYER_TAR_MEDIA_TYPE.to_string()));
        }
        let config_digest = crate::store::blobs::sha256_digest(&child.config);
        let descriptors = layers
            .iter()
            .map(|(l, media)| descriptor(media, &l.blob_digest, l.blob_size))
            .collect::<Result<Vec<_>>>()?;
        let config_desc = descriptor(CONFIG_MEDIA_TYPE, &config_digest, child.config.len() as u64)?;
        let manifest = to_json_bytes(&image_manifest(
            MANIFEST_MEDIA_TYPE,
            config_desc,
            descriptors,
        )?);
        // Checked here too so a mismatch names the build, not the store.
        let parsed = parse_config(&child.config)
            .map_err(|e| EngineError::internal(format!("built image config: {e}")))?;
        if parsed.rootfs.diff_ids.len() != layers.len() {
            return Err(EngineError::internal(
                "built image config names a different number of layers than it has",
            ));
        }
        self.commit_image(
            lease,
            NewImage {
                config: child.config,
                manifest,
                layers: layers.into_iter().map(|(l, _)| l).collect(),
                tags: Vec::new(),
                repo_digests: Vec::new(),
                event: None,
                parent: child.parent,
            },
        )
    }
}
