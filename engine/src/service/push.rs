//! `POST /images/{name}/push`: upload an image's layers, config and manifest to a registry, with
//! docker's progress messages.
//!
//! Per layer: pick the blob to send (a stored blob that is already compressed goes as it is; an
//! uncompressed one is compressed once, kept in the blob store and remembered, so every later
//! push reuses it), `HEAD` it ("Layer already exists"), try a cross-repository mount from a
//! repository of the same registry known to hold it ("Mounted from x"), otherwise upload it
//! ("Pushing" with progress, "Pushed"). Then the config blob and the manifest: the image's own
//! manifest bytes when every layer went as stored (so its digest is the one the image already
//! has), otherwise a new manifest naming the compressed blobs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::error::{EngineError, IoContext, Result};
use crate::image::compress::{self, Compressed, Compression};
use crate::image::reference::{is_full_hex_id, Reference};
use crate::registry::manifest::{DOCKER_MANIFEST, OCI_CONFIG, OCI_MANIFEST};
use crate::registry::{Access, Credentials, MountOutcome, Repository};
use crate::service::events::kind;
use crate::service::image_ingest::{ImageParts, LayerPart};
use crate::service::images::{lock, short_id, ImageListFilter, ImageService};
use crate::service::Engine;
use crate::store::atomic::write_json_atomic;
use crate::store::blobs::BlobWriter;

/// Layers uploaded at once (docker's default max-concurrent-uploads is 5; compression already
/// uses every core, so fewer parallel layers keep memory and disk contention down).
const CONCURRENT_LAYERS: usize = 3;
/// Progress messages per layer are sent at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// Upload body chunk size.
const UPLOAD_CHUNK: usize = 1 << 20;
/// Cross-repository mount sources tried per blob.
const MAX_MOUNT_TRIES: usize = 3;

const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// What a push request asks for, validated before the stream starts.
#[derive(Debug, Clone)]
pub struct PushPlan {
    /// The repository, as the user named it ("127.0.0.1:5000/app").
    pub repository: Reference,
    /// Tagged references to push, in order, with the image each names.
    pub targets: Vec<(Reference, String)>,
}

/// Work out which tags `POST /images/{name}/push?tag=` pushes: `tag` when given (or the tag in
/// `name`), otherwise every local tag of the repository, as docker does. Invalid name → 400,
/// nothing to push → 404 ("An image does not exist locally with the tag: ...").
pub fn plan(engine: &Engine, name: &str, tag: Option<&str>) -> Result<PushPlan> {
    let parsed = Reference::parse(name)?;
    if parsed.digest.is_some() {
        return Err(EngineError::invalid(format!(
            "cannot push a digest reference: {name}"
        )));
    }
    let tag = tag
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .or(parsed.tag.clone());
    let repo_name = parsed.name();
    let repository = Reference {
        tag: None,
        ..parsed
    };
    let mut targets = Vec::new();
    if let Some(t) = tag {
        let r = Reference::parse(&format!("{repo_name}:{t}"))?;
        let resolved = engine.images.resolve(&r.full()).map_err(|e| match e {
            EngineError::NotFound(_) => EngineError::not_found(format!(
                "An image does not exist locally with the tag: {}",
                repository.familiar_name()
            )),
            other => other,
        })?;
        targets.push((r, resolved.id));
    } else {
        for img in engine.images.list(&ImageListFilter::default())? {
            for t in &img.repo_tags {
                if let Ok(r) = Reference::parse(t) {
                    if r.name() == repo_name && r.tag.is_some() {
                        targets.push((r, img.id.clone()));
                    }
                }
            }
        }
        targets.sort_by(|a, b| a.0.tag.cmp(&b.0.tag));
        if targets.is_empty() {
            return Err(EngineError::not_found(format!(
                "An image does not exist locally with the tag: {}",
                repository.familiar_name()
            )));
        }
    }
    Ok(PushPlan {
        repository,
        targets,
    })
}

/// Push options beyond the plan.
#[derive(Clone)]
pub struct PushOptions {
    pub creds: Option<Credentials>,
    pub compression: Compression,
}

/// Sends progress lines; a closed receiver (the client went away) cancels the push.
#[derive(Clone)]
struct Progress {
    tx: mpsc::Sender<Bytes>,
}

