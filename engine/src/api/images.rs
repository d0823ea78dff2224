//! `/images/...` handlers: list, inspect, create (import), tag, remove. Parsing only; the logic is
//! behind `ImageBackend` (`service::image`).
//!
//! Image names contain '/', so `/images/{name}/json` spans several path segments: the name is
//! everything between "images" and the final action segment.

use hyper::{Method, Response, StatusCode};
use tokio::sync::mpsc;

use super::backend::{ImageBackend, RegistryBackend};
use super::body::{pump_body, ChannelReader};
use super::response::{empty_body, ok_json, progress_line, streaming, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::image::changes::apply_changes;
use crate::image::import::parse_platform;
use crate::model::image::ImageContainerConfig;
use crate::service::image::{target_reference, ImageListFilter, ImportOptions};

/// Whether this module serves the request.
pub fn matches(method: &Method, segments: &[String]) -> bool {
    if segments.first().map(String::as_str) != Some("images") {
        return false;
    }
    route_of(method, segments).is_some()
}

enum Route {
    List,
    Create,
    Inspect(String),
    Tag(String),
    History(String),
    Remove(String),
    Prune,
    Push(String),
}

fn route_of(method: &Method, s: &[String]) -> Option<Route> {
    let last = s.last().map(String::as_str)?;
    let name = || s[1..s.len() - 1].join("/");
    match (method, s.len(), last) {
        (&Method::GET, 2, "json") => Some(Route::List),
        (&Method::POST, 2, "create") => Some(Route::Create),
        (&Method::POST, 2, "prune") => Some(Route::Prune),
        (&Method::GET, n, "json") if n >= 3 => Some(Route::Inspect(name())),
        (&Method::POST, n, "tag") if n >= 3 => Some(Route::Tag(name())),
        (&Method::POST, n, "push") if n >= 3 => Some(Route::Push(name())),
        (&Method::GET, n, "history") if n >= 3 => Some(Route::History(name())),
        (&Method::DELETE, n, _) if n >= 2 => Some(Route::Remove(s[1..].join("/"))),
        _ => None,
    }
}

pub async fn handle<B: ImageBackend + RegistryBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let Some(route) = route_of(&r.method, &r.segments) else {
        return Err(EngineError::not_found("page not found"));
    };
    match route {
        Route::List => list(&r),
        Route::Create => create(r).await,
        Route::Inspect(name) => Ok(ok_json(&r.backend.image_inspect(&name)?)),
        Route::Tag(name) => tag(&r, &name).await,
        Route::History(name) => Ok(ok_json(&r.backend.image_history(&name).await?)),
        Route::Remove(name) => remove(&r, &name).await,
        Route::Prune => prune(&r).await,
        Route::Push(name) => push(r, &name),
    }
}

/// `POST /images/{name}/push?tag=&compression=` with `X-Registry-Auth`: what to push is checked
/// first (bad name → 400; nothing local → the error in a 200 stream, as dockerd); the upload then streams docker's progress, and a
/// failure ends the 200 stream with an errorDetail.
fn push<B: ImageBackend>(r: ApiRequest<B>, name: &str) -> Result<ApiResponse> {
    use crate::service::image::push;
    let compression = push::compression_param(r.query.get("compression"))?;
    let plan = match r.backend.image_push_plan(name, r.query.get("tag")) {
        Ok(plan) => plan,
        // Nothing local to push is dockerd's 200 stream naming the repository, then the error
        // (docker-py and the CLI read it from there).
        Err(EngineError::NotFound(msg)) => {
            let repo = crate::image::reference::Reference::parse(name)
                .map(|r| r.name())
                .unwrap_or_else(|_| name.to_owned());
            let (tx, rx) = mpsc::channel(2);
            let lines = [
                progress_line(&serde_json::json!({
                    "status": format!("The push refers to repository [{repo}]"),
                })),
                progress_line(&serde_json::json!({
                    "errorDetail": { "message": msg },
                    "error": msg,
                })),
            ];
            for line in lines {
                let _ = tx.try_send(line);
            }
            return Ok(streaming("application/json", rx));
        }
        Err(e) => return Err(e),
    };
    let creds = match r.req.headers().get("X-Registry-Auth") {
        Some(v) => crate::registry::Credentials::from_header(
            v.to_str()
                .map_err(|_| EngineError::invalid("X-Registry-Auth is not valid text"))?,
        )?,
        None => None,
    };
    let (tx, rx) = mpsc::channel(64);
    let backend = r.backend.clone();
    tokio::spawn(async move {
        let opts = push::PushOptions { creds, compression };
        if let Err(e) = backend.image_push(plan, opts, tx.clone()).await {
            tracing::warn!(error = %e, "image push failed");
            let msg = e.to_string();
            let _ = tx
                .send(progress_line(&serde_json::json!({
                    "errorDetail": { "message": msg },
                    "error": msg,
                })))
                .await;
        }
    });
    Ok(streaming("application/json", rx))
}

