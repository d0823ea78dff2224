//! Registry HTTP client (OCI distribution API v2), shared by pull and push.
//!
//! - Endpoints: `docker.io` is `registry-1.docker.io` (after any `--registry-mirror`); loopback
//!   registries (127.0.0.0/8, ::1, localhost) speak plain HTTP; `--insecure-registry` hosts are
//!   tried with HTTPS without certificate checks, then plain HTTP; everything else is HTTPS with
//!   the webpki roots.
//! - Auth: requests go out with whatever the cache holds for the repository; a 401 is answered by
//!   its `WWW-Authenticate` challenge (Bearer: a token from the realm, anonymous or with the
//!   credentials; Basic: the credentials) and the request is retried once. Tokens are cached per
//!   endpoint, scope and credentials, and reused by every blob of a pull.
//! - Redirects (blob GETs often go to a CDN) are followed by reqwest, which drops
//!   `Authorization` when the host changes, and we only attach credentials to URLs of the
//!   registry's own origin: credentials never reach another host.
//!
//! Usage: `RegistryClient::new(opts)?.repositories(&reference, creds, Access::Pull)` gives the
//! candidate endpoints of a repository in order (mirrors first); each [`Repository`] has the
//! manifest, blob, upload, mount and tag operations.

pub mod auth;
pub mod manifest;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use sha2::{Digest as _, Sha256};

use crate::error::EngineError;
use crate::image::reference::Reference;
pub use auth::Credentials;
use auth::{parse_challenge, Challenge, TokenResponse};

/// Engine options for registries (`berth engine --insecure-registry`, `--registry-mirror`).
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// `HOST[:PORT]` entries (a bare host matches every port of it).
    pub insecure: Vec<String>,
    /// Mirror base URLs for docker.io, tried in order before registry-1.docker.io.
    pub mirrors: Vec<String>,
}

impl RegistryOptions {
    /// Add the comma/space separated `BERTH_INSECURE_REGISTRIES` entries.
    pub fn with_env(mut self) -> Self {
        if let Ok(v) = std::env::var("BERTH_INSECURE_REGISTRIES") {
            self.insecure.extend(
                v.split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
        self
    }
}

/// A registry failure, with the registry's error code when it sent one.
#[derive(Debug, Clone)]
pub struct RegistryError {
    /// HTTP status, when the registry answered.
    pub status: Option<u16>,
    /// Distribution error code ("MANIFEST_UNKNOWN", "DENIED", ...), or "" for transport errors.
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for RegistryError {
    /// Docker's errcode format: `manifest unknown: manifest unknown`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.code.is_empty() {
            f.write_str(&self.message)
        } else {
            let code = self.code.to_ascii_lowercase().replace('_', " ");
            if self.message.is_empty() {
                f.write_str(&code)
            } else {
                write!(f, "{code}: {}", self.message)
            }
        }
    }
}

impl std::error::Error for RegistryError {}

impl RegistryError {
    fn transport(context: &str, e: reqwest::Error) -> Self {
        // reqwest's Display hides the cause chain ("error sending request"); keep the root cause.
        let mut msg = format!("{context}: {e}");
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(&format!(": {s}"));
            src = s.source();
        }
        RegistryError {
            status: None,
            code: String::new(),
            message: msg,
        }
    }

    fn other(message: impl Into<String>) -> Self {
        RegistryError {
            status: None,
            code: String::new(),
            message: message.into(),
        }
    }

    /// True for 401/403 answers (bad or missing credentials).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self.status, Some(401) | Some(403))
            || matches!(self.code.as_str(), "UNAUTHORIZED" | "DENIED")
    }

    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
            || matches!(
                self.code.as_str(),
                "MANIFEST_UNKNOWN" | "NAME_UNKNOWN" | "BLOB_UNKNOWN"
            )
    }

    /// A transport failure (no HTTP answer): the next endpoint may work.
    pub fn is_transport(&self) -> bool {
        self.status.is_none()
    }

    /// Read a non-success response's `{"errors":[{code,message}]}` body (bounded).
    pub async fn from_response(resp: reqwest::Response) -> Self {
        let status = resp.status();
        let body = read_limited(resp, 64 << 10).await.unwrap_or_default();
        #[derive(serde::Deserialize)]
        struct Errs {
            errors: Vec<Err1>,
        }
        #[derive(serde::Deserialize)]
        struct Err1 {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
        }
        if let Ok(errs) = serde_json::from_slice::<Errs>(&body) {
            if let Some(e) = errs.errors.into_iter().next() {
                return RegistryError {
                    status: Some(status.as_u16()),
                    code: e.code,
                    message: e.message,
                };
            }
        }
        // Token servers and proxies answer with other shapes; docker shows the status text.
        let (code, message) = match status {
            StatusCode::UNAUTHORIZED => ("UNAUTHORIZED", "authentication required".to_string()),
            StatusCode::FORBIDDEN => (
                "DENIED",
                "requested access to the resource is denied".into(),
            ),
            StatusCode::NOT_FOUND => ("NOT_FOUND", "not found".into()),
            s => {
                // The first line of whatever the server said (bounded), for the operator.
                let text = String::from_utf8_lossy(&body);
                let first: String = text
                    .trim()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect();
                let detail = if first.is_empty() {
                    String::new()
                } else {
                    format!(" ({first})")
                };
                ("", format!("unexpected status from registry: {s}{detail}"))
            }
        };
        RegistryError {
            status: Some(status.as_u16()),
            code: code.into(),
            message,
        }
    }
}

