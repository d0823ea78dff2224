//! `/containers/...` handlers: parse, call the container service, shape the answer.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::container_views::{inspect, summary};
use super::detach;
use super::query::Filters;
use super::response::{json, no_content, ok_json, streaming, ApiResponse};
use super::stream::{content_type, encode, StreamKind};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, CreateRequest, Status};
use crate::service::container::logs::{self, LogOptions};
use crate::service::container::{ContainerService, Output};

/// Largest create body accepted; docker's configs are a few KiB.
const MAX_CREATE_BODY: usize = 4 << 20;

pub fn matches(_method: &Method, segments: &[String]) -> bool {
    segments.first().map(String::as_str) == Some("containers")
}

pub async fn handle(r: ApiRequest) -> Result<ApiResponse> {
    let seg: Vec<&str> = r.segments.iter().map(String::as_str).collect();
    match (r.method.clone(), seg.as_slice()) {
        (Method::POST, ["containers", "create"]) => create(r).await,
        (Method::GET, ["containers", "json"]) => list(&r),
        (Method::POST, ["containers", "prune"]) => prune(&r).await,
        (Method::GET, ["containers", id, "json"]) => {
            let c = r.engine.containers.get(id)?;
            let rec = c.record();
            let mut v = inspect(&rec, &r.engine.containers.dir(&rec.id));
            // docker's ExecIDs: the exec instances of the current run, null when none.
            let execs = r.engine.execs.ids_for(&rec.id);
            if !execs.is_empty() {
                v["ExecIDs"] = serde_json::json!(execs);
            }
            super::network_views::decorate_inspect(&r.engine.networks, &rec, &mut v);
            Ok(ok_json(&v))
        }
        (Method::POST, ["containers", id, "start"]) => {
            r.engine.containers.start(id).await?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "stop"]) => {
            let t = r.query.int("t")?.or(r.query.int("timeout")?);
            r.engine
                .containers
                .stop(id, t, r.query.get("signal"))
                .await?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "restart"]) => {
            let t = r.query.int("t")?.or(r.query.int("timeout")?);
            r.engine
                .containers
                .restart(id, t, r.query.get("signal"))
                .await?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "kill"]) => {
            // dockerd's router wraps what the backend says about the container (but not a
            // bad signal, refused before): "Cannot kill container: web: ... is not running".
            r.engine
                .containers
                .kill(id, r.query.get("signal"))
                .await
                .map_err(|e| match e {
                    EngineError::NotFound(_) | EngineError::Conflict(_) => {
                        e.prefixed(&format!("Cannot kill container: {id}"))
                    }
                    other => other,
                })?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "pause"]) => {
            r.engine.containers.pause(id).await?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "unpause"]) => {
            r.engine.containers.unpause(id).await?;
            Ok(no_content())
        }
        (Method::GET, ["containers", id, "top"]) => {
            // The rows are built from /proc, not by running ps, so only ps's default
            // full-format listing (what docker shows without arguments) can be answered.
            let ps_args = r.query.string("ps_args").unwrap_or_default();
            if !matches!(
                ps_args.trim(),
                "" | "-ef" | "ef" | "-e -f" | "-f -e" | "-fe"
            ) {
                return Err(EngineError::invalid(format!(
                    "ps_args {ps_args:?} are not supported: only the default -ef columns are"
                )));
            }
            Ok(ok_json(&r.engine.containers.top(id).await?))
        }
        (Method::POST, ["containers", id, "rename"]) => {
            let name = r
                .query
                .string("name")
                .ok_or_else(|| EngineError::invalid("missing parameter: name"))?;
            r.engine.containers.rename(id, &name)?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "wait"]) => wait(&r, id),
        (Method::GET, ["containers", id, "logs"]) => container_logs(&r, id),
        (Method::GET, ["containers", id, "stats"]) => super::stats::container_stats(&r, id).await,
        (Method::POST, ["containers", id, "resize"]) => {
            let (h, w) = (r.query.int("h")?, r.query.int("w")?);
            r.engine.containers.resize(id, h, w)?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "attach"]) => {
            let id = id.to_string();
            attach(r, &id)
        }
        (Method::POST, ["containers", id, "exec"]) => {
            let id = id.to_string();
            super::exec::create(r, &id).await
        }
        (Method::GET, ["containers", id, "changes"]) => super::archive::changes(&r, id).await,
        (Method::GET, ["containers", id, "export"]) => super::archive::export(&r, id).await,
        (Method::HEAD, ["containers", id, "archive"]) => super::archive::head(&r, id).await,
        (Method::GET, ["containers", id, "archive"]) => super::archive::get(&r, id).await,
        (Method::PUT, ["containers", id, "archive"]) => {
            let id = id.to_string();
            super::archive::put(r, &id).await
        }
        (Method::POST, ["containers", id, "update"]) => {
            let id = id.to_string();
            super::container_update::post(r, &id).await
        }
        (Method::DELETE, ["containers", id]) => {
            r.engine
                .containers
                .remove_with_volumes(id, r.query.bool("force")?, r.query.bool("v")?)
                .await?;
            Ok(no_content())
        }
        _ => Ok(json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "message": "page not found" }),
        )),
    }
}

