//! `GET /containers/{id}/stats`: one JSON object (`stream=false`, `one-shot`) or one per second.

use hyper::Method;

use super::backend::ContainerBackend;
use super::response::{ok_json, streaming, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};

pub fn matches(method: &Method, segments: &[String]) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(
        (method, s.as_slice()),
        (&Method::GET, ["containers", _, "stats"])
    )
}

pub async fn handle<B: ContainerBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let c = r.backend.container(&r.segments[1])?;
    let stream = r.query.bool_or("stream", true)?;
    let one_shot = r.query.bool("one-shot")?;
    if stream && one_shot {
        return Err(EngineError::invalid(
            "cannot have stream=true and one-shot=true",
        ));
    }
    if stream {
        return Ok(streaming(
            "application/json",
            r.backend.container_stats_stream(c),
        ));
    }
    Ok(ok_json(&r.backend.container_stats(&c).await))
}