impl Progress {
    async fn send(&self, v: Value) -> Result<()> {
        self.tx
            .send(crate::api::response::progress_line(&v))
            .await
            .map_err(|_| EngineError::internal("push cancelled: the client went away"))
    }

    async fn status(&self, status: &str) -> Result<()> {
        self.send(json!({ "status": status })).await
    }

    async fn layer(&self, id: &str, status: &str) -> Result<()> {
        self.send(json!({ "status": status, "progressDetail": {}, "id": id }))
            .await
    }

    /// Non-blocking progress update: dropped when the client is slow (the next one supersedes
    /// it), an error when it is gone.
    fn bar(&self, id: &str, status: &str, current: u64, total: u64) -> Result<()> {
        let line = crate::api::response::progress_line(&json!({
            "status": status,
            "progressDetail": { "current": current, "total": total },
            "progress": progress_bar(current, total),
            "id": id,
        }));
        match self.tx.try_send(line) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(EngineError::internal(
                "push cancelled: the client went away",
            )),
        }
    }
}

/// Docker's text bar: `[=====>      ]  10.5MB/20MB`.
pub fn progress_bar(current: u64, total: u64) -> String {
    const WIDTH: u64 = 50;
    let filled = (current.min(total) * WIDTH).checked_div(total).unwrap_or(0) as usize;
    let mut bar = "=".repeat(filled);
    if filled < WIDTH as usize {
        bar.push('>');
        bar.push_str(&" ".repeat(WIDTH as usize - filled - 1));
    }
    format!("[{bar}] {:>8}/{}", human_size(current), human_size(total))
}

/// Decimal units as docker's go-units HumanSize ("1.5MB", "512B").
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    let s = format!("{v:.4}");
    let s = s.split_once('.').map_or(s.clone(), |(a, b)| {
        let digits = 4usize.saturating_sub(a.len()).min(b.len());
        let frac = b[..digits].trim_end_matches('0');
        if frac.is_empty() {
            a.to_string()
        } else {
            format!("{a}.{frac}")
        }
    });
    format!("{s}{}", UNITS[i])
}

/// Where a blob to push is, and what it is.
#[derive(Debug, Clone)]
struct PushBlob {
    digest: String,
    size: u64,
    media_type: String,
    path: PathBuf,
    /// Sent exactly as the image stores it (the manifest already names it).
    as_stored: bool,
}

/// `<data_root>/image/registry-blobs.json`: registry domain → blob digest → repositories known to
/// hold it (learnt from pushes). Cross-repository mounts come from here.
pub struct KnownBlobs {
    path: PathBuf,
    map: Mutex<BTreeMap<String, BTreeMap<String, BTreeSet<String>>>>,
}

/// Repositories remembered per blob (oldest dropped first beyond this).
const MAX_REPOS_PER_BLOB: usize = 8;

