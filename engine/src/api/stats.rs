//! `GET /containers/{id}/stats`: one JSON object (`stream=false`, `one-shot`) or one per second.

use super::response::{ok_json, streaming, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};

pub async fn container_stats(r: &ApiRequest, id: &str) -> Result<ApiResponse> {
    let c = r.engine.containers.get(id)?;
    let stream = r.query.bool_or("stream", true)?;
    let one_shot = r.query.bool("one-shot")?;
    if stream && one_shot {
        return Err(EngineError::invalid(
            "cannot have stream=true and one-shot=true",
        ));
    }
    if stream {
        return Ok(streaming("application/json", r.engine.stats.stream(c)));
    }
    Ok(ok_json(&r.engine.stats.one(&c).await))
}
