//! The one transport every command and the dashboard use: hyper-util's pooled HTTP/1 client
//! over hyperlocal's unix-socket connector (keep-alive for the dashboard's many calls), the
//! `/_ping` version negotiation, JSON requests, streamed request and response bodies, and
//! hijacked (upgraded) connections for attach and exec.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client as Pool;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{daemon_error, ConnectError};

/// Highest API version this client speaks; it negotiates down to the engine's.
pub const CLIENT_API_VERSION: &str = "1.44";

/// How long an idle pooled connection is kept for the next request.
const POOL_IDLE: Duration = Duration::from_secs(30);

pub type ReqBody = BoxBody<Bytes, std::io::Error>;

#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
    version: String,
    server_version: Option<String>,
    /// Cloning shares the pool: every clone reuses the same idle connections.
    http: Pool<hyperlocal::UnixConnector, ReqBody>,
}

/// docker's client (`checkResponseErr`) treats every status below 400 as success: a 304 means
/// the container is already in the state asked for (start of a running one, stop of a stopped
/// one), and `docker stop` then prints the name and exits 0.
fn is_success(status: StatusCode) -> bool {
    status.as_u16() < 400
}

/// Compare dotted versions numerically ("1.9" < "1.44").
fn version_lt(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) < parse(b)
}

