//! `docker load`: stream an archive's layers into the store in parallel, then plan and commit its
//! images.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};

use crate::error::{EngineError, Result};
use crate::image::archive::plan::{plan, LoadedLayer};
use crate::image::archive::read::{scan, LayerHint, LayerSink};
use crate::image::import::decompressed;
use crate::image::reference::Reference;
use crate::service::image::ingest::{IngestLease, IngestedLayer, LayerSource, NewImage};
use crate::service::image::{short_id, ImageService};

/// Layers unpacked at once (each holds a few MiB of buffered tar in flight).
pub(super) const MAX_PARALLEL_LAYERS: usize = 4;
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
                event: Some("load"),
                parent: None,
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