impl KnownBlobs {
    pub fn open(data_root: &Path) -> Self {
        let path = data_root.join("image").join("registry-blobs.json");
        let map = std::fs::read(&path)
            .ok()
            .and_then(|d| serde_json::from_slice(&d).ok())
            .unwrap_or_default();
        KnownBlobs {
            path,
            map: Mutex::new(map),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, BTreeMap<String, BTreeMap<String, BTreeSet<String>>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn repositories(&self, domain: &str, digest: &str) -> Vec<String> {
        self.lock()
            .get(domain)
            .and_then(|m| m.get(digest))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn record(&self, domain: &str, digest: &str, repo: &str) -> Result<()> {
        let mut map = self.lock();
        let set = map
            .entry(domain.to_string())
            .or_default()
            .entry(digest.to_string())
            .or_default();
        if !set.insert(repo.to_string()) {
            return Ok(());
        }
        while set.len() > MAX_REPOS_PER_BLOB {
            let first = set.iter().next().cloned();
            if let Some(f) = first.filter(|f| f != repo) {
                set.remove(&f);
            } else {
                break;
            }
        }
        write_json_atomic(&self.path, &*map)
    }
}

/// Run the push, streaming progress into `tx`. Errors are returned (the caller puts them in the
/// stream as errorDetail).
pub async fn push(
    engine: Arc<Engine>,
    plan: PushPlan,
    opts: PushOptions,
    tx: mpsc::Sender<Bytes>,
) -> Result<()> {
    let progress = Progress { tx };
    let repo_ref = &plan.repository;
    progress
        .status(&format!(
            "The push refers to repository [{}]",
            repo_ref.name()
        ))
        .await?;
    let repo = engine
        .pulls
        .registry()
        .repository(repo_ref, opts.creds.clone(), Access::PullPush)
        .await?;
    // Blobs already known to be in the target repository during this push (several tags often
    // share layers).
    let present: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    for (target, id) in &plan.targets {
        let tag = target.tag.clone().unwrap_or_else(|| "latest".into());
        // The lease pins the image's layer blobs until this tag is pushed: an `rmi` meanwhile
        // cannot delete what is being read.
        let (parts, _lease) = {
            let engine = engine.clone();
            let id = id.clone();
            tokio::task::spawn_blocking(move || -> Result<_> {
                let parts = engine.images.image_parts(&id)?;
                let lease = engine.images.lease();
                for l in &parts.layers {
                    if engine
                        .images
                        .layer_present(&lease, &l.blob_digest, &l.diff_id)?
                        .is_none()
                    {
                        return Err(EngineError::not_found(format!(
                            "No such image: {id} (it was removed during the push)"
                        )));
                    }
                }
                Ok((parts, lease))
            })
            .await
            .map_err(|e| EngineError::internal(format!("push task failed: {e}")))??
        };
        let (digest, size) = push_image(
            &engine, &repo, repo_ref, &parts, &tag, &opts, &progress, &present,
        )
        .await?;
        progress
            .status(&format!("{tag}: digest: {digest} size: {size}"))
            .await?;
        progress
            .send(json!({
                "progressDetail": {},
                "aux": { "Tag": tag, "Digest": digest, "Size": size },
            }))
            .await?;
        let repo_digest = format!("{}@{digest}", repo_ref.familiar_name());
        {
            let engine = engine.clone();
            let id = parts.id.clone();
            tokio::task::spawn_blocking(move || engine.images.add_repo_digest(&id, &repo_digest))
                .await
                .map_err(|e| EngineError::internal(format!("push task failed: {e}")))??;
        }
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), target.familiar());
        engine
            .events()
            .publish(kind::IMAGE, "push", &parts.id, attrs);
        tracing::info!(image = %parts.id, reference = %target.familiar(), %digest, "pushed image");
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn push_image(
    engine: &Arc<Engine>,
    repo: &Repository,
    repo_ref: &Reference,
    parts: &ImageParts,
    tag: &str,
    opts: &PushOptions,
    progress: &Progress,
    present: &Arc<Mutex<BTreeSet<String>>>,
) -> Result<(String, usize)> {
    // Layers are shown top first, as docker does.
    let ids: Vec<String> = parts.layers.iter().map(|l| short_id(&l.diff_id)).collect();
    for id in ids.iter().rev() {
        progress.layer(id, "Preparing").await?;
    }
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_LAYERS));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, layer) in parts.layers.iter().enumerate().rev() {
        let permit = match limit.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                progress.layer(&ids[i], "Waiting").await?;
                None
            }
        };
        let ctx = LayerCtx {
            engine: engine.clone(),
            repo: repo.clone(),
            repo_ref: repo_ref.clone(),
            source_repos: source_repositories(parts, repo_ref),
            layer: layer.clone(),
            id: ids[i].clone(),
            opts: opts.clone(),
            progress: progress.clone(),
            present: present.clone(),
        };
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = match permit {
                Some(p) => p,
                None => limit
                    .acquire_owned()
                    .await
                    .map_err(|_| EngineError::internal("push cancelled"))?,
            };
            push_layer(ctx).await.map(|b| (i, b))
        });
    }
    let mut blobs: Vec<Option<PushBlob>> = vec![None; parts.layers.len()];
    while let Some(res) = tasks.join_next().await {
        let (i, b) = res.map_err(|e| EngineError::internal(format!("push task failed: {e}")))??;
        blobs[i] = Some(b);
    }
    let blobs: Vec<PushBlob> = blobs.into_iter().flatten().collect();

    // The config blob.
    if repo.blob_exists(&parts.id).await?.is_none() {
        repo.upload_blob(
            &parts.id,
            reqwest::Body::from(parts.config.clone()),
            parts.config.len() as u64,
        )
        .await?;
    }

    let (media_type, manifest) = if blobs.iter().all(|b| b.as_stored) {
        (manifest_media_type(&parts.manifest), parts.manifest.clone())
    } else {
        build_manifest(parts, &blobs, opts.compression)?
    };
    let size = manifest.len();
    let digest = repo.put_manifest(tag, &media_type, manifest).await?;
    Ok((digest, size))
}

