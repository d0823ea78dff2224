//! `GET /containers/{id}/logs` and the hijacked `POST /containers/{id}/attach`: the two ways a
//! client reads a container's output.

use hyper::Method;
use tokio::io::AsyncWriteExt;

use super::backend::ContainerBackend;
use super::containers::parse_timestamp;
use super::detach;
use super::hijack::Hijack;
use super::response::{streaming, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::model::stream::{content_type, encode, StreamKind};
use crate::service::container::logs::LogOptions;
use crate::service::container::Output;

pub fn matches(method: &Method, segments: &[String]) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(
        (method, s.as_slice()),
        (&Method::GET, ["containers", _, "logs"]) | (&Method::POST, ["containers", _, "attach"])
    )
}

pub async fn handle<B: ContainerBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let id = r.segments[1].clone();
    if r.method == Method::GET {
        container_logs(&r, &id)
    } else {
        attach(r, &id)
    }
}

fn container_logs<B: ContainerBackend>(r: &ApiRequest<B>, id: &str) -> Result<ApiResponse> {
    let c = r.backend.container(id)?;
    let rec = c.record();
    let stdout = r.query.bool("stdout")?;
    let stderr = r.query.bool("stderr")?;
    if !stdout && !stderr {
        return Err(EngineError::invalid(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    crate::service::container::log_driver::check_readable(&rec)?;
    let tail = match r.query.get("tail") {
        None | Some("") | Some("all") => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| EngineError::invalid(format!("invalid value for tail: {t:?}")))?,
        )
        .filter(|n| *n >= 0)
        .map(|n| n as usize),
    };
    let since = match r.query.get("since") {
        None | Some("") | Some("0") => None,
        Some(s) => Some(parse_timestamp(s)?),
    };
    let until = match r.query.get("until") {
        None | Some("") | Some("0") => None,
        Some(s) => Some(parse_timestamp(s)?),
    };
    let opts = LogOptions {
        stdout,
        stderr,
        since,
        until,
        timestamps: r.query.bool("timestamps")?,
        tail,
        follow: r.query.bool("follow")?,
        tty: rec.config.tty,
    };
    let rx = r.backend.container_logs(c, opts);
    Ok(streaming(content_type(rec.config.tty), rx))
}

/// Hijacked attach: answer `101 UPGRADED` (a 200 with the stream as its body for a client that
/// did not ask to upgrade), then stream output (framed unless TTY) until the container's process
/// ends, and forward stdin to the shim when asked.
fn attach<B: ContainerBackend>(mut r: ApiRequest<B>, id: &str) -> Result<ApiResponse> {
    let c = r.backend.container(id)?;
    let rec = c.record();
    let tty = rec.config.tty;
    let want_stdin = r.query.bool("stdin")? && rec.config.open_stdin;
    let want_stdout = r.query.bool("stdout")?;
    let want_stderr = r.query.bool("stderr")?;
    let want_stream = r.query.bool("stream")?;
    let want_logs = r.query.bool("logs")?;
    let stdin_once = rec.config.stdin_once;
    // Docker scans only TTY input for the detach sequence (piped data must pass untouched).
    let keys = detach::parse(&r.query.string("detachKeys").unwrap_or_default())?;
    let detector = tty.then(|| detach::Detector::new(keys));
    r.backend.container_event(&c, "attach");
    // Subscribe before answering so nothing printed after a following `start` is missed.
    let mut output = c.subscribe_output();
    let logs_rx = want_logs.then(|| {
        r.backend.container_logs(
            c.clone(),
            LogOptions {
                stdout: want_stdout,
                stderr: want_stderr,
                tty,
                ..LogOptions::default()
            },
        )
    });
    let (response, conn) = Hijack::take(&mut r.req).answer(content_type(tty));
    let backend = r.backend.clone();
    tokio::spawn(async move {
        let Some(conn) = conn.await else {
            return;
        };
        let (rd, mut wr) = tokio::io::split(conn);
        let (detached_tx, mut detached) = tokio::sync::oneshot::channel::<()>();
        let stdin_task = want_stdin.then(|| {
            let c = c.clone();
            let backend = backend.clone();
            tokio::spawn(async move {
                let end = detach::copy_input(rd, detector, |data| {
                    let c = c.clone();
                    let backend = backend.clone();
                    async move {
                        match backend.container_shim_when_running(&c).await {
                            Some(shim) => {
                                shim.write_stdin(data);
                                true
                            }
                            None => false,
                        }
                    }
                })
                .await;
                match end {
                    detach::InputEnd::Eof if stdin_once => {
                        if let Some(shim) = backend.container_shim_when_running(&c).await {
                            shim.close_stdin();
                        }
                    }
                    detach::InputEnd::Detached => {
                        tracing::debug!(container = %c.id, "attach client detached");
                        let _ = detached_tx.send(());
                    }
                    _ => {}
                }
            })
        });
        if let Some(mut logs_rx) = logs_rx {
            while let Some(chunk) = logs_rx.recv().await {
                if wr.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }
        if want_stream {
            let mut detach_open = true;
            loop {
                let next = tokio::select! {
                    o = output.recv() => o,
                    // A finished oneshot must not be polled again: `detach_open` guards it.
                    d = &mut detached, if detach_open => {
                        if d.is_ok() {
                            break;
                        }
                        detach_open = false;
                        continue;
                    }
                };
                let chunk = match next {
                    Ok(Output::Stdout(b)) if want_stdout => encode(StreamKind::Stdout, &b, tty),
                    Ok(Output::Stderr(b)) if want_stderr => encode(StreamKind::Stderr, &b, tty),
                    Ok(Output::End) => break,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!(skipped = n, "attach client too slow, output skipped");
                        continue;
                    }
                    Err(_) => break,
                };
                if wr.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        }
        let _ = wr.flush().await;
        let _ = wr.shutdown().await;
        if let Some(t) = stdin_task {
            t.abort();
        }
    });
    Ok(response)
}