async fn read_body(r: ApiRequest, limit: usize) -> Result<Bytes> {
    let body = http_body_util::Limited::new(r.req.into_body(), limit)
        .collect()
        .await
        .map_err(|e| EngineError::invalid(format!("reading request body: {e}")))?;
    Ok(body.to_bytes())
}

async fn create(r: ApiRequest) -> Result<ApiResponse> {
    let name = r.query.string("name");
    let engine = r.engine.clone();
    let body = read_body(r, MAX_CREATE_BODY).await?;
    let req: CreateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        return Err(EngineError::invalid(
            "config cannot be empty in order to create a container",
        ));
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| EngineError::invalid(format!("invalid JSON: {e}")))?
    };
    if req.config.image.trim().is_empty() {
        return Err(EngineError::invalid(
            "Config.Image must be set to create a container",
        ));
    }
    let (id, warnings) = engine
        .containers
        .create(&engine.images, name.as_deref(), req)
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({ "Id": id, "Warnings": warnings }),
    ))
}

/// `ancestors`: each `ancestor` filter value with the image id it resolves to, looked up before
/// any container record is locked.
fn matches_filters(
    rec: &ContainerRecord,
    f: &Filters,
    ancestors: &[(String, Option<String>)],
) -> bool {
    let id_ok =
        f.get("id").is_empty() || f.get("id").iter().any(|v| rec.id.starts_with(v.as_str()));
    let name_ok = f.get("name").is_empty()
        || f.get("name")
            .iter()
            .any(|v| rec.name.contains(v.trim_start_matches('/')));
    let status_ok = f.get("status").is_empty()
        || f.get("status")
            .iter()
            .any(|v| v == rec.state.status.as_str());
    let exited_ok = f.get("exited").is_empty()
        || (rec.state.status == Status::Exited
            && f.get("exited")
                .iter()
                .any(|v| v.parse() == Ok(rec.state.exit_code)));
    let ancestor_ok = ancestors.is_empty()
        || ancestors.iter().any(|(a, resolved)| {
            a == &rec.image
                || resolved.as_ref() == Some(&rec.image_id)
                || rec
                    .image_id
                    .trim_start_matches("sha256:")
                    .starts_with(a.trim_start_matches("sha256:"))
        });
    let health_ok = f.get("health").is_empty()
        || f.get("health")
            .iter()
            .any(|v| v == crate::service::container::health::status_of(rec));
    id_ok
        && name_ok
        && status_ok
        && exited_ok
        && ancestor_ok
        && health_ok
        && f.labels_match(&rec.config.labels)
}

fn list(r: &ApiRequest) -> Result<ApiResponse> {
    let all = r.query.bool("all")?;
    let limit = r.query.int("limit")?.filter(|l| *l > 0);
    let filters = r.query.filters()?;
    filters.only(&[
        "id", "name", "label", "status", "ancestor", "exited", "before", "since", "health",
    ])?;
    for h in filters.get("health") {
        if !matches!(h.as_str(), "starting" | "healthy" | "unhealthy" | "none") {
            return Err(EngineError::invalid(format!(
                "Unrecognised filter value for health: {h}"
            )));
        }
    }
    for s in filters.get("status") {
        if Status::parse(s).is_none() {
            return Err(EngineError::invalid(format!("invalid filter 'status={s}'")));
        }
    }
    // Newest first, as docker lists them. Records are looked at in place, never copied.
    let mut containers: Vec<(String, std::sync::Arc<crate::service::container::Container>)> = r
        .engine
        .containers
        .list()
        .into_iter()
        .map(|c| (c.with_record(|rec| rec.created.clone()), c))
        .collect();
    containers.sort_by(|a, b| b.0.cmp(&a.0));
    let position = |key: &str| -> Result<Option<String>> {
        match filters.get(key).first() {
            None => Ok(None),
            Some(k) => Ok(Some(
                r.engine
                    .containers
                    .get(k)?
                    .with_record(|rec| rec.created.clone()),
            )),
        }
    };
    let before = position("before")?;
    let since = position("since")?;
    let ancestors: Vec<(String, Option<String>)> = filters
        .get("ancestor")
        .iter()
        .map(|a| (a.clone(), r.engine.images.resolve(a).ok().map(|img| img.id)))
        .collect();
    let explicit_status = !filters.get("status").is_empty() || !filters.get("exited").is_empty();
    let mut out = Vec::new();
    for (_, c) in &containers {
        let entry = c.with_record(|rec| {
            if !all
                && !explicit_status
                && limit.is_none()
                && before.is_none()
                && since.is_none()
                && rec.state.status != Status::Running
                && rec.state.status != Status::Paused
                && rec.state.status != Status::Restarting
            {
                return None;
            }
            if before.as_ref().is_some_and(|b| rec.created >= *b)
                || since.as_ref().is_some_and(|s| rec.created <= *s)
            {
                return None;
            }
            if !matches_filters(rec, &filters, &ancestors) {
                return None;
            }
            let mut entry = summary(rec);
            super::network_views::decorate_summary(&r.engine.networks, rec, &mut entry);
            Some(entry)
        });
        out.extend(entry);
        if limit.is_some_and(|l| out.len() as i64 >= l) {
            break;
        }
    }
    Ok(ok_json(&out))
}

