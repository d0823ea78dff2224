//! The image aggregate: the image store (blobs, unpacked layers, image records and tags) and the
//! jobs that use it, one verb per file.
//!
//! The service keeps a small in-memory index (images and refs) behind a std Mutex; durable state is
//! in `store::{blobs, layers, images}`. Async entry points run their filesystem work on the blocking
//! pool. Write order keeps the store consistent across `kill -9`: blobs and the layer directory
//! first (renamed into place when complete), then the image metadata, then the refs file; removal
//! goes the other way (refs, metadata, then layers and blobs no other image uses).
//!
//! `open` (opening the store), `resolve` (names to images), `list`, `inspect`, `history`, `tag`,
//! `remove`, `prune` and `import` are the local verbs; `gc` collects what no image references;
//! `ingest` (pull and load commit through it) and `parts` (the read side of save and push) are
//! shared by `pull`, `push`, `archive` (save and load); `check` re-verifies the store.

pub mod archive;
pub mod check;
pub mod commit_child;
mod distribution;
mod gc;
mod history;
mod import;
pub mod ingest;
mod inspect;
mod list;
mod open;
pub mod parts;
mod prune;
pub mod pull;
pub mod pull_progress;
pub mod push;
mod remove;
mod resolve;
pub mod tag;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::image::compress::CompressedIndex;
use crate::image::import::ParsedConfig;
use crate::service::events::{kind, EventBus};
use crate::store::blobs::BlobStore;
use crate::store::images::{ImageMetaStore, ImageRecord};
use crate::store::layers::LayerStore;
use crate::store::resumable::ResumableMarks;

pub use import::ImportOptions;
pub use list::ImageListFilter;
pub use tag::target_reference;

// Fields are visible to the submodules that extend ImageService (one store, several jobs).
#[derive(Clone)]
pub struct ImageService {
    inner: Arc<Inner>,
}

struct Inner {
    blobs: BlobStore,
    layers: LayerStore,
    meta: ImageMetaStore,
    marks: ResumableMarks,
    index: Mutex<Index>,
    /// Serialises the commit phase of imports with removals, so a removal's garbage collection
    /// never deletes a layer or blob that an import is about to reference.
    commit_lock: Mutex<()>,
    /// Blobs and layers held by live ingest leases (lease id → digests): in use for garbage
    /// collection although no image references them yet.
    pins: Mutex<HashMap<u64, HashSet<String>>>,
    next_lease: AtomicU64,
    events: EventBus,
    /// Compressed forms of layers made by push (their blobs count as used while the layer lives).
    compressed: CompressedIndex,
}

#[derive(Default)]
struct Index {
    images: HashMap<String, Arc<ImageEntry>>,
    /// Normalised "domain/path:tag" → image id.
    refs: BTreeMap<String, String>,
}

struct ImageEntry {
    record: ImageRecord,
    config: ParsedConfig,
    created_unix: i64,
}

/// A container's use of an image: (image id, container id, running).
pub type ImageUse = (String, String, bool);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// First 12 hex digits, as docker shows ids.
pub fn short_id(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.chars().take(12).collect()
}

fn created_unix(created: Option<&str>) -> i64 {
    created
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

fn entry_labels(entry: &ImageEntry) -> HashMap<String, String> {
    entry
        .config
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default()
}

impl Inner {
    fn exists(&self, id: &str) -> bool {
        lock(&self.index).images.contains_key(id)
    }

    /// Publish an image event (docker's LogImageEvent): the image's labels plus `name`.
    fn emit(&self, action: &str, id: &str, labels: &HashMap<String, String>, name: &str) {
        let mut attrs: BTreeMap<String, String> =
            labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        attrs.insert("name".into(), name.to_owned());
        self.events.publish(kind::IMAGE, action, id, attrs);
    }
}
