//! `POST /commit` (moby's image router `postCommit`): query parsing for `docker commit`; the
//! work is `service::commit`.

use hyper::{Method, StatusCode};

use super::backend::ImageBackend;
use super::body::read_limited;
use super::response::{json, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::service::commit::CommitOptions;

const BODY_LIMIT: usize = 1 << 20;

pub fn matches(method: &Method, segments: &[String]) -> bool {
    method == Method::POST && segments.len() == 1 && segments[0] == "commit"
}

pub async fn handle<B: ImageBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let q = &r.query;
    // `pause` defaults to true (API ≥ 1.13) when absent or empty.
    let pause = match q.get("pause") {
        None | Some("") => true,
        Some(_) => q.bool("pause")?,
    };
    let opts = CommitOptions {
        container: q.string("container").unwrap_or_default(),
        repo: q.string("repo"),
        tag: q.string("tag"),
        comment: q.string("comment").unwrap_or_default(),
        author: q.string("author").unwrap_or_default(),
        pause,
        changes: q
            .get_all("changes")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        config: None,
    };
    let backend = r.backend.clone();
    let body = read_limited(r.req.into_body(), BODY_LIMIT).await?;
    let config = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice::<serde_json::Value>(&body)
                .map_err(|e| EngineError::invalid(format!("invalid JSON: {e}")))?,
        )
    };
    let id = backend
        .image_commit(CommitOptions { config, ..opts })
        .await?;
    Ok(json(StatusCode::CREATED, &serde_json::json!({ "Id": id })))
}
