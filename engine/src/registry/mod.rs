//! Registry HTTP client (OCI distribution API v2), shared by pull and push.
//!
//! - Endpoints: `docker.io` is `registry-1.docker.io` (after any `--registry-mirror`); loopback
//!   registries (127.0.0.0/8, ::1, localhost) are tried over plain HTTP, then HTTPS without
//!   certificate checks; `--insecure-registry` hosts over HTTPS without certificate checks, then
//!   plain HTTP; everything else is HTTPS with the webpki roots plus the CAs of the registry's
//!   certs directory (`tls`). Of the endpoints' errors, a registry's answer is reported over a
//!   fallback that could not be reached.
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
//!
//! Layout: `endpoint` (options, endpoint choice), `error`, `auth` (challenges, credentials),
//! `repository` (authenticated requests, manifests, blobs, tags), `upload` (uploads, mounts),
//! `blob` (response bodies), `manifest` (media types, parsing and building manifests),
//! `unreachable` (a registry that does not answer: why, and what would fix it), `tls` (certs.d
//! trust and the clients built from it); this file is the
//! client and its token cache.

pub mod auth;
mod blob;
mod endpoint;
mod error;
pub mod manifest;
mod repository;
mod tls;
mod unreachable;
mod upload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use sha2::{Digest as _, Sha256};

use crate::image::reference::Reference;
pub use auth::Credentials;
use auth::{parse_challenge, Challenge, TokenResponse};
pub use blob::{read_limited, Blob, BlobReader};
pub use endpoint::{is_loopback_host, normalize_server_address, Endpoint, RegistryOptions};
use error::unauthorized;
pub use error::{RegResult, RegistryError};
pub use repository::{FetchedManifest, Repository};
pub use unreachable::Unreachable;
pub use upload::MountOutcome;

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
    /// Clients trusting a registry's certs directory.
    tls: tls::TlsClients,
}

/// The registry client. Cheap to clone; one per engine so tokens and connections are shared.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

fn build_http(skip_verify: bool) -> RegResult<reqwest::Client> {
    configure_http(reqwest::Client::builder(), skip_verify)
}

fn configure_http(
    builder: reqwest::ClientBuilder,
    skip_verify: bool,
) -> RegResult<reqwest::Client> {
    builder
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
                tls: Default::default(),
            }),
        })
    }

    pub fn options(&self) -> &RegistryOptions {
        &self.inner.options
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
                Err(e) => last = Some(RegistryError::most_telling(last, e)),
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
            let client = self.http_for(&endpoint)?;
            let url = format!("{}/v2/", endpoint.base);
            let resp = match client.get(&url).send().await {
                Ok(r) => r,
                Err(e) => {
                    let e = RegistryError::transport(&format!("Get {url:?}"), e);
                    last = Some(RegistryError::most_telling(last, e));
                    continue;
                }
            };
            if resp.status().is_success() {
                return Ok(());
            }
            if resp.status() != StatusCode::UNAUTHORIZED {
                // e.g. a TLS registry's 400 to plain HTTP: the next endpoint may be the one.
                let e = RegistryError::from_response(resp).await;
                last = Some(RegistryError::most_telling(last, e));
                continue;
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

    /// The HTTP client for `endpoint`: the shared ones, or one that trusts the files of the
    /// registry's certs directory (read again each time, so changes apply at once).
    fn http_for(&self, endpoint: &Endpoint) -> RegResult<reqwest::Client> {
        if let Some(dir) = &endpoint.certs {
            let files = tls::read_dir(dir)?;
            return self.inner.tls.client(
                &dir.to_string_lossy(),
                &files,
                endpoint.skip_verify,
                |b| configure_http(b, endpoint.skip_verify),
            );
        }
        Ok(if endpoint.skip_verify {
            self.inner.http_insecure.clone()
        } else {
            self.inner.http.clone()
        })
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
        let client = self.http_for(endpoint)?;
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
