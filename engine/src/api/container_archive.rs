//! `/containers/{id}/changes`, `/export` and `/archive` (HEAD/GET/PUT).

use http_body_util::BodyExt;
use hyper::{Method, Response, StatusCode};
use tokio::sync::mpsc;

use super::backend::ContainerCopyBackend;
use super::response::{empty_body, json, ok_json, streaming, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::service::container::archive::PutOptions;

/// docker's header carrying the base64 JSON stat of an archive path.
const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

pub fn matches(method: &Method, segments: &[String]) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(
        (method, s.as_slice()),
        (&Method::GET, ["containers", _, "changes" | "export"])
            | (
                &Method::HEAD | &Method::GET | &Method::PUT,
                ["containers", _, "archive"]
            )
    )
}

pub async fn handle<B: ContainerCopyBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let id = r.segments[1].clone();
    match (r.method.clone(), r.segments[2].as_str()) {
        (Method::GET, "changes") => changes(&r, &id).await,
        (Method::GET, "export") => export(&r, &id).await,
        (Method::HEAD, "archive") => head(&r, &id).await,
        (Method::GET, "archive") => get(&r, &id).await,
        (Method::PUT, "archive") => put(r, &id).await,
        _ => Ok(json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "message": "page not found" }),
        )),
    }
}

async fn changes<B: ContainerCopyBackend>(r: &ApiRequest<B>, id: &str) -> Result<ApiResponse> {
    Ok(ok_json(&r.backend.container_changes(id).await?))
}

async fn export<B: ContainerCopyBackend>(r: &ApiRequest<B>, id: &str) -> Result<ApiResponse> {
    let rx = r.backend.container_export(id).await?;
    Ok(streaming("application/x-tar", rx))
}

fn path_param<B>(r: &ApiRequest<B>) -> Result<String> {
    r.query
        .string("path")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| EngineError::invalid("path cannot be empty"))
}

async fn head<B: ContainerCopyBackend>(r: &ApiRequest<B>, id: &str) -> Result<ApiResponse> {
    let path = path_param(r)?;
    let st = r.backend.container_stat_path(id, &path).await?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .header(STAT_HEADER, st.header_value())
        .body(empty_body())
        .expect("static response"))
}

async fn get<B: ContainerCopyBackend>(r: &ApiRequest<B>, id: &str) -> Result<ApiResponse> {
    let path = path_param(r)?;
    let (st, rx) = r.backend.container_archive(id, &path).await?;
    let mut resp = streaming("application/x-tar", rx);
    resp.headers_mut().insert(
        STAT_HEADER,
        st.header_value()
            .parse()
            .map_err(|_| EngineError::internal("stat header"))?,
    );
    Ok(resp)
}

async fn put<B: ContainerCopyBackend>(r: ApiRequest<B>, id: &str) -> Result<ApiResponse> {
    let path = path_param(&r)?;
    let opts = PutOptions {
        no_overwrite_dir_non_dir: r.query.bool("noOverwriteDirNonDir")?,
        copy_uid_gid: r.query.bool("copyUIDGID")?,
    };
    let backend = r.backend.clone();
    let (tx, rx) = mpsc::channel(8);
    let mut body = r.req.into_body();
    // Feed the request body to the extractor as it arrives; stops when the extractor gave up.
    let feeder = tokio::spawn(async move {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return;
            };
            if let Ok(data) = frame.into_data() {
                if tx.send(data).await.is_err() {
                    return;
                }
            }
        }
    });
    let res = backend.container_extract(id, &path, opts, rx).await;
    feeder.abort();
    res?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .body(empty_body())
        .expect("static response"))
}
