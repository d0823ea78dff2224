//! `docker exec`: `POST /containers/{id}/exec` and `/exec/{id}/{start,resize,json}`.

use hyper::{Method, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::backend::ExecBackend;
use super::body::{read_limited, shaped_json_or_default};
use super::detach;
use super::hijack::Hijack;
use super::response::{empty_body, json, ok_json, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::model::go_keys;
use crate::model::stream::{content_type, encode, StreamKind};
use crate::service::container::exec::{ExecConfig, ExecStdin, ExecView, StartOptions};
use crate::service::container::Output;

/// Exec bodies are small JSON documents.
const MAX_BODY: usize = 1 << 20;

pub fn matches(method: &Method, segments: &[String]) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(s.first(), Some(&"exec"))
        || matches!(
            (method, s.as_slice()),
            (&Method::POST, ["containers", _, "exec"])
        )
}

pub async fn handle<B: ExecBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let seg: Vec<String> = r.segments.clone();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    match (r.method.clone(), seg.as_slice()) {
        (Method::POST, ["containers", id, "exec"]) => create(r, id).await,
        (Method::POST, ["exec", id, "start"]) => start(r, id).await,
        (Method::POST, ["exec", id, "resize"]) => {
            let dim = |k: &str| -> Result<u16> {
                let v = r.query.int(k)?.unwrap_or(0);
                u16::try_from(v).map_err(|_| EngineError::invalid(format!("invalid {k}: {v}")))
            };
            let (h, w) = (dim("h")?, dim("w")?);
            r.backend.exec_resize(id, h, w)?;
            Ok(json(StatusCode::OK, &serde_json::json!({})))
        }
        (Method::GET, ["exec", id, "json"]) => {
            let exec = r.backend.exec(id)?;
            Ok(ok_json(&inspect(&exec.view())))
        }
        _ => Ok(json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "message": "page not found" }),
        )),
    }
}

/// `POST /containers/{id}/exec` → 201 {"Id"}.
async fn create<B: ExecBackend>(r: ApiRequest<B>, container: &str) -> Result<ApiResponse> {
    let backend = r.backend.clone();
    // Read the body first even when the answer is a 404: a reply before the client has finished
    // sending would break its pipe.
    let body = read_limited(r.req.into_body(), MAX_BODY).await?;
    backend.exec_container_exists(container)?;
    let config: ExecConfig = shaped_json_or_default(&body, &go_keys::EXEC_CREATE)?;
    detach::parse(&config.detach_keys)?;
    let id = backend.exec_create(container, config)?;
    Ok(json(StatusCode::CREATED, &serde_json::json!({ "Id": id })))
}

/// `GET /exec/{id}/json`.
pub fn inspect(v: &ExecView) -> serde_json::Value {
    let c = &v.config;
    serde_json::json!({
        "ID": v.id,
        "Running": v.running,
        "ExitCode": v.exit_code,
        "ProcessConfig": {
            "privileged": c.privileged,
            "user": c.user,
            "tty": c.tty,
            "entrypoint": c.cmd.first().cloned().unwrap_or_default(),
            "arguments": c.cmd.iter().skip(1).collect::<Vec<_>>(),
        },
        "OpenStdin": c.attach_stdin,
        "OpenStderr": c.attach_stderr,
        "OpenStdout": c.attach_stdout,
        "CanRemove": false,
        "ContainerID": v.container_id,
        "DetachKeys": c.detach_keys,
        "Pid": v.pid,
    })
}

/// `POST /exec/{id}/start`: detached → 200 and the process runs in the background; attached →
/// `101 UPGRADED` (a 200 with the stream as its body for a client that did not ask to upgrade),
/// then output until the process exits, framed unless the *request* says `Tty` (docker frames by
/// the start request, whatever the exec was created with); stdin is forwarded and the client's
/// half-close closes the process's stdin.
async fn start<B: ExecBackend>(mut r: ApiRequest<B>, id: &str) -> Result<ApiResponse> {
    let backend = r.backend.clone();
    // Take the upgrade handle before the body consumes the request; read the body before any
    // error answer (see `create`).
    let hijack = Hijack::take(&mut r.req);
    let body = read_limited(r.req.into_body(), MAX_BODY).await?;
    let exec = backend.exec(id)?;
    let opts: StartOptions = shaped_json_or_default(&body, &go_keys::EXEC_START)?;
    // Keys from the start request's query win over the ones given at create (already checked).
    let keys = match r.query.string("detachKeys") {
        Some(k) => detach::parse(&k)?,
        None => detach::parse(&exec.config.detach_keys)?,
    };
    let Some(mut started) = backend.exec_start(id, &opts).await? else {
        return Ok(Response::builder()
            .status(StatusCode::OK)
            .header("Content-Type", "application/json")
            .body(empty_body())
            .expect("static response"));
    };
    let tty = started.tty;
    let raw = opts.tty;
    // Docker scans only TTY input for the detach sequence (piped data must pass untouched).
    let mut detector = tty.then(|| detach::Detector::new(keys));
    let (response, conn) = hijack.answer(content_type(raw));
    let want_stdout = exec.config.attach_stdout;
    let want_stderr = exec.config.attach_stderr;
    let exec_id = exec.id.clone();
    let exec_id2 = exec.id.clone();
    tokio::spawn(async move {
        let Some(conn) = conn.await else {
            // Nobody to talk to: the process still runs to its end, output is discarded.
            tracing::debug!(exec = %exec_id, "exec client gone before the upgrade");
            while started.output.recv().await.is_some() {}
            return;
        };
        let (mut rd, mut wr) = tokio::io::split(conn);
        let (detached_tx, mut detached) = tokio::sync::oneshot::channel::<()>();
        let mut detached_tx = Some(detached_tx);
        let stdin_task = started.stdin.take().map(|mut stdin| {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 32 * 1024];
                loop {
                    let n = match rd.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let (data, detach) = match detector.as_mut().map(|d| d.scan(&buf[..n])) {
                        None => (buf[..n].to_vec(), false),
                        Some(detach::Scan::Forward(d)) => (d, false),
                        Some(detach::Scan::Detach(d)) => (d, true),
                    };
                    if !data.is_empty() && stdin.write_all(&data).await.is_err() {
                        break;
                    }
                    if detach {
                        tracing::debug!(exec = %exec_id2, "exec client detached");
                        if let Some(tx) = detached_tx.take() {
                            let _ = tx.send(());
                        }
                        // The process keeps its terminal; nothing more is read from this client.
                        std::future::pending::<()>().await;
                    }
                }
                // Half-close: a pipe is closed so the process sees EOF. A TTY stays open (its
                // EOF is the user's ^D), as with docker.
                if let ExecStdin::Pty(_) = stdin {
                    std::future::pending::<()>().await;
                }
            })
        });
        let mut client_gone = false;
        let mut detach_open = true;
        loop {
            let out = tokio::select! {
                o = started.output.recv() => match o {
                    Some(o) => o,
                    None => break,
                },
                // A finished oneshot must not be polled again: `detach_open` guards it.
                d = &mut detached, if detach_open => {
                    if d.is_ok() {
                        break;
                    }
                    detach_open = false;
                    continue;
                }
            };
            let chunk = match out {
                Output::Stdout(b) if want_stdout || tty => encode(StreamKind::Stdout, &b, raw),
                Output::Stderr(b) if want_stderr => encode(StreamKind::Stderr, &b, raw),
                Output::End => break,
                _ => continue,
            };
            if !client_gone && wr.write_all(&chunk).await.is_err() {
                // Keep receiving so the process's output keeps draining.
                client_gone = true;
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
