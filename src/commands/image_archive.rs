//! `save` and `load`: image archives to and from the engine (`GET /images/get`,
//! `POST /images/load`), streamed in both directions.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::archive::{refuse_terminal_stdout, write_download};
use super::{out, Ctx};
use crate::client::api::images;
use crate::client::progress::read_stream;
use crate::exit::ExitError;

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN.
    #[arg(short = 'i', long)]
    pub input: Option<PathBuf>,
    /// Suppress the load output.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `save [-o FILE] IMAGE...`: the archive goes to FILE (written under a temporary name and
/// renamed when complete, so a failed save leaves no truncated archive) or to stdout.
pub async fn save(ctx: &Ctx, a: SaveArgs) -> Result<i32> {
    refuse_terminal_stdout(a.output.as_deref())?;
    let client = ctx.client().await?;
    let resp = client.open(images::save(&a.images), &[]).await?;
    write_download(resp, a.output.as_deref(), "failed to save image").await?;
    Ok(0)
}

/// `load [-i FILE] [-q]`: stream the archive (plain or gzip tar) as the request body and print
/// what the engine reports ("Loaded image: NAME" / "Loaded image ID: ...").
pub async fn load(ctx: &Ctx, a: LoadArgs) -> Result<i32> {
    let source: Box<dyn tokio::io::AsyncRead + Unpin + Send> = match &a.input {
        Some(p) => Box::new(
            tokio::fs::File::open(p)
                .await
                .with_context(|| format!("open {}", p.display()))?,
        ),
        None => {
            if std::io::stdin().is_terminal() {
                return Err(ExitError::with(
                    1,
                    "requested load from stdin, but stdin is empty",
                ));
            }
            Box::new(tokio::io::stdin())
        }
    };
    let client = ctx.client().await?;
    let (resp, pump) = client
        .post_tar_stream(&images::load(a.quiet).path, source, "the archive")
        .await?;
    read_stream(resp.into_body(), |msg| {
        if let Some(err) = msg
            .get("errorDetail")
            .and_then(|d| d.get("message"))
            .or_else(|| msg.get("error"))
            .and_then(serde_json::Value::as_str)
        {
            anyhow::bail!("{err}");
        }
        // Per-layer progress is for terminals that draw bars; the result lines are what
        // scripts read, as with docker.
        if let Some(s) = msg.get("stream").and_then(serde_json::Value::as_str) {
            out(s);
        }
        Ok(())
    })
    .await?;
    pump.await??;
    Ok(0)
}
