//! Routing: version prefix → resource module. Each resource module exposes `matches` (does this
//! method + path belong to me) and `handle`, generic over the narrow backend trait it needs.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::{body::Incoming, Request, StatusCode};

use super::backend::Backend;
use super::query::Query;
use super::response::{error_response, json, ApiResponse};
use super::{
    berth, container_archive, container_attach, container_stats, container_update, containers,
    events, exec, image_archive, images, networks, swarm, system, system_df, version, volumes,
    ApiRequest, RequestBody,
};
use crate::error::EngineError;

pub async fn dispatch<B: Backend>(backend: Arc<B>, req: Request<Incoming>) -> ApiResponse {
    serve(backend, req.map(BodyExt::boxed)).await
}

/// Answer one request: route it, turn an error into docker's `{"message"}` answer, stamp the
/// version headers.
pub async fn serve<B: Backend>(backend: Arc<B>, req: Request<RequestBody>) -> ApiResponse {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let mut response = match route(backend, req).await {
        Ok(resp) => resp,
        Err(err) => error_response(&err),
    };
    tracing::debug!(%method, %path, status = %response.status(), "request");
    version::stamp(response.headers_mut());
    response
}

impl<B> ApiRequest<B> {
    /// Strip the version prefix, split and percent-decode the path, parse the query.
    pub fn new(backend: Arc<B>, req: Request<RequestBody>) -> Result<Self, EngineError> {
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
        Ok(ApiRequest {
            backend,
            method: req.method().clone(),
            segments,
            query,
            api_version,
            req,
        })
    }
}

async fn route<B: Backend>(
    backend: Arc<B>,
    req: Request<RequestBody>,
) -> Result<ApiResponse, EngineError> {
    let r = ApiRequest::new(backend, req)?;
    // Everything but the liveness endpoints waits until the container index is loaded.
    let liveness = matches!(
        r.segments.first().map(String::as_str),
        Some("_ping" | "version")
    );
    if !liveness {
        r.backend.ready().await;
    }
    let (method, segments) = (&r.method, r.segments.as_slice());
    if super::build::matches(method, segments) {
        return super::build::handle(r).await;
    }
    if berth::matches(method, segments) {
        return berth::handle(r).await;
    }
    if system::matches(method, segments) {
        return system::handle(r).await;
    }
    if system_df::matches(method, segments) {
        return system_df::handle(r).await;
    }
    if super::registry::matches(method, segments) {
        return super::registry::handle(r).await;
    }
    if super::commit::matches(method, segments) {
        return super::commit::handle(r).await;
    }
    if image_archive::matches(method, segments) {
        return image_archive::handle(r).await;
    }
    if images::matches(method, segments) {
        return images::handle(r).await;
    }
    // The container routes with a module of their own come before the `/containers` catch-all.
    if container_update::matches(method, segments) {
        return container_update::handle(r).await;
    }
    if container_archive::matches(method, segments) {
        return container_archive::handle(r).await;
    }
    if container_stats::matches(method, segments) {
        return container_stats::handle(r).await;
    }
    if container_attach::matches(method, segments) {
        return container_attach::handle(r).await;
    }
    if exec::matches(method, segments) {
        return exec::handle(r).await;
    }
    if containers::matches(method, segments) {
        return containers::handle(r).await;
    }
    if events::matches(method, segments) {
        return events::handle(r).await;
    }
    if volumes::matches(method, segments) {
        return volumes::handle(r).await;
    }
    if networks::matches(method, segments) {
        return networks::handle(r).await;
    }
    if swarm::matches(method, segments) {
        return swarm::handle(r).await;
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
    use hyper::Method;

    use super::percent_decode;
    use crate::api::{
        container_archive, container_attach, container_stats, container_update, containers, exec,
        system_df, volumes,
    };

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("a%2Fb%3Ac").unwrap(), "a/b:c");
        assert_eq!(percent_decode("plain").unwrap(), "plain");
        assert_eq!(percent_decode("trail%2").unwrap(), "trail%2");
    }

    #[test]
    fn container_routes_with_a_module_of_their_own_are_matched_by_it() {
        let segs = |s: &str| s.split('/').map(str::to_owned).collect::<Vec<_>>();
        assert!(exec::matches(&Method::POST, &segs("containers/x/exec")));
        assert!(exec::matches(&Method::GET, &segs("exec/e/json")));
        assert!(!exec::matches(&Method::GET, &segs("containers/x/exec")));
        assert!(container_archive::matches(
            &Method::HEAD,
            &segs("containers/x/archive")
        ));
        assert!(container_archive::matches(
            &Method::GET,
            &segs("containers/x/export")
        ));
        assert!(!container_archive::matches(
            &Method::POST,
            &segs("containers/x/archive")
        ));
        assert!(container_attach::matches(
            &Method::GET,
            &segs("containers/x/logs")
        ));
        assert!(container_attach::matches(
            &Method::POST,
            &segs("containers/x/attach")
        ));
        assert!(container_stats::matches(
            &Method::GET,
            &segs("containers/x/stats")
        ));
        assert!(container_update::matches(
            &Method::POST,
            &segs("containers/x/update")
        ));
        // Everything else under /containers, unknown verbs included (their 404), is `containers`.
        assert!(containers::matches(
            &Method::POST,
            &segs("containers/x/bogus")
        ));
        assert!(system_df::matches(&Method::GET, &segs("system/df")));
        assert!(!volumes::matches(&Method::GET, &segs("system/df")));
    }
}