impl From<RegistryError> for EngineError {
    fn from(e: RegistryError) -> Self {
        if e.is_not_found() || e.is_unauthorized() {
            EngineError::NotFound(e.to_string())
        } else {
            EngineError::Internal(e.to_string())
        }
    }
}

pub type RegResult<T> = std::result::Result<T, RegistryError>;

/// Read a whole body, refusing more than `max` bytes (manifests, configs, error bodies).
pub async fn read_limited(mut resp: reqwest::Response, max: usize) -> RegResult<Vec<u8>> {
    if let Some(len) = resp.content_length() {
        if len as usize > max {
            return Err(RegistryError::other(format!(
                "response of {len} bytes exceeds the limit of {max} bytes"
            )));
        }
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| RegistryError::transport("reading response", e))?
    {
        if out.len() + chunk.len() > max {
            return Err(RegistryError::other(format!(
                "response exceeds the limit of {max} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Which actions a repository handle needs tokens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Pull,
    PullPush,
}

impl Access {
    fn actions(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::PullPush => "pull,push",
        }
    }
}

/// One place a registry can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// "https://registry-1.docker.io", "http://127.0.0.1:5000", a mirror URL (may have a path).
    pub base: String,
    /// Accept any certificate (`--insecure-registry` over HTTPS).
    pub skip_verify: bool,
    /// A docker.io mirror (pull only).
    pub mirror: bool,
}

#[derive(Clone)]
struct CachedToken {
    token: String,
    expires: Instant,
}

/// How an endpoint wants to be authenticated, learnt from its first challenge.
#[derive(Clone)]
enum AuthMode {
    Bearer {
        realm: String,
        service: Option<String>,
    },
    Basic,
}

struct Inner {
    http: reqwest::Client,
    /// For `--insecure-registry` endpoints over HTTPS.
    http_insecure: reqwest::Client,
    options: RegistryOptions,
    /// (endpoint base, scope, credential identity) → bearer token.
    tokens: Mutex<HashMap<(String, String, String), CachedToken>>,
    modes: Mutex<HashMap<String, AuthMode>>,
}

/// The registry client. Cheap to clone; one per engine so tokens and connections are shared.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

fn build_http(skip_verify: bool) -> RegResult<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        // A stalled registry must not hang a pull forever; slow but moving bodies are fine.
        .read_timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(8)
        .danger_accept_invalid_certs(skip_verify)
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .map_err(|e| RegistryError::transport("building the HTTP client", e))
}

/// 127.0.0.0/8, ::1 and localhost speak plain HTTP, as in docker.
pub fn is_loopback_host(domain: &str) -> bool {
    let host = host_of(domain);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// "host:port" → "host" ("[::1]:5000" → "[::1]").
fn host_of(domain: &str) -> &str {
    if domain.starts_with('[') {
        return match domain.find(']') {
            Some(i) => &domain[..=i],
            None => domain,
        };
    }
    domain.rsplit_once(':').map(|(h, _)| h).unwrap_or(domain)
}

/// Origin ("scheme://host:port") of a URL, for the same-origin credential rule.
fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str()?,
        u.port_or_known_default()?
    ))
}

/// Normalise a `serveraddress` (`https://index.docker.io/v1/`, `registry:5000`, `http://x/`) to a
/// reference domain.
pub fn normalize_server_address(addr: &str) -> String {
    let a = addr.trim();
    let a = a
        .strip_prefix("https://")
        .or_else(|| a.strip_prefix("http://"))
        .unwrap_or(a);
    let a = a.split('/').next().unwrap_or("");
    match a {
        ""
        | "index.docker.io"
        | "registry-1.docker.io"
        | "docker.io"
        | "registry.hub.docker.com" => "docker.io".into(),
        other => other.to_ascii_lowercase(),
    }
}

