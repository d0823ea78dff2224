//! Routing: version prefix → resource module. Each resource module exposes `matches` (does this
//! method + path belong to me) and `handle`.

use std::sync::Arc;

use hyper::{body::Incoming, Request, StatusCode};

use super::query::Query;
use super::response::{error_response, json, ApiResponse};
use super::{
    berth, containers, events, exec, image_archive, images, networks, system, version, volumes,
    ApiRequest,
};
use crate::error::EngineError;
use crate::service::Engine;

pub async fn dispatch(engine: Arc<Engine>, req: Request<Incoming>) -> ApiResponse {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let mut response = match route(engine, req).await {
        Ok(resp) => resp,
        Err(err) => error_response(&err),
    };
    tracing::debug!(%method, %path, status = %response.status(), "request");
    version::stamp(response.headers_mut());
    response
}

async fn route(engine: Arc<Engine>, req: Request<Incoming>) -> Result<ApiResponse, EngineError> {
    let (api_version, path) = version::strip_version(req.uri().path())?;
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_decode(s)
                .map_err(|_| EngineError::invalid(format!("invalid path segment {s:?}")))
        })
        .collect::<Result<_, _>>()?;
    let query = Query::parse(req.uri().query());
    let r = ApiRequest {
        engine,
        method: req.method().clone(),
        segments,
        query,
        api_version,
        req,
    };
    // Everything but the liveness endpoints waits until the container index is loaded.
    let liveness = matches!(
        r.segments.first().map(String::as_str),
        Some("_ping" | "version")
    );
    if !liveness {
        r.engine.containers.ready().await;
    }
    if berth::matches(&r.method, &r.segments) {
        return berth::handle(r).await;
    }
    if system::matches(&r.method, &r.segments) {
        return system::handle(r).await;
    }
    if super::registry::matches(&r.method, &r.segments) {
        return super::registry::handle(r).await;
    }
    if image_archive::matches(&r.method, &r.segments) {
        return image_archive::handle(r).await;
    }
    if images::matches(&r.method, &r.segments) {
        return images::handle(r).await;
    }
    if containers::matches(&r.method, &r.segments) {
        return containers::handle(r).await;
    }
    if events::matches(&r.method, &r.segments) {
        return events::handle(r).await;
    }
    if exec::matches(&r.method, &r.segments) {
        return exec::handle(r).await;
    }
    if volumes::matches(&r.method, &r.segments) {
        return volumes::handle(r).await;
    }
    if networks::matches(&r.method, &r.segments) {
        return networks::handle(r).await;
    }
    Ok(json(
        StatusCode::NOT_FOUND,
        &serde_json::json!({ "message": "page not found" }),
    ))
}

fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("a%2Fb%3Ac").unwrap(), "a/b:c");
        assert_eq!(percent_decode("plain").unwrap(), "plain");
        assert_eq!(percent_decode("trail%2").unwrap(), "trail%2");
    }
}
