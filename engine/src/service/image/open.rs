//! Opening the image store: load the image records, drop incomplete images and dangling tags,
//! collect what interrupted imports and removals left behind.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use super::{created_unix, ImageEntry, ImageService, Index, Inner};
use crate::error::{EngineError, Result};
use crate::image::compress::CompressedIndex;
use crate::image::import::{parse_config, MAX_JSON_BLOB};
use crate::service::events::EventBus;
use crate::store::blobs::{ensure_private_dir, BlobStore};
use crate::store::images::{ImageMetaStore, ImageRecord};
use crate::store::layers::LayerStore;
use crate::store::resumable::ResumableMarks;

impl ImageService {
    /// Open (creating when missing) the image store under `<data_root>/image`. Cleans up what
    /// interrupted imports and removals left behind, drops images whose files are incomplete and
    /// garbage-collects layers and blobs no image references.
    pub fn open(data_root: &Path) -> Result<Self> {
        Self::open_with_events(data_root, EventBus::new())
    }

    /// `open`, publishing image events on `events` (the engine shares one bus).
    pub fn open_with_events(data_root: &Path, events: EventBus) -> Result<Self> {
        ensure_private_dir(data_root)?;
        let root = data_root.join("image");
        ensure_private_dir(&root)?;
        let blobs = BlobStore::open(&root.join("blobs"))?;
        let layers = LayerStore::open(&root.join("layers"))?;
        let meta = ImageMetaStore::open(&root)?;
        let marks = ResumableMarks::open(&root)?;
        let compressed = CompressedIndex::open(&root)?;

        let mut index = Index::default();
        for record in meta.load_all()? {
            match Self::load_entry(&blobs, &layers, record.clone()) {
                Ok(entry) => {
                    index.images.insert(record.id.clone(), Arc::new(entry));
                }
                Err(e) => {
                    tracing::warn!(image = %record.id, error = %e, "dropping incomplete image");
                    meta.remove(&record.id)?;
                }
            }
        }
        let mut refs = meta.load_refs()?;
        let before = refs.len();
        refs.retain(|_, id| index.images.contains_key(id));
        if refs.len() != before {
            meta.write_refs(&refs)?;
        }
        index.refs = refs;

        let inner = Inner {
            blobs,
            layers,
            meta,
            marks,
            index: Mutex::new(index),
            commit_lock: Mutex::new(()),
            pins: Mutex::new(HashMap::new()),
            next_lease: AtomicU64::new(1),
            events,
            compressed,
        };
        inner.collect_garbage(true)?;
        Ok(ImageService {
            inner: Arc::new(inner),
        })
    }

    fn load_entry(
        blobs: &BlobStore,
        layers: &LayerStore,
        record: ImageRecord,
    ) -> Result<ImageEntry> {
        let config_bytes = blobs.read(&record.id, MAX_JSON_BLOB)?;
        let config = parse_config(&config_bytes)?;
        if !blobs.exists(&record.manifest_digest) {
            return Err(EngineError::internal("manifest blob is missing"));
        }
        if config.rootfs.diff_ids != record.diff_ids {
            return Err(EngineError::internal(
                "metadata does not match the config's layers",
            ));
        }
        for d in &record.diff_ids {
            if !layers.exists(d) {
                return Err(EngineError::internal(format!("layer {d} is missing")));
            }
        }
        for b in &record.layer_blobs {
            if !blobs.exists(b) {
                return Err(EngineError::internal(format!("layer blob {b} is missing")));
            }
        }
        Ok(ImageEntry {
            created_unix: created_unix(config.created.as_deref()),
            record,
            config,
        })
    }
}