impl RegistryClient {
    pub fn new(options: RegistryOptions) -> crate::error::Result<Self> {
        let http = build_http(false)?;
        let http_insecure = build_http(true)?;
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                http,
                http_insecure,
                options,
                tokens: Mutex::new(HashMap::new()),
                modes: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn options(&self) -> &RegistryOptions {
        &self.inner.options
    }

    fn is_insecure(&self, domain: &str) -> bool {
        self.inner
            .options
            .insecure
            .iter()
            .any(|e| e.eq_ignore_ascii_case(domain) || e.eq_ignore_ascii_case(host_of(domain)))
    }

    /// Endpoints for a registry domain, in the order they are tried. `with_mirrors` is false for
    /// push (mirrors are read-only).
    pub fn endpoints(&self, domain: &str, with_mirrors: bool) -> Vec<Endpoint> {
        let mut out = Vec::new();
        if domain == "docker.io" || domain == "index.docker.io" {
            if with_mirrors {
                for m in &self.inner.options.mirrors {
                    let m = m.trim_end_matches('/');
                    let base = if m.contains("://") {
                        m.to_string()
                    } else {
                        format!("https://{m}")
                    };
                    out.push(Endpoint {
                        base,
                        skip_verify: false,
                        mirror: true,
                    });
                }
            }
            out.push(Endpoint {
                base: "https://registry-1.docker.io".into(),
                skip_verify: false,
                mirror: false,
            });
        } else if is_loopback_host(domain) {
            out.push(Endpoint {
                base: format!("http://{domain}"),
                skip_verify: false,
                mirror: false,
            });
        } else if self.is_insecure(domain) {
            out.push(Endpoint {
                base: format!("https://{domain}"),
                skip_verify: true,
                mirror: false,
            });
            out.push(Endpoint {
                base: format!("http://{domain}"),
                skip_verify: false,
                mirror: false,
            });
        } else {
            out.push(Endpoint {
                base: format!("https://{domain}"),
                skip_verify: false,
                mirror: false,
            });
        }
        out
    }

    /// Handles for `reference`'s repository on each endpoint, in the order to try them.
    pub fn repositories(
        &self,
        reference: &Reference,
        creds: Option<Credentials>,
        access: Access,
    ) -> Vec<Repository> {
        self.endpoints(&reference.domain, access == Access::Pull)
            .into_iter()
            .map(|endpoint| {
                // Mirrors never get the docker.io credentials: they are another party.
                let creds = if endpoint.mirror { None } else { creds.clone() };
                Repository {
                    client: self.clone(),
                    endpoint,
                    name: reference.path.clone(),
                    creds,
                    access,
                }
            })
            .collect()
    }

    /// The first endpoint of `reference`'s registry that answers `GET /v2/` (for push and tag
    /// listing, where trying each operation on each endpoint is not worth it).
    pub async fn repository(
        &self,
        reference: &Reference,
        creds: Option<Credentials>,
        access: Access,
    ) -> RegResult<Repository> {
        let mut last = None;
        let candidates = self.repositories(reference, creds, access);
        let n = candidates.len();
        for repo in candidates {
            if n == 1 {
                return Ok(repo);
            }
            match repo.ping().await {
                Ok(()) => return Ok(repo),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| RegistryError::other("no registry endpoint")))
    }

    /// `POST /auth`: check credentials against a registry. Ok when the registry accepts them (or
    /// needs none).
    pub async fn check_login(&self, creds: &Credentials) -> RegResult<()> {
        let domain = normalize_server_address(&creds.serveraddress);
        let endpoints = self.endpoints(&domain, false);
        let mut last = None;
        for endpoint in endpoints {
            let client = self.http_for(&endpoint);
            let url = format!("{}/v2/", endpoint.base);
            let resp = match client.get(&url).send().await {
                Ok(r) => r,
                Err(e) => {
                    last = Some(RegistryError::transport(&format!("Get {url:?}"), e));
                    continue;
                }
            };
            if resp.status() != StatusCode::UNAUTHORIZED {
                return if resp.status().is_success() {
                    Ok(())
                } else {
                    Err(RegistryError::from_response(resp).await)
                };
            }
            let challenge = resp
                .headers()
                .get(reqwest::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_challenge);
            return match challenge {
                Some(Challenge::Bearer { realm, service, .. }) => self
                    .fetch_token(&endpoint, &realm, service.as_deref(), None, Some(creds))
                    .await
                    .map(|_| ()),
                Some(Challenge::Basic) => {
                    let Some(basic) = creds.basic_header() else {
                        return Err(unauthorized("authentication required"));
                    };
                    let resp = client
                        .get(&url)
                        .header(AUTHORIZATION, basic)
                        .send()
                        .await
                        .map_err(|e| RegistryError::transport(&format!("Get {url:?}"), e))?;
                    if resp.status().is_success() {
                        Ok(())
                    } else {
                        Err(RegistryError::from_response(resp).await)
                    }
                }
                None => Err(unauthorized("unsupported authentication challenge")),
            };
        }
        Err(last.unwrap_or_else(|| RegistryError::other("no registry endpoint")))
    }

    fn http_for(&self, endpoint: &Endpoint) -> &reqwest::Client {
        if endpoint.skip_verify {
            &self.inner.http_insecure
        } else {
            &self.inner.http
        }
    }

    /// Get a bearer token from `realm` for `scope`.
    async fn fetch_token(
        &self,
        endpoint: &Endpoint,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
        creds: Option<&Credentials>,
    ) -> RegResult<CachedToken> {
        if let Some(c) = creds.filter(|c| !c.registrytoken.is_empty()) {
            return Ok(CachedToken {
                token: c.registrytoken.clone(),
                expires: Instant::now() + Duration::from_secs(3600),
            });
        }
        let mut url = url::Url::parse(realm)
            .map_err(|e| RegistryError::other(format!("invalid token realm {realm:?}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(RegistryError::other(format!(
                "invalid token realm {realm:?}: not http(s)"
            )));
        }
        let client = self.http_for(endpoint);
        let resp = if let Some(c) = creds.filter(|c| !c.identitytoken.is_empty()) {
            // OAuth2 refresh-token grant, as docker does for identity tokens.
            let mut form = vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", c.identitytoken.clone()),
                ("client_id", "berth".to_string()),
            ];
            if let Some(s) = service {
                form.push(("service", s.to_string()));
            }
            if let Some(s) = scope {
                form.push(("scope", s.to_string()));
            }
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            client
                .post(url.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
        } else {
            {
                let mut q = url.query_pairs_mut();
                if let Some(s) = service {
                    q.append_pair("service", s);
                }
                if let Some(s) = scope {
                    q.append_pair("scope", s);
                }
            }
            let mut req = client.get(url.clone());
            if let Some(basic) = creds.and_then(Credentials::basic_header) {
                req = req.header(AUTHORIZATION, basic);
            }
            req.send().await
        }
        .map_err(|e| RegistryError::transport(&format!("Get {realm:?}"), e))?;
        if !resp.status().is_success() {
            let mut err = RegistryError::from_response(resp).await;
            if err.status == Some(401) && creds.is_some() {
                err.code = "UNAUTHORIZED".into();
                if err.message.is_empty() || err.message == "authentication required" {
                    err.message = "incorrect username or password".into();
                }
            }
            return Err(err);
        }
        let body = read_limited(resp, 1 << 20).await?;
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::other(format!("invalid token response: {e}")))?;
        // Refresh a little early; tokens without expires_in last 60 s per the spec.
        let life = parsed.expires_in.unwrap_or(60).max(60);
        let token = parsed
            .into_token()
            .ok_or_else(|| RegistryError::other("token response without a token"))?;
        Ok(CachedToken {
            token,
            expires: Instant::now() + Duration::from_secs(life.saturating_sub(10)),
        })
    }
}

