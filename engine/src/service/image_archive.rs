//! `docker save` / `docker load`: image archives out of and into the image store.
//!
//! Load reads the request body once: layer members stream straight into
//! `ImageService::ingest_layer` (blob store + safe extraction), each on its own worker thread so
//! the layers of a multi-layer archive unpack in parallel while the tar is still being read; the
//! metadata is kept in memory (bounded) and the images are planned and committed once the tar
//! ends, under one ingest lease so nothing ingested is collected before its image is committed.
//! Nothing is committed when any check fails; the lease's end leaves what was ingested to the
//! store's garbage collection.
//!
//! Save resolves every name first (so a bad name is a plain 404), pins the blobs under a lease
//! and streams docker ≥ 25's format from the stored blobs.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};

use crate::error::{EngineError, Result};
use crate::image::archive::plan::{plan, LoadedLayer};
use crate::image::archive::read::{scan, LayerHint, LayerSink};
use crate::image::archive::write::{write_archive, SaveImage, SaveLayer};
use crate::image::import::decompressed;
use crate::image::reference::Reference;
use crate::service::image_ingest::{IngestLease, IngestedLayer, LayerSource, NewImage};
use crate::service::images::{short_id, ImageListFilter, ImageService};

/// Layers unpacked at once (each holds a few MiB of buffered tar in flight).
const MAX_PARALLEL_LAYERS: usize = 4;
const CHUNK: usize = 256 * 1024;
/// Chunks buffered per layer worker.
const CHUNKS_IN_FLIGHT: usize = 16;
/// Progress is reported at most once per this many bytes of a layer.
const PROGRESS_STEP: u64 = 4 << 20;

/// What a load reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadEvent {
    /// Bytes of one layer member read so far (`id` is docker's short layer id).
    Layer {
        id: String,
        current: u64,
        total: u64,
    },
}

/// Reads the chunks a worker is sent.
struct ChunkReader {
    rx: Receiver<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            match self.rx.recv() {
                Ok(c) => {
                    self.cur = c;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

type Worker<'scope> = (
    String,
    LayerHint,
    ScopedJoinHandle<'scope, Result<IngestedLayer>>,
);

/// Hands each layer member to a worker thread running `ingest_layer`.
struct ParallelSink<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
    images: &'env ImageService,
    lease: &'env IngestLease,
    emit: &'env (dyn Fn(LoadEvent) + Sync),
    running: Vec<Worker<'scope>>,
    done: Vec<(String, LayerHint, Result<IngestedLayer>)>,
}

fn joined(h: ScopedJoinHandle<'_, Result<IngestedLayer>>) -> Result<IngestedLayer> {
    h.join()
        .unwrap_or_else(|_| Err(EngineError::internal("a layer worker panicked")))
}

impl ParallelSink<'_, '_> {
    fn join_oldest(&mut self) {
        if !self.running.is_empty() {
            let (m, hint, h) = self.running.remove(0);
            self.done.push((m, hint, joined(h)));
        }
    }

