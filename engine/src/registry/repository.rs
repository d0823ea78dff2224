//! [`Repository`]: one repository on one endpoint; authenticated requests (challenge, token,
//! retry) and the manifest, blob and tag operations.

use std::time::Instant;

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::StatusCode;

use super::auth::{parse_challenge, Challenge};
use super::endpoint::origin_of;
use super::{
    manifest, read_limited, sha256_digest, Access, AuthMode, Blob, Credentials, Endpoint,
    RegResult, RegistryClient, RegistryError,
};

/// The manifest bytes of a GET, with their digest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub media_type: String,
    pub digest: String,
    pub bytes: Vec<u8>,
}

/// One repository on one endpoint, with its credentials. Cheap to clone.
#[derive(Clone)]
pub struct Repository {
    pub(super) client: RegistryClient,
    pub endpoint: Endpoint,
    /// Repository path, e.g. "library/busybox".
    pub name: String,
    pub(super) creds: Option<Credentials>,
    pub(super) access: Access,
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

    pub(super) fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.endpoint.base, self.name)
    }

    pub(super) fn http(&self) -> RegResult<reqwest::Client> {
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
    pub(super) async fn send(
        &self,
        what: &str,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> RegResult<reqwest::Response> {
        let mut retried = false;
        loop {
            let mut req = make(&self.http()?);
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
    pub(super) async fn send_once(
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
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::image::reference::Reference;
    use crate::registry::RegistryOptions;

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
}