fn unauthorized(msg: &str) -> RegistryError {
    RegistryError {
        status: Some(401),
        code: "UNAUTHORIZED".into(),
        message: msg.into(),
    }
}

/// The manifest bytes of a GET, with their digest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub media_type: String,
    pub digest: String,
    pub bytes: Vec<u8>,
}

/// A blob body being downloaded.
pub struct Blob {
    /// Content-Length when the registry sent it.
    pub size: Option<u64>,
    resp: reqwest::Response,
}

impl Blob {
    /// Next chunk of the body; `None` at the end.
    pub async fn chunk(&mut self) -> RegResult<Option<Bytes>> {
        self.resp
            .chunk()
            .await
            .map_err(|e| RegistryError::transport("reading blob", e))
    }

    /// A blocking `Read` over the body for extraction threads: a task forwards chunks through
    /// a small bounded channel (backpressure, never the whole blob in memory). Must be called
    /// inside the tokio runtime; the reader must be used outside it.
    pub fn into_reader(mut self) -> BlobReader {
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(16);
        tokio::spawn(async move {
            loop {
                match self.chunk().await {
                    Ok(Some(b)) => {
                        if tx.send(Ok(b)).await.is_err() {
                            return; // the reader gave up
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                        return;
                    }
                }
            }
        });
        BlobReader {
            rx,
            cur: Bytes::new(),
        }
    }
}

/// See [`Blob::into_reader`].
pub struct BlobReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    cur: Bytes,
}