/// Repositories of the same registry the image came from (its RepoDigests): its stored blobs are
/// there, so they can be mounted instead of uploaded.
fn source_repositories(parts: &ImageParts, target: &Reference) -> Vec<String> {
    parts
        .repo_digests
        .iter()
        .filter_map(|d| Reference::parse(d).ok())
        .filter(|r| r.domain == target.domain && r.path != target.path)
        .map(|r| r.path)
        .collect()
}

struct LayerCtx {
    engine: Arc<Engine>,
    repo: Repository,
    repo_ref: Reference,
    /// Repositories the image was pulled from on this registry (hold its stored blobs).
    source_repos: Vec<String>,
    layer: LayerPart,
    id: String,
    opts: PushOptions,
    progress: Progress,
    present: Arc<Mutex<BTreeSet<String>>>,
}

fn is_compressed_media_type(mt: &str) -> bool {
    mt.ends_with("+gzip") || mt.ends_with("+zstd") || mt.ends_with(".tar.gzip")
}

async fn push_layer(ctx: LayerCtx) -> Result<PushBlob> {
    let blob = layer_blob(&ctx).await?;
    let domain = ctx.repo_ref.domain.clone();
    let known = ctx.engine.known_blobs.clone();
    let seen = ctx
        .present
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&blob.digest);
    if seen || ctx.repo.blob_exists(&blob.digest).await?.is_some() {
        ctx.progress.layer(&ctx.id, "Layer already exists").await?;
        remember(&ctx, &known, &domain, &blob.digest);
        return Ok(blob);
    }

    // Cross-repository mount from a repository known to hold the blob.
    let mut sources: Vec<String> = known.repositories(&domain, &blob.digest);
    if blob.as_stored {
        sources.extend(ctx.source_repos.iter().cloned());
    }
    sources.retain(|r| *r != ctx.repo.name);
    sources.dedup();
    let mut location = None;
    for from in sources.iter().take(MAX_MOUNT_TRIES) {
        match ctx.repo.mount_blob(&blob.digest, from).await {
            Ok(MountOutcome::Mounted) => {
                ctx.progress
                    .layer(&ctx.id, &format!("Mounted from {from}"))
                    .await?;
                remember(&ctx, &known, &domain, &blob.digest);
                return Ok(blob);
            }
            // The registry would not mount (unknown there, or no pull access to `from`) and
            // opened an upload session instead: use it.
            Ok(MountOutcome::Upload(loc)) => {
                location = Some(loc);
                break;
            }
            Err(e) => tracing::debug!(blob = %blob.digest, %from, error = %e, "mount failed"),
        }
    }

    upload(&ctx, &blob, location).await?;
    ctx.progress.layer(&ctx.id, "Pushed").await?;
    remember(&ctx, &known, &domain, &blob.digest);
    Ok(blob)
}

fn remember(ctx: &LayerCtx, known: &KnownBlobs, domain: &str, digest: &str) {
    ctx.present
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(digest.to_string());
    if let Err(e) = known.record(domain, digest, &ctx.repo.name) {
        tracing::warn!(error = %e, "could not record where a blob was pushed");
    }
}

/// The blob to send for a layer: the stored one when compressed, else the remembered compressed
/// copy, else a new compressed copy (kept and remembered).
async fn layer_blob(ctx: &LayerCtx) -> Result<PushBlob> {
    let l = &ctx.layer;
    let stored_compressed =
        is_compressed_media_type(&l.media_type) || sniff(&l.blob_path).await?.is_some();
    if stored_compressed {
        return Ok(PushBlob {
            digest: l.blob_digest.clone(),
            size: l.blob_size,
            media_type: l.media_type.clone(),
            path: l.blob_path.clone(),
            as_stored: true,
        });
    }
    let c = ctx.opts.compression;
    let made = match ctx.engine.images.compressed_layer(&l.diff_id, c) {
        Some(m) => m,
        None => compress_layer(ctx).await?,
    };
    Ok(PushBlob {
        path: ctx.engine.images.blob_path(&made.digest)?,
        digest: made.digest,
        size: made.size,
        media_type: c.oci_media_type().to_string(),
        as_stored: false,
    })
}