/// `POST /images/prune`: filters dangling (default true: untagged images only), until, label.
async fn prune<B: ImageBackend>(r: &ApiRequest<B>) -> Result<ApiResponse> {
    let filters = r.query.filters()?;
    filters.only(&["dangling", "until", "label"])?;
    let dangling = match filters.get("dangling") {
        [] => true,
        [v] if v == "true" || v == "1" => true,
        [v] if v == "false" || v == "0" => false,
        other => {
            return Err(EngineError::invalid(format!(
                "invalid filter 'dangling={}'",
                other.join(",")
            )))
        }
    };
    let until = match filters.get("until") {
        [] => None,
        [u] => super::timestamps::parse_time_param("until", u, super::timestamps::now_nanos())?
            .map(|ns| ns.div_euclid(1_000_000_000)),
        _ => {
            return Err(EngineError::invalid(
                "filter 'until' accepts only one value",
            ))
        }
    };
    let filter = ImageListFilter {
        dangling: dangling.then_some(true),
        labels: filters.get("label").to_vec(),
        references: Vec::new(),
        before: None,
        since: None,
        all: false,
    };
    let (deleted, reclaimed) = r.backend.image_prune(filter, until).await?;
    Ok(ok_json(&serde_json::json!({
        "ImagesDeleted": if deleted.is_empty() { serde_json::Value::Null } else { serde_json::json!(deleted) },
        "SpaceReclaimed": reclaimed,
    })))
}

fn list<B: ImageBackend>(r: &ApiRequest<B>) -> Result<ApiResponse> {
    let filters = r.query.filters()?;
    filters.only(&["dangling", "label", "reference", "before", "since", "until"])?;
    let one = |key: &str| -> Result<Option<String>> {
        match filters.get(key) {
            [] => Ok(None),
            [v] => Ok(Some(v.clone())),
            _ => Err(EngineError::invalid(format!(
                "filter '{key}' accepts only one value"
            ))),
        }
    };
    // docker's ExactMatch: "true" or "false"; anything else is `invalid filter 'dangling=[v]'`.
    let dangling = match filters.get("dangling") {
        [] => None,
        [v] if v == "true" => Some(true),
        [v] if v == "false" => Some(false),
        other => {
            return Err(EngineError::invalid(format!(
                "invalid filter 'dangling=[{}]'",
                other.join(" ")
            )))
        }
    };
    let mut references = filters.get("reference").to_vec();
    // The pre-1.25 `filter=` parameter is a reference pattern.
    if let Some(f) = r.query.string("filter") {
        references.push(f);
    }
    for p in &references {
        validate_pattern(p)?;
    }
    let until = match one("until")? {
        None => None,
        Some(u) => {
            super::timestamps::parse_time_param("until", &u, super::timestamps::now_nanos())?
                .map(|ns| ns.div_euclid(1_000_000_000))
        }
    };
    let filter = ImageListFilter {
        dangling,
        labels: filters.get("label").to_vec(),
        references,
        before: one("before")?,
        since: one("since")?,
        all: r.query.bool("all")?,
    };
    let mut list = r.backend.image_list(&filter)?;
    if let Some(t) = until {
        list.retain(|img| img.created < t);
    }
    Ok(ok_json(&list))
}

