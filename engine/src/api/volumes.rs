//! `/volumes/...` handlers and `GET /system/df`.

use std::collections::{HashMap, HashSet};

use http_body_util::BodyExt;
use hyper::{Method, StatusCode};

use super::query::Filters;
use super::response::{json, no_content, ok_json, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::model::volume::{VolumeCreateRequest, VolumeRecord};
use crate::service::volume::VolumeService;
use crate::util::du::tree_size;

/// Volume create bodies are tiny; anything bigger is a mistake.
const MAX_BODY: usize = 1 << 20;

pub fn matches(method: &Method, segments: &[String]) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(s.first(), Some(&"volumes")) || (method == Method::GET && s == ["system", "df"])
}

pub async fn handle(r: ApiRequest) -> Result<ApiResponse> {
    let seg: Vec<String> = r.segments.clone();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    match (r.method.clone(), seg.as_slice()) {
        (Method::GET, ["system", "df"]) => df(&r).await,
        (Method::GET, ["volumes"]) => list(&r),
        (Method::POST, ["volumes", "create"]) => create(r).await,
        (Method::POST, ["volumes", "prune"]) => prune(&r).await,
        (Method::GET, ["volumes", name]) => {
            let rec = r.engine.volumes.get(name)?;
            Ok(ok_json(&volume_json(&r.engine.volumes, &rec)))
        }
        (Method::DELETE, ["volumes", name]) => {
            let force = r.query.bool("force")?;
            let (volumes, name) = (r.engine.volumes.clone(), name.to_string());
            tokio::task::spawn_blocking(move || volumes.remove(&name, force))
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

/// docker's `dangling`, `name`, `label`, `label!` and `driver` volume filters.
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

fn in_use_set(r: &ApiRequest) -> HashSet<String> {
    r.engine
        .containers
        .list()
        .iter()
        .flat_map(|c| c.record().mounts)
        .filter(|m| !m.name.is_empty())
        .map(|m| m.name)
        .collect()
}

fn list(r: &ApiRequest) -> Result<ApiResponse> {
    let f = r.query.filters()?;
    f.only(&["dangling", "name", "label", "label!", "driver"])?;
    let used = in_use_set(r);
    let mut out = Vec::new();
    for rec in r.engine.volumes.list() {
        if volume_matches(&f, &rec, used.contains(&rec.name))? {
            out.push(volume_json(&r.engine.volumes, &rec));
        }
    }
    Ok(ok_json(
        &serde_json::json!({ "Volumes": out, "Warnings": [] }),
    ))
}

async fn create(r: ApiRequest) -> Result<ApiResponse> {
    let engine = r.engine.clone();
    let body = http_body_util::Limited::new(r.req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| EngineError::invalid(format!("reading request body: {e}")))?
        .to_bytes();
    let req: VolumeCreateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        VolumeCreateRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| EngineError::invalid(format!("invalid JSON: {e}")))?
    };
    let volumes = engine.volumes.clone();
    let rec = tokio::task::spawn_blocking(move || volumes.create(req))
        .await
        .map_err(|e| EngineError::internal(format!("volume create failed: {e}")))??;
    Ok(json(
        StatusCode::CREATED,
        &volume_json(&engine.volumes, &rec),
    ))
}

async fn prune(r: &ApiRequest) -> Result<ApiResponse> {
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
    let volumes = r.engine.volumes.clone();
    let f2 = f.clone();
    let (deleted, reclaimed) = tokio::task::spawn_blocking(move || {
        volumes.prune(all, &|rec| volume_matches(&f2, rec, false).unwrap_or(false))
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

/// `GET /system/df`: images, containers, volumes (with UsageData) and an empty build cache.
///
/// Sizes: a layer's size is the apparent size of its unpacked directory. An image's `Size` is the
/// sum of its layers; `SharedSize` the part of it in layers that other images use too (docker
/// computes the same from its layer store); `LayersSize` counts every distinct layer once.
/// Containers report their upper dir as `SizeRw` and `SizeRw` + image size as `SizeRootFs`.
async fn df(r: &ApiRequest) -> Result<ApiResponse> {
    let types: Vec<String> = r
        .query
        .get_all("type")
        .iter()
        .map(|s| s.to_string())
        .collect();
    for t in &types {
        if !matches!(t.as_str(), "container" | "image" | "volume" | "build-cache") {
            return Err(EngineError::invalid(format!("unknown object type: {t}")));
        }
    }
    let want = |t: &str| types.is_empty() || types.iter().any(|x| x == t);
    let (want_img, want_ctr, want_vol, want_bc) = (
        want("image"),
        want("container"),
        want("volume"),
        want("build-cache"),
    );
    let engine = r.engine.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<serde_json::Value> {
        let records: Vec<_> = engine
            .containers
            .list()
            .iter()
            .map(|c| c.record())
            .collect();
        let images = engine.images.list(&Default::default())?;
        // Layer sizes and how many images use each layer.
        let mut layer_size: HashMap<std::path::PathBuf, u64> = HashMap::new();
        let mut layer_users: HashMap<std::path::PathBuf, usize> = HashMap::new();
        let mut image_layers: HashMap<String, Vec<std::path::PathBuf>> = HashMap::new();
        for img in &images {
            let dirs = engine
                .images
                .resolve(&img.id)
                .map(|r| r.layer_dirs)
                .unwrap_or_default();
            for d in &dirs {
                layer_size.entry(d.clone()).or_insert_with(|| tree_size(d));
                *layer_users.entry(d.clone()).or_default() += 1;
            }
            image_layers.insert(img.id.clone(), dirs);
        }
        let image_size: HashMap<String, u64> = image_layers
            .iter()
            .map(|(id, dirs)| (id.clone(), dirs.iter().map(|d| layer_size[d]).sum()))
            .collect();
        let mut body = serde_json::json!({
            "LayersSize": layer_size.values().sum::<u64>(),
            "Images": [],
            "Containers": [],
            "Volumes": [],
            "BuildCache": [],
        });
        if want_img {
            let list: Vec<serde_json::Value> = images
                .iter()
                .map(|img| {
                    let dirs = &image_layers[&img.id];
                    let shared: u64 = dirs
                        .iter()
                        .filter(|d| layer_users[*d] > 1)
                        .map(|d| layer_size[d])
                        .sum();
                    let mut v = serde_json::to_value(img).unwrap_or_default();
                    v["Size"] = serde_json::json!(image_size[&img.id]);
                    v["SharedSize"] = serde_json::json!(shared);
                    v["Containers"] =
                        serde_json::json!(records.iter().filter(|c| c.image_id == img.id).count());
                    v
                })
                .collect();
            body["Images"] = serde_json::json!(list);
        }
        if want_ctr {
            let list: Vec<serde_json::Value> = records
                .iter()
                .map(|rec| {
                    let rw = tree_size(
                        &engine
                            .containers
                            .dir(&rec.id)
                            .join(crate::runtime::spec::files::UPPER),
                    );
                    let mut v = serde_json::to_value(super::container_views::summary(rec))
                        .unwrap_or_default();
                    v["SizeRw"] = serde_json::json!(rw);
                    v["SizeRootFs"] =
                        serde_json::json!(rw + image_size.get(&rec.image_id).copied().unwrap_or(0));
                    v
                })
                .collect();
            body["Containers"] = serde_json::json!(list);
        }
        if want_vol {
            let list: Vec<serde_json::Value> = engine
                .volumes
                .usage()
                .into_iter()
                .map(|u| {
                    let mut v = volume_json(&engine.volumes, &u.record);
                    v["UsageData"] = serde_json::json!({ "Size": u.size, "RefCount": u.ref_count });
                    v
                })
                .collect();
            body["Volumes"] = serde_json::json!(list);
        }
        if !want_bc {
            body["BuildCache"] = serde_json::Value::Null;
        }
        Ok(body)
    })
    .await
    .map_err(|e| EngineError::internal(format!("system df failed: {e}")))??;
    Ok(ok_json(&body))
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
