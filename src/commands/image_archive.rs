//! `save` and `load`: image archives to and from the engine (`GET /images/get`,
//! `POST /images/load`), streamed in both directions.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};
use http_body_util::BodyExt;
use hyper::Method;

use super::{out, Ctx};
use crate::cli::{ExitError, LoadArgs, SaveArgs};
use crate::client::progress::read_stream;
use crate::client::{empty, query};

/// Copy a streaming response body into `w`.
async fn body_to<W: Write>(resp: hyper::Response<hyper::body::Incoming>, w: &mut W) -> Result<()> {
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.context("reading the engine's stream")?.into_data() {
            w.write_all(&data)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// `save [-o FILE] IMAGE...`: the archive goes to FILE (written under a temporary name and
/// renamed when complete, so a failed save leaves no truncated archive) or to stdout.
pub async fn save(ctx: &Ctx, a: SaveArgs) -> Result<i32> {
    if a.output.is_none() && std::io::stdout().is_terminal() {
        return Err(ExitError::with(
            1,
            "cowardly refusing to save to a terminal. Use the -o flag or redirect",
        ));
    }
    let q: Vec<(&str, String)> = a.images.iter().map(|n| ("names", n.clone())).collect();
    let client = ctx.client().await?;
    let resp = client
        .request(
            Method::GET,
            &format!("/images/get{}", query(&q)),
            empty(),
            &[],
        )
        .await?;
    match &a.output {
        Some(p) => {
            let mut tmp_name = p.as_os_str().to_owned();
            tmp_name.push(".berth-partial");
            let tmp = std::path::PathBuf::from(tmp_name);
            let mut f = std::fs::File::create(&tmp)
                .with_context(|| format!("failed to save image: creating {}", p.display()))?;
            if let Err(e) = body_to(resp, &mut f).await {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.context("failed to save image"));
            }
            std::fs::rename(&tmp, p)
                .with_context(|| format!("failed to save image: writing {}", p.display()))?;
        }
        None => body_to(resp, &mut std::io::stdout().lock()).await?,
    }
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
    let q = if a.quiet {
        query(&[("quiet", "1".into())])
    } else {
        String::new()
    };
    let (resp, pump) = client
        .post_tar_stream(&format!("/images/load{q}"), source, "the archive")
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