/// Go's path.Match rejects malformed patterns (an unclosed '[' or a trailing '\\') with
/// ErrBadPattern; docker answers 400 "syntax error in pattern".
fn validate_pattern(p: &str) -> Result<()> {
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 == b.len() => {
                return Err(EngineError::invalid("syntax error in pattern"))
            }
            b'\\' => i += 1,
            b'[' => match b[i + 1..].iter().position(|c| *c == b']') {
                Some(n) => i += n + 1,
                None => return Err(EngineError::invalid("syntax error in pattern")),
            },
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

async fn tag<B: ImageBackend>(r: &ApiRequest<B>, name: &str) -> Result<ApiResponse> {
    let repo = r
        .query
        .string("repo")
        .ok_or_else(|| EngineError::invalid("repo is a required parameter"))?;
    r.backend.image_tag(name, &repo, r.query.get("tag")).await?;
    Ok(Response::builder()
        .status(StatusCode::CREATED)
        .body(empty_body())
        .expect("static response"))
}

async fn remove<B: ImageBackend>(r: &ApiRequest<B>, name: &str) -> Result<ApiResponse> {
    let force = r.query.bool("force")?;
    // `noprune` keeps the untagged parents (a build's intermediate images).
    let noprune = r.query.bool("noprune")?;
    let records = r.backend.image_remove(name, force, noprune).await?;
    Ok(ok_json(&records))
}

/// `POST /images/create`: `fromImage` pulls from a registry (api::registry); `fromSrc=-` imports
/// the request body.
async fn create<B: ImageBackend + RegistryBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    if let Some(image) = r.query.string("fromImage").filter(|i| !i.is_empty()) {
        return super::registry::pull(r, image).await;
    }
    match r.query.get("fromSrc") {
        Some("-") => {}
        None | Some("") => {
            return Err(EngineError::invalid(
                "either fromSrc or fromImage must be given",
            ))
        }
        Some(_) => {
            return Err(EngineError::invalid(
                "importing from a URL is not supported: send the archive in the request body (fromSrc=-)",
            ))
        }
    }
    // Validate everything before reading the body, so mistakes are plain 400s.
    let reference = match r.query.string("repo") {
        Some(repo) => Some(target_reference(&repo, r.query.get("tag"))?),
        None => None,
    };
    let mut config = ImageContainerConfig::default();
    apply_changes(&mut config, &r.query.get_all("changes"))?;
    let opts = ImportOptions {
        reference,
        config,
        message: r.query.string("message"),
        platform: parse_platform(r.query.get("platform"))?,
    };

    let (body_tx, body_rx) = mpsc::channel(16);
    tokio::spawn(pump_body(r.req.into_body(), body_tx));
    let reader = ChannelReader::new(body_rx);

    let (out_tx, out_rx) = mpsc::channel(4);
    let backend = r.backend.clone();
    tokio::spawn(async move {
        let line = match backend.image_import(Box::new(reader), opts).await {
            Ok(id) => progress_line(&serde_json::json!({ "status": id })),
            Err(e) => {
                tracing::warn!(error = %e, "image import failed");
                let msg = e.to_string();
                progress_line(&serde_json::json!({
                    "errorDetail": { "message": msg },
                    "error": msg,
                }))
            }
        };
        let _ = out_tx.send(line).await;
    });
    Ok(streaming("application/json", out_rx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(s: &str) -> Vec<String> {
        s.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn images_routes_span_name_segments() {
        assert!(matches!(
            route_of(&Method::GET, &segs("images/json")),
            Some(Route::List)
        ));
        assert!(matches!(
            route_of(&Method::POST, &segs("images/create")),
            Some(Route::Create)
        ));
        match route_of(&Method::GET, &segs("images/host:5000/a/b:1/json")) {
            Some(Route::Inspect(n)) => assert_eq!(n, "host:5000/a/b:1"),
            _ => panic!("inspect"),
        }
        match route_of(&Method::POST, &segs("images/user/app/tag")) {
            Some(Route::Tag(n)) => assert_eq!(n, "user/app"),
            _ => panic!("tag"),
        }
        match route_of(&Method::DELETE, &segs("images/user/app:1")) {
            Some(Route::Remove(n)) => assert_eq!(n, "user/app:1"),
            _ => panic!("remove"),
        }
        assert!(!matches(&Method::GET, &segs("containers/json")));
        assert!(!matches(&Method::PUT, &segs("images/x/json")));
        assert!(!matches(&Method::GET, &segs("images/x")));
        match route_of(&Method::GET, &segs("images/host:5000/a/history")) {
            Some(Route::History(n)) => assert_eq!(n, "host:5000/a"),
            _ => panic!("history"),
        }
    }

    #[test]
    fn images_reference_patterns_are_validated() {
        assert!(validate_pattern("busy*:1.?").is_ok());
        assert!(validate_pattern("a[bc]d").is_ok());
        assert!(validate_pattern("a[bc").is_err());
        assert!(validate_pattern("abc\\").is_err());
    }
}
