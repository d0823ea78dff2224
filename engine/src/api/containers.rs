//! `/containers/...` handlers: create, list, inspect, prune and the lifecycle verbs. Parse, call
//! the `ContainerBackend`, shape the answer. Attach and logs, update, stats, exec and the archive
//! routes have modules of their own.

use std::sync::Arc;

use hyper::{Method, StatusCode};
use tokio::sync::mpsc;

use super::backend::ContainerBackend;
use super::body::{read_limited, shaped_json};
use super::container_views::{inspect, summary};
use super::query::Filters;
use super::response::{json, no_content, ok_json, streaming, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, CreateRequest, Status};
use crate::model::go_keys;
use crate::service::container::Container;

/// Largest create body accepted; docker's configs are a few KiB.
const MAX_CREATE_BODY: usize = 4 << 20;

pub fn matches(_method: &Method, segments: &[String]) -> bool {
    segments.first().map(String::as_str) == Some("containers")
}

pub async fn handle<B: ContainerBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let seg: Vec<&str> = r.segments.iter().map(String::as_str).collect();
    match (r.method.clone(), seg.as_slice()) {
        (Method::POST, ["containers", "create"]) => create(r).await,
        (Method::GET, ["containers", "json"]) => list(&r),
        (Method::POST, ["containers", "prune"]) => prune(&r).await,
        (Method::GET, ["containers", id, "json"]) => {
            let c = r.backend.container(id)?;
            let rec = c.record();
            let mut v = inspect(&rec, &r.backend.container_dir(&rec.id));
            // docker's ExecIDs: the exec instances of the current run, null when none.
            let execs = r.backend.container_exec_ids(&rec.id);
            if !execs.is_empty() {
                v["ExecIDs"] = serde_json::json!(execs);
            }
            r.backend.container_network_inspect(&rec, &mut v);
            Ok(ok_json(&v))
        }
        (Method::POST, ["containers", id, "start"]) => {
            r.backend.container_start(id).await?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "stop"]) => {
            let t = r.query.int("t")?.or(r.query.int("timeout")?);
            r.backend
                .container_stop(id, t, r.query.get("signal"))
                .await?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "restart"]) => {
            let t = r.query.int("t")?.or(r.query.int("timeout")?);
            r.backend
                .container_restart(id, t, r.query.get("signal"))
                .await?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "kill"]) => {
            // dockerd's router wraps what the backend says about the container (but not a
            // bad signal, refused before): "Cannot kill container: web: ... is not running".
            r.backend
                .container_kill(id, r.query.get("signal"))
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
            r.backend.container_pause(id).await?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "unpause"]) => {
            r.backend.container_unpause(id).await?;
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
            Ok(ok_json(&r.backend.container_top(id).await?))
        }
        (Method::POST, ["containers", id, "rename"]) => {
            let name = r
                .query
                .string("name")
                .ok_or_else(|| EngineError::invalid("missing parameter: name"))?;
            r.backend.container_rename(id, &name)?;
            Ok(no_content())
        }
        (Method::POST, ["containers", id, "wait"]) => wait(&r, id),
        (Method::POST, ["containers", id, "resize"]) => {
            let (h, w) = (r.query.int("h")?, r.query.int("w")?);
            r.backend.container_resize(id, h, w)?;
            Ok(no_content())
        }
        // A link's name is "/parent/alias": docker removes the link, never a container, here.
        (Method::DELETE, ["containers", parent, alias]) => {
            let key = format!("{parent}/{alias}");
            if !r.query.bool("link")? {
                return Err(EngineError::not_found(format!("No such container: {key}")));
            }
            r.backend.container_remove_link(&key)?;
            Ok(no_content())
        }
        (Method::DELETE, ["containers", id]) => {
            r.backend
                .container_remove(id, r.query.bool("force")?, r.query.bool("v")?)
                .await?;
            Ok(no_content())
        }
        _ => Ok(json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "message": "page not found" }),
        )),
    }
}

async fn create<B: ContainerBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let name = r.query.string("name");
    let platform = match r.query.get("platform").map(str::trim) {
        Some(p) if !p.is_empty() => Some(crate::image::import::parse_platform(Some(p))?),
        _ => None,
    };
    let backend = r.backend.clone();
    let body = read_limited(r.req.into_body(), MAX_CREATE_BODY).await?;
    // An empty body and `null` (nothing, for Go's decoder) are refused alike, as dockerd does.
    let req: Option<CreateRequest> = shaped_json(&body, &go_keys::CONTAINER_CREATE)?;
    let req = req.ok_or_else(|| {
        EngineError::invalid("config cannot be empty in order to create a container")
    })?;
    if req.config.image.trim().is_empty() {
        return Err(EngineError::invalid(
            "Config.Image must be set to create a container",
        ));
    }
    if let Some(wanted) = platform {
        super::create_platform::check(backend.as_ref(), &req.config.image, &wanted)?;
    }
    let (id, warnings) = backend.container_create(name.as_deref(), req).await?;
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
            .any(|v| v == super::container_views::health_status(rec));
    id_ok
        && name_ok
        && status_ok
        && exited_ok
        && ancestor_ok
        && health_ok
        && f.labels_match(&rec.config.labels)
}

