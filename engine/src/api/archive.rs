//! `/containers/{id}/changes`, `/export` and `/archive` (HEAD/GET/PUT).

use http_body_util::BodyExt;
use hyper::{Response, StatusCode};
use tokio::sync::mpsc;

use super::response::{empty_body, ok_json, streaming, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::service::container::archive::{self, PutOptions};

/// docker's header carrying the base64 JSON stat of an archive path.
const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

pub async fn changes(r: &ApiRequest, id: &str) -> Result<ApiResponse> {
    Ok(ok_json(
        &archive::container_changes(&r.engine.containers, id).await?,
    ))
}

pub async fn export(r: &ApiRequest, id: &str) -> Result<ApiResponse> {
    let rx = archive::export(&r.engine.containers, id).await?;
    Ok(streaming("application/x-tar", rx))
}

fn path_param(r: &ApiRequest) -> Result<String> {
    r.query
        .string("path")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| EngineError::invalid("path cannot be empty"))
}

pub async fn head(r: &ApiRequest, id: &str) -> Result<ApiResponse> {
    let path = path_param(r)?;
    let st = archive::stat(&r.engine.containers, id, &path).await?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .header(STAT_HEADER, st.header_value())
        .body(empty_body())
        .expect("static response"))
}

pub async fn get(r: &ApiRequest, id: &str) -> Result<ApiResponse> {
    let path = path_param(r)?;
    let (st, rx) = archive::get_archive(&r.engine.containers, id, &path).await?;
    let mut resp = streaming("application/x-tar", rx);
    resp.headers_mut().insert(
        STAT_HEADER,
        st.header_value()
            .parse()
            .map_err(|_| EngineError::internal("stat header"))?,
    );
    Ok(resp)
}

pub async fn put(r: ApiRequest, id: &str) -> Result<ApiResponse> {
    let path = path_param(&r)?;
    let opts = PutOptions {
        no_overwrite_dir_non_dir: r.query.bool("noOverwriteDirNonDir")?,
        copy_uid_gid: r.query.bool("copyUIDGID")?,
    };
    let svc = r.engine.containers.clone();
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
    let res = archive::put_archive(&svc, id, &path, opts, rx).await;
    feeder.abort();
    res?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .body(empty_body())
        .expect("static response"))
}
