//! Registry pulls: resolve the manifest (choosing the platform from an index), fetch the config,
//! download up to three layers at once while they unpack (`ImageService::ingest_layer` on a
//! blocking thread reading the HTTP body), skip layers already stored, commit the image, and
//! report progress as docker's JSON message stream.
//!
//! Progress messages are built by `pull_progress`.
//!
//! Two pulls needing the same layer share it: a per-blob async lock is held while a layer
//! downloads; the second pull waits ("Waiting") and then finds the layer present. An
//! interrupted pull leaves its verified layers in the store (see store::resumable), so the next
//! pull skips them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Semaphore;

use super::ingest::{IngestLease, IngestedLayer, LayerSource, NewImage};
pub use super::pull_progress::{human_size, progress_bar, Progress};
use super::ImageService;
use crate::error::{EngineError, Result};
use crate::image::import::{host_platform, parse_config, Platform};
use crate::image::reference::Reference;
use crate::registry::manifest::{self, Descriptor, ManifestKind};
use crate::registry::{Access, Credentials, RegistryClient, RegistryError, Repository};

/// Layers downloaded at once per pull (docker's default `max-concurrent-downloads` is 3).
const PARALLEL_LAYERS: usize = 3;

/// Accepted layer media types (docker schema2, OCI; gzip, zstd or plain).
const LAYER_TYPES: &[&str] = &[
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
];

/// What to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// Without tag and digest: every tag of the repository.
    pub reference: Reference,
    /// `None`: the host's platform (and no platform check for single-platform images).
    pub platform: Option<Platform>,
    pub credentials: Option<Credentials>,
}

/// Per-engine pull state: the registry client and the layers being downloaded right now.
pub struct PullService {
    registry: RegistryClient,
    /// Blob digest → lock held while that blob downloads (work sharing between pulls).
    downloading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Another handle on the same image store, for spawned tasks.
fn share(images: &ImageService) -> ImageService {
    ImageService {
        inner: images.inner.clone(),
    }
}

/// First 12 hex digits of a digest: the per-layer id in progress messages.
fn short(digest: &str) -> String {
    let hex = digest.split_once(':').map(|(_, h)| h).unwrap_or(digest);
    hex.chars().take(12).collect()
}

/// Docker's wording for registry errors of a pull (the CLI prints them verbatim).
fn pull_error(reference: &Reference, e: RegistryError) -> EngineError {
    let name = reference.familiar_name();
    if e.code == "MANIFEST_UNKNOWN" && e.status == Some(404) {
        let shown = reference.clone().with_default_tag().familiar();
        return EngineError::NotFound(format!("manifest for {shown} not found: {e}"));
    }
    if e.is_not_found() || e.is_unauthorized() {
        return EngineError::NotFound(format!(
            "pull access denied for {name}, repository does not exist or may require 'docker login': {e}"
        ));
    }
    EngineError::Internal(e.to_string())
}

/// A manifest resolved to one image: where it came from and what it is.
pub struct Resolved {
    repo: Repository,
    /// Digest the reference resolved to (the index's for multi-platform images): RepoDigests.
    digest: String,
    /// The image manifest's bytes (platform-specific).
    manifest: Vec<u8>,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

impl PullService {
    pub fn new(registry: RegistryClient) -> Self {
        PullService {
            registry,
            downloading: Mutex::new(HashMap::new()),
        }
    }

    pub fn registry(&self) -> &RegistryClient {
        &self.registry
    }

    /// Resolve a tag or digest to an image manifest for `platform`, trying each endpoint (mirrors
    /// first). Errors come before any progress is written, so the API answers them with a
    /// status code.
    pub async fn resolve(
        &self,
        reference: &Reference,
        tag_or_digest: &str,
        platform: Option<&Platform>,
        creds: Option<Credentials>,
    ) -> Result<Resolved> {
        let mut last = None;
        let mut mirror_failures = Vec::new();
        for repo in self.registry.repositories(reference, creds, Access::Pull) {
            match repo.get_manifest(tag_or_digest).await {
                Ok(m) => return self.resolve_from(repo, m, reference, platform).await,
                Err(e) => {
                    tracing::debug!(endpoint = %repo.endpoint.base, error = %e, "manifest fetch failed");
                    if repo.endpoint.mirror {
                        mirror_failures.push(format!("{}: {e}", repo.endpoint.base));
                    }
                    last = Some(RegistryError::most_telling(last, e));
                }
            }
        }
        let mut e = last.unwrap_or_else(|| RegistryError {
            status: None,
            code: String::new(),
            message: "no registry endpoint".into(),
            unreachable: None,
        });
        if e.unreachable.is_some() && !mirror_failures.is_empty() {
            // docker.io itself is out of reach: what the mirrors said is the useful part.
            e.message = format!(
                "{} (mirror {})",
                e.message,
                mirror_failures.join("; mirror ")
            );
        }
        Err(self.fail(reference, e))
    }