fn list<B: ContainerBackend>(r: &ApiRequest<B>) -> Result<ApiResponse> {
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
    let mut containers: Vec<(String, Arc<Container>)> = r
        .backend
        .containers()
        .into_iter()
        .map(|c| (c.with_record(|rec| rec.created.clone()), c))
        .collect();
    containers.sort_by(|a, b| b.0.cmp(&a.0));
    let position = |key: &str| -> Result<Option<String>> {
        match filters.get(key).first() {
            None => Ok(None),
            Some(k) => Ok(Some(
                r.backend
                    .container(k)?
                    .with_record(|rec| rec.created.clone()),
            )),
        }
    };
    let link_names = r.backend.container_link_names();
    let before = position("before")?;
    let since = position("since")?;
    let ancestors: Vec<(String, Option<String>)> = filters
        .get("ancestor")
        .iter()
        .map(|a| (a.clone(), r.backend.resolve_image_id(a)))
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
            r.backend.container_network_summary(rec, &mut entry);
            // docker lists the names other containers link this one by ("/parent/alias").
            // Sorted as dockerd's name index returns them.
            if let Some(l) = link_names.get(&rec.name) {
                entry.names.extend(l.iter().cloned());
                entry.names.sort();
            }
            Some(entry)
        });
        out.extend(entry);
        if limit.is_some_and(|l| out.len() as i64 >= l) {
            break;
        }
    }
    Ok(ok_json(&out))
}

async fn prune<B: ContainerBackend>(r: &ApiRequest<B>) -> Result<ApiResponse> {
    let filters = r.query.filters()?;
    filters.only(&["label", "until"])?;
    let until = match filters.get("until").first() {
        None => None,
        Some(u) => Some(parse_timestamp(u)?),
    };
    let mut deleted = Vec::new();
    for c in r.backend.containers() {
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
            &r.backend
                .container_dir(&rec.id)
                .join(crate::runtime::spec::files::UPPER),
        );
        if r.backend
            .container_remove(&rec.id, false, false)
            .await
            .is_ok()
        {
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

fn wait<B: ContainerBackend>(r: &ApiRequest<B>, id: &str) -> Result<ApiResponse> {
    let condition = r.query.get("condition").unwrap_or("");
    let done = r.backend.container_wait(id, condition)?;
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

#[cfg(test)]
mod tests {
    use hyper::{Method, StatusCode};
    use serde_json::{json, Value};

    use super::handle;
    use crate::api::backend::fake::{answer, request, FakeBackend};

    #[tokio::test]
    async fn stop_answers_204_then_304_and_404_for_unknown() {
        let backend = FakeBackend::with_containers(&[("web", true)]);
        let stop = |name: &str| {
            handle(request(
                &backend,
                Method::POST,
                &format!("/v1.44/containers/{name}/stop?t=3&signal=SIGINT"),
                "",
            ))
        };
        assert_eq!(
            answer(stop("web").await).await,
            (StatusCode::NO_CONTENT, Value::Null)
        );
        // Already stopped: docker's 304, without a body.
        assert_eq!(
            answer(stop("web").await).await,
            (StatusCode::NOT_MODIFIED, Value::Null)
        );
        assert_eq!(
            answer(stop("nope").await).await,
            (
                StatusCode::NOT_FOUND,
                json!({ "message": "No such container: nope" })
            )
        );
        let call = |name: &str| format!("stop {name} Some(3) Some(\"SIGINT\")");
        assert_eq!(backend.calls(), [call("web"), call("web"), call("nope")]);
    }

    #[tokio::test]
    async fn bad_query_parameters_are_400_before_the_backend_is_called() {
        let backend = FakeBackend::with_containers(&[("web", true)]);
        let (status, body) = answer(
            handle(request(
                &backend,
                Method::POST,
                "/containers/web/stop?t=soon",
                "",
            ))
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({ "message": "invalid value for t: \"soon\" is not an integer" })
        );
        let (status, body) = answer(
            handle(request(
                &backend,
                Method::DELETE,
                "/containers/web?force=maybe",
                "",
            ))
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().unwrap().contains("not a boolean"));
        assert!(backend.calls().is_empty(), "{:?}", backend.calls());
    }

    #[tokio::test]
    async fn kill_errors_name_the_container_as_dockerd_does() {
        let backend = FakeBackend::with_containers(&[("db", false)]);
        let kill = |name: &str| {
            handle(request(
                &backend,
                Method::POST,
                &format!("/containers/{name}/kill"),
                "",
            ))
        };
        assert_eq!(
            answer(kill("db").await).await,
            (
                StatusCode::CONFLICT,
                json!({ "message": "Cannot kill container: db: container db is not running" })
            )
        );
        assert_eq!(
            answer(kill("nope").await).await.1,
            json!({ "message": "Cannot kill container: nope: No such container: nope" })
        );
    }

    #[tokio::test]
    async fn create_takes_null_fields_and_refuses_an_empty_config() {
        let backend = FakeBackend::with_containers(&[]);
        let body = r#"{"Image":"busybox","Env":null,"Cmd":null,"Entrypoint":null,
            "Labels":null,"Volumes":null,"HostConfig":null,"NetworkingConfig":null}"#;
        let create = |body: &'static str| {
            handle(request(
                &backend,
                Method::POST,
                "/v1.44/containers/create?name=web",
                body,
            ))
        };
        assert_eq!(
            answer(create(body).await).await,
            (
                StatusCode::CREATED,
                json!({ "Id": "id-of-web", "Warnings": [] })
            )
        );
        for empty in [" \n", "null"] {
            let (status, body) = answer(create(empty).await).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(
                body,
                json!({ "message": "config cannot be empty in order to create a container" })
            );
        }
        assert_eq!(backend.calls(), ["create web busybox"]);
    }
}
