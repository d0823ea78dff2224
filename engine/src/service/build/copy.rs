//! COPY, ADD and WORKDIR: steps that write files without running anything. The sources are
//! chosen first (`builder::copy::select`), which gives the cache key (content, mode, ownership;
//! never mtime); on a miss they are written into a temporary writable overlay of the current
//! image (`builder::rootfs::ImageMount`), whose upper dir becomes the step's layer.

use std::sync::Arc;

use super::cache;
use super::stage::{resolve_from, StageState, StepDone};
use super::{Build, BuildFailure};
use crate::builder::copy::{self as copier, CopyRequest};
use crate::builder::rootfs::{self, ImageMount};
use crate::dockerfile::Copy;
use crate::error::EngineError;
use crate::util::go::clean_absolute as clean_path;

fn fail(message: impl Into<String>) -> BuildFailure {
    BuildFailure {
        message: message.into(),
        code: None,
        http_status: 500,
    }
}

/// The layer dirs of the stage's current image (top first; none on an empty scratch stage).
fn lowers_of(b: &Build, st: &StageState) -> Result<Vec<std::path::PathBuf>, BuildFailure> {
    match &st.image {
        Some(id) => Ok(b.engine.images.resolve(id)?.layer_dirs),
        None => Ok(Vec::new()),
    }
}

pub async fn run(
    b: &Arc<Build>,
    st: &mut StageState,
    c: &Copy,
    is_add: bool,
    _number: usize,
) -> Result<StepDone, BuildFailure> {
    let kind = if is_add { "ADD" } else { "COPY" };
    let vars = st.vars();
    let ex = |w: &str| -> Result<String, BuildFailure> {
        st.lex
            .expand_word(w, &vars)
            .map_err(|e| fail(e.to_string()))
    };
    let mut sources = Vec::new();
    for s in &c.sources {
        sources.push(ex(s)?);
    }
    let dest = ex(&c.dest)?;
    let chown = c.chown.as_deref().map(ex).transpose()?;
    let chmod = c.chmod.as_deref().map(ex).transpose()?;
    let checksum = c.checksum.as_deref().map(ex).transpose()?;
    let heredocs: Vec<(String, String)> = c
        .heredocs
        .iter()
        .map(|h| {
            let content = if h.expand {
                ex(&h.content)?
            } else {
                h.content.clone()
            };
            Ok((h.name.clone(), content))
        })
        .collect::<Result<_, BuildFailure>>()?;
    let workdir = if st.img.config.working_dir.is_empty() {
        "/".to_string()
    } else {
        st.img.config.working_dir.clone()
    };

    // The source: the context, or a stage's or image's filesystem.
    let from = c.from.as_deref().map(ex).transpose()?;
    let view = match &from {
        Some(f) => {
            let image = resolve_from(b, st.index, f).await?;
            let lowers = b.engine.images.resolve(&image)?.layer_dirs;
            Some(ImageMount::read_only(&b.scratch, &lowers)?)
        }
        None => None,
    };
    let source_root = match &view {
        Some(v) => v.path().to_path_buf(),
        None => b.context.root.clone(),
    };
    // URLs (ADD only; COPY refuses them in `select` with docker's words) are downloaded
    // first: their content is part of the key.
    let remote = copier::fetch_remotes(&sources, is_add, checksum.as_deref(), &b.scratch).await?;
    let parent = st.image.clone();
    let config = serde_json::to_vec(&st.img.config).unwrap_or_default();
    let shell = st.shell().join(" ");
    let scratch = b.scratch.clone();
    let lowers = lowers_of(b, st)?;
    let images = b.engine.images.clone();
    let no_cache = b.opts.no_cache;
    let from_stage = view.is_some();
    let known_digests = (!from_stage).then(|| b.context.digests.clone());
    // Selecting and hashing read every source file: blocking work.
    let prepared = tokio::task::spawn_blocking(move || -> Result<_, BuildFailure> {
        let req = CopyRequest {
            source_root: &source_root,
            sources: &sources,
            dest: &dest,
            workdir: &workdir,
            chown: chown.as_deref(),
            chmod: chmod.as_deref(),
            is_add,
            checksum: checksum.as_deref(),
            heredocs: &heredocs,
            from_stage,
            remote: &remote,
            known_digests: known_digests.as_ref(),
        };
        let sel = copier::select(&req)?;
        let digest = sel.digest(None)?;
        let summary = sel.history_summary(kind, &dest)?;
        Ok((sel, digest, summary))
    })
    .await
    .map_err(|e| EngineError::internal(format!("copy task failed: {e}")))??;
    let (sel, digest, summary) = prepared;
    let created_by = format!("{shell} #(nop) {summary}");
    let key = cache::key(&[
        kind.as_bytes(),
        parent.as_deref().unwrap_or("scratch").as_bytes(),
        digest.as_bytes(),
        created_by.as_bytes(),
        &config,
    ]);
    if !no_cache {
        if let Some(done) = st.try_cache(b, &key)? {
            drop(view);
            return Ok(done);
        }
    }
    let layer = tokio::task::spawn_blocking(move || -> Result<_, BuildFailure> {
        let target = ImageMount::writable(&scratch, &lowers)?;
        let root = crate::fs_at::open_dir_path(target.path())
            .map_err(|e| EngineError::internal(format!("opening the step's rootfs: {e}")))?;
        copier::apply(&sel, &root)?;
        drop(root);
        target.unmount();
        let upper = target.upper().expect("writable mount").to_path_buf();
        Ok(rootfs::ingest_upper(&images, &upper, true)?)
    })
    .await
    .map_err(|e| EngineError::internal(format!("copy task failed: {e}")))??;
    drop(view);
    st.commit(b, &created_by, layer, key).await
}

