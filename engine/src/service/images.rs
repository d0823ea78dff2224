//! Image operations: import, resolve, list, inspect, tag, remove.
//!
//! The service keeps a small in-memory index (images and refs) behind a std Mutex; durable state is
//! in `store::{blobs, layers, images}`. Async entry points run their filesystem work on the blocking
//! pool. Write order keeps the store consistent across `kill -9`: blobs and the layer directory
//! first (renamed into place when complete), then the image metadata, then the refs file; removal
//! goes the other way (refs, metadata, then layers and blobs no other image uses).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{EngineError, Result};
use crate::image::compress::CompressedIndex;
use crate::image::extract::extract_layer;
use crate::image::import::{
    build_config, build_manifest, decompressed, parse_config, ParsedConfig, Platform, MAX_JSON_BLOB,
};
use crate::image::reference::{familiar_string, is_lower_hex, Reference};
use crate::model::image::{
    GraphDriver, ImageContainerConfig, ImageDeleteItem, ImageInspect, ImageMetadata, ImageSummary,
    ResolvedImage, RootFs,
};
use crate::service::events::{kind, EventBus};
use crate::store::blobs::{digest_hex, ensure_private_dir, sha256_digest, BlobStore};
use crate::store::images::{ImageMetaStore, ImageRecord};
use crate::store::layers::LayerStore;
use crate::store::resumable::ResumableMarks;
use crate::util::ZERO_TIME;

// Fields are visible to the sibling service modules that extend ImageService (image_ingest,
// image_check, pull, push, image_archive): one store, several jobs.
pub struct ImageService {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) blobs: BlobStore,
    pub(super) layers: LayerStore,
    pub(super) meta: ImageMetaStore,
    pub(super) marks: ResumableMarks,
    pub(super) index: Mutex<Index>,
    /// Serialises the commit phase of imports with removals, so a removal's garbage collection
    /// never deletes a layer or blob that an import is about to reference.
    pub(super) commit_lock: Mutex<()>,
    /// Blobs and layers held by live ingest leases (lease id → digests): in use for garbage
    /// collection although no image references them yet.
    pub(super) pins: Mutex<HashMap<u64, HashSet<String>>>,
    pub(super) next_lease: AtomicU64,
    pub(super) events: EventBus,
    /// Compressed forms of layers made by push (their blobs count as used while the layer lives).
    pub(super) compressed: CompressedIndex,
}

#[derive(Default)]
pub(super) struct Index {
    pub(super) images: HashMap<String, Arc<ImageEntry>>,
    /// Normalised "domain/path:tag" → image id.
    pub(super) refs: BTreeMap<String, String>,
}

pub(super) struct ImageEntry {
    pub(super) record: ImageRecord,
    pub(super) config: ParsedConfig,
    pub(super) created_unix: i64,
}

/// What `POST /images/create?fromSrc=-` asks for, already validated.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Tag to give the new image (with its tag filled in), if any.
    pub reference: Option<Reference>,
    /// Config after applying `changes`.
    pub config: ImageContainerConfig,
    pub message: Option<String>,
    pub platform: Platform,
}

/// `GET /images/json` filters, parsed.
#[derive(Debug, Clone, Default)]
pub struct ImageListFilter {
    pub dangling: Option<bool>,
    /// "key" or "key=value".
    pub labels: Vec<String>,
    /// Glob patterns on the familiar reference ("busybox", "busy*:1.*").
    pub references: Vec<String>,
    pub before: Option<String>,
    pub since: Option<String>,
}

/// A container's use of an image: (image id, container id, running).
pub type ImageUse = (String, String, bool);

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep serving.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// First 12 hex digits, as docker shows ids.
pub fn short_id(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.chars().take(12).collect()
}