/// The compression of a stored blob, from its first bytes (None: plain tar).
async fn sniff(path: &Path) -> Result<Option<Compression>> {
    use tokio::io::AsyncReadExt;
    let mut f = tokio::fs::File::open(path)
        .await
        .io_context(|| format!("opening {}", path.display()))?;
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        let r = f
            .read(&mut head[n..])
            .await
            .io_context(|| format!("reading {}", path.display()))?;
        if r == 0 {
            break;
        }
        n += r;
    }
    Ok(Compression::detect(&head[..n]))
}

async fn compress_layer(ctx: &LayerCtx) -> Result<Compressed> {
    let engine = ctx.engine.clone();
    let layer = ctx.layer.clone();
    let id = ctx.id.clone();
    let progress = ctx.progress.clone();
    let c = ctx.opts.compression;
    tokio::task::spawn_blocking(move || -> Result<Compressed> {
        let mut input = std::fs::File::open(&layer.blob_path)
            .io_context(|| format!("opening {}", layer.blob_path.display()))?;
        let total = layer.blob_size;
        let mut writer = engine.images.blob_writer()?;
        let mut last = Instant::now() - PROGRESS_EVERY;
        let mut cancelled = None;
        let made = compress::compress(
            &mut input,
            &mut writer,
            &compress::Options::new(c),
            &mut |done| {
                if last.elapsed() >= PROGRESS_EVERY {
                    last = Instant::now();
                    if let Err(e) = progress.bar(&id, "Compressing", done, total) {
                        cancelled = Some(e);
                    }
                }
            },
        )?;
        // Kept even when the client went away meanwhile: the next push reuses it.
        engine
            .images
            .store_compressed(&layer.diff_id, c, writer, &made)?;
        if let Some(e) = cancelled {
            return Err(e);
        }
        tracing::debug!(layer = %layer.diff_id, blob = %made.digest, size = made.size, "compressed layer for push");
        Ok(made)
    })
    .await
    .map_err(|e| EngineError::internal(format!("compression task failed: {e}")))?
}

