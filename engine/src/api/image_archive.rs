//! `GET /images/get`, `GET /images/{name}/get` (save) and `POST /images/load`. Parsing and
//! streaming only; the logic is behind `ImageArchiveBackend` (`service::image::archive`).

use std::io::{self, Read, Write};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::{body::Frame, Method, Response, StatusCode};
use serde_json::json;
use tokio::sync::mpsc;

use super::backend::ImageArchiveBackend;
use super::body::{pump_body, ChannelReader};
use super::response::{progress_line, streaming, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::service::image::archive::{self as image_archive, LoadEvent};

/// After a failed load, read at most this much more of the request body so the client gets our
/// answer instead of a broken pipe; beyond that the connection is dropped.
const DRAIN_LIMIT: u64 = 256 << 20;

enum Route {
    SaveMany,
    SaveOne(String),
    Load,
}

fn route_of(method: &Method, s: &[String]) -> Option<Route> {
    if s.first().map(String::as_str) != Some("images") {
        return None;
    }
    match (method, s.len(), s.last().map(String::as_str)?) {
        (&Method::GET, 2, "get") => Some(Route::SaveMany),
        (&Method::POST, 2, "load") => Some(Route::Load),
        (&Method::GET, n, "get") if n >= 3 => Some(Route::SaveOne(s[1..n - 1].join("/"))),
        _ => None,
    }
}

pub fn matches(method: &Method, segments: &[String]) -> bool {
    route_of(method, segments).is_some()
}

pub async fn handle<B: ImageArchiveBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    match route_of(&r.method, &r.segments) {
        Some(Route::SaveMany) => {
            let names = r
                .query
                .get_all("names")
                .into_iter()
                .map(str::to_owned)
                .collect();
            save(r.backend.clone(), names).await
        }
        Some(Route::SaveOne(name)) => save(r.backend.clone(), vec![name]).await,
        Some(Route::Load) => load(r).await,
        None => Err(EngineError::not_found("page not found")),
    }
}

/// Sends written bytes as body chunks; a gone client is a broken pipe for the writer.
struct ChunkWriter(mpsc::Sender<io::Result<Bytes>>);

impl Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

async fn save<B: ImageArchiveBackend>(backend: Arc<B>, names: Vec<String>) -> Result<ApiResponse> {
    // Resolve everything first: an unknown name is a 404 before any byte of the archive.
    let (lease, images) = tokio::task::spawn_blocking(move || backend.image_save_prepare(&names))
        .await
        .map_err(|e| EngineError::internal(format!("save task failed: {e}")))??;
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
    tokio::task::spawn_blocking(move || {
        let _lease = lease;
        let err_tx = tx.clone();
        if let Err(e) = image_archive::write_save(ChunkWriter(tx), &images) {
            tracing::warn!(error = %e, "image save failed");
            // An error frame aborts the response, so the client sees a failed transfer rather
            // than a short archive.
            let _ = err_tx.blocking_send(Err(io::Error::other(e.to_string())));
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item.map(Frame::data), rx))
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/x-tar")
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .expect("static response"))
}

enum Msg {
    Line(Bytes),
    Fail(EngineError),
}

fn error_line(e: &EngineError) -> Bytes {
    let msg = e.to_string();
    progress_line(&json!({ "errorDetail": { "message": msg }, "error": msg }))
}

/// docker's human progress bar for a progress message.
fn bar(current: u64, total: u64) -> String {
    let width = 50u64;
    let filled = (current.min(total) * width)
        .checked_div(total)
        .map_or(width, |f| f.max(1));
    let mut s = String::from("[");
    for i in 0..width {
        s.push(if i + 1 < filled {
            '='
        } else if i + 1 == filled {
            '>'
        } else {
            ' '
        });
    }
    s.push(']');
    format!(
        "{s} {:.2}MB/{:.2}MB",
        current as f64 / 1e6,
        total as f64 / 1e6
    )
}

async fn load<B: ImageArchiveBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    // dockerd's default is quiet (`BoolValueOrDefault(r, "quiet", true)`); the CLI always says.
    let quiet = r.query.bool_or("quiet", true)?;
    let (body_tx, body_rx) = mpsc::channel(16);
    tokio::spawn(pump_body(r.req.into_body(), body_tx));
    // The loader owns a handle on the body; after a failure the handler drains the rest.
    let shared = Arc::new(std::sync::Mutex::new(ChannelReader::new(body_rx)));
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let backend = r.backend.clone();
    tokio::task::spawn_blocking(move || {
        let ptx = tx.clone();
        let emit = move |ev: LoadEvent| {
            if quiet {
                return;
            }
            let LoadEvent::Layer { id, current, total } = ev;
            let _ = ptx.send(Msg::Line(progress_line(&json!({
                "status": "Loading layer",
                "progressDetail": { "current": current, "total": total },
                "progress": bar(current, total),
                "id": id,
            }))));
        };
        let res = backend.image_load(Box::new(SharedReader(shared.clone())), &emit);
        match res {
            Ok(lines) => {
                for l in lines {
                    let _ = tx.send(Msg::Line(progress_line(&json!({ "stream": l }))));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "image load failed");
                let mut rest = shared.lock().unwrap_or_else(|p| p.into_inner());
                let _ = io::copy(&mut (&mut *rest).take(DRAIN_LIMIT), &mut io::sink());
                let _ = tx.send(Msg::Fail(e));
            }
        }
    });
    // Always a 200 stream: a bad archive is an error line in it, as dockerd writes it (docker-py
    // raises ImageLoadError from that line; a status would be an APIError instead).
    let (out_tx, out_rx) = mpsc::channel(16);
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let b = match m {
                Msg::Line(b) => b,
                Msg::Fail(e) => error_line(&e),
            };
            if out_tx.send(b).await.is_err() {
                return;
            }
        }
    });
    Ok(streaming("application/json", out_rx))
}

/// A `Read` shared between the loader and the drain after a failure.
struct SharedReader(Arc<std::sync::Mutex<ChannelReader>>);

impl Read for SharedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(s: &str) -> Vec<String> {
        s.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn image_archive_routes() {
        assert!(matches!(
            route_of(&Method::GET, &segs("images/get")),
            Some(Route::SaveMany)
        ));
        assert!(matches!(
            route_of(&Method::POST, &segs("images/load")),
            Some(Route::Load)
        ));
        match route_of(&Method::GET, &segs("images/host:5000/a/b:1/get")) {
            Some(Route::SaveOne(n)) => assert_eq!(n, "host:5000/a/b:1"),
            _ => panic!("save one"),
        }
        assert!(!matches(&Method::POST, &segs("images/get")));
        assert!(!matches(&Method::GET, &segs("images/x/json")));
        assert!(bar(50, 100).starts_with("[=========="));
        assert!(bar(100, 100).contains("0.00MB/0.00MB"));
    }
}