    fn join_all(&mut self) {
        while !self.running.is_empty() {
            self.join_oldest();
        }
    }
}

/// docker's short id for a layer member: its digest, else the v1 directory it sits in.
fn progress_id(member: &str, hint: &LayerHint) -> String {
    match &hint.digest {
        Some(d) => short_id(d),
        None => member
            .split('/')
            .next()
            .unwrap_or(member)
            .chars()
            .take(12)
            .collect(),
    }
}

impl<'scope, 'env> LayerSink for ParallelSink<'scope, 'env> {
    fn layer(&mut self, member: &str, reader: &mut dyn Read, hint: LayerHint) -> Result<()> {
        if self.running.len() >= MAX_PARALLEL_LAYERS {
            self.join_oldest();
        }
        // A failed layer fails the load: stop reading early.
        if let Some((m, _, Err(e))) = self.done.iter().find(|(_, _, r)| r.is_err()) {
            return Err(EngineError::invalid(format!("loading layer {m}: {e}")));
        }
        // An uncompressed layer's blob digest is its diff_id: when the store already has it
        // (a reload, or layers shared with another image), the archive's copy is skipped
        // unread; content addressing makes the stored copy the right one.
        if let Some(d) = hint
            .digest
            .as_deref()
            .filter(|_| hint.media_type == crate::image::import::LAYER_TAR_MEDIA_TYPE)
        {
            if let Some(present) = self.images.layer_present(self.lease, d, d)? {
                tracing::debug!(layer = %d, "layer already stored; skipping the archive's copy");
                (self.emit)(LoadEvent::Layer {
                    id: progress_id(member, &hint),
                    current: hint.size,
                    total: hint.size,
                });
                self.done.push((member.to_string(), hint, Ok(present)));
                return Ok(());
            }
        }
        let (tx, rx): (SyncSender<Vec<u8>>, _) = sync_channel(CHUNKS_IN_FLIGHT);
        let (images, lease, emit) = (self.images, self.lease, self.emit);
        let h2 = hint.clone();
        let id = progress_id(member, &hint);
        let handle = self.scope.spawn(move || {
            let mut r = ChunkReader {
                rx,
                cur: Vec::new(),
                pos: 0,
            };
            let mut last = 0u64;
            let total = h2.size;
            let mut progress = |n: u64| {
                if n >= last + PROGRESS_STEP || n == total {
                    last = n;
                    emit(LoadEvent::Layer {
                        id: id.clone(),
                        current: n,
                        total,
                    });
                }
            };
            let res = images.ingest_layer(
                lease,
                &mut r,
                LayerSource {
                    digest: h2.digest.as_deref(),
                    size: Some(h2.size),
                    diff_id: None,
                    media_type: Some(h2.media_type),
                },
                &mut progress,
            );
            // Whatever the outcome, take the rest so the reading side never blocks on us.
            io::copy(&mut r, &mut io::sink()).ok();
            res
        });
        let mut sent = Ok(());
        loop {
            let mut chunk = vec![0u8; CHUNK];
            let n = match read_full(reader, &mut chunk) {
                Ok(n) => n,
                Err(e) => {
                    sent = Err(EngineError::invalid(format!(
                        "invalid archive: reading {member}: {e}"
                    )));
                    break;
                }
            };
            if n == 0 {
                break;
            }
            chunk.truncate(n);
            if tx.send(chunk).is_err() {
                break;
            }
        }
        drop(tx);
        self.running.push((member.to_string(), hint, handle));
        sent
    }
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Load an archive (plain or gzip tar) into the store. Blocking. Returns docker's report lines
/// ("Loaded image: busybox:latest\n", "Loaded image ID: sha256:...\n").
pub fn load(
    images: &ImageService,
    body: Box<dyn Read + Send>,
    emit: &(dyn Fn(LoadEvent) + Sync),
) -> Result<Vec<String>> {
    let mut reader = decompressed(body)?;
    let lease = images.lease();
    let (scanned, done) = std::thread::scope(|scope| {
        let mut sink = ParallelSink {
            scope,
            images,
            lease: &lease,
            emit,
            running: Vec::new(),
            done: Vec::new(),
        };
        let scanned = scan(&mut reader, &mut sink);
        sink.join_all();
        (scanned, sink.done)
    });
    let scanned = scanned?;
    let mut ingested: HashMap<String, IngestedLayer> = HashMap::new();
    let mut loaded: HashMap<String, LoadedLayer> = HashMap::new();
    for (member, hint, res) in done {
        let layer = res.map_err(|e| match e {
            EngineError::InvalidArgument(m) => {
                EngineError::invalid(format!("invalid archive: layer {member}: {m}"))
            }
            other => other,
        })?;
        loaded.insert(
            member.clone(),
            LoadedLayer {
                blob_digest: layer.blob_digest.clone(),
                blob_size: layer.blob_size,
                diff_id: layer.diff_id.clone(),
                media_type: hint.media_type.to_string(),
            },
        );
        ingested.insert(member, layer);
    }
    let planned = plan(&scanned, &loaded)?;
    if planned.is_empty() {
        return Err(EngineError::invalid(
            "invalid archive: it contains no images",
        ));
    }
    // Validate every tag before committing anything.
    let mut commits = Vec::new();
    for p in planned {
        let tags = p
            .tags
            .iter()
            .map(|t| {
                let r = Reference::parse(t).map_err(|e| {
                    EngineError::invalid(format!("invalid archive: invalid tag {t:?}: {e}"))
                })?;
                if r.digest.is_some() {
                    return Err(EngineError::invalid(format!(
                        "invalid archive: tag {t:?} is a digest reference"
                    )));
                }
                Ok(r.with_default_tag())
            })
            .collect::<Result<Vec<Reference>>>()?;
        let layers = p
            .layers
            .iter()
            .map(|m| {
                ingested
                    .get(m)
                    .cloned()
                    .ok_or_else(|| EngineError::internal(format!("layer {m} was not ingested")))
            })
            .collect::<Result<Vec<_>>>()?;
        commits.push((p, layers, tags));
    }
    // commit_image consumes its lease: give each image its own, pinning its layers while the
    // load's lease still holds everything.
    let mut leased = Vec::new();
    for (p, layers, tags) in commits {
        let own = images.lease();
        for l in &layers {
            if images
                .layer_present(&own, &l.blob_digest, &l.diff_id)?
                .is_none()
            {
                return Err(EngineError::internal(format!(
                    "layer {} vanished before its image was committed",
                    l.diff_id
                )));
            }
        }
        leased.push((own, p, layers, tags));
    }
    drop(lease);
    let mut lines = Vec::new();
    for (own, p, layers, tags) in leased {
        let names: Vec<String> = tags.iter().map(Reference::familiar).collect();
        let id = images.commit_image(
            own,
            NewImage {
                config: p.config,
                manifest: p.manifest,
                layers,
                tags,
                repo_digests: Vec::new(),
                event: "load",
            },
        )?;
        if names.is_empty() {
            lines.push(format!("Loaded image ID: {id}\n"));
        }
        for n in names {
            lines.push(format!("Loaded image: {n}\n"));
        }
    }
    Ok(lines)
}

/// Resolve the names of a save (docker's rules: "repo" alone means every tag of that
/// repository, "repo:tag" that tag, an id the image untagged) and pin the blobs. NotFound for an
/// unknown name.
pub fn prepare_save(
    images: &ImageService,
    names: &[String],
) -> Result<(IngestLease, Vec<SaveImage>)> {
    if names.is_empty() {
        return Err(EngineError::invalid("no image names given"));
    }
    let lease = images.lease();
    let mut order: Vec<String> = Vec::new();
    let mut tags: HashMap<String, Vec<Reference>> = HashMap::new();
    let mut add = |id: String, t: Option<Reference>| {
        if !tags.contains_key(&id) {
            order.push(id.clone());
        }
        let v = tags.entry(id).or_default();
        if let Some(t) = t {
            if !v.contains(&t) {
                v.push(t);
            }
        }
    };
    for name in names {
        let parsed = Reference::parse(name).ok();
        let repo_only = parsed
            .as_ref()
            .is_some_and(|r| r.tag.is_none() && r.digest.is_none());
        if repo_only {
            let r = parsed.as_ref().expect("checked");
            let filter = ImageListFilter {
                references: vec![r.familiar_name()],
                ..Default::default()
            };
            let found = images.list(&filter)?;
            if !found.is_empty() {
                for img in found {
                    for t in &img.repo_tags {
                        let tr = Reference::parse(t)?.with_default_tag();
                        if tr.name() == r.name() {
                            add(img.id.clone(), Some(tr));
                        }
                    }
                }
                continue;
            }
        }
        let parts = images.image_parts(name)?;
        // "sha256:<hex>" also parses as a reference (repository "sha256"): an id (prefix) names
        // the image itself, saved without tags.
        let by_id = {
            let hex = parts.id.strip_prefix("sha256:").unwrap_or(&parts.id);
            let n = name.strip_prefix("sha256:").unwrap_or(name);
            !n.is_empty() && hex.starts_with(n)
        };
        let tag = match parsed {
            Some(r) if !by_id && r.tag.is_some() && r.digest.is_none() => Some(r),
            _ => None,
        };
        add(parts.id.clone(), tag);
    }
    let mut out = Vec::new();
    for id in order {
        let parts = images.image_parts(&id)?;
        for l in &parts.layers {
            // Pins the blob and layer so a concurrent rmi cannot pull them from under the save.
            if images
                .layer_present(&lease, &l.blob_digest, &l.diff_id)?
                .is_none()
            {
                return Err(EngineError::not_found(format!(
                    "layer {} of image {id} is missing from the store",
                    l.blob_digest
                )));
            }
        }
        out.push(SaveImage {
            config: parts.config,
            manifest: parts.manifest,
            manifest_digest: parts.manifest_digest,
            layers: parts
                .layers
                .into_iter()
                .map(|l| SaveLayer {
                    blob_digest: l.blob_digest,
                    blob_path: l.blob_path,
                    blob_size: l.blob_size,
                })
                .collect(),
            tags: tags.remove(&id).unwrap_or_default(),
        });
    }
    Ok((lease, out))
}

/// Stream the archive of prepared images into `out`. Blocking.
pub fn write_save(out: impl Write, images: &[SaveImage]) -> Result<()> {
    write_archive(io::BufWriter::with_capacity(1 << 20, out), images)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::archive::read::tests::{archive, layer_tar};
    use crate::store::blobs::sha256_digest;
    use serde_json::json;
    use std::io::Cursor;
    use std::sync::Mutex;

    /// A docker ≥ 1.10 archive of `layers` tagged `tag`.
    fn legacy_archive(layers: &[Vec<u8>], tag: &str) -> Vec<u8> {
        let diff_ids: Vec<String> = layers.iter().map(|l| sha256_digest(l)).collect();
        let cfg = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
            "config": {"Cmd": ["sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}))
        .unwrap();
        let names: Vec<String> = (0..layers.len())
            .map(|i| format!("l{i}/layer.tar"))
            .collect();
        let manifest =
            json!([{"Config": "c.json", "RepoTags": [tag], "Layers": names}]).to_string();
        let mut members: Vec<(&str, &[u8])> = names
            .iter()
            .zip(layers)
            .map(|(n, l)| (n.as_str(), l.as_slice()))
            .collect();
        members.push(("c.json", &cfg));
        members.push(("manifest.json", manifest.as_bytes()));
        archive(&members, &[])
    }

    #[test]
    fn image_archive_load_save_reload_in_parallel() {
        let dir = tempfile::tempdir().unwrap();
        let images = ImageService::open(&dir.path().join("a")).unwrap();
        // More layers than workers, so the oldest are joined while later ones stream.
        let layers: Vec<Vec<u8>> = (0..MAX_PARALLEL_LAYERS + 2)
            .map(|i| {
                let big = vec![i as u8; 300_000];
                layer_tar(&[(&format!("f{i}"), big.as_slice())])
            })
            .collect();
        let events = Mutex::new(Vec::new());
        let emit = |e: LoadEvent| events.lock().unwrap().push(e);
        let lines = load(
            &images,
            Box::new(Cursor::new(legacy_archive(&layers, "par:1"))),
            &emit,
        )
        .unwrap();
        assert_eq!(lines, vec!["Loaded image: par:1\n".to_string()]);
        let ev = events.into_inner().unwrap();
        for (i, l) in layers.iter().enumerate() {
            let id: String = format!("l{i}");
            let total = l.len() as u64;
            assert!(
                ev.contains(&LoadEvent::Layer {
                    id,
                    current: total,
                    total
                }),
                "final progress of layer {i}: {ev:?}"
            );
        }
        let parts = images.image_parts("par:1").unwrap();
        assert_eq!(parts.layers.len(), layers.len());

        let (lease, save) = prepare_save(&images, &["par".to_string()]).unwrap();
        let mut out = Vec::new();
        write_save(&mut out, &save).unwrap();
        drop(lease);
        let other = ImageService::open(&dir.path().join("b")).unwrap();
        let lines = load(&other, Box::new(Cursor::new(out)), &|_| {}).unwrap();
        assert_eq!(lines, vec!["Loaded image: par:1\n".to_string()]);
        assert_eq!(other.image_parts("par:1").unwrap().id, parts.id);

        assert!(matches!(
            prepare_save(&images, &["nope:1".to_string()]),
            Err(EngineError::NotFound(_))
        ));
    }

    #[test]
    fn image_archive_compressed_archives_load() {
        let dir = tempfile::tempdir().unwrap();
        let images = ImageService::open(dir.path()).unwrap();
        let ar = legacy_archive(&[layer_tar(&[("z", b"zz")])], "zst:1");
        let zst = zstd::encode_all(Cursor::new(ar.clone()), 3).unwrap();
        let lines = load(&images, Box::new(Cursor::new(zst)), &|_| {}).unwrap();
        assert_eq!(lines, vec!["Loaded image: zst:1\n".to_string()]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(
            &mut gz,
            &legacy_archive(&[layer_tar(&[("g", b"gg")])], "gz:1"),
        )
        .unwrap();
        let lines = load(
            &images,
            Box::new(Cursor::new(gz.finish().unwrap())),
            &|_| {},
        )
        .unwrap();
        assert_eq!(lines, vec!["Loaded image: gz:1\n".to_string()]);
    }

    #[test]
    fn image_archive_failed_load_commits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let images = ImageService::open(dir.path()).unwrap();
        let good = vec![layer_tar(&[("a", b"1")]), layer_tar(&[("b", b"2")])];
        let mut ar = legacy_archive(&good, "bad:1");
        // Same archive, second layer swapped after the config was made.
        let tampered = layer_tar(&[("b", b"3")]);
        let pos = ar
            .windows(good[1].len())
            .position(|w| w == good[1].as_slice())
            .unwrap();
        ar[pos..pos + tampered.len()].copy_from_slice(&tampered);
        let e = load(&images, Box::new(Cursor::new(ar)), &|_| {}).unwrap_err();
        assert!(e.to_string().contains("digest mismatch"), "{e}");
        assert_eq!(images.count(), 0);
    }
}