/// Chunk size for chunked uploads: `BERTH_PUSH_CHUNK_SIZE` (bytes) forces them; otherwise they
/// are the fallback when a registry refuses a monolithic upload.
fn chunk_size() -> Option<usize> {
    std::env::var("BERTH_PUSH_CHUNK_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
}

const FALLBACK_CHUNK: usize = 16 << 20;

/// Upload a blob (into `location` when a session is already open): one streamed PUT, or PATCHed
/// chunks when configured or when the registry refused the single PUT.
async fn upload(ctx: &LayerCtx, blob: &PushBlob, location: Option<String>) -> Result<()> {
    if let Some(n) = chunk_size() {
        return upload_chunked(ctx, blob, location, n).await;
    }
    match upload_monolithic(ctx, blob, location).await {
        Err(EngineError::InvalidArgument(m)) | Err(EngineError::Internal(m))
            if m.starts_with(MONOLITHIC_REFUSED) =>
        {
            tracing::info!(blob = %blob.digest, reason = %m, "monolithic upload refused; uploading in chunks");
            upload_chunked(ctx, blob, None, FALLBACK_CHUNK).await
        }
        other => other,
    }
}

const MONOLITHIC_REFUSED: &str = "monolithic upload refused: ";

async fn upload_chunked(
    ctx: &LayerCtx,
    blob: &PushBlob,
    location: Option<String>,
    chunk: usize,
) -> Result<()> {
    use tokio::io::AsyncReadExt;
    let mut location = match location {
        Some(l) => l,
        None => ctx.repo.start_upload().await?,
    };
    let mut file = tokio::fs::File::open(&blob.path)
        .await
        .io_context(|| format!("opening {}", blob.path.display()))?;
    let mut offset = 0u64;
    loop {
        let mut buf = vec![0u8; chunk];
        let mut filled = 0;
        while filled < chunk {
            let n = file
                .read(&mut buf[filled..])
                .await
                .io_context(|| format!("reading {}", blob.path.display()))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        buf.truncate(filled);
        location = ctx
            .repo
            .patch_chunk(&location, offset, Bytes::from(buf))
            .await?;
        offset += filled as u64;
        ctx.progress.bar(&ctx.id, "Pushing", offset, blob.size)?;
    }
    ctx.repo
        .finish_upload(&location, &blob.digest, None)
        .await?;
    tracing::debug!(blob = %blob.digest, bytes = offset, chunk, "chunked upload done");
    Ok(())
}

/// One streamed PUT with "Pushing" progress.
async fn upload_monolithic(
    ctx: &LayerCtx,
    blob: &PushBlob,
    location: Option<String>,
) -> Result<()> {
    let location = match location {
        Some(l) => l,
        None => ctx.repo.start_upload().await?,
    };
    let file = tokio::fs::File::open(&blob.path)
        .await
        .io_context(|| format!("opening {}", blob.path.display()))?;
    let total = blob.size;
    let progress = ctx.progress.clone();
    let id = ctx.id.clone();
    let stream = futures_util::stream::unfold(
        (file, 0u64, Instant::now() - PROGRESS_EVERY),
        move |(mut file, sent, mut last)| {
            let progress = progress.clone();
            let id = id.clone();
            async move {
                use tokio::io::AsyncReadExt;
                let mut buf = vec![0u8; UPLOAD_CHUNK];
                match file.read(&mut buf).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        let sent = sent + n as u64;
                        if last.elapsed() >= PROGRESS_EVERY || sent == total {
                            last = Instant::now();
                            if let Err(e) = progress.bar(&id, "Pushing", sent, total) {
                                return Some((
                                    Err(std::io::Error::other(e.to_string())),
                                    (file, sent, last),
                                ));
                            }
                        }
                        Some((Ok(Bytes::from(buf)), (file, sent, last)))
                    }
                    Err(e) => Some((Err(e), (file, sent, last))),
                }
            }
        },
    );
    match ctx
        .repo
        .finish_upload(
            &location,
            &blob.digest,
            Some((reqwest::Body::wrap_stream(stream), total)),
        )
        .await
    {
        Ok(()) => Ok(()),
        // 405/413/416 or a 400 "upload invalid": the registry does not take the blob in one
        // request (some limit body sizes); chunks may work.
        Err(e) if matches!(e.status, Some(400 | 405 | 413 | 416)) && !e.is_unauthorized() => {
            Err(EngineError::internal(format!("{MONOLITHIC_REFUSED}{e}")))
        }
        Err(e) => Err(e.into()),
    }
}

