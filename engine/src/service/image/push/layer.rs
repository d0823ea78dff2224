//! One layer of a push: the blob to send (stored, or compressed once and kept), then skip it
//! when the registry has it, mount it from another repository known to hold it, or upload it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::known_blobs::KnownBlobs;
use super::progress::{Progress, PROGRESS_EVERY};
use super::upload::upload;
use super::PushOptions;
use crate::error::{EngineError, IoContext, Result};
use crate::image::compress::{self, Compressed, Compression};
use crate::image::reference::Reference;
use crate::registry::{MountOutcome, Repository};
use crate::service::image::parts::LayerPart;
use crate::service::Engine;

/// Cross-repository mount sources tried per blob.
const MAX_MOUNT_TRIES: usize = 3;

/// Where a blob to push is, and what it is.
#[derive(Debug, Clone)]
pub(super) struct PushBlob {
    pub(super) digest: String,
    pub(super) size: u64,
    pub(super) media_type: String,
    pub(super) path: PathBuf,
    /// Sent exactly as the image stores it (the manifest already names it).
    pub(super) as_stored: bool,
}

pub(super) struct LayerCtx {
    pub(super) engine: Arc<Engine>,
    pub(super) repo: Repository,
    pub(super) repo_ref: Reference,
    /// Repositories the image was pulled from on this registry (hold its stored blobs).
    pub(super) source_repos: Vec<String>,
    pub(super) layer: LayerPart,
    pub(super) id: String,
    pub(super) opts: PushOptions,
    pub(super) progress: Progress,
    pub(super) present: Arc<Mutex<BTreeSet<String>>>,
}

pub(super) fn is_compressed_media_type(mt: &str) -> bool {
    mt.ends_with("+gzip") || mt.ends_with("+zstd") || mt.ends_with(".tar.gzip")
}

pub(super) async fn push_layer(ctx: LayerCtx) -> Result<PushBlob> {
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
