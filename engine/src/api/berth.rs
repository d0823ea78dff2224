//! berth's own endpoints, under `/berth/v1/` so they never collide with Docker's API:
//! `POST /berth/v1/system/check?repair=` (re-verify the image store, optionally repairing it),
//! `GET /berth/v1/engine` (this engine process: pid, start time, socket, socket activation,
//! systemd unit; what `berth engine status` and `stop` need beyond `/info`).

use hyper::Method;

use super::backend::SystemBackend;
use super::response::{ok_json, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};

pub fn matches(method: &Method, segments: &[String]) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(
        (method, s.as_slice()),
        (&Method::POST, ["berth", "v1", "system", "check"])
            | (&Method::GET, ["berth", "v1", "engine"])
    )
}

pub async fn handle<B: SystemBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    if !matches(&r.method, &r.segments) {
        return Err(EngineError::not_found("page not found"));
    }
    if r.segments[2] == "engine" {
        return Ok(ok_json(r.backend.launch()));
    }
    let repair = r.query.bool("repair")?;
    let report = r.backend.image_check(repair).await?;
    Ok(ok_json(&report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berth_routes() {
        let segs = |s: &str| s.split('/').map(str::to_owned).collect::<Vec<_>>();
        assert!(matches(&Method::POST, &segs("berth/v1/system/check")));
        assert!(!matches(&Method::GET, &segs("berth/v1/system/check")));
        assert!(!matches(&Method::POST, &segs("berth/v2/system/check")));
        assert!(!matches(&Method::POST, &segs("system/check")));
        assert!(matches(&Method::GET, &segs("berth/v1/engine")));
        assert!(!matches(&Method::POST, &segs("berth/v1/engine")));
    }
}