impl Client {
    /// Connect and negotiate: `GET /_ping`, use min(server Api-Version, ours).
    pub async fn connect(socket: &Path) -> Result<Client> {
        let http = Pool::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_timer(TokioTimer::new())
            .build(hyperlocal::UnixConnector);
        let mut client = Client {
            socket: socket.to_path_buf(),
            version: CLIENT_API_VERSION.to_string(),
            server_version: None,
            http,
        };
        let server = client.ping().await?;
        if let Some(v) = server {
            if version_lt(&v, CLIENT_API_VERSION) {
                client.version = v.clone();
            }
            client.server_version = Some(v);
        }
        Ok(client)
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The negotiated API version.
    pub fn api_version(&self) -> &str {
        &self.version
    }

    /// `GET /_ping` (unversioned); returns the server's `Api-Version` header.
    pub async fn ping(&self) -> Result<Option<String>> {
        let resp = self
            .raw_request(Method::GET, "/_ping", empty(), &[])
            .await?;
        let version = resp
            .headers()
            .get("api-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Err(daemon_error(status, &body).into());
        }
        Ok(version)
    }

    /// One request on a pooled connection (an idle one is reused; a streaming response keeps
    /// its connection to itself until its body ends, so it never blocks other requests).
    async fn raw_request(
        &self,
        method: Method,
        path_and_query: &str,
        body: ReqBody,
        headers: &[(&str, &str)],
    ) -> Result<Response<Incoming>> {
        let uri: hyper::Uri = hyperlocal::Uri::new(&self.socket, path_and_query).into();
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "berth")
            .header("user-agent", concat!("berth/", env!("CARGO_PKG_VERSION")));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body)?;
        self.http
            .request(req)
            .await
            .map_err(|e| self.transport_error(e))
    }

    /// A failure to reach the socket becomes a [`ConnectError`] (what autostart and the CLI's
    /// "Is the engine running?" look for); anything later stays hyper's error.
    fn transport_error(&self, e: hyper_util::client::legacy::Error) -> anyhow::Error {
        if !e.is_connect() {
            return e.into();
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&e);
        while let Some(c) = cause {
            if let Some(io) = c.downcast_ref::<std::io::Error>() {
                let source = match io.raw_os_error() {
                    Some(code) => std::io::Error::from_raw_os_error(code),
                    None => std::io::Error::new(io.kind(), io.to_string()),
                };
                return ConnectError {
                    socket: self.socket.clone(),
                    source,
                }
                .into();
            }
            cause = c.source();
        }
        ConnectError {
            socket: self.socket.clone(),
            source: std::io::Error::other(e.to_string()),
        }
        .into()
    }

    fn versioned(&self, path: &str) -> String {
        format!("/v{}{}", self.version, path)
    }

    /// Send a request to a versioned path; an answer docker's client counts as an error
    /// becomes a [`DaemonError`].
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: ReqBody,
        headers: &[(&str, &str)],
    ) -> Result<Response<Incoming>> {
        let resp = self
            .raw_request(method, &self.versioned(path), body, headers)
            .await?;
        let status = resp.status();
        if is_success(status) {
            return Ok(resp);
        }
        let body = resp.into_body().collect().await?.to_bytes();
        Err(daemon_error(status, &body).into())
    }

    /// POST a tar read from `source` as the request body, streamed while the engine answers
    /// (import, load). Returns the response and the task pumping the upload: await it after the
    /// response to surface an error reading `source` (named `what` in the message).
    pub async fn post_tar_stream(
        &self,
        path: &str,
        mut source: Box<dyn tokio::io::AsyncRead + Unpin + Send>,
        what: &'static str,
    ) -> Result<(Response<Incoming>, tokio::task::JoinHandle<Result<()>>)> {
        use tokio::io::AsyncReadExt;
        let (mut tx, body) = channel_body();
        let pump = tokio::spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                match source.read(&mut buf).await {
                    Ok(0) => return Ok(()),
                    Ok(n) => {
                        if tx
                            .send_data(Bytes::copy_from_slice(&buf[..n]))
                            .await
                            .is_err()
                        {
                            // The engine stopped reading; its answer says why.
                            return Ok(());
                        }
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        tx.abort(e);
                        return Err(anyhow::anyhow!("reading {what}: {msg}"));
                    }
                }
            }
        });
        match self
            .request(
                Method::POST,
                path,
                body,
                &[("content-type", "application/x-tar")],
            )
            .await
        {
            Ok(resp) => Ok((resp, pump)),
            Err(e) => {
                pump.abort();
                Err(e)
            }
        }
    }

    /// Request and return the whole body (`None` when empty or 304).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>> {
        match self.call_raw(method, path, body).await? {
            None => Ok(None),
            Some(bytes) => {
                Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
                    format!("decoding the engine's answer to {path}")
                })?))
            }
        }
    }

    /// The answer's body, None when empty or 304.
    async fn call_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Bytes>> {
        let (body, headers): (ReqBody, &[(&str, &str)]) = match body {
            Some(v) => (
                full(serde_json::to_vec(v)?),
                &[("content-type", "application/json")],
            ),
            None => (empty(), &[]),
        };
        let resp = self.request(method, path, body, headers).await?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        if status == StatusCode::NOT_MODIFIED || bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        Ok(Some(bytes))
    }

    /// GET and decode straight into `T` (one parse; lists can be large).
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        match self.call_raw(Method::GET, path, None).await? {
            None => Ok(serde_json::from_value(Value::Null)?),
            Some(bytes) => Ok(serde_json::from_slice(&bytes)
                .with_context(|| format!("decoding the engine's answer to {path}"))?),
        }
    }

    pub async fn post(&self, path: &str, body: Option<&Value>) -> Result<Option<Value>> {
        self.call(Method::POST, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Result<Option<Value>> {
        self.call(Method::DELETE, path, None).await
    }

    /// Hijack a connection (`attach`): send `Connection: Upgrade`/`Upgrade: tcp`, expect
    /// `101`, return the raw bidirectional stream.
    pub async fn hijack(&self, path: &str) -> Result<TokioIo<hyper::upgrade::Upgraded>> {
        self.hijack_with_body(path, None).await
    }

    /// `hijack` with a JSON request body (`POST /exec/{id}/start` takes its options as JSON).
    /// The upgraded connection leaves the pool: it belongs to this stream alone.
    pub async fn hijack_with_body(
        &self,
        path: &str,
        body: Option<&Value>,
    ) -> Result<TokioIo<hyper::upgrade::Upgraded>> {
        let content_type = if body.is_some() {
            "application/json"
        } else {
            "text/plain"
        };
        let body = match body {
            Some(v) => full(serde_json::to_vec(v)?),
            None => empty(),
        };
        let resp = self
            .raw_request(
                Method::POST,
                &self.versioned(path),
                body,
                &[
                    ("connection", "Upgrade"),
                    ("upgrade", "tcp"),
                    ("content-type", content_type),
                ],
            )
            .await?;
        let status = resp.status();
        if status != StatusCode::SWITCHING_PROTOCOLS {
            let body = resp.into_body().collect().await?.to_bytes();
            if status.is_success() {
                anyhow::bail!("the engine did not upgrade the attach connection ({status})");
            }
            return Err(daemon_error(status, &body).into());
        }
        let upgraded = hyper::upgrade::on(resp)
            .await
            .context("upgrading the attach connection")?;
        Ok(TokioIo::new(upgraded))
    }
}

pub fn empty() -> ReqBody {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

pub fn full(data: impl Into<Bytes>) -> ReqBody {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed()
}

/// A request body fed from a channel (used to stream files); dropping the sender ends it,
/// `abort` fails the request.
pub fn channel_body() -> (
    http_body_util::channel::Sender<Bytes, std::io::Error>,
    ReqBody,
) {
    let (tx, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(4);
    (tx, body.boxed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert!(version_lt("1.9", "1.44"));
        assert!(version_lt("1.43", "1.44"));
        assert!(!version_lt("1.56", "1.44"));
    }
}
