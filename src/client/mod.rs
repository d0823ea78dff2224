//! Docker Engine API client over a unix socket: version negotiation via `/_ping`, JSON requests,
//! streaming bodies, hijacked attach, and engine autostart.

pub mod autostart;
pub mod credentials;
pub mod demux;
pub mod progress;
pub mod stdin;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::net::UnixStream;

/// Highest API version this client speaks; it negotiates down to the engine's.
pub const CLIENT_API_VERSION: &str = "1.44";

pub type ReqBody = BoxBody<Bytes, std::io::Error>;

/// A non-2xx answer from the engine, carrying its JSON `message`.
#[derive(Debug, Clone)]
pub struct DaemonError {
    pub status: u16,
    pub message: String,
}

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error response from daemon: {}", self.message)
    }
}

impl std::error::Error for DaemonError {}

/// The socket does not answer at all.
#[derive(Debug)]
pub struct ConnectError {
    pub socket: PathBuf,
    pub source: std::io::Error,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Cannot connect to the berth engine at unix://{}. Is the engine running? ({})",
            self.socket.display(),
            self.source
        )
    }
}

impl std::error::Error for ConnectError {}

/// Parse `--host`: `unix:///path` or a plain path.
pub fn parse_host(host: &str) -> Result<PathBuf> {
    if let Some(p) = host.strip_prefix("unix://") {
        if p.is_empty() {
            anyhow::bail!("invalid host {host:?}: empty socket path");
        }
        return Ok(PathBuf::from(p));
    }
    if host.contains("://") {
        anyhow::bail!("invalid host {host:?}: only unix:// sockets are supported");
    }
    Ok(PathBuf::from(host))
}

#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
    version: String,
    server_version: Option<String>,
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
        let mut client = Client {
            socket: socket.to_path_buf(),
            version: CLIENT_API_VERSION.to_string(),
            server_version: None,
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

    async fn open(&self) -> Result<UnixStream> {
        UnixStream::connect(&self.socket).await.map_err(|e| {
            ConnectError {
                socket: self.socket.clone(),
                source: e,
            }
            .into()
        })
    }

    /// One request on a fresh connection (unix sockets make this cheap, and streaming
    /// responses then never block other requests).
    async fn raw_request(
        &self,
        method: Method,
        path_and_query: &str,
        body: ReqBody,
        headers: &[(&str, &str)],
    ) -> Result<Response<Incoming>> {
        let stream = self.open().await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake with the engine")?;
        tokio::spawn(async move {
            // Errors surface on the response future; a connection torn down here is expected.
            let _ = conn.await;
        });
        let mut req = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header("host", "berth")
            .header("user-agent", concat!("berth/", env!("CARGO_PKG_VERSION")));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body)?;
        Ok(sender.send_request(req).await?)
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
    pub async fn hijack_with_body(
        &self,
        path: &str,
        body: Option<&Value>,
    ) -> Result<TokioIo<hyper::upgrade::Upgraded>> {
        let stream = self.open().await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake with the engine")?;
        tokio::spawn(async move {
            let _ = conn.with_upgrades().await;
        });
        let req = Request::builder()
            .method(Method::POST)
            .uri(self.versioned(path))
            .header("host", "berth")
            .header("connection", "Upgrade")
            .header("upgrade", "tcp")
            .header(
                "content-type",
                if body.is_some() {
                    "application/json"
                } else {
                    "text/plain"
                },
            )
            .body(match body {
                Some(v) => full(serde_json::to_vec(v)?),
                None => empty(),
            })?;
        let resp = sender.send_request(req).await?;
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

/// Build a [`DaemonError`] from a status and JSON (or plain) body.
pub fn daemon_error(status: StatusCode, body: &[u8]) -> DaemonError {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body).trim().to_string();
            if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("unknown error")
                    .to_string()
            } else {
                text
            }
        });
    DaemonError {
        status: status.as_u16(),
        message,
    }
}

/// Percent-encode a path segment (container names and image references may hold ':' or '/').
pub fn seg(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Build a query string from pairs (empty values are kept: callers omit what they don't set).
pub fn query(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    format!("?{}", ser.finish())
}

/// Encode docker `--filter key=value` flags as the API's JSON `filters` parameter.
pub fn filters_json(filters: &[String]) -> Result<Option<String>> {
    if filters.is_empty() {
        return Ok(None);
    }
    let mut map: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for f in filters {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("bad format of filter (expected name=value)"))?;
        map.entry(k.trim().to_lowercase())
            .or_default()
            .push(v.to_string());
    }
    Ok(Some(serde_json::to_string(&map)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            parse_host("unix:///run/berth/berth.sock").unwrap(),
            PathBuf::from("/run/berth/berth.sock")
        );
        assert_eq!(
            parse_host("/tmp/x.sock").unwrap(),
            PathBuf::from("/tmp/x.sock")
        );
        assert!(parse_host("tcp://1.2.3.4:2375").is_err());
        assert!(parse_host("unix://").is_err());
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(version_lt("1.9", "1.44"));
        assert!(version_lt("1.43", "1.44"));
        assert!(!version_lt("1.56", "1.44"));
    }

    #[test]
    fn daemon_errors_use_message() {
        let e = daemon_error(StatusCode::NOT_FOUND, br#"{"message":"No such image: x"}"#);
        assert_eq!(
            e.to_string(),
            "Error response from daemon: No such image: x"
        );
        assert_eq!(e.status, 404);
        let e = daemon_error(StatusCode::BAD_GATEWAY, b"");
        assert_eq!(e.message, "Bad Gateway");
    }

    #[test]
    fn filters_and_segments() {
        assert_eq!(
            filters_json(&[
                "status=exited".into(),
                "status=created".into(),
                "name=a".into()
            ])
            .unwrap()
            .unwrap(),
            r#"{"name":["a"],"status":["exited","created"]}"#
        );
        assert!(filters_json(&["bad".into()]).is_err());
        assert_eq!(seg("localhost:5000/a b"), "localhost:5000%2Fa%20b");
        assert_eq!(
            query(&[("t", "1".into()), ("x", "a b".into())]),
            "?t=1&x=a+b"
        );
    }
}
