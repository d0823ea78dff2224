//! `POST /images/{name}/push`: upload an image's layers, config and manifest to a registry, with
//! docker's progress messages.
//!
//! Per layer: pick the blob to send (a stored blob that is already compressed goes as it is; an
//! uncompressed one is compressed once, kept in the blob store and remembered, so every later
//! push reuses it), `HEAD` it ("Layer already exists"), try a cross-repository mount from a
//! repository of the same registry known to hold it ("Mounted from x"), otherwise upload it
//! ("Pushing" with progress, "Pushed"). Then the config blob and the manifest: the image's own
//! manifest bytes when every layer went as stored (so its digest is the one the image already
//! has), otherwise a new manifest naming the compressed blobs.
//!
//! `plan` works out the tags to push; `layer` picks, compresses, skips or mounts each layer's
//! blob, `upload` sends it; `manifest` builds the manifest when the blobs differ from the stored
//! ones; `known_blobs` remembers which repositories hold which blobs; `progress` writes docker's
//! messages; `blobs` is the blob-store access push needs.

mod blobs;
mod known_blobs;
mod layer;
mod manifest;
mod plan;
mod progress;
#[cfg(test)]
mod tests;
mod upload;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::json;
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::image::compress::Compression;
use crate::image::reference::Reference;
use crate::registry::{Access, Credentials, Repository};
use crate::service::events::kind;
use crate::service::image::parts::ImageParts;
use crate::service::image::short_id;
use crate::service::Engine;

pub use known_blobs::KnownBlobs;
use layer::{push_layer, LayerCtx, PushBlob};
use manifest::{build_manifest, manifest_media_type};
pub use plan::{plan, PushPlan};
use progress::Progress;
pub use progress::{human_size, progress_bar};

/// Layers uploaded at once (docker's default max-concurrent-uploads is 5; compression already
/// uses every core, so fewer parallel layers keep memory and disk contention down).
const CONCURRENT_LAYERS: usize = 3;

/// Push options beyond the plan.
#[derive(Clone)]
pub struct PushOptions {
    pub creds: Option<Credentials>,
    pub compression: Compression,
}

/// Run the push, streaming progress into `tx`. Errors are returned (the caller puts them in the
/// stream as errorDetail).
pub async fn push(
    engine: Arc<Engine>,
    plan: PushPlan,
    opts: PushOptions,
    tx: mpsc::Sender<Bytes>,
) -> Result<()> {
    let progress = Progress { tx };
    let repo_ref = &plan.repository;
    progress
        .status(&format!(
            "The push refers to repository [{}]",
            repo_ref.name()
        ))
        .await?;
    let repo = engine
        .pulls
        .registry()
        .repository(repo_ref, opts.creds.clone(), Access::PullPush)
        .await?;
    // Blobs already known to be in the target repository during this push (several tags often
    // share layers).
    let present: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    for (target, id) in &plan.targets {
        let tag = target.tag.clone().unwrap_or_else(|| "latest".into());
        // The lease pins the image's layer blobs until this tag is pushed: an `rmi` meanwhile
        // cannot delete what is being read.
        let (parts, _lease) = {
            let engine = engine.clone();
            let id = id.clone();
            tokio::task::spawn_blocking(move || -> Result<_> {
                let parts = engine.images.image_parts(&id)?;
                let lease = engine.images.lease();
                for l in &parts.layers {
                    if engine
                        .images
                        .layer_present(&lease, &l.blob_digest, &l.diff_id)?
                        .is_none()
                    {
                        return Err(EngineError::not_found(format!(
                            "No such image: {id} (it was removed during the push)"
                        )));
                    }
                }
                Ok((parts, lease))
            })
            .await
            .map_err(|e| EngineError::internal(format!("push task failed: {e}")))??
        };
        let (digest, size) = push_image(
            &engine, &repo, repo_ref, &parts, &tag, &opts, &progress, &present,
        )
        .await?;
        progress
            .status(&format!("{tag}: digest: {digest} size: {size}"))
            .await?;
        progress
            .send(json!({
                "progressDetail": {},
                "aux": { "Tag": tag, "Digest": digest, "Size": size },
            }))
            .await?;
        let repo_digest = format!("{}@{digest}", repo_ref.familiar_name());
        {
            let engine = engine.clone();
            let id = parts.id.clone();
            tokio::task::spawn_blocking(move || engine.images.add_repo_digest(&id, &repo_digest))
                .await
                .map_err(|e| EngineError::internal(format!("push task failed: {e}")))??;
        }
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), target.familiar());
        engine
            .events()
            .publish(kind::IMAGE, "push", &parts.id, attrs);
        tracing::info!(image = %parts.id, reference = %target.familiar(), %digest, "pushed image");
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn push_image(
    engine: &Arc<Engine>,
    repo: &Repository,
    repo_ref: &Reference,
    parts: &ImageParts,
    tag: &str,
    opts: &PushOptions,
    progress: &Progress,
    present: &Arc<Mutex<BTreeSet<String>>>,
) -> Result<(String, usize)> {
    // Layers are shown top first, as docker does.
    let ids: Vec<String> = parts.layers.iter().map(|l| short_id(&l.diff_id)).collect();
    for id in ids.iter().rev() {
        progress.layer(id, "Preparing").await?;
    }
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_LAYERS));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, layer) in parts.layers.iter().enumerate().rev() {
        let permit = match limit.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                progress.layer(&ids[i], "Waiting").await?;
                None
            }
        };
        let ctx = LayerCtx {
            engine: engine.clone(),
            repo: repo.clone(),
            repo_ref: repo_ref.clone(),
            source_repos: source_repositories(parts, repo_ref),
            layer: layer.clone(),
            id: ids[i].clone(),
            opts: opts.clone(),
            progress: progress.clone(),
            present: present.clone(),
        };
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = match permit {
                Some(p) => p,
                None => limit
                    .acquire_owned()
                    .await
                    .map_err(|_| EngineError::internal("push cancelled"))?,
            };
            push_layer(ctx).await.map(|b| (i, b))
        });
    }
    let mut blobs: Vec<Option<PushBlob>> = vec![None; parts.layers.len()];
    while let Some(res) = tasks.join_next().await {
        let (i, b) = res.map_err(|e| EngineError::internal(format!("push task failed: {e}")))??;
        blobs[i] = Some(b);
    }
    let blobs: Vec<PushBlob> = blobs.into_iter().flatten().collect();

    // The config blob.
    if repo.blob_exists(&parts.id).await?.is_none() {
        repo.upload_blob(
            &parts.id,
            reqwest::Body::from(parts.config.clone()),
            parts.config.len() as u64,
        )
        .await?;
    }

    let (media_type, manifest) = if blobs.iter().all(|b| b.as_stored) {
        (manifest_media_type(&parts.manifest), parts.manifest.clone())
    } else {
        build_manifest(parts, &blobs, opts.compression)?
    };
    let size = manifest.len();
    let digest = repo.put_manifest(tag, &media_type, manifest).await?;
    Ok((digest, size))
}

/// Repositories of the same registry the image came from (its RepoDigests): its stored blobs are
/// there, so they can be mounted instead of uploaded.
fn source_repositories(parts: &ImageParts, target: &Reference) -> Vec<String> {
    parts
        .repo_digests
        .iter()
        .filter_map(|d| Reference::parse(d).ok())
        .filter(|r| r.domain == target.domain && r.path != target.path)
        .map(|r| r.path)
        .collect()
}

/// Parse the `compression` push parameter (defaults to the engine's setting, gzip).
pub fn compression_param(v: Option<&str>) -> Result<Compression> {
    Compression::parse(v.unwrap_or(""))
}
