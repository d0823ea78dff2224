//! `GET /images/{name}/json`.

use std::collections::HashMap;

use super::{lock, ImageService};
use crate::error::Result;
use crate::model::image::{GraphDriver, ImageInspect, ImageMetadata, RootFs};
use crate::util::ZERO_TIME;

impl ImageService {
    /// `GET /images/{name}/json`.
    pub fn inspect(&self, name: &str) -> Result<ImageInspect> {
        let idx = lock(&self.inner.index);
        let id = idx.lookup(name)?;
        let entry = idx.entry(&id)?;
        let c = &entry.config;
        let mut dirs = entry
            .record
            .diff_ids
            .iter()
            .rev()
            .map(|d| {
                self.inner
                    .layers
                    .diff_path(d)
                    .map(|p| p.to_string_lossy().into_owned())
            })
            .collect::<Result<Vec<String>>>()?;
        let mut data = HashMap::new();
        if !dirs.is_empty() {
            data.insert("UpperDir".to_string(), dirs.remove(0));
        }
        if !dirs.is_empty() {
            data.insert("LowerDir".to_string(), dirs.join(":"));
        }
        Ok(ImageInspect {
            repo_tags: idx.repo_tags(&id),
            repo_digests: entry.record.repo_digests.clone(),
            parent: entry.record.parent.clone().unwrap_or_default(),
            comment: c.comment.clone().unwrap_or_default(),
            created: c.created.clone().unwrap_or_else(|| ZERO_TIME.to_string()),
            docker_version: c.docker_version.clone().unwrap_or_default(),
            author: c.author.clone().unwrap_or_default(),
            config: c.config.clone().unwrap_or_default(),
            architecture: c.architecture.clone(),
            variant: c.variant.clone(),
            os: c.os.clone(),
            size: entry.record.size as i64,
            graph_driver: GraphDriver {
                name: "overlay2".into(),
                data,
            },
            root_fs: RootFs {
                kind: if c.rootfs.kind.is_empty() {
                    "layers".into()
                } else {
                    c.rootfs.kind.clone()
                },
                layers: entry.record.diff_ids.clone(),
            },
            metadata: ImageMetadata {
                last_tag_time: entry
                    .record
                    .last_tag_time
                    .clone()
                    .unwrap_or_else(|| ZERO_TIME.to_string()),
            },
            id,
        })
    }
}
