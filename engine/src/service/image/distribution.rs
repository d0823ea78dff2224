//! `GET /distribution/{name}/json` (docker-py's `inspect_distribution`, `docker manifest`-like
//! tools): what a registry says a reference is, without pulling it. dockerd answers the
//! manifest's descriptor as fetched (an index's own for a multi-platform image) and the
//! platforms it covers: an index's entries, or the single image config's platform.

use serde_json::{json, Map, Value};

use super::pull::PullService;
use crate::error::{EngineError, Result};
use crate::image::reference::Reference;
use crate::registry::manifest::{self, ManifestKind};
use crate::registry::{Access, Credentials, RegistryError};

impl PullService {
    /// dockerd's `DistributionInspect` body for `reference` (a tag or a digest).
    pub async fn distribution_inspect(
        &self,
        reference: &Reference,
        creds: Option<Credentials>,
    ) -> Result<Value> {
        let tag_or_digest = reference
            .digest
            .clone()
            .or_else(|| reference.tag.clone())
            .unwrap_or_else(|| "latest".into());
        let mut last: Option<RegistryError> = None;
        for repo in self
            .registry()
            .repositories(reference, creds.clone(), Access::Pull)
        {
            let fetched = match repo.get_manifest(&tag_or_digest).await {
                Ok(m) => m,
                Err(e) => {
                    last = Some(RegistryError::most_telling(last, e));
                    continue;
                }
            };
            let (media_type, kind) = manifest::parse(Some(&fetched.media_type), &fetched.bytes)?;
            let platforms = match kind {
                ManifestKind::Index(index) => index
                    .manifests()
                    .iter()
                    .filter_map(|d| d.platform().as_ref())
                    .map(|p| {
                        let mut m = Map::new();
                        m.insert("architecture".into(), json!(p.architecture().to_string()));
                        m.insert("os".into(), json!(p.os().to_string()));
                        if let Some(v) = p.os_version() {
                            m.insert("os.version".into(), json!(v));
                        }
                        if let Some(f) = p.os_features() {
                            m.insert("os.features".into(), json!(f));
                        }
                        if let Some(v) = p.variant() {
                            m.insert("variant".into(), json!(v));
                        }
                        Value::Object(m)
                    })
                    .collect::<Vec<_>>(),
                ManifestKind::Image(image) => {
                    let bytes = repo
                        .get_small_blob(image.config().digest().as_ref())
                        .await
                        .map_err(EngineError::from)?;
                    let c: Value = serde_json::from_slice(&bytes)
                        .map_err(|e| EngineError::internal(format!("invalid image config: {e}")))?;
                    let mut m = Map::new();
                    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
                    m.insert("architecture".into(), json!(s("architecture")));
                    m.insert("os".into(), json!(s("os")));
                    if !s("variant").is_empty() {
                        m.insert("variant".into(), json!(s("variant")));
                    }
                    vec![Value::Object(m)]
                }
            };
            return Ok(json!({
                "Descriptor": {
                    "mediaType": media_type,
                    "digest": fetched.digest,
                    "size": fetched.bytes.len(),
                },
                "Platforms": platforms,
            }));
        }
        Err(last
            .map(EngineError::from)
            .unwrap_or_else(|| EngineError::internal("no registry endpoint")))
    }
}
