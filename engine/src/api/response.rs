//! Response construction and the one place where `EngineError` becomes an HTTP status.

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::{body::Frame, Response, StatusCode};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::error::EngineError;

pub type ApiBody = BoxBody<Bytes, std::io::Error>;
pub type ApiResponse = Response<ApiBody>;

pub fn status_of(err: &EngineError) -> StatusCode {
    match err {
        EngineError::NotFound(_) => StatusCode::NOT_FOUND,
        EngineError::Conflict(_) => StatusCode::CONFLICT,
        EngineError::Forbidden(_) => StatusCode::FORBIDDEN,
        EngineError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
        EngineError::NotModified(_) => StatusCode::NOT_MODIFIED,
        EngineError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        EngineError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
        EngineError::Internal(_) | EngineError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub fn full(data: impl Into<Bytes>) -> ApiBody {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}

pub fn empty_body() -> ApiBody {
    full(Bytes::new())
}

pub fn error_response(err: &EngineError) -> ApiResponse {
    let status = status_of(err);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!(error = %err, "request failed");
    }
    if status == StatusCode::NOT_MODIFIED {
        // 304 must not carry a body.
        return Response::builder()
            .status(status)
            .body(empty_body())
            .expect("static response");
    }
    let body = serde_json::json!({ "message": err.to_string() });
    json(status, &body)
}

pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> ApiResponse {
    let mut data = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    data.push(b'\n');
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(full(data))
        .expect("static response")
}

pub fn ok_json<T: Serialize + ?Sized>(value: &T) -> ApiResponse {
    json(StatusCode::OK, value)
}

pub fn no_content() -> ApiResponse {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(empty_body())
        .expect("static response")
}

pub fn text(status: StatusCode, body: &'static str) -> ApiResponse {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(full(body))
        .expect("static response")
}

/// A streaming 200 whose chunks come from `rx`; each chunk is flushed as it arrives. The stream
/// ends when every sender is dropped.
pub fn streaming(content_type: &str, rx: mpsc::Receiver<Bytes>) -> ApiResponse {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(Frame::data(chunk)), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", content_type)
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .expect("static response")
}

pub use crate::model::stream::progress_line;

/// The answer to a hijack (attach, exec start): docker's exact `101 UPGRADED` with the upgrade
/// headers; the connection then carries the raw or multiplexed stream.
pub fn upgraded(content_type: &str) -> ApiResponse {
    let mut resp = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Content-Type", content_type)
        .header("Connection", "Upgrade")
        .header("Upgrade", "tcp")
        .body(empty_body())
        .expect("static response");
    // Some clients match the reason phrase, not just the status.
    resp.extensions_mut()
        .insert(hyper::ext::ReasonPhrase::from_static(b"UPGRADED"));
    resp
}
