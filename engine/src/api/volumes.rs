//! `/volumes/...` handlers.

use hyper::{Method, StatusCode};

use super::backend::VolumeBackend;
use super::body::{json_or_default, read_limited};
use super::query::Filters;
use super::response::{json, no_content, ok_json, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::model::volume::{VolumeCreateRequest, VolumeRecord};
use crate::service::volume::VolumeService;

/// Volume create bodies are tiny; anything bigger is a mistake.
const MAX_BODY: usize = 1 << 20;

pub fn matches(_method: &Method, segments: &[String]) -> bool {
    segments.first().map(String::as_str) == Some("volumes")
}

pub async fn handle<B: VolumeBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let seg: Vec<String> = r.segments.clone();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    match (r.method.clone(), seg.as_slice()) {
        (Method::GET, ["volumes"]) => list(&r),
        (Method::POST, ["volumes", "create"]) => create(r).await,
        (Method::POST, ["volumes", "prune"]) => prune(&r).await,
        (Method::GET, ["volumes", name]) => {
            let rec = r.backend.volume(name)?;
            Ok(ok_json(&r.backend.volume_to_api(&rec)))
        }
        (Method::DELETE, ["volumes", name]) => {
            let force = r.query.bool("force")?;
            let (backend, name) = (r.backend.clone(), name.to_string());
            tokio::task::spawn_blocking(move || backend.volume_remove(&name, force))
                .await
                .map_err(|e| EngineError::internal(format!("volume removal failed: {e}")))??;
            Ok(no_content())
        }
        _ => Ok(json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "message": "page not found" }),
        )),
    }
}

/// Docker's `Volume` object.
pub fn volume_json(volumes: &VolumeService, rec: &VolumeRecord) -> serde_json::Value {
    serde_json::json!({
        "CreatedAt": rec.created_at,
        "Driver": rec.driver,
        "Labels": if rec.labels.is_empty() { serde_json::Value::Null } else { serde_json::json!(rec.labels) },
        "Mountpoint": volumes.mountpoint(&rec.name),
        "Name": rec.name,
        "Options": if rec.options.is_empty() { serde_json::Value::Null } else { serde_json::json!(rec.options) },
        "Scope": "local",
    })
}

/// docker's `dangling`, `name`, `label`, `label!` and `driver` volume filters.
fn volume_matches(f: &Filters, rec: &VolumeRecord, in_use: bool) -> Result<bool> {
    for d in f.get("dangling") {
        let want = match d.as_str() {
            "1" | "true" => true,
            "0" | "false" => false,
            other => {
                return Err(EngineError::invalid(format!(
                    "invalid filter 'dangling={other}'"
                )))
            }
        };
        if want == in_use {
            return Ok(false);
        }
    }
    if !f.get("name").is_empty() && !f.get("name").iter().any(|n| rec.name.contains(n.as_str())) {
        return Ok(false);
    }
    if !f.get("driver").is_empty() && !f.get("driver").iter().any(|d| d == &rec.driver) {
        return Ok(false);
    }
    if !f.labels_match(&rec.labels) {
        return Ok(false);
    }
    let negated = f.get("label!").iter().any(|l| match l.split_once('=') {
        Some((k, v)) => rec.labels.get(k).is_some_and(|x| x == v),
        None => rec.labels.contains_key(l.as_str()),
    });
    Ok(!negated)
}

fn list<B: VolumeBackend>(r: &ApiRequest<B>) -> Result<ApiResponse> {
    let f = r.query.filters()?;
    f.only(&["dangling", "name", "label", "label!", "driver"])?;
    let used = r.backend.volumes_in_use();
    let mut out = Vec::new();
    for rec in r.backend.volumes() {
        if volume_matches(&f, &rec, used.contains(&rec.name))? {
            out.push(r.backend.volume_to_api(&rec));
        }
    }
    Ok(ok_json(
        &serde_json::json!({ "Volumes": out, "Warnings": [] }),
    ))
}

async fn create<B: VolumeBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let backend = r.backend.clone();
    let body = read_limited(r.req.into_body(), MAX_BODY).await?;
    let req: VolumeCreateRequest = json_or_default(&body)?;
    let b = backend.clone();
    let rec = tokio::task::spawn_blocking(move || b.volume_create(req))
        .await
        .map_err(|e| EngineError::internal(format!("volume create failed: {e}")))??;
    Ok(json(StatusCode::CREATED, &backend.volume_to_api(&rec)))
}