    /// A registry failure as the pull reports it: docker's wording, and for a registry that
    /// could not be reached, what would fix it.
    fn fail(&self, reference: &Reference, e: RegistryError) -> EngineError {
        pull_error(reference, self.registry.with_advice(&reference.domain, e))
    }

    async fn resolve_from(
        &self,
        repo: Repository,
        fetched: crate::registry::FetchedManifest,
        reference: &Reference,
        platform: Option<&Platform>,
    ) -> Result<Resolved> {
        let digest = fetched.digest.clone();
        let (_, kind) = manifest::parse(Some(&fetched.media_type), &fetched.bytes)?;
        let (bytes, kind) = match kind {
            ManifestKind::Index(index) => {
                let want = platform.cloned().unwrap_or_else(host_platform);
                let chosen =
                    manifest::select_platform(index.manifests(), &want).ok_or_else(|| {
                        EngineError::NotFound(format!(
                            "no matching manifest for {} in the manifest list entries",
                            manifest::platform_string(&want)
                        ))
                    })?;
                manifest::validate_digest(chosen.digest().as_ref())?;
                let m = repo
                    .get_manifest(chosen.digest().as_ref())
                    .await
                    .map_err(|e| self.fail(reference, e))?;
                let (_, kind) = manifest::parse(Some(&m.media_type), &m.bytes)?;
                if matches!(kind, ManifestKind::Index(_)) {
                    return Err(EngineError::invalid(
                        "manifest list entry is itself a manifest list",
                    ));
                }
                (m.bytes, kind)
            }
            kind => (fetched.bytes, kind),
        };
        let ManifestKind::Image(image) = kind else {
            return Err(EngineError::internal("unexpected manifest kind"));
        };
        for l in image.layers() {
            let media_type = l.media_type().as_ref();
            if !media_type.is_empty() && !LAYER_TYPES.contains(&media_type) {
                return Err(EngineError::invalid(format!(
                    "unsupported layer media type {media_type}"
                )));
            }
        }
        Ok(Resolved {
            repo,
            digest,
            manifest: bytes,
            config: image.config().clone(),
            layers: image.layers().clone(),
        })
    }

    fn layer_lock(&self, digest: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.downloading.lock().expect("downloading lock");
        // Forget locks nobody holds any more, so the map stays small.
        map.retain(|_, l| Arc::strong_count(l) > 1);
        map.entry(digest.to_string()).or_default().clone()
    }

