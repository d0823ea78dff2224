//! `POST /containers/{id}/update`: new resource limits and restart policy for a container,
//! applied at once when it runs and kept for its next start.

use http_body_util::BodyExt;
use hyper::Method;

use super::backend::ContainerBackend;
use super::response::{ok_json, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::service::container::update::UpdateRequest;

/// Largest update body accepted.
const MAX_UPDATE_BODY: usize = 64 * 1024;

pub fn matches(method: &Method, segments: &[String]) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(
        (method, s.as_slice()),
        (&Method::POST, ["containers", _, "update"])
    )
}

pub async fn handle<B: ContainerBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let id = r.segments[1].clone();
    let backend = r.backend.clone();
    let body = http_body_util::Limited::new(r.req.into_body(), MAX_UPDATE_BODY)
        .collect()
        .await
        .map_err(|e| EngineError::invalid(format!("reading request body: {e}")))?
        .to_bytes();
    let req: UpdateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        UpdateRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| EngineError::invalid(format!("invalid JSON: {e}")))?
    };
    let warnings = backend.container_update(&id, req).await?;
    Ok(ok_json(&serde_json::json!({ "Warnings": warnings })))
}
