//! `POST /build` (docker's "version 1" builder protocol), `POST /build/prune`, and berth's build
//! records: `GET /berth/v1/builds`, `GET|DELETE /berth/v1/builds/{id}`.
//!
//! The query is parsed and checked before the body is read (a bad value is a 400, as dockerd
//! answers). The context is received in full (plain, gzip, bzip2 or xz tar, or a Dockerfile
//! alone), then the build runs; errors before its first message are plain HTTP errors (a bad
//! Dockerfile is a 400 with dockerd's words), later ones are `errorDetail` lines in the stream.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use bytes::Bytes;
use hyper::{Method, StatusCode};
use tokio::sync::mpsc;

use super::backend::BuildBackend;
use super::body::{pump_body, ChannelReader};
use super::response::{json, no_content, ok_json, streaming, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::image::reference::Reference;
use crate::model::go_json::Zero;
use crate::registry::auth::Credentials;
use crate::service::build::prune::PruneOptions;
use crate::service::build::BuildOptions;

enum Route {
    Build,
    Prune,
    List,
    Get(String),
    Remove(String),
}

fn route_of(method: &Method, segments: &[String]) -> Option<Route> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method, s.as_slice()) {
        (&Method::POST, ["build"]) => Some(Route::Build),
        (&Method::POST, ["build", "prune"]) => Some(Route::Prune),
        (&Method::GET, ["berth", "v1", "builds"]) => Some(Route::List),
        (&Method::GET, ["berth", "v1", "builds", id]) => Some(Route::Get(id.to_string())),
        (&Method::DELETE, ["berth", "v1", "builds", id]) => Some(Route::Remove(id.to_string())),
        _ => None,
    }
}

pub fn matches(method: &Method, segments: &[String]) -> bool {
    route_of(method, segments).is_some()
}

pub async fn handle<B: BuildBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    match route_of(&r.method, &r.segments) {
        Some(Route::Build) => build(r).await,
        Some(Route::Prune) => prune(r).await,
        Some(Route::List) => Ok(ok_json(&r.backend.builds_list()?)),
        Some(Route::Get(id)) => Ok(ok_json(&r.backend.builds_get(&id)?)),
        Some(Route::Remove(id)) => {
            r.backend.builds_remove(&id)?;
            Ok(no_content())
        }
        None => Err(EngineError::not_found("page not found")),
    }
}

/// A JSON query value (`buildargs`, `labels`, `cachefrom`), or the default when absent/empty.
fn json_param<T: serde::de::DeserializeOwned + Default>(
    r: &ApiRequest<impl Sized>,
    key: &str,
) -> Result<T> {
    match r.query.get(key).map(str::trim) {
        None | Some("") => Ok(T::default()),
        Some(v) => serde_json::from_str::<Option<T>>(v)
            .map(Option::unwrap_or_default)
            .map_err(|e| EngineError::invalid(format!("invalid {key} parameter: {e}"))),
    }
}

fn int(r: &ApiRequest<impl Sized>, key: &str) -> Result<i64> {
    Ok(r.query.int(key)?.unwrap_or(0))
}

/// `X-Registry-Config`: base64 JSON of registry → credentials.
fn registry_config(r: &ApiRequest<impl Sized>) -> Result<HashMap<String, Credentials>> {
    let Some(v) = r.req.headers().get("X-Registry-Config") else {
        return Ok(HashMap::new());
    };
    let v = v
        .to_str()
        .map_err(|_| EngineError::invalid("invalid X-Registry-Config header"))?
        .trim();
    if v.is_empty() {
        return Ok(HashMap::new());
    }
    let raw = crate::registry::auth::decode_header_base64(v)
        .ok_or_else(|| EngineError::invalid("invalid X-Registry-Config header: not base64"))?;
    let map: Option<HashMap<String, serde_json::Value>> = serde_json::from_slice(&raw)
        .map_err(|e| EngineError::invalid(format!("invalid X-Registry-Config header: {e}")))?;
    let mut out = HashMap::new();
    for (k, v) in map.unwrap_or_default() {
        let mut c: Credentials = serde_json::from_value(v.clone()).unwrap_or_default();
        // docker's AuthConfig may carry `auth` (base64 "user:password") instead of the fields.
        if c.username.is_empty() {
            if let Some(auth) = v.get("auth").and_then(|a| a.as_str()) {
                if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(auth) {
                    if let Some((u, p)) = String::from_utf8_lossy(&d).split_once(':') {
                        c.username = u.to_string();
                        c.password = p.to_string();
                    }
                }
            }
        }
        out.insert(k, c);
    }
    Ok(out)
}

