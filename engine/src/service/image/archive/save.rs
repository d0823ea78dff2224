//! `docker save`: resolve the names, pin the blobs, stream docker ≥ 25's format.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::error::{EngineError, Result};
use crate::image::archive::write::{write_archive, SaveImage, SaveLayer};
use crate::image::reference::Reference;
use crate::service::image::ingest::IngestLease;
use crate::service::image::{ImageListFilter, ImageService};

/// Resolve the names of a save (docker's rules: "repo" alone means every tag of that
/// repository, "repo:tag" that tag, an id the image untagged) and pin the blobs. NotFound for an
/// unknown name.
pub fn prepare_save(
    images: &ImageService,
    names: &[String],
) -> Result<(IngestLease, Vec<SaveImage>)> {
    if names.is_empty() {
        return Err(EngineError::invalid("no image names given"));
    }
    let lease = images.lease();
    let mut order: Vec<String> = Vec::new();
    let mut tags: HashMap<String, Vec<Reference>> = HashMap::new();
    let mut add = |id: String, t: Option<Reference>| {
        if !tags.contains_key(&id) {
            order.push(id.clone());
        }
        let v = tags.entry(id).or_default();
        if let Some(t) = t {
            if !v.contains(&t) {
                v.push(t);
            }
        }
    };
    for name in names {
        let parsed = Reference::parse(name).ok();
        let repo_only = parsed
            .as_ref()
            .is_some_and(|r| r.tag.is_none() && r.digest.is_none());
        if repo_only {
            let r = parsed.as_ref().expect("checked");
            let filter = ImageListFilter {
                references: vec![r.familiar_name()],
                ..Default::default()
            };
            let found = images.list(&filter)?;
            if !found.is_empty() {
                for img in found {
                    for t in &img.repo_tags {
                        let tr = Reference::parse(t)?.with_default_tag();
                        if tr.name() == r.name() {
                            add(img.id.clone(), Some(tr));
                        }
                    }
                }
                continue;
            }
        }
        let parts = images.image_parts(name)?;
        // "sha256:<hex>" also parses as a reference (repository "sha256"): an id (prefix) names
        // the image itself, saved without tags.
        let by_id = {
            let hex = parts.id.strip_prefix("sha256:").unwrap_or(&parts.id);
            let n = name.strip_prefix("sha256:").unwrap_or(name);
            !n.is_empty() && hex.starts_with(n)
        };
        let tag = match parsed {
            Some(r) if !by_id && r.tag.is_some() && r.digest.is_none() => Some(r),
            _ => None,
        };
        add(parts.id.clone(), tag);
    }
    let mut out = Vec::new();
    for id in order {
        let parts = images.image_parts(&id)?;
        for l in &parts.layers {
            // Pins the blob and layer so a concurrent rmi cannot pull them from under the save.
            if images
                .layer_present(&lease, &l.blob_digest, &l.diff_id)?
                .is_none()
            {
                return Err(EngineError::not_found(format!(
                    "layer {} of image {id} is missing from the store",
                    l.blob_digest
                )));
            }
        }
        out.push(SaveImage {
            config: parts.config,
            manifest: parts.manifest,
            manifest_digest: parts.manifest_digest,
            layers: parts
                .layers
                .into_iter()
                .map(|l| SaveLayer {
                    blob_digest: l.blob_digest,
                    blob_path: l.blob_path,
                    blob_size: l.blob_size,
                })
                .collect(),
            tags: tags.remove(&id).unwrap_or_default(),
        });
    }
    Ok((lease, out))
}

/// Stream the archive of prepared images into `out`. Blocking.
pub fn write_save(out: impl Write, images: &[SaveImage]) -> Result<()> {
    write_archive(io::BufWriter::with_capacity(1 << 20, out), images)
}