pub(super) fn created_unix(created: Option<&str>) -> i64 {
    created
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

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

/// Whether `name` designates the image by id rather than by a reference (docker's
/// isImageIDPrefix).
fn is_id_prefix(id: &str, name: &str) -> bool {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    let n = name.strip_prefix("sha256:").unwrap_or(name);
    !n.is_empty() && hex.starts_with(n)
}

/// All tags belong to one repository (docker's isSingleReference).
fn single_repository(refs: &[String]) -> bool {
    let names: HashSet<String> = refs
        .iter()
        .filter_map(|r| Reference::parse(r).ok().map(|r| r.name()))
        .collect();
    names.len() <= 1
}

/// `path.Match`-style glob: '*' and '?' do not cross '/'.
fn glob_match(pattern: &[u8], s: &[u8]) -> bool {
    match (pattern.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_match(&pattern[1..], s)
                || (!s.is_empty() && s[0] != b'/' && glob_match(pattern, &s[1..]))
        }
        (Some(b'?'), Some(c)) if *c != b'/' => glob_match(&pattern[1..], &s[1..]),
        (Some(b'['), Some(c)) if *c != b'/' => match class_match(&pattern[1..], *c) {
            Some((true, rest)) => glob_match(rest, &s[1..]),
            _ => false,
        },
        (Some(b'\\'), Some(c)) if pattern.get(1) == Some(c) => glob_match(&pattern[2..], &s[1..]),
        (Some(p), Some(c)) if p == c && *p != b'\\' => glob_match(&pattern[1..], &s[1..]),
        _ => false,
    }
}

/// A `[...]` class (after the '['): `^` negates, `a-z` ranges, `\\` escapes. Returns whether
/// `c` matched and the pattern after the ']', or None when the class is malformed.
fn class_match(p: &[u8], c: u8) -> Option<(bool, &[u8])> {
    let (negate, mut p) = match p.first() {
        Some(b'^') => (true, &p[1..]),
        _ => (false, p),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        match p.first() {
            None => return None,
            Some(b']') if !first => return Some((matched != negate, &p[1..])),
            _ => {}
        }
        first = false;
        let lit = |p: &[u8]| -> Option<(u8, usize)> {
            match p.first()? {
                b'\\' => p.get(1).map(|c| (*c, 2)),
                c => Some((*c, 1)),
            }
        };
        let (lo, n) = lit(p)?;
        p = &p[n..];
        let mut hi = lo;
        if p.first() == Some(&b'-') && p.get(1) != Some(&b']') {
            let (h, n) = lit(&p[1..])?;
            hi = h;
            p = &p[1 + n..];
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}

/// Docker's FamiliarMatch: the pattern matches the familiar "name:tag" or the familiar name.
fn reference_matches(pattern: &str, full_ref: &str) -> bool {
    let Ok(r) = Reference::parse(full_ref) else {
        return false;
    };
    glob_match(pattern.as_bytes(), r.familiar().as_bytes())
        || glob_match(pattern.as_bytes(), r.familiar_name().as_bytes())
}

pub(super) fn entry_labels(entry: &ImageEntry) -> HashMap<String, String> {
    entry
        .config
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default()
}

fn labels_match(filters: &[String], labels: &HashMap<String, String>) -> bool {
    filters.iter().all(|f| match f.split_once('=') {
        Some((k, v)) => labels.get(k).map(|x| x == v).unwrap_or(false),
        None => labels.contains_key(f.as_str()),
    })
}

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

    /// Number of images (for `/info`).
    pub fn count(&self) -> usize {
        lock(&self.inner.index).images.len()
    }

    /// `GET /images/json`, newest first like docker.
    pub fn list(&self, filter: &ImageListFilter) -> Result<Vec<ImageSummary>> {
        let idx = lock(&self.inner.index);
        let bound = |name: &Option<String>| -> Result<Option<i64>> {
            match name {
                Some(n) => Ok(Some(idx.entry(&idx.lookup(n)?)?.created_unix)),
                None => Ok(None),
            }
        };
        let before = bound(&filter.before)?;
        let since = bound(&filter.since)?;
        let mut out = Vec::new();
        for (id, entry) in &idx.images {
            let mut refs = idx.refs_of(id);
            if let Some(d) = filter.dangling {
                if d != refs.is_empty() {
                    continue;
                }
            }
            if !filter.references.is_empty() {
                refs.retain(|r| filter.references.iter().any(|p| reference_matches(p, r)));
                if refs.is_empty() {
                    continue;
                }
            }
            let labels = entry
                .config
                .config
                .as_ref()
                .and_then(|c| c.labels.clone())
                .unwrap_or_default();
            if !labels_match(&filter.labels, &labels) {
                continue;
            }
            if before.is_some_and(|b| entry.created_unix >= b)
                || since.is_some_and(|s| entry.created_unix <= s)
            {
                continue;
            }
            out.push(ImageSummary {
                id: id.clone(),
                parent_id: String::new(),
                repo_tags: refs.iter().map(|r| familiar_string(r)).collect(),
                repo_digests: entry.record.repo_digests.clone(),
                created: entry.created_unix,
                size: entry.record.size as i64,
                shared_size: -1,
                labels,
                containers: -1,
            });
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// `GET /images/{name}/json`.
    pub fn inspect(&self, name: &str) -> Result<ImageInspect> {
        let idx = lock(&self.inner.index);
        let id = idx.lookup(name)?;
        let entry = idx.entry(&id)?;
        let c = &entry.config;
        let mut dirs = entry
            .record
            .diff_ids
            .iter()
            .rev()
            .map(|d| {
                self.inner
                    .layers
                    .diff_path(d)
                    .map(|p| p.to_string_lossy().into_owned())
            })
            .collect::<Result<Vec<String>>>()?;
        let mut data = HashMap::new();
        if !dirs.is_empty() {
            data.insert("UpperDir".to_string(), dirs.remove(0));
        }
        if !dirs.is_empty() {
            data.insert("LowerDir".to_string(), dirs.join(":"));
        }
        Ok(ImageInspect {
            repo_tags: idx.repo_tags(&id),
            repo_digests: entry.record.repo_digests.clone(),
            parent: String::new(),
            comment: c.comment.clone().unwrap_or_default(),
            created: c.created.clone().unwrap_or_else(|| ZERO_TIME.to_string()),
            docker_version: c.docker_version.clone().unwrap_or_default(),
            author: c.author.clone().unwrap_or_default(),
            config: c.config.clone().unwrap_or_default(),
            architecture: c.architecture.clone(),
            variant: c.variant.clone(),
            os: c.os.clone(),
            size: entry.record.size as i64,
            graph_driver: GraphDriver {
                name: "overlay2".into(),
                data,
            },
            root_fs: RootFs {
                kind: if c.rootfs.kind.is_empty() {
                    "layers".into()
                } else {
                    c.rootfs.kind.clone()
                },
                layers: entry.record.diff_ids.clone(),
            },
            metadata: ImageMetadata {
                last_tag_time: entry
                    .record
                    .last_tag_time
                    .clone()
                    .unwrap_or_else(|| ZERO_TIME.to_string()),
            },
            id,
        })
    }

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

    /// Import a tar (plain or gzip) as a single-layer image; returns its id. The body is read on
    /// the blocking pool as it streams in.
    pub async fn import(&self, body: Box<dyn Read + Send>, opts: ImportOptions) -> Result<String> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.import(body, opts))
            .await
            .map_err(|e| EngineError::internal(format!("import task failed: {e}")))?
    }

    /// Tag image `name` as `repo[:tag]`.
    pub async fn tag(&self, name: &str, repo: &str, tag: Option<&str>) -> Result<()> {
        let inner = self.inner.clone();
        let name = name.to_string();
        let target = target_reference(repo, tag)?;
        tokio::task::spawn_blocking(move || inner.tag(&name, &target))
            .await
            .map_err(|e| EngineError::internal(format!("tag task failed: {e}")))?
    }

    /// `DELETE /images/{name}` with docker's untag/delete rules. `usage` lists the containers
    /// that use images.
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
                        Ok(items) => removed.extend(items),
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

    pub async fn remove(
        &self,
        name: &str,
        force: bool,
        usage: Vec<ImageUse>,
    ) -> Result<Vec<ImageDeleteItem>> {
        let inner = self.inner.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || inner.remove(&name, force, &usage))
            .await
            .map_err(|e| EngineError::internal(format!("remove task failed: {e}")))?
    }
}

