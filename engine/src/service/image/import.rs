//! `POST /images/create?fromSrc=-` (`docker import`): a tar as a single-layer image.

use std::io::Read;
use std::sync::Arc;

use super::{created_unix, entry_labels, lock, ImageEntry, ImageService, Inner};
use crate::error::{EngineError, Result};
use crate::image::extract::extract_layer;
use crate::image::import::{build_config, build_manifest, decompressed, parse_config, Platform};
use crate::image::reference::Reference;
use crate::model::image::ImageContainerConfig;
use crate::store::blobs::sha256_digest;
use crate::store::images::ImageRecord;

/// What `POST /images/create?fromSrc=-` asks for, already validated.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Tag to give the new image (with its tag filled in), if any.
    pub reference: Option<Reference>,
    /// Config after applying `changes`.
    pub config: ImageContainerConfig,
    pub message: Option<String>,
    pub platform: Platform,
}

impl ImageService {
    /// Import a tar (plain or gzip) as a single-layer image; returns its id. The body is read on
    /// the blocking pool as it streams in.
    pub async fn import(&self, body: Box<dyn Read + Send>, opts: ImportOptions) -> Result<String> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.import(body, opts))
            .await
            .map_err(|e| EngineError::internal(format!("import task failed: {e}")))?
    }
}

impl Inner {
    fn import(&self, mut body: Box<dyn Read + Send>, opts: ImportOptions) -> Result<String> {
        // An empty body is an empty layer (diff id the sha256 of nothing), as dockerd imports
        // it; only a non-empty one has to be a (compressed) tar.
        let mut first = [0u8; 1];
        let n = loop {
            match body.read(&mut first) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => {
                    break other
                        .map_err(|e| EngineError::invalid(format!("reading the archive: {e}")))?
                }
            }
        };
        let reader: Box<dyn Read> = if n == 0 {
            Box::new(std::io::empty())
        } else {
            decompressed(std::io::Cursor::new(first).take(1).chain(body))?
        };
        let pending = self.layers.begin()?;
        let mut blob = self.blobs.writer()?;
        let stats = extract_layer(reader, Some(&mut blob), &pending.diff_path())?;
        pending.set_content_size(stats.content_size)?;
        tracing::debug!(diff_id = %stats.diff_id, bytes = stats.tar_size, "layer extracted");

        let created = crate::util::now_rfc3339();
        let comment = opts
            .message
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "Imported from -".to_string());
        let config_bytes = build_config(
            &opts.config,
            &stats.diff_id,
            &opts.platform,
            &comment,
            &created,
        );
        let id = sha256_digest(&config_bytes);

        let _commit = lock(&self.commit_lock);
        self.blobs.commit(blob, &stats.diff_id)?;
        self.layers.commit(pending, &stats.diff_id)?;
        self.blobs.put(&config_bytes)?;
        let manifest = build_manifest(
            &id,
            config_bytes.len() as u64,
            &[(stats.diff_id.clone(), stats.tar_size)],
        )?;
        let manifest_digest = self.blobs.put(&manifest)?;
        let record = ImageRecord {
            id: id.clone(),
            manifest_digest,
            diff_ids: vec![stats.diff_id.clone()],
            layer_blobs: vec![stats.diff_id.clone()],
            size: stats.content_size,
            last_tag_time: opts.reference.as_ref().map(|_| created.clone()),
            repo_digests: Vec::new(),
            parent: None,
        };
        // The metadata file is the commit point: everything it names is in place.
        self.meta.write(&record)?;
        let entry = ImageEntry {
            created_unix: created_unix(Some(&created)),
            config: parse_config(&config_bytes)?,
            record,
        };
        let labels = entry_labels(&entry);
        let mut idx = lock(&self.index);
        idx.images.insert(id.clone(), Arc::new(entry));
        if let Some(r) = &opts.reference {
            idx.refs.insert(r.full(), id.clone());
            self.meta.write_refs(&idx.refs)?;
        }
        drop(idx);
        // docker tags the new image first, then reports the import.
        if let Some(r) = &opts.reference {
            self.emit("tag", &id, &labels, &r.familiar());
        }
        self.emit("import", &id, &labels, &id);
        tracing::info!(image = %id, "imported image");
        Ok(id)
    }
}