    /// Pull one resolved image and commit it under `tag` (None for digest pulls). Returns the
    /// image id and whether the tag changed (docker's "Downloaded newer image").
    pub async fn pull_resolved(
        self: &Arc<Self>,
        images: &ImageService,
        reference: &Reference,
        resolved: Resolved,
        platform: Option<&Platform>,
        progress: &Progress,
    ) -> Result<(String, bool)> {
        let Resolved {
            repo,
            digest,
            manifest: manifest_bytes,
            config,
            layers,
        } = resolved;
        let config_bytes = repo
            .get_small_blob(config.digest().as_ref())
            .await
            .map_err(|e| self.fail(reference, e))?;
        let parsed = parse_config(&config_bytes)
            .map_err(|e| EngineError::invalid(format!("invalid image config: {e}")))?;
        if let Some(want) = platform {
            if !parsed.architecture.is_empty() && parsed.architecture != want.architecture {
                return Err(EngineError::NotFound(format!(
                    "image with reference {} was found but its platform (linux/{}) does not match the specified platform ({})",
                    reference.familiar(),
                    parsed.architecture,
                    manifest::platform_string(want)
                )));
            }
        }
        let diff_ids = parsed.rootfs.diff_ids.clone();
        if diff_ids.len() != layers.len() {
            return Err(EngineError::invalid(format!(
                "image config has {} diff_ids but the manifest has {} layers",
                diff_ids.len(),
                layers.len()
            )));
        }
        let config_id = crate::registry::sha256_digest(&config_bytes);
        let before = images.resolve(&reference.full()).ok().map(|r| r.id);

        let lease = Arc::new(images.lease());
        let semaphore = Arc::new(Semaphore::new(PARALLEL_LAYERS));
        // Docker lists every layer first, then updates them.
        let mut present: Vec<Option<IngestedLayer>> = Vec::with_capacity(layers.len());
        for (l, d) in layers.iter().zip(&diff_ids) {
            let p = images.layer_present(&lease, l.digest().as_ref(), d)?;
            progress.layer(
                &short(l.digest().as_ref()),
                if p.is_some() {
                    "Already exists"
                } else {
                    "Pulling fs layer"
                },
            );
            present.push(p);
        }
        let mut tasks = Vec::new();
        for ((l, d), p) in layers.iter().zip(&diff_ids).zip(present) {
            if let Some(p) = p {
                tasks.push(tokio::spawn(async move { Ok(p) }));
                continue;
            }
            let this = self.clone();
            let images = share(images);
            let repo = repo.clone();
            let lease = lease.clone();
            let sem = semaphore.clone();
            let progress = progress.clone();
            let l = l.clone();
            let d = d.clone();
            tasks.push(tokio::spawn(async move {
                this.pull_layer(&images, &repo, &lease, &sem, &l, &d, &progress)
                    .await
            }));
        }
        let mut ingested = Vec::with_capacity(tasks.len());
        let mut first_err = None;
        for t in tasks {
            match t.await {
                Ok(Ok(l)) => ingested.push(l),
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(e) => {
                    first_err.get_or_insert(EngineError::internal(format!(
                        "layer download task failed: {e}"
                    )));
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        let lease = Arc::try_unwrap(lease)
            .map_err(|_| EngineError::internal("layer downloads still hold the ingest lease"))?;
        let tags = if reference.digest.is_none() {
            vec![reference.clone().with_default_tag()]
        } else {
            Vec::new()
        };
        // Shown as docker shows them: "busybox@sha256:..." for docker.io.
        let repo_digest = format!("{}@{digest}", reference.familiar_name());
        let new = NewImage {
            config: config_bytes,
            manifest: manifest_bytes,
            layers: ingested,
            tags,
            repo_digests: vec![repo_digest],
            event: Some("pull"),
            parent: None,
        };
        let svc = share(images);
        let id = tokio::task::spawn_blocking(move || svc.commit_image(lease, new))
            .await
            .map_err(|e| EngineError::internal(format!("commit task failed: {e}")))??;
        debug_assert_eq!(id, config_id);
        progress.status(&format!("Digest: {digest}"));
        Ok((id.clone(), before.as_deref() != Some(id.as_str())))
    }

    /// Download and unpack one layer (or wait for a concurrent pull that is doing it).
    #[allow(clippy::too_many_arguments)]
    async fn pull_layer(
        &self,
        images: &ImageService,
        repo: &Repository,
        lease: &Arc<IngestLease>,
        sem: &Semaphore,
        layer: &Descriptor,
        diff_id: &str,
        progress: &Progress,
    ) -> Result<IngestedLayer> {
        let id = short(layer.digest().as_ref());
        let shared = self.layer_lock(layer.digest().as_ref());
        let guard = match shared.clone().try_lock_owned() {
            Ok(g) => g,
            Err(_) => {
                progress.layer(&id, "Waiting");
                shared.clone().lock_owned().await
            }
        };
        // Another pull may have finished it while we waited.
        if let Some(p) = images.layer_present(lease, layer.digest().as_ref(), diff_id)? {
            progress.layer(&id, "Already exists");
            return Ok(p);
        }
        let _permit = match sem.try_acquire() {
            Ok(p) => p,
            Err(_) => {
                progress.layer(&id, "Waiting");
                sem.acquire()
                    .await
                    .map_err(|_| EngineError::internal("download semaphore closed"))?
            }
        };
        let blob = repo
            .get_blob(layer.digest().as_ref())
            .await
            .map_err(|e| EngineError::internal(format!("downloading layer {id}: {e}")))?;
        let expected = (layer.size() > 0).then_some(layer.size());
        let total = expected.or(blob.size);
        let mut reader = blob.into_reader();
        let svc = share(images);
        let lease = lease.clone();
        let digest = layer.digest().to_string();
        let media_type = layer.media_type().to_string();
        let diff = diff_id.to_string();
        let p = progress.clone();
        let pid = id.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut last = Instant::now() - Duration::from_secs(1);
            let mut report = |n: u64| {
                // Throttled: one message per 100 ms is what docker's progress reader does too.
                if last.elapsed() >= Duration::from_millis(100) || Some(n) == total {
                    last = Instant::now();
                    p.bytes(&pid, "Downloading", n, total);
                }
            };
            svc.ingest_layer(
                &lease,
                &mut reader,
                LayerSource {
                    digest: Some(&digest),
                    size: expected,
                    diff_id: Some(&diff),
                    media_type: (!media_type.is_empty()).then_some(media_type.as_str()),
                },
                &mut report,
            )
        })
        .await
        .map_err(|e| EngineError::internal(format!("layer task failed: {e}")))?;
        drop(guard);
        let l = result?;
        progress.layer(&id, "Verifying Checksum");
        progress.layer(&id, "Download complete");
        progress.bytes(&id, "Extracting", l.blob_size, Some(l.blob_size));
        progress.layer(&id, "Pull complete");
        Ok(l)
    }

    /// A whole pull as `POST /images/create?fromImage=` does it, after `first` (the resolved
    /// manifest of a single-tag pull, already checked before the 200 went out).
    pub async fn run(
        self: &Arc<Self>,
        images: &ImageService,
        opts: &PullOptions,
        first: Option<Resolved>,
        progress: &Progress,
    ) -> Result<()> {
        let reference = &opts.reference;
        if reference.tag.is_none() && reference.digest.is_none() {
            // All tags.
            let repo = self
                .registry
                .repository(reference, opts.credentials.clone(), Access::Pull)
                .await
                .map_err(|e| self.fail(reference, e))?;
            let mut tags = repo.tags().await.map_err(|e| self.fail(reference, e))?;
            tags.sort();
            let mut newer = false;
            for tag in tags {
                let mut r = reference.clone();
                r.tag = Some(tag.clone());
                progress.send(
                    json!({ "status": format!("Pulling from {}", reference.path), "id": tag }),
                );
                let resolved = self
                    .resolve(&r, &tag, opts.platform.as_ref(), opts.credentials.clone())
                    .await?;
                let (_, changed) = self
                    .pull_resolved(images, &r, resolved, opts.platform.as_ref(), progress)
                    .await?;
                newer |= changed;
            }
            let name = reference.familiar_name();
            progress.status(&if newer {
                format!("Status: Downloaded newer image for {name}")
            } else {
                format!("Status: Image is up to date for {name}")
            });
            return Ok(());
        }
        let tag_or_digest = reference
            .digest
            .clone()
            .or_else(|| reference.tag.clone())
            .unwrap_or_default();
        let resolved = match first {
            Some(r) => r,
            None => {
                self.resolve(
                    reference,
                    &tag_or_digest,
                    opts.platform.as_ref(),
                    opts.credentials.clone(),
                )
                .await?
            }
        };
        progress.send(json!({
            "status": format!("Pulling from {}", reference.path),
            "id": tag_or_digest,
        }));
        let (_, changed) = self
            .pull_resolved(
                images,
                reference,
                resolved,
                opts.platform.as_ref(),
                progress,
            )
            .await?;
        let shown = reference.familiar();
        progress.status(&if changed {
            format!("Status: Downloaded newer image for {shown}")
        } else {
            format!("Status: Image is up to date for {shown}")
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_errors_like_docker() {
        let r = Reference::parse("127.0.0.1:5000/nope:x").unwrap();
        let e = pull_error(
            &r,
            RegistryError {
                status: Some(404),
                code: "MANIFEST_UNKNOWN".into(),
                message: "manifest unknown".into(),
                unreachable: None,
            },
        );
        assert_eq!(
            e.to_string(),
            "manifest for 127.0.0.1:5000/nope:x not found: manifest unknown: manifest unknown"
        );
        let e = pull_error(
            &Reference::parse("nosuchrepo").unwrap(),
            RegistryError {
                status: Some(401),
                code: "UNAUTHORIZED".into(),
                message: "authentication required".into(),
                unreachable: None,
            },
        );
        assert!(matches!(e, EngineError::NotFound(_)));
        assert!(e
            .to_string()
            .starts_with("pull access denied for nosuchrepo, repository does not exist"));
    }
}