impl std::io::Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}

/// The outcome of a cross-repository mount request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountOutcome {
    /// The registry linked the blob; nothing to upload.
    Mounted,
    /// The registry started an upload session instead (this URL) — upload the blob there.
    Upload(String),
}

/// One repository on one endpoint, with its credentials. Cheap to clone.
#[derive(Clone)]
pub struct Repository {
    client: RegistryClient,
    pub endpoint: Endpoint,
    /// Repository path, e.g. "library/busybox".
    pub name: String,
    creds: Option<Credentials>,
    access: Access,
}

impl Repository {
    fn scope(&self) -> String {
        format!("repository:{}:{}", self.name, self.access.actions())
    }

    fn cred_key(&self) -> String {
        match &self.creds {
            None => String::new(),
            Some(c) => {
                // Hash so the cache key holds no secret in the clear.
                let id = format!(
                    "{}\0{}\0{}\0{}",
                    c.username, c.password, c.identitytoken, c.registrytoken
                );
                sha256_digest(id.as_bytes())
            }
        }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.endpoint.base, self.name)
    }

    fn http(&self) -> &reqwest::Client {
        self.client.http_for(&self.endpoint)
    }

    /// The Authorization value to send now, getting a token first when the endpoint is known
    /// to use bearer tokens.
    async fn authorization(&self) -> RegResult<Option<String>> {
        let mode = self
            .client
            .inner
            .modes
            .lock()
            .expect("modes lock")
            .get(&self.endpoint.base)
            .cloned();
        match mode {
            None => Ok(None),
            Some(AuthMode::Basic) => Ok(self.creds.as_ref().and_then(Credentials::basic_header)),
            Some(AuthMode::Bearer { realm, service }) => {
                let key = (self.endpoint.base.clone(), self.scope(), self.cred_key());
                if let Some(t) = self
                    .client
                    .inner
                    .tokens
                    .lock()
                    .expect("tokens lock")
                    .get(&key)
                {
                    if t.expires > Instant::now() {
                        return Ok(Some(format!("Bearer {}", t.token)));
                    }
                }
                let token = self
                    .client
                    .fetch_token(
                        &self.endpoint,
                        &realm,
                        service.as_deref(),
                        Some(&self.scope()),
                        self.creds.as_ref(),
                    )
                    .await?;
                let value = format!("Bearer {}", token.token);
                self.client
                    .inner
                    .tokens
                    .lock()
                    .expect("tokens lock")
                    .insert(key, token);
                Ok(Some(value))
            }
        }
    }

    /// Learn the endpoint's auth mode from a 401; false when there is nothing to retry with.
    fn learn_challenge(&self, resp: &reqwest::Response) -> bool {
        let challenge = resp
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_challenge);
        let mode = match challenge {
            Some(Challenge::Bearer { realm, service, .. }) => AuthMode::Bearer { realm, service },
            Some(Challenge::Basic)
                if self
                    .creds
                    .as_ref()
                    .is_some_and(|c| c.basic_header().is_some()) =>
            {
                AuthMode::Basic
            }
            _ => return false,
        };
        let key = (self.endpoint.base.clone(), self.scope(), self.cred_key());
        self.client
            .inner
            .tokens
            .lock()
            .expect("tokens lock")
            .remove(&key);
        self.client
            .inner
            .modes
            .lock()
            .expect("modes lock")
            .insert(self.endpoint.base.clone(), mode);
        true
    }

    /// Send a request built by `make` with auth; on a 401 learn the challenge and retry once.
    /// `make` is called again for the retry, so bodies must be cheap to rebuild (streaming
    /// uploads use [`Repository::send_once`] after an authenticated POST).
    async fn send(
        &self,
        what: &str,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> RegResult<reqwest::Response> {
        let mut retried = false;
        loop {
            let mut req = make(self.http());
            if let Some(a) = self.authorization().await? {
                req = req.header(AUTHORIZATION, a);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| RegistryError::transport(what, e))?;
            if resp.status() == StatusCode::UNAUTHORIZED && !retried && self.learn_challenge(&resp)
            {
                retried = true;
                continue;
            }
            return Ok(resp);
        }
    }

    /// Send once with the cached auth, attaching it only to this registry's own origin.
    async fn send_once(
        &self,
        what: &str,
        req: reqwest::RequestBuilder,
        url: &str,
    ) -> RegResult<reqwest::Response> {
        let mut req = req;
        if origin_of(url) == origin_of(&self.endpoint.base) {
            if let Some(a) = self.authorization().await? {
                req = req.header(AUTHORIZATION, a);
            }
        }
        req.send()
            .await
            .map_err(|e| RegistryError::transport(what, e))
    }

    /// `GET /v2/` (with auth): is the endpoint there and do our credentials work?
    pub async fn ping(&self) -> RegResult<()> {
        let url = format!("{}/v2/", self.endpoint.base);
        let resp = self.send(&format!("Get {url:?}"), |c| c.get(&url)).await?;
        if resp.status().is_success() || resp.status() == StatusCode::UNAUTHORIZED {
            Ok(())
        } else {
            Err(RegistryError::from_response(resp).await)
        }
    }

    /// `GET /v2/<name>/manifests/<reference>`, bounded, digest-verified when `reference` is a
    /// digest.
    pub async fn get_manifest(&self, reference: &str) -> RegResult<FetchedManifest> {
        let url = self.url(&format!("manifests/{reference}"));
        let resp = self
            .send(&format!("Get {url:?}"), |c| {
                c.get(&url).header(ACCEPT, manifest::MANIFEST_ACCEPT)
            })
            .await?;
        if !resp.status().is_success() {
            return Err(RegistryError::from_response(resp).await);
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default();
        let bytes = read_limited(resp, manifest::MAX_MANIFEST_SIZE).await?;
        let digest = sha256_digest(&bytes);
        if reference.starts_with("sha256:") && digest != reference {
            return Err(RegistryError::other(format!(
                "manifest verification failed for digest {reference}: got {digest}"
            )));
        }
        Ok(FetchedManifest {
            media_type: content_type,
            digest,
            bytes,
        })
    }

    /// `HEAD` a manifest: its digest when present.
    pub async fn head_manifest(&self, reference: &str) -> RegResult<Option<String>> {
        let url = self.url(&format!("manifests/{reference}"));
        let resp = self
            .send(&format!("Head {url:?}"), |c| {
                c.head(&url).header(ACCEPT, manifest::MANIFEST_ACCEPT)
            })
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(resp
                .headers()
                .get("Docker-Content-Digest")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(RegistryError::from_response(resp).await),
        }
    }

    /// `PUT` a manifest under a tag or digest; returns the digest of the bytes.
    pub async fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> RegResult<String> {
        let url = self.url(&format!("manifests/{reference}"));
        let body = Bytes::from(bytes);
        let digest = sha256_digest(&body);
        let resp = self
            .send(&format!("Put {url:?}"), |c| {
                c.put(&url)
                    .header(CONTENT_TYPE, media_type)
                    .body(body.clone())
            })
            .await?;
        if !resp.status().is_success() {
            return Err(RegistryError::from_response(resp).await);
        }
        Ok(digest)
    }

    /// `GET` a blob; the body streams. The caller verifies the digest while consuming it.
    pub async fn get_blob(&self, digest: &str) -> RegResult<Blob> {
        let url = self.url(&format!("blobs/{digest}"));
        let resp = self.send(&format!("Get {url:?}"), |c| c.get(&url)).await?;
        if !resp.status().is_success() {
            return Err(RegistryError::from_response(resp).await);
        }
        Ok(Blob {
            size: resp.content_length(),
            resp,
        })
    }

    /// Read a small blob (an image config) whole, bounded and verified.
    pub async fn get_small_blob(&self, digest: &str) -> RegResult<Vec<u8>> {
        let url = self.url(&format!("blobs/{digest}"));
        let resp = self.send(&format!("Get {url:?}"), |c| c.get(&url)).await?;
        if !resp.status().is_success() {
            return Err(RegistryError::from_response(resp).await);
        }
        let bytes = read_limited(resp, manifest::MAX_MANIFEST_SIZE).await?;
        let got = sha256_digest(&bytes);
        if got != digest {
            return Err(RegistryError::other(format!(
                "digest mismatch for {digest}: got {got}"
            )));
        }
        Ok(bytes)
    }

    /// `HEAD` a blob: its size when the repository has it.
    pub async fn blob_exists(&self, digest: &str) -> RegResult<Option<u64>> {
        let url = self.url(&format!("blobs/{digest}"));
        let resp = self
            .send(&format!("Head {url:?}"), |c| c.head(&url))
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(Some(
                resp.headers()
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(RegistryError::from_response(resp).await),
        }
    }

    fn location(&self, resp: &reqwest::Response) -> RegResult<String> {
        let loc = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::other("registry sent no upload Location"))?;
        let base = url::Url::parse(&format!("{}/", self.endpoint.base))
            .map_err(|e| RegistryError::other(format!("bad endpoint: {e}")))?;
        base.join(loc)
            .map(|u| u.to_string())
            .map_err(|e| RegistryError::other(format!("bad upload Location {loc:?}: {e}")))
    }

    /// `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo>`: link a blob from another
    /// repository of the same registry.
    pub async fn mount_blob(&self, digest: &str, from: &str) -> RegResult<MountOutcome> {
        let mut url = url::Url::parse(&self.url("blobs/uploads/"))
            .map_err(|e| RegistryError::other(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("mount", digest)
            .append_pair("from", from);
        let url = url.to_string();
        let resp = self
            .send(&format!("Post {url:?}"), |c| {
                c.post(&url).header(CONTENT_LENGTH, "0")
            })
            .await?;
        match resp.status() {
            StatusCode::CREATED => Ok(MountOutcome::Mounted),
            StatusCode::ACCEPTED => Ok(MountOutcome::Upload(self.location(&resp)?)),
            _ => Err(RegistryError::from_response(resp).await),
        }
    }

    /// Start an upload session; returns its URL.
    pub async fn start_upload(&self) -> RegResult<String> {
        let url = self.url("blobs/uploads/");
        let resp = self
            .send(&format!("Post {url:?}"), |c| {
                c.post(&url).header(CONTENT_LENGTH, "0")
            })
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(RegistryError::from_response(resp).await);
        }
        self.location(&resp)
    }

    /// `PATCH` one chunk at `offset` of an upload session; returns the session's next URL.
    pub async fn patch_chunk(
        &self,
        location: &str,
        offset: u64,
        chunk: Bytes,
    ) -> RegResult<String> {
        let len = chunk.len() as u64;
        let req = self
            .http()
            .request(Method::PATCH, location)
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_LENGTH, len)
            .header(
                "Content-Range",
                format!("{offset}-{}", (offset + len).saturating_sub(1)),
            )
            .body(chunk);
        let resp = self
            .send_once("uploading blob chunk", req, location)
            .await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(RegistryError::from_response(resp).await);
        }
        self.location(&resp)
    }

    /// Close an upload session with `PUT ?digest=`, sending `body` (all of the blob, or the
    /// rest of it after PATCHes; `None` when everything was PATCHed).
    pub async fn finish_upload(
        &self,
        location: &str,
        digest: &str,
        body: Option<(reqwest::Body, u64)>,
    ) -> RegResult<()> {
        let mut url = url::Url::parse(location)
            .map_err(|e| RegistryError::other(format!("bad upload location: {e}")))?;
        url.query_pairs_mut().append_pair("digest", digest);
        let url = url.to_string();
        let mut req = self.http().put(&url);
        req = match body {
            Some((b, len)) => req
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(CONTENT_LENGTH, len)
                .body(b),
            None => req.header(CONTENT_LENGTH, "0"),
        };
        let resp = self.send_once("uploading blob", req, &url).await?;
        if resp.status() != StatusCode::CREATED {
            return Err(RegistryError::from_response(resp).await);
        }
        Ok(())
    }

    /// Monolithic upload: POST then one PUT with the whole blob.
    pub async fn upload_blob(&self, digest: &str, body: reqwest::Body, size: u64) -> RegResult<()> {
        let location = self.start_upload().await?;
        self.finish_upload(&location, digest, Some((body, size)))
            .await
    }

    /// `GET /v2/<name>/tags/list`, following `Link` pagination.
    pub async fn tags(&self) -> RegResult<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut out = Vec::new();
        let mut url = self.url("tags/list");
        for _ in 0..1000 {
            let u = url.clone();
            let resp = self.send(&format!("Get {u:?}"), |c| c.get(&u)).await?;
            if !resp.status().is_success() {
                return Err(RegistryError::from_response(resp).await);
            }
            let next = resp
                .headers()
                .get("Link")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| l.split_once('<').and_then(|(_, r)| r.split_once('>')))
                .map(|(path, _)| path.to_string());
            let body = read_limited(resp, 16 << 20).await?;
            let tags: Tags = serde_json::from_slice(&body)
                .map_err(|e| RegistryError::other(format!("invalid tag list: {e}")))?;
            out.extend(tags.tags.unwrap_or_default());
            match next {
                Some(path) => {
                    let base =
                        url::Url::parse(&url).map_err(|e| RegistryError::other(e.to_string()))?;
                    url = base
                        .join(&path)
                        .map_err(|e| RegistryError::other(e.to_string()))?
                        .to_string();
                    // Pagination stays on the registry's origin.
                    if origin_of(&url) != origin_of(&self.endpoint.base) {
                        break;
                    }
                }
                None => break,
            }
        }
        Ok(out)
    }
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("endpoint", &self.endpoint)
            .field("name", &self.name)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_selection() {
        let c = RegistryClient::new(RegistryOptions {
            insecure: vec!["myreg.example:5000".into(), "plain.example".into()],
            mirrors: vec!["mirror.example/".into()],
        })
        .unwrap();
        let bases = |d: &str, m: bool| {
            c.endpoints(d, m)
                .into_iter()
                .map(|e| e.base)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bases("docker.io", true),
            vec!["https://mirror.example", "https://registry-1.docker.io"]
        );
        assert_eq!(
            bases("docker.io", false),
            vec!["https://registry-1.docker.io"]
        );
        assert_eq!(bases("127.0.0.1:5000", true), vec!["http://127.0.0.1:5000"]);
        assert_eq!(bases("localhost:5000", true), vec!["http://localhost:5000"]);
        assert_eq!(bases("[::1]:5000", true), vec!["http://[::1]:5000"]);
        assert_eq!(
            bases("myreg.example:5000", true),
            vec!["https://myreg.example:5000", "http://myreg.example:5000"]
        );
        assert_eq!(bases("plain.example:443", true).len(), 2);
        assert_eq!(bases("quay.io", true), vec!["https://quay.io"]);
        assert!(c.endpoints("myreg.example:5000", true)[0].skip_verify);
    }

    /// A one-request-per-connection HTTP server on 127.0.0.1 answering with `respond(request
    /// head)`; returns its address and the request heads it saw.
    async fn tiny_server(
        respond: impl Fn(&str) -> String + Send + Sync + 'static,
    ) -> (String, Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut c, _)) = l.accept().await else {
                    return;
                };
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = c.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&got).to_string();
                let answer = respond(&head);
                log.lock().unwrap().push(head);
                let _ = c.write_all(answer.as_bytes()).await;
                let _ = c.shutdown().await;
            }
        });
        (addr, seen)
    }

    #[tokio::test]
    async fn credentials_never_follow_a_redirect_to_another_host() {
        let body = "blob-bytes";
        let digest = sha256_digest(body.as_bytes());
        let (cdn, cdn_seen) = tiny_server(move |_| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        })
        .await;
        let cdn2 = cdn.clone();
        let (reg, reg_seen) = tiny_server(move |head| {
            if head.to_ascii_lowercase().contains("authorization: basic") {
                format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{cdn2}/blob\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            } else {
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"t\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
            }
        })
        .await;
        let client = RegistryClient::new(RegistryOptions::default()).unwrap();
        let reference = Reference::parse(&format!("{reg}/some/repo:v1")).unwrap();
        let creds = Credentials {
            username: "u".into(),
            password: "p".into(),
            ..Default::default()
        };
        let repo = client
            .repositories(&reference, Some(creds), Access::Pull)
            .remove(0);
        let got = repo.get_small_blob(&digest).await.unwrap();
        assert_eq!(got, body.as_bytes());
        let reg_seen = reg_seen.lock().unwrap().clone();
        assert_eq!(reg_seen.len(), 2, "challenge, then the authenticated retry");
        let cdn_seen = cdn_seen.lock().unwrap().clone();
        assert_eq!(cdn_seen.len(), 1);
        assert!(
            !cdn_seen[0].to_ascii_lowercase().contains("authorization"),
            "credentials leaked to the redirect target: {}",
            cdn_seen[0]
        );
    }

    #[test]
    fn server_addresses() {
        assert_eq!(
            normalize_server_address("https://index.docker.io/v1/"),
            "docker.io"
        );
        assert_eq!(normalize_server_address(""), "docker.io");
        assert_eq!(
            normalize_server_address("http://127.0.0.1:5000/"),
            "127.0.0.1:5000"
        );
        assert_eq!(
            normalize_server_address("Reg.Example:5000"),
            "reg.example:5000"
        );
    }

    #[test]
    fn error_display_like_docker() {
        let e = RegistryError {
            status: Some(404),
            code: "MANIFEST_UNKNOWN".into(),
            message: "manifest unknown".into(),
        };
        assert_eq!(e.to_string(), "manifest unknown: manifest unknown");
        assert!(e.is_not_found());
        assert_eq!(
            origin_of("http://127.0.0.1:5000/v2/x"),
            origin_of("http://127.0.0.1:5000")
        );
        assert_ne!(
            origin_of("https://s3.example/x"),
            origin_of("https://reg.example")
        );
    }
}