/// WORKDIR: the config's working dir, and the directory itself when the image lacks it.
pub async fn workdir(
    b: &Arc<Build>,
    st: &mut StageState,
    w: &str,
) -> Result<StepDone, BuildFailure> {
    let path = st
        .lex
        .expand_word(w, &st.vars())
        .map_err(|e| fail(e.to_string()))?;
    if path.is_empty() {
        return Err(fail("WORKDIR requires exactly one argument"));
    }
    let joined = if path.starts_with('/') {
        path.clone()
    } else {
        let base = if st.img.config.working_dir.is_empty() {
            "/"
        } else {
            st.img.config.working_dir.as_str()
        };
        format!("{}/{}", base.trim_end_matches('/'), path)
    };
    let clean = clean_path(&joined);
    st.img.config.working_dir = clean.clone();
    let created_by = format!("{} #(nop) WORKDIR {clean}", st.shell().join(" "));
    let key = cache::key(&[
        b"WORKDIR",
        st.image.as_deref().unwrap_or("scratch").as_bytes(),
        created_by.as_bytes(),
        &serde_json::to_vec(&st.img.config).unwrap_or_default(),
    ]);
    if let Some(done) = st.try_cache(b, &key)? {
        return Ok(done);
    }
    let scratch = b.scratch.clone();
    let lowers = lowers_of(b, st)?;
    let images = b.engine.images.clone();
    let dir = clean.clone();
    let layer = tokio::task::spawn_blocking(move || -> Result<_, BuildFailure> {
        let target = ImageMount::writable(&scratch, &lowers)?;
        let root = crate::fs_at::open_dir_path(target.path())
            .map_err(|e| EngineError::internal(format!("opening the step's rootfs: {e}")))?;
        use std::os::fd::AsRawFd;
        crate::fs_at::in_root::mkdir_all_in_root(root.as_raw_fd(), std::path::Path::new(&dir))
            .map_err(|e| fail(format!("failed to create WORKDIR {dir}: {e}")))?;
        drop(root);
        target.unmount();
        let upper = target.upper().expect("writable mount").to_path_buf();
        Ok(rootfs::ingest_upper(&images, &upper, true)?)
    })
    .await
    .map_err(|e| EngineError::internal(format!("workdir task failed: {e}")))??;
    st.commit(b, &created_by, layer, key).await
}

#[cfg(test)]
mod tests {
    use super::clean_path;

    #[test]
    fn workdirs_are_cleaned() {
        assert_eq!(clean_path("/a/./b/../c/"), "/a/c");
        assert_eq!(clean_path("/"), "/");
    }
}
