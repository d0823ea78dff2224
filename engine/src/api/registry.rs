//! Registry endpoints: `POST /images/create?fromImage=` (pull, called from `api::images`),
//! `POST /auth` (check credentials) and `GET /distribution/{name}/json` (what a reference is on
//! its registry).

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::{Method, StatusCode};
use tokio::sync::mpsc;

use super::backend::RegistryBackend;
use super::response::{json, ok_json, streaming, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::image::import::parse_platform;
use crate::image::reference::Reference;
use crate::registry::manifest::validate_digest;
use crate::registry::Credentials;
use crate::service::image::pull::{Progress, PullOptions};

pub fn matches(method: &Method, segments: &[String]) -> bool {
    let auth = method == Method::POST && segments.len() == 1 && segments[0] == "auth";
    auth || is_distribution(method, segments)
}

fn is_distribution(method: &Method, s: &[String]) -> bool {
    method == Method::GET
        && s.len() >= 3
        && s[0] == "distribution"
        && s.last().is_some_and(|l| l == "json")
}

pub async fn handle<B: RegistryBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    if is_distribution(&r.method, &r.segments) {
        return distribution(r).await;
    }
    auth(r).await
}

/// `GET /distribution/{name}/json`; the name (slashes and all) is between the first and last
/// segments.
async fn distribution<B: RegistryBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let name = r.segments[1..r.segments.len() - 1].join("/");
    let reference = Reference::parse(&name)?;
    let creds = request_credentials(&r)?;
    let body = r.backend.registry_distribution(&reference, creds).await?;
    Ok(ok_json(&body))
}

/// Credentials of a request (`X-Registry-Auth`), anonymous when absent.
pub fn request_credentials<B>(r: &ApiRequest<B>) -> Result<Option<Credentials>> {
    match r.req.headers().get("X-Registry-Auth") {
        None => Ok(None),
        Some(v) => Credentials::from_header(
            v.to_str()
                .map_err(|_| EngineError::invalid("invalid X-Registry-Auth header"))?,
        ),
    }
}

/// `fromImage` + `tag` → the reference to pull, as the daemon combines them: `tag` may be a
/// digest; no tag and no digest at all means every tag.
pub fn pull_reference(image: &str, tag: Option<&str>) -> Result<Reference> {
    let mut reference = Reference::parse(image)?;
    if let Some(tag) = tag.map(str::trim).filter(|t| !t.is_empty()) {
        if tag.starts_with("sha256:") {
            validate_digest(tag)
                .map_err(|_| EngineError::invalid(format!("invalid digest: {tag}")))?;
            reference.tag = None;
            reference.digest = Some(tag.to_string());
        } else {
            // Validate the tag with the reference grammar.
            let r = Reference::parse(&format!("{}:{tag}", reference.name()))?;
            reference.tag = r.tag;
            reference.digest = None;
        }
    }
    Ok(reference)
}

/// `POST /images/create?fromImage=NAME[&tag=TAG|DIGEST][&platform=]`.
pub async fn pull<B: RegistryBackend>(r: ApiRequest<B>, image: String) -> Result<ApiResponse> {
    let reference = pull_reference(&image, r.query.get("tag"))?;
    let platform = match r.query.get("platform").map(str::trim) {
        Some(p) if !p.is_empty() => Some(parse_platform(Some(p))?),
        _ => None,
    };
    let credentials = request_credentials(&r)?;
    let opts = PullOptions {
        reference: reference.clone(),
        platform,
        credentials,
    };
    let backend = r.backend.clone();
    // A single image is resolved before answering, so unknown names and tags are plain HTTP
    // errors (404 with docker's wording) as the CLI expects.
    let first = if reference.tag.is_some() || reference.digest.is_some() {
        let tag_or_digest = reference
            .digest
            .clone()
            .or_else(|| reference.tag.clone())
            .unwrap_or_default();
        Some(
            backend
                .registry_resolve(
                    &reference,
                    &tag_or_digest,
                    opts.platform.as_ref(),
                    opts.credentials.clone(),
                )
                .await?,
        )
    } else {
        None
    };
    let (progress_tx, mut progress_rx) = mpsc::unbounded_channel::<Bytes>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<EngineError>();
    tokio::spawn(async move {
        let progress = Progress::new(progress_tx);
        if let Err(e) = backend.registry_pull(&opts, first, &progress).await {
            tracing::warn!(image = %opts.reference.full(), error = %e, "pull failed");
            // Before its first line the handler can still answer with a status (dockerd's
            // unflushed writer); after it, the error ends the stream.
            drop(progress);
            if let Err(e) = done_tx.send(e) {
                tracing::debug!(error = %e, "pull error after the client left");
            }
        }
    });
    // A failure before any progress (a registry that does not answer, for an all-tags pull) is
    // a plain error status, as dockerd answers it.
    let first_line = match progress_rx.recv().await {
        Some(line) => line,
        None => match done_rx.await {
            Ok(e) => return Err(e),
            Err(_) => return Ok(streaming("application/json", mpsc::channel(1).1)),
        },
    };
    let (out_tx, out_rx) = mpsc::channel::<Bytes>(64);
    // Forward to the client while it listens; keep draining after it leaves so the pull
    // finishes anyway (like docker).
    tokio::spawn(async move {
        let mut client = Some(out_tx);
        let mut first_line = Some(first_line);
        loop {
            let line = match first_line.take() {
                Some(l) => l,
                None => match progress_rx.recv().await {
                    Some(l) => l,
                    None => break,
                },
            };
            if let Some(tx) = &client {
                if tx.send(line).await.is_err() {
                    client = None;
                }
            }
        }
        if let (Some(tx), Ok(e)) = (client, done_rx.await) {
            let msg = e.to_string();
            let line = crate::api::response::progress_line(&serde_json::json!({
                "errorDetail": { "message": msg },
                "error": msg,
            }));
            let _ = tx.send(line).await;
        }
    });
    Ok(streaming("application/json", out_rx))
}

/// `POST /auth`: 200 `{"Status":"Login Succeeded"}` when the registry takes the credentials,
/// 401 with the registry's reason otherwise.
async fn auth<B: RegistryBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let backend = r.backend.clone();
    let body = r
        .req
        .into_body()
        .collect()
        .await
        .map_err(|e| EngineError::invalid(format!("reading request body: {e}")))?
        .to_bytes();
    if body.len() > 64 << 10 {
        return Err(EngineError::invalid("auth request body is too large"));
    }
    // A `null` body is an empty configuration, as in Go.
    let creds: Credentials = serde_json::from_slice::<Option<Credentials>>(&body)
        .map_err(|e| EngineError::invalid(format!("invalid auth configuration: {e}")))?
        .unwrap_or_default();
    match backend.registry_login(&creds).await {
        Ok(()) => Ok(ok_json(&serde_json::json!({
            "Status": "Login Succeeded",
            "IdentityToken": "",
        }))),
        Err(e) if e.is_unauthorized() => Ok(json(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({ "message": e.to_string() }),
        )),
        Err(e) => Err(EngineError::internal(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_image_and_tag() {
        let r = pull_reference("busybox", Some("1.36")).unwrap();
        assert_eq!(r.full(), "docker.io/library/busybox:1.36");
        let r = pull_reference("127.0.0.1:5000/x", None).unwrap();
        assert!(r.tag.is_none() && r.digest.is_none(), "all tags");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = pull_reference("127.0.0.1:5000/x", Some(&d)).unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert!(pull_reference("x", Some("bad tag")).is_err());
        assert!(pull_reference("x", Some("sha256:zz")).is_err());
        assert!(pull_reference("UPPER", None).is_err());
    }
}