/// The media type of stored manifest bytes (their `mediaType`; OCI when absent, as the OCI
/// spec allows).
fn manifest_media_type(manifest: &[u8]) -> String {
    serde_json::from_slice::<Value>(manifest)
        .ok()
        .and_then(|v| {
            v.get("mediaType")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| OCI_MANIFEST.to_string())
}

/// A manifest naming the blobs actually pushed: docker schema2 when the image's own manifest is
/// one and every layer is gzip (docker types have no zstd), OCI otherwise.
fn build_manifest(
    parts: &ImageParts,
    blobs: &[PushBlob],
    compression: Compression,
) -> Result<(String, Vec<u8>)> {
    let docker = manifest_media_type(&parts.manifest) == DOCKER_MANIFEST
        && compression == Compression::Gzip
        && blobs.iter().all(|b| !b.media_type.contains("zstd"));
    let layer_type = |b: &PushBlob| -> String {
        if !docker || b.as_stored {
            b.media_type.clone()
        } else {
            DOCKER_LAYER_GZIP.to_string()
        }
    };
    let layers: Vec<Value> = blobs
        .iter()
        .map(|b| json!({ "mediaType": layer_type(b), "digest": b.digest, "size": b.size }))
        .collect();
    let (mt, config_type) = if docker {
        (DOCKER_MANIFEST, DOCKER_CONFIG)
    } else {
        (OCI_MANIFEST, OCI_CONFIG)
    };
    let m = json!({
        "schemaVersion": 2,
        "mediaType": mt,
        "config": { "mediaType": config_type, "digest": parts.id, "size": parts.config.len() },
        "layers": layers,
    });
    let bytes = serde_json::to_vec(&m)?;
    if !is_full_hex_id(parts.id.trim_start_matches("sha256:")) {
        return Err(EngineError::internal(format!("bad image id {}", parts.id)));
    }
    Ok((mt.to_string(), bytes))
}

/// Blob-store access for push: the stored layer blobs it reads and the compressed blobs it keeps.
impl ImageService {
    /// Path of a stored blob (NotFound when it is missing).
    pub(crate) fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        let p = self.inner.blobs.path(digest)?;
        if !p.is_file() {
            return Err(EngineError::not_found(format!("blob {digest} is missing")));
        }
        Ok(p)
    }

    pub(crate) fn blob_writer(&self) -> Result<BlobWriter> {
        self.inner.blobs.writer()
    }

    /// The remembered compressed blob of a layer, when it is still in the store.
    pub(crate) fn compressed_layer(&self, diff_id: &str, c: Compression) -> Option<Compressed> {
        self.inner
            .compressed
            .get(diff_id, c)
            .filter(|b| self.inner.blobs.exists(&b.digest))
    }

    /// Keep a compressed blob made for a layer and remember it, so later pushes reuse it. Under
    /// the commit lock, so a concurrent garbage collection sees either neither or both.
    pub(crate) fn store_compressed(
        &self,
        diff_id: &str,
        c: Compression,
        writer: BlobWriter,
        blob: &Compressed,
    ) -> Result<()> {
        let _commit = lock(&self.inner.commit_lock);
        if !self.inner.layers.exists(diff_id) {
            // The image went away while its layer was being compressed: nothing to remember.
            return Ok(());
        }
        self.inner.compressed.remember(diff_id, c, blob.clone())?;
        self.inner.blobs.commit(writer, &blob.digest)
    }
}

/// Parse the `compression` push parameter (defaults to the engine's setting, gzip).
pub fn compression_param(v: Option<&str>) -> Result<Compression> {
    Compression::parse(v.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_human_sizes_like_go_units() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(1500), "1.5kB");
        assert_eq!(human_size(10_500_000), "10.5MB");
        assert_eq!(human_size(209_715_200), "209.7MB");
        let bar = progress_bar(5, 10);
        assert!(bar.starts_with("[=========================>"), "{bar}");
        assert!(progress_bar(10, 10).starts_with(&format!("[{}]", "=".repeat(50))));
        assert!(progress_bar(0, 0).starts_with("[>"));
    }

    #[test]
    fn push_known_blobs_persist() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("image")).unwrap();
        let d = format!("sha256:{}", "a".repeat(64));
        {
            let k = KnownBlobs::open(dir.path());
            k.record("127.0.0.1:5000", &d, "one").unwrap();
            k.record("127.0.0.1:5000", &d, "two").unwrap();
        }
        let k = KnownBlobs::open(dir.path());
        assert_eq!(k.repositories("127.0.0.1:5000", &d), vec!["one", "two"]);
        assert!(k.repositories("other:5000", &d).is_empty());
        for i in 0..20 {
            k.record("h", &d, &format!("r{i:02}")).unwrap();
        }
        let repos = k.repositories("h", &d);
        assert_eq!(repos.len(), MAX_REPOS_PER_BLOB);
        assert!(repos.contains(&"r19".to_string()));
    }

    #[test]
    fn push_manifest_media_types() {
        assert_eq!(manifest_media_type(b"{}"), OCI_MANIFEST);
        assert_eq!(
            manifest_media_type(format!("{{\"mediaType\":\"{DOCKER_MANIFEST}\"}}").as_bytes()),
            DOCKER_MANIFEST
        );
        assert!(is_compressed_media_type(DOCKER_LAYER_GZIP));
        assert!(is_compressed_media_type(
            "application/vnd.oci.image.layer.v1.tar+zstd"
        ));
        assert!(!is_compressed_media_type(
            "application/vnd.oci.image.layer.v1.tar"
        ));
        assert_eq!(compression_param(None).unwrap(), Compression::Gzip);
        assert!(compression_param(Some("lz4")).is_err());
    }
}
