//! The connection an attach or an exec start streams over. A client that asks for it (an
//! `Upgrade` header) gets docker's `101 UPGRADED` and the raw connection, stdin included. One
//! that does not (curl, clients that never hijack) gets what dockerd gives it: a 200 whose body
//! is the same stream, and no stdin; an unsolicited 101 would leave it with a closed connection.

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use super::response::{upgraded, ApiResponse};
use super::RequestBody;

const RAW_STREAM: &str = "application/vnd.docker.raw-stream";

/// Both directions of a hijacked exchange.
pub trait Conn: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Conn for T {}

/// Taken from the request before its body is read (hyper needs the request for the upgrade).
pub enum Hijack {
    Upgrade(hyper::upgrade::OnUpgrade),
    Plain,
}

/// The answer to send now, and the connection the stream goes to once it is sent (None when the
/// client went away before the upgrade completed).
pub type Answer = (ApiResponse, BoxFuture<'static, Option<Box<dyn Conn>>>);

impl Hijack {
    pub fn take(req: &mut hyper::Request<RequestBody>) -> Hijack {
        if req.headers().contains_key(hyper::header::UPGRADE) {
            Hijack::Upgrade(hyper::upgrade::on(req))
        } else {
            Hijack::Plain
        }
    }

    /// `content_type` is what a 101 names; a plain 200 always says raw-stream, as dockerd's does.
    pub fn answer(self, content_type: &str) -> Answer {
        match self {
            Hijack::Upgrade(on) => (
                upgraded(content_type),
                Box::pin(async move {
                    match on.await {
                        Ok(u) => Some(Box::new(TokioIo::new(u)) as Box<dyn Conn>),
                        Err(e) => {
                            tracing::debug!(error = %e, "upgrade failed");
                            None
                        }
                    }
                }),
            ),
            Hijack::Plain => {
                // What the handler writes to `ours` becomes the body. `theirs` never writes and
                // never closes while the body lasts: the client sent no stdin, and dockerd's
                // stdin would not see EOF from it either (the connection stays open).
                let (ours, theirs) = tokio::io::duplex(64 * 1024);
                let body = futures_util::stream::unfold(theirs, |mut theirs| async move {
                    let mut buf = vec![0u8; 32 * 1024];
                    match theirs.read(&mut buf).await {
                        Ok(0) | Err(_) => None,
                        Ok(n) => {
                            buf.truncate(n);
                            let frame = Frame::data(Bytes::from(buf));
                            Some((Ok::<_, std::io::Error>(frame), theirs))
                        }
                    }
                });
                // dockerd names the raw stream here whatever the framing.
                let response = Response::builder()
                    .status(StatusCode::OK)
                    .header("Content-Type", RAW_STREAM)
                    .body(BodyExt::boxed(StreamBody::new(body)))
                    .expect("static response");
                (
                    response,
                    Box::pin(async move { Some(Box::new(ours) as Box<dyn Conn>) }),
                )
            }
        }
    }
}