/// `X-Berth-Build-Secrets`: base64 JSON of id → base64 content (berth's CLI sends it).
fn secrets(r: &ApiRequest<impl Sized>) -> Result<HashMap<String, Vec<u8>>> {
    let Some(v) = r.req.headers().get("X-Berth-Build-Secrets") else {
        return Ok(HashMap::new());
    };
    let bad = || EngineError::invalid("invalid X-Berth-Build-Secrets header");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v.to_str().map_err(|_| bad())?.trim())
        .map_err(|_| bad())?;
    let map: HashMap<String, String> = serde_json::from_slice(&raw).map_err(|_| bad())?;
    map.into_iter()
        .map(|(k, v)| {
            base64::engine::general_purpose::STANDARD
                .decode(v)
                .map(|c| (k, c))
                .map_err(|_| bad())
        })
        .collect()
}

/// The query of `POST /build`, as dockerd's `newImageBuildOptions` reads it.
fn options(r: &ApiRequest<impl Sized>) -> Result<BuildOptions> {
    if r.query.bool("squash")? {
        return Err(EngineError::invalid(
            "squash is only supported with experimental mode",
        ));
    }
    if !r.query.get_all("securityopt").is_empty() {
        return Err(EngineError::invalid(
            "The daemon on this platform does not support setting security options on build",
        ));
    }
    let mut tags = Vec::new();
    for t in r.query.get_all("t") {
        if t.is_empty() {
            continue;
        }
        let parsed = Reference::parse(t)
            .map_err(|e| EngineError::invalid(format!("invalid reference format: {e}")))?;
        if parsed.digest.is_some() {
            return Err(EngineError::invalid(format!(
                "invalid reference format: a build tag cannot be a digest: {t}"
            )));
        }
        tags.push(parsed);
    }
    let force_rm = r.query.bool("forcerm")?;
    let rm = force_rm || r.query.get("rm").is_none_or(str::is_empty) || r.query.bool("rm")?;
    let platform = r.query.string("platform").filter(|p| !p.trim().is_empty());
    if let Some(p) = &platform {
        let want = crate::image::import::parse_platform(Some(p))?;
        let host = crate::image::import::host_platform();
        if want.architecture != host.architecture {
            return Err(EngineError::invalid(format!(
                "platform {p} is not this machine's (linux/{}): berth builds for the host only",
                host.architecture
            )));
        }
    }
    // Go's `null` rule (`model::go_json`): a null build arg is one without a value, a null label
    // or cache source the empty string.
    let build_args: BTreeMap<String, Option<String>> = json_param(r, "buildargs")?;
    let labels: BTreeMap<String, Zero<String>> = json_param(r, "labels")?;
    let labels = labels.into_iter().map(|(k, Zero(v))| (k, v)).collect();
    let cache_from: Vec<Zero<String>> = json_param(r, "cachefrom")?;
    let cache_from = cache_from.into_iter().map(|Zero(s)| s).collect();
    let ulimits: serde_json::Value = match r.query.get("ulimits").filter(|v| !v.is_empty()) {
        Some(v) => serde_json::from_str(v)
            .map_err(|e| EngineError::invalid(format!("invalid ulimits parameter: {e}")))?,
        None => serde_json::Value::Null,
    };
    let shm_size = match r.query.get("shmsize").filter(|v| !v.is_empty()) {
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| EngineError::invalid(format!("invalid shmsize: {v}")))?,
        None => 0,
    };
    let network_mode = r.query.string("networkmode").unwrap_or_default();
    if !network_mode.is_empty()
        && !matches!(
            network_mode.as_str(),
            "default" | "bridge" | "host" | "none"
        )
        && network_mode.starts_with("container:")
    {
        return Err(EngineError::invalid(format!(
            "network mode {network_mode} is not supported for builds"
        )));
    }
    Ok(BuildOptions {
        tags,
        dockerfile: r.query.string("dockerfile").unwrap_or_default(),
        quiet: r.query.bool("q")?,
        no_cache: r.query.bool("nocache")?,
        pull: r.query.bool("pull")?,
        rm,
        force_rm,
        target: r.query.string("target").filter(|t| !t.is_empty()),
        build_args,
        labels,
        cache_from,
        network_mode,
        extra_hosts: r
            .query
            .get_all("extrahosts")
            .iter()
            .flat_map(|h| h.split(','))
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .collect(),
        memory: int(r, "memory")?,
        memory_swap: int(r, "memswap")?,
        cpu_shares: int(r, "cpushares")?,
        cpuset_cpus: r.query.string("cpusetcpus").unwrap_or_default(),
        cpu_period: int(r, "cpuperiod")?,
        cpu_quota: int(r, "cpuquota")?,
        shm_size,
        ulimits: (!ulimits.is_null()).then_some(ulimits),
        platform,
        registry_auth: registry_config(r)?,
        context_dir: r
            .req
            .headers()
            .get("X-Berth-Build-Context")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        secrets: secrets(r)?,
    })
}

