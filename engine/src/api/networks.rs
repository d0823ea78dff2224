//! `/networks`: list, inspect, create, remove, connect, disconnect, prune.

use hyper::{Method, StatusCode};
use serde_json::Value;

use super::backend::NetworkBackend;
use super::body::read_limited;
use super::response::{json, no_content, ok_json, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};

const MAX_BODY: usize = 1 << 20;

pub fn matches(_method: &Method, segments: &[String]) -> bool {
    segments.first().map(String::as_str) == Some("networks")
}

pub async fn handle<B: NetworkBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let seg: Vec<String> = r.segments.clone();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    match (r.method.clone(), seg.as_slice()) {
        (Method::GET, ["networks"]) => list(&r),
        (Method::POST, ["networks", "create"]) => {
            let backend = r.backend.clone();
            let body = read_json(r).await?;
            let rec = tokio::task::spawn_blocking(move || backend.network_create(&body))
                .await
                .map_err(|e| EngineError::internal(format!("network create task: {e}")))??;
            Ok(json(
                StatusCode::CREATED,
                &serde_json::json!({"Id": rec.id, "Warning": ""}),
            ))
        }
        (Method::POST, ["networks", "prune"]) => prune(&r).await,
        (Method::GET, ["networks", id]) => {
            let n = r.backend.network(id)?;
            Ok(ok_json(&r.backend.network_inspect(&n, true)))
        }
        (Method::DELETE, ["networks", id]) => {
            let backend = r.backend.clone();
            let id = id.to_string();
            tokio::task::spawn_blocking(move || backend.network_remove(&id))
                .await
                .map_err(|e| EngineError::internal(format!("network remove task: {e}")))??;
            Ok(no_content())
        }
        (Method::POST, ["networks", id, action @ ("connect" | "disconnect")]) => {
            let (id, action) = (id.to_string(), action.to_string());
            connect(r, &id, &action).await
        }
        _ => Ok(json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "message": "page not found" }),
        )),
    }
}

async fn read_json<B>(r: ApiRequest<B>) -> Result<Value> {
    let body = read_limited(r.req.into_body(), MAX_BODY).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(&body).map_err(|e| EngineError::invalid(format!("invalid JSON: {e}")))
}

fn list<B: NetworkBackend>(r: &ApiRequest<B>) -> Result<ApiResponse> {
    let filters = r.query.filters()?;
    filters.only(&["name", "id", "driver", "label", "type", "scope", "dangling"])?;
    let mut out = Vec::new();
    for n in r.backend.networks() {
        let names = filters.get("name");
        if !names.is_empty() && !names.iter().any(|f| n.name.contains(f.as_str())) {
            continue;
        }
        let ids = filters.get("id");
        if !ids.is_empty() && !ids.iter().any(|f| n.id.starts_with(f.as_str())) {
            continue;
        }
        let drivers = filters.get("driver");
        if !drivers.is_empty() && !drivers.contains(&n.driver) {
            continue;
        }
        if !filters.labels_match(&n.labels) {
            continue;
        }
        for t in filters.get("type") {
            let want_builtin = match t.as_str() {
                "builtin" => true,
                "custom" => false,
                other => {
                    return Err(EngineError::invalid(format!(
                        "invalid filter: 'type'='{other}'"
                    )))
                }
            };
            if want_builtin != n.predefined {
                continue;
            }
        }
        let scopes = filters.get("scope");
        if !scopes.is_empty() && !scopes.iter().any(|s| s == "local") {
            continue;
        }
        let doc = r.backend.network_inspect(&n, true);
        if let Some(d) = filters.get("dangling").first() {
            let dangling = doc["Containers"].as_object().is_some_and(|m| m.is_empty());
            if (d == "true" || d == "1") != (dangling && !n.predefined) {
                continue;
            }
        }
        out.push(doc);
    }
    out.sort_by(|a, b| a["Name"].as_str().cmp(&b["Name"].as_str()));
    Ok(ok_json(&out))
}

async fn prune<B: NetworkBackend>(r: &ApiRequest<B>) -> Result<ApiResponse> {
    let filters = r.query.filters()?;
    filters.only(&["label", "until"])?;
    let until = match filters.get("until").first() {
        None => None,
        Some(u) => Some(super::containers::parse_timestamp(u)?),
    };
    let backend = r.backend.clone();
    let keep = move |n: &crate::network::store::NetworkRecord| {
        if !filters.labels_match(&n.labels) {
            return true;
        }
        if let Some(u) = until {
            let created = chrono::DateTime::parse_from_rfc3339(&n.created)
                .map(|t| t.timestamp() as f64)
                .unwrap_or(0.0);
            if created >= u {
                return true;
            }
        }
        false
    };
    let deleted = tokio::task::spawn_blocking(move || backend.network_prune(&keep))
        .await
        .map_err(|e| EngineError::internal(format!("network prune task: {e}")))?;
    Ok(ok_json(&serde_json::json!({ "NetworksDeleted": deleted })))
}

async fn connect<B: NetworkBackend>(
    r: ApiRequest<B>,
    network: &str,
    action: &str,
) -> Result<ApiResponse> {
    let backend = r.backend.clone();
    let body = read_json(r).await?;
    let key = body
        .get("Container")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| EngineError::invalid("Container must be set"))?
        .to_owned();
    // Validate the network first: an unknown network is a 404 whatever the container.
    backend.network(network)?;
    let network = network.to_owned();
    let action = action.to_owned();
    tokio::task::spawn_blocking(move || {
        if action == "connect" {
            let cfg = body.get("EndpointConfig").cloned().unwrap_or(Value::Null);
            backend.network_connect(&network, &key, &cfg)
        } else {
            backend.network_disconnect(&network, &key)
        }
    })
    .await
    .map_err(|e| {
        EngineError::internal(format!(
            "network {network_task} task: {e}",
            network_task = "connect"
        ))
    })??;
    Ok(super::response::text(StatusCode::OK, ""))
}
