//! Blob uploads: upload sessions (POST, chunked PATCH, closing PUT) and cross-repository mounts.

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};

use super::{RegResult, RegistryError, Repository};

/// The outcome of a cross-repository mount request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountOutcome {
    /// The registry linked the blob; nothing to upload.
    Mounted,
    /// The registry started an upload session instead (this URL) — upload the blob there.
    Upload(String),
}

impl Repository {
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
            .http()?
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
        let mut req = self.http()?.put(&url);
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
}