async fn build<B: BuildBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let refused = match options(&r) {
        Ok(opts) => match r.query.string("remote").filter(|v| !v.is_empty()) {
            Some(remote) => Err(EngineError::invalid(format!(
                "remote build contexts are not supported: send the context as the request body (remote={remote})"
            ))),
            None => Ok(opts),
        },
        Err(e) => Err(e),
    };
    let opts = match refused {
        Ok(opts) => opts,
        Err(e) => {
            // The client is still sending its context: closing with it unread would reset the
            // connection, and the client could lose the answer.
            drain(r.req.into_body()).await;
            return Err(e);
        }
    };
    let backend = r.backend.clone();
    let scratch = backend.build_scratch();
    let started = std::time::Instant::now();
    let (body_tx, body_rx) = mpsc::channel(16);
    let receiving = tokio::task::spawn_blocking(move || {
        crate::builder::context::receive(ChannelReader::new(body_rx), &scratch)
    });
    // The body is read in this request's own task (which is the connection's): a task of its
    // own would be woken across threads for every chunk hyper hands over.
    let ((), context) = tokio::join!(pump_body(r.req.into_body(), body_tx), receiving);
    let context = context
        .map_err(|e| EngineError::internal(format!("receiving the context failed: {e}")))??;
    tracing::debug!(
        ms = started.elapsed().as_secs_f64() * 1e3,
        "build context received"
    );

    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let b = backend.clone();
    tokio::spawn(async move {
        let res = b.build_run(opts, context, tx).await;
        let _ = done_tx.send(res);
    });
    // Until the first message, a failure is still an HTTP status: the channel closes without
    // a message only when the build ended before saying anything.
    let first = rx.recv().await;
    if first.is_none() {
        return match done_rx.await {
            Ok(Err(f)) => {
                let status = StatusCode::from_u16(f.http_status)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Ok(json(status, &serde_json::json!({ "message": f.message })))
            }
            Ok(Ok(id)) => Err(EngineError::internal(format!(
                "the build of {id} ended without output"
            ))),
            Err(_) => Err(EngineError::internal(
                "the build task ended without an answer",
            )),
        };
    }
    let (out_tx, out_rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let mut client = Some(out_tx);
        if let (Some(m), Some(c)) = (first, &client) {
            if c.send(m).await.is_err() {
                client = None;
            }
        }
        while let Some(m) = rx.recv().await {
            if let Some(c) = &client {
                if c.send(m).await.is_err() {
                    // The client left: closing our receiver cancels the build.
                    client = None;
                    rx.close();
                }
            }
        }
    });
    Ok(streaming("application/json", out_rx))
}

/// `POST /build/prune`: `all`, `keep-storage` (bytes), `filters` with `until`.
async fn prune<B: BuildBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let filters = r.query.filters()?;
    filters.only(&[
        "until",
        "unused-for",
        "id",
        "parent",
        "type",
        "description",
        "inuse",
        "shared",
        "private",
    ])?;
    let mut until = None;
    for key in ["until", "unused-for"] {
        if let [v] = filters.get(key) {
            let now = super::timestamps::now_nanos();
            until = super::timestamps::parse_time_param(key, v, now)?
                .map(|ns| ns.div_euclid(1_000_000_000));
        }
    }
    let keep_storage = match r.query.get("keep-storage").filter(|v| !v.is_empty()) {
        Some(v) => v
            .parse::<f64>()
            .map_err(|_| EngineError::invalid(format!("invalid keep-storage: {v}")))?
            as u64,
        None => 0,
    };
    let opts = PruneOptions {
        all: r.query.bool("all")?,
        until,
        keep_storage,
    };
    let (ids, reclaimed) = r.backend.build_prune(opts).await?;
    Ok(ok_json(&serde_json::json!({
        "CachesDeleted": if ids.is_empty() { serde_json::Value::Null } else { serde_json::json!(ids) },
        "SpaceReclaimed": reclaimed,
    })))
}

/// Read and drop what is left of a request body (bounded in size and time), so a refusal sent
/// before it was read reaches the client.
async fn drain(body: super::RequestBody) {
    use http_body_util::BodyExt;
    const LIMIT: usize = 256 << 20;
    let mut body = body;
    let mut seen = 0usize;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > LIMIT {
                break;
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_routes() {
        let segs = |s: &str| s.split('/').map(str::to_owned).collect::<Vec<_>>();
        assert!(matches(&Method::POST, &segs("build")));
        assert!(matches(&Method::POST, &segs("build/prune")));
        assert!(matches(&Method::GET, &segs("berth/v1/builds")));
        assert!(matches(&Method::GET, &segs("berth/v1/builds/abc")));
        assert!(matches(&Method::DELETE, &segs("berth/v1/builds/abc")));
        assert!(!matches(&Method::GET, &segs("build")));
    }
}