async fn prune(r: &ApiRequest) -> Result<ApiResponse> {
    let filters = r.query.filters()?;
    filters.only(&["label", "until"])?;
    let until = match filters.get("until").first() {
        None => None,
        Some(u) => Some(parse_timestamp(u)?),
    };
    let mut deleted = Vec::new();
    for c in r.engine.containers.list() {
        let rec = c.record();
        if !matches!(
            rec.state.status,
            Status::Exited | Status::Created | Status::Dead
        ) {
            continue;
        }
        if !filters.labels_match(&rec.config.labels) {
            continue;
        }
        if let Some(u) = until {
            let created = chrono::DateTime::parse_from_rfc3339(&rec.created)
                .map(|t| t.timestamp() as f64)
                .unwrap_or(0.0);
            if created >= u {
                continue;
            }
        }
        let size = dir_size(
            &r.engine
                .containers
                .dir(&rec.id)
                .join(crate::runtime::spec::files::UPPER),
        );
        if r.engine.containers.remove(&rec.id, false).await.is_ok() {
            deleted.push((rec.id, size));
        }
    }
    let reclaimed: u64 = deleted.iter().map(|(_, s)| s).sum();
    let ids: Vec<String> = deleted.into_iter().map(|(id, _)| id).collect();
    Ok(ok_json(&serde_json::json!({
        "ContainersDeleted": ids,
        "SpaceReclaimed": reclaimed,
    })))
}

fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|d| d.flatten().map(|e| dir_size(&e.path())).sum())
        .unwrap_or(0)
}

/// A `since`/`until` query value (see `timestamps`) as unix seconds.
pub fn parse_timestamp(v: &str) -> Result<f64> {
    let ns = super::timestamps::parse_time_param("timestamp", v, super::timestamps::now_nanos())?
        .ok_or_else(|| EngineError::invalid("empty timestamp"))?;
    Ok(ns as f64 / 1e9)
}

fn wait(r: &ApiRequest, id: &str) -> Result<ApiResponse> {
    let condition = r.query.get("condition").unwrap_or("");
    let done = r.engine.containers.wait(id, condition)?;
    // Headers go out at once (clients block on them before starting the container); the body
    // follows when the condition is met.
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        if let Ok((code, error)) = done.await {
            let body = serde_json::json!({
                "StatusCode": code,
                "Error": error.map(|m| serde_json::json!({ "Message": m })),
            });
            let _ = tx.send(super::response::progress_line(&body)).await;
        }
    });
    Ok(streaming("application/json", rx))
}

fn container_logs(r: &ApiRequest, id: &str) -> Result<ApiResponse> {
    let c = r.engine.containers.get(id)?;
    let rec = c.record();
    let stdout = r.query.bool("stdout")?;
    let stderr = r.query.bool("stderr")?;
    if !stdout && !stderr {
        return Err(EngineError::invalid(
            "Bad parameters: you must choose at least one stream",
        ));
    }
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
    let rx = logs::stream(c, r.engine.containers.log_path(&rec.id), opts);
    Ok(streaming(content_type(rec.config.tty), rx))
}

/// Hijacked attach: answer `101 UPGRADED`, then stream output (framed unless TTY) until the
/// container's process ends, and forward stdin to the shim when asked.
fn attach(mut r: ApiRequest, id: &str) -> Result<ApiResponse> {
    let c = r.engine.containers.get(id)?;
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
    r.engine.containers.emit(&c, "attach", &[]);
    // Subscribe before answering so nothing printed after a following `start` is missed.
    let mut output = c.subscribe_output();
    let logs_rx = want_logs.then(|| {
        logs::stream(
            c.clone(),
            r.engine.containers.log_path(&rec.id),
            LogOptions {
                stdout: want_stdout,
                stderr: want_stderr,
                tty,
                ..LogOptions::default()
            },
        )
    });
    let upgrade = hyper::upgrade::on(&mut r.req);
    tokio::spawn(async move {
        let upgraded = match upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "attach upgrade failed");
                return;
            }
        };
        let (rd, mut wr) = tokio::io::split(TokioIo::new(upgraded));
        let (detached_tx, mut detached) = tokio::sync::oneshot::channel::<()>();
        let stdin_task = want_stdin.then(|| {
            let c = c.clone();
            tokio::spawn(async move {
                let end = detach::copy_input(rd, detector, |data| {
                    let c = c.clone();
                    async move {
                        match ContainerService::shim_when_running(&c).await {
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
                        if let Some(shim) = ContainerService::shim_when_running(&c).await {
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
    Ok(super::response::upgraded(content_type(tty)))
}
