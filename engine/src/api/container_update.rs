//! `POST /containers/{id}/update`: new resource limits and restart policy for a container,
//! applied at once when it runs and kept for its next start.

use hyper::Method;

use super::backend::ContainerBackend;
use super::body::{read_limited, shaped_json_or_default};
use super::response::{ok_json, ApiResponse};
use super::ApiRequest;
use crate::error::Result;
use crate::model::go_keys;
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
    let body = read_limited(r.req.into_body(), MAX_UPDATE_BODY).await?;
    let req: UpdateRequest = shaped_json_or_default(&body, &go_keys::HOST_CONFIG)?;
    let warnings = backend.container_update(&id, req).await?;
    Ok(ok_json(&serde_json::json!({ "Warnings": warnings })))
}