impl Inner {
    pub(super) fn exists(&self, id: &str) -> bool {
        lock(&self.index).images.contains_key(id)
    }

    fn import(&self, body: Box<dyn Read + Send>, opts: ImportOptions) -> Result<String> {
        let reader = decompressed(body)?;
        let pending = self.layers.begin()?;
        let mut blob = self.blobs.writer()?;
        let stats = extract_layer(reader, Some(&mut blob), &pending.diff_path())?;
        pending.set_content_size(stats.content_size)?;
        tracing::debug!(diff_id = %stats.diff_id, bytes = stats.tar_size, "layer extracted");

        let created = crate::util::now_rfc3339();
        let comment = opts
            .message
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "Imported from -".to_string());
        let config_bytes = build_config(
            &opts.config,
            &stats.diff_id,
            &opts.platform,
            &comment,
            &created,
        );
        let id = sha256_digest(&config_bytes);

        let _commit = lock(&self.commit_lock);
        self.blobs.commit(blob, &stats.diff_id)?;
        self.layers.commit(pending, &stats.diff_id)?;
        self.blobs.put(&config_bytes)?;
        let manifest = build_manifest(
            &id,
            config_bytes.len() as u64,
            &[(stats.diff_id.clone(), stats.tar_size)],
        );
        let manifest_digest = self.blobs.put(&manifest)?;
        let record = ImageRecord {
            id: id.clone(),
            manifest_digest,
            diff_ids: vec![stats.diff_id.clone()],
            layer_blobs: vec![stats.diff_id.clone()],
            size: stats.content_size,
            last_tag_time: opts.reference.as_ref().map(|_| created.clone()),
            repo_digests: Vec::new(),
        };
        // The metadata file is the commit point: everything it names is in place.
        self.meta.write(&record)?;
        let entry = ImageEntry {
            created_unix: created_unix(Some(&created)),
            config: parse_config(&config_bytes)?,
            record,
        };
        let labels = entry_labels(&entry);
        let mut idx = lock(&self.index);
        idx.images.insert(id.clone(), Arc::new(entry));
        if let Some(r) = &opts.reference {
            idx.refs.insert(r.full(), id.clone());
            self.meta.write_refs(&idx.refs)?;
        }
        drop(idx);
        // docker tags the new image first, then reports the import.
        if let Some(r) = &opts.reference {
            self.emit("tag", &id, &labels, &r.familiar());
        }
        self.emit("import", &id, &labels, &id);
        tracing::info!(image = %id, "imported image");
        Ok(id)
    }

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

    /// Remove, then report what happened: `untag` for each removed reference and `delete` for
    /// the image, with the image id as the name, as docker does.
    fn remove(&self, name: &str, force: bool, usage: &[ImageUse]) -> Result<Vec<ImageDeleteItem>> {
        let (id, labels, records) = self.remove_locked(name, force, usage)?;
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
        Ok(records)
    }

    /// Publish an image event (docker's LogImageEvent): the image's labels plus `name`.
    pub(super) fn emit(
        &self,
        action: &str,
        id: &str,
        labels: &HashMap<String, String>,
        name: &str,
    ) {
        let mut attrs: BTreeMap<String, String> =
            labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        attrs.insert("name".into(), name.to_owned());
        self.events.publish(kind::IMAGE, action, id, attrs);
    }

    #[allow(clippy::type_complexity)]
    fn remove_locked(
        &self,
        name: &str,
        force: bool,
        usage: &[ImageUse],
    ) -> Result<(String, HashMap<String, String>, Vec<ImageDeleteItem>)> {
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
                return Ok((id, labels, records));
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
                return Ok((id, labels, records));
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
        if let Some(entry) = entry {
            for chain in self.release_layers(&entry.record)? {
                records.push(ImageDeleteItem::Deleted(chain));
            }
        }
        tracing::info!(image = %id, "removed image");
        Ok((id, labels, records))
    }

    /// Remove the layers and blobs of a deleted image that no remaining image uses. Returns the
    /// chain ids of removed layers (what docker reports as deleted layers). Called with the
    /// commit lock held.
    fn release_layers(&self, record: &ImageRecord) -> Result<Vec<String>> {
        let (used_layers, used_blobs) = self.in_use();
        let mut removed = Vec::new();
        let mut chain: Option<String> = None;
        for d in &record.diff_ids {
            // chainID(n) = sha256(chainID(n-1) + " " + diffID(n)); chainID(0) = diffID(0).
            let c = match &chain {
                None => d.clone(),
                Some(prev) => sha256_digest(format!("{prev} {d}").as_bytes()),
            };
            chain = Some(c.clone());
            if !used_layers.contains(d) {
                self.layers.remove(d)?;
                removed.push(c);
            }
        }
        let mut blobs = vec![record.id.clone(), record.manifest_digest.clone()];
        blobs.extend(record.layer_blobs.iter().cloned());
        // Compressed copies made for pushes go with their layer.
        let gone: Vec<String> = record
            .diff_ids
            .iter()
            .filter(|d| !used_layers.contains(*d))
            .cloned()
            .collect();
        blobs.extend(self.compressed.blobs_of(&gone));
        self.compressed.retain_layers(&used_layers)?;
        for b in blobs {
            if !used_blobs.contains(&b) {
                self.blobs.remove(&b)?;
            }
        }
        Ok(removed)
    }

    /// Layers and blobs referenced by the images in the index or pinned by ingest leases.
    pub(super) fn in_use(&self) -> (HashSet<String>, HashSet<String>) {
        let idx = lock(&self.index);
        let mut layers = HashSet::new();
        let mut blobs = HashSet::new();
        for e in idx.images.values() {
            layers.extend(e.record.diff_ids.iter().cloned());
            blobs.insert(e.record.id.clone());
            blobs.insert(e.record.manifest_digest.clone());
            blobs.extend(e.record.layer_blobs.iter().cloned());
            // A pull that found the image already here (same config) adds its registry
            // manifest only as a RepoDigest: that manifest blob belongs to the image too.
            blobs.extend(
                e.record
                    .repo_digests
                    .iter()
                    .filter_map(|d| d.rsplit_once('@'))
                    .map(|(_, digest)| digest.to_owned()),
            );
        }
        drop(idx);
        for pinned in lock(&self.pins).values() {
            layers.extend(pinned.iter().cloned());
            blobs.extend(pinned.iter().cloned());
        }
        blobs.extend(self.compressed.blobs_of(&layers));
        (layers, blobs)
    }

    /// Remove layers and blobs that no image references (left by a removal or an import that
    /// was interrupted between its commit steps). With `spare_resumable`, verified content of an
    /// interrupted pull or load (marked, younger than the grace period) stays so the next pull
    /// resumes from it.
    pub(super) fn collect_garbage(&self, spare_resumable: bool) -> Result<()> {
        let _commit = lock(&self.commit_lock);
        let (used_layers, used_blobs) = self.in_use();
        let spared = |d: &str| spare_resumable && self.marks.is_fresh(d);
        self.compressed.retain_layers(&used_layers)?;
        for d in self.layers.list()? {
            if !used_layers.contains(&d) && !spared(&d) {
                tracing::info!(layer = %d, "removing unreferenced layer");
                self.layers.remove(&d)?;
            }
        }
        for b in self.blobs.list()? {
            if !used_blobs.contains(&b) && digest_hex(&b).is_ok() && !spared(&b) {
                tracing::info!(blob = %b, "removing unreferenced blob");
                self.blobs.remove(&b)?;
            }
        }
        // A mark outlives its purpose once the content is gone or an image references it.
        self.marks.retain(|d| {
            let unreferenced = !used_layers.contains(d) && !used_blobs.contains(d);
            unreferenced && (self.layers.exists(d) || self.blobs.exists(d))
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_glob_and_reference_filters() {
        assert!(glob_match(b"busy*", b"busybox"));
        assert!(!glob_match(b"*", b"a/b"));
        assert!(glob_match(b"a/*", b"a/b"));
        assert!(glob_match(b"b?sybox:*", b"busybox:1.36"));
        assert!(reference_matches(
            "busybox",
            "docker.io/library/busybox:latest"
        ));
        assert!(reference_matches(
            "busybox:latest",
            "docker.io/library/busybox:latest"
        ));
        assert!(!reference_matches(
            "busybox:1",
            "docker.io/library/busybox:latest"
        ));
        assert!(reference_matches("user/*", "docker.io/user/app:1"));
        assert!(glob_match(b"busybox:[0-9]*", b"busybox:1.36"));
        assert!(!glob_match(b"busybox:[^0-9]*", b"busybox:1.36"));
        assert!(glob_match(b"a[b-d]e", b"ace"));
        assert!(!glob_match(b"a[b-d]e", b"aee"));
        assert!(glob_match(b"a\\*", b"a*"));
        assert!(!glob_match(b"a\\*", b"ab"));
    }

    #[test]
    fn images_target_reference_rules() {
        assert_eq!(
            target_reference("busybox", None).unwrap().full(),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            target_reference("busybox:1.36", None).unwrap().full(),
            "docker.io/library/busybox:1.36"
        );
        assert_eq!(
            target_reference("busybox", Some("x")).unwrap().full(),
            "docker.io/library/busybox:x"
        );
        assert!(target_reference("busybox", Some("bad tag")).is_err());
        let d = format!("busybox@sha256:{}", "a".repeat(64));
        assert!(target_reference(&d, None).is_err());
        assert!(single_repository(&[
            "docker.io/library/a:1".into(),
            "docker.io/library/a:2".into()
        ]));
        assert!(!single_repository(&[
            "docker.io/library/a:1".into(),
            "docker.io/library/b:1".into()
        ]));
    }
}