async fn prune<B: VolumeBackend>(r: &ApiRequest<B>) -> Result<ApiResponse> {
    let f = r.query.filters()?;
    f.only(&["label", "label!", "all"])?;
    // API 1.42 made prune remove anonymous volumes only unless `all=true`; older clients
    // expect every unused volume to go.
    let old_api = version_lt(&r.api_version, 1, 42);
    let all = match f.get("all").first().map(String::as_str) {
        None => old_api,
        Some("1" | "true") => true,
        Some("0" | "false") => false,
        Some(other) => {
            return Err(EngineError::invalid(format!(
                "invalid filter 'all={other}'"
            )))
        }
    };
    let backend = r.backend.clone();
    let f2 = f.clone();
    let (deleted, reclaimed) = tokio::task::spawn_blocking(move || {
        backend.volume_prune(all, &|rec| volume_matches(&f2, rec, false).unwrap_or(false))
    })
    .await
    .map_err(|e| EngineError::internal(format!("volume prune failed: {e}")))??;
    Ok(ok_json(&serde_json::json!({
        "VolumesDeleted": deleted,
        "SpaceReclaimed": reclaimed,
    })))
}

fn version_lt(v: &str, major: u32, minor: u32) -> bool {
    let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    (a, b) < (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, labels: &[(&str, &str)]) -> VolumeRecord {
        VolumeRecord {
            name: name.into(),
            driver: "local".into(),
            created_at: String::new(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            options: Default::default(),
            anonymous: false,
        }
    }

    #[test]
    fn filters_follow_docker() {
        let f = |j: &str| Filters::parse(Some(j)).unwrap();
        let v = rec("webdata", &[("env", "prod")]);
        assert!(volume_matches(&f(r#"{"name":["web"]}"#), &v, false).unwrap());
        assert!(!volume_matches(&f(r#"{"name":["db"]}"#), &v, false).unwrap());
        assert!(volume_matches(&f(r#"{"dangling":["true"]}"#), &v, false).unwrap());
        assert!(!volume_matches(&f(r#"{"dangling":["true"]}"#), &v, true).unwrap());
        assert!(volume_matches(&f(r#"{"dangling":["0"]}"#), &v, true).unwrap());
        assert!(volume_matches(&f(r#"{"label":["env=prod"]}"#), &v, false).unwrap());
        assert!(!volume_matches(&f(r#"{"label!":["env"]}"#), &v, false).unwrap());
        assert!(!volume_matches(&f(r#"{"driver":["nfs"]}"#), &v, false).unwrap());
        assert!(volume_matches(&f(r#"{"dangling":["maybe"]}"#), &v, false).is_err());
        assert!(version_lt("1.41", 1, 42) && !version_lt("1.44", 1, 42));
    }
}

#[cfg(test)]
mod router_tests {
    use hyper::{Method, StatusCode};
    use serde_json::json;

    use super::handle;
    use crate::api::backend::fake::{answer, request, FakeBackend};

    #[tokio::test]
    async fn create_takes_null_labels_and_options() {
        let backend = FakeBackend::with_containers(&[]);
        let body = r#"{"Name":"data","Driver":"local","DriverOpts":null,"Labels":null}"#;
        let resp = handle(request(&backend, Method::POST, "/volumes/create", body)).await;
        assert_eq!(
            answer(resp).await,
            (
                StatusCode::CREATED,
                json!({ "Name": "data", "Labels": {}, "Options": {} })
            )
        );
        assert_eq!(backend.calls(), ["volume create data"]);
    }

    #[tokio::test]
    async fn bad_filters_are_400_before_the_backend_is_called() {
        let backend = FakeBackend::with_containers(&[]);
        let uri = "/volumes/prune?filters=%7B%22all%22%3A%5B%22maybe%22%5D%7D";
        let (status, body) = answer(handle(request(&backend, Method::POST, uri, "")).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, json!({ "message": "invalid filter 'all=maybe'" }));
        assert!(backend.calls().is_empty());
    }
}
