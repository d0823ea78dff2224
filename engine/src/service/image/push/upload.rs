//! Uploading a blob: one streamed PUT, or PATCHed chunks when configured or when the registry
//! refuses the single PUT.

use std::time::Instant;

use bytes::Bytes;

use super::layer::{LayerCtx, PushBlob};
use super::progress::PROGRESS_EVERY;
use crate::error::{EngineError, IoContext, Result};

/// Upload body chunk size.
const UPLOAD_CHUNK: usize = 1 << 20;

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
pub(super) async fn upload(
    ctx: &LayerCtx,
    blob: &PushBlob,
    location: Option<String>,
) -> Result<()> {
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
