//! `/images/...` handlers (placeholder until the image store lands).

use hyper::Method;

use super::response::ApiResponse;
use super::ApiRequest;
use crate::error::{EngineError, Result};

pub fn matches(_method: &Method, segments: &[String]) -> bool {
    segments.first().map(String::as_str) == Some("images")
}

pub async fn handle(_r: ApiRequest) -> Result<ApiResponse> {
    Err(EngineError::not_found("page not found"))
}
