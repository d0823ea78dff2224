//! `RUN --mount=...`: what each mount type becomes for the step's container, as BuildKit does it.
//! `cache`: a directory under `<data>/builder/mounts/` kept across builds, keyed by its id
//! (default: the target), shared, private (a fresh dir while another step holds it) or locked
//! (one step at a time). `bind`: a read-only view of the context or of a stage/image (read-write
//! means writes are thrown away). `tmpfs`. `secret`: the secret's bytes in a private file bound
//! read-only, never in a layer, the history or a log. The mount points the runtime creates are
//! removed from the layer afterwards (`builder::rootfs::clean_mount_stubs`).

use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::stage::StageState;
use super::{Build, BuildFailure};
use crate::builder::rootfs::ImageMount;
use crate::dockerfile::{RunMount, Sharing};
use crate::error::EngineError;

/// The mounts of one RUN step, ready for its container.
#[derive(Default)]
pub struct StepMounts {
    api: Vec<Value>,
    targets: Vec<String>,
    key: Vec<String>,
    /// Cache ids this step holds (released after the step).
    held: Vec<String>,
    locks: Vec<tokio::sync::OwnedMutexGuard<()>>,
    /// Read-only image views mounted for `bind,from=` (unmounted on release).
    views: Vec<ImageMount>,
    /// Environment variables from `type=secret,env=`.
    pub secret_env: Vec<String>,
}

fn bad(msg: String) -> BuildFailure {
    BuildFailure {
        message: msg,
        code: None,
        http_status: 500,
    }
}

/// A mount target: absolute, cleaned; a relative one is under the working directory.
fn absolute_target(workdir: &str, target: &str) -> String {
    let joined = if target.starts_with('/') {
        target.to_string()
    } else {
        format!("{}/{}", workdir.trim_end_matches('/'), target)
    };
    crate::util::go::clean_absolute(&joined)
}

impl StepMounts {
    pub async fn prepare(
        b: &Arc<Build>,
        st: &StageState,
        specs: &[RunMount],
    ) -> Result<StepMounts, BuildFailure> {
        // The specs come with their variables expanded (`Run::expand_mounts`).
        let ex = |s: &str| -> Result<String, BuildFailure> { Ok(s.to_string()) };
        let exo = |s: &Option<String>| -> Result<Option<String>, BuildFailure> { Ok(s.clone()) };
        let workdir = if st.img.config.working_dir.is_empty() {
            "/".to_string()
        } else {
            st.img.config.working_dir.clone()
        };
        let mut m = StepMounts::default();
        for spec in specs {
            match spec {
                RunMount::Cache {
                    target,
                    id,
                    sharing,
                    from,
                    source,
                    mode,
                    uid,
                    gid,
                    read_only,
                } => {
                    let target = absolute_target(&workdir, &ex(target)?);
                    let id = exo(id)?.unwrap_or_else(|| target.clone());
                    let dir = m
                        .cache_dir(
                            b,
                            st,
                            &id,
                            *sharing,
                            (*mode, *uid, *gid),
                            exo(from)?,
                            exo(source)?,
                        )
                        .await?;
                    m.key.push(format!("cache:{id}:{target}"));
                    m.api.push(json!({"Type": "bind", "Source": dir, "Target": target, "ReadOnly": read_only}));
                    m.targets.push(target);
                }
                RunMount::Bind {
                    target,
                    source,
                    from,
                    read_write,
                } => {
                    let target = absolute_target(&workdir, &ex(target)?);
                    let source = exo(source)?.unwrap_or_else(|| "/".into());
                    let from = exo(from)?;
                    let (path, key) = m
                        .bind_source(b, st, from.as_deref(), &source, *read_write)
                        .await?;
                    m.key
                        .push(format!("bind:{key}:{source}:{target}:{read_write}"));
                    m.api.push(json!({"Type": "bind", "Source": path, "Target": target, "ReadOnly": !read_write}));
                    m.targets.push(target);
                }
                RunMount::Tmpfs { target, size } => {
                    let target = absolute_target(&workdir, &ex(target)?);
                    m.key.push(format!("tmpfs:{target}:{size:?}"));
                    let mut v = json!({"Type": "tmpfs", "Target": target});
                    if let Some(s) = size {
                        v["TmpfsOptions"] = json!({"SizeBytes": s});
                    }
                    m.api.push(v);
                    m.targets.push(target);
                }
                RunMount::Secret {
                    id,
                    target,
                    env,
                    required,
                    mode,
                    uid,
                    gid,
                } => {
                    let Some(content) = b.opts.secrets.get(id) else {
                        if *required {
                            return Err(bad(format!("secret {id}: not found")));
                        }
                        continue;
                    };
                    m.key.push(format!("secret:{id}:{target:?}:{env:?}"));
                    if let Some(var) = env {
                        m.secret_env
                            .push(format!("{var}={}", String::from_utf8_lossy(content)));
                        if target.is_none() {
                            continue;
                        }
                    }
                    let target = match target {
                        Some(t) => absolute_target(&workdir, &ex(t)?),
                        None => format!("/run/secrets/{id}"),
                    };
                    let file =
                        write_secret(&b.scratch, content, mode.unwrap_or(0o400), *uid, *gid)?;
                    m.api.push(
                        json!({"Type": "bind", "Source": file, "Target": target, "ReadOnly": true}),
                    );
                    m.targets.push(target);
                }
            }
        }
        Ok(m)
    }

    #[allow(clippy::too_many_arguments)]
    async fn cache_dir(
        &mut self,
        b: &Arc<Build>,
        st: &StageState,
        id: &str,
        sharing: Sharing,
        (mode, uid, gid): (Option<u32>, Option<u32>, Option<u32>),
        from: Option<String>,
        source: Option<String>,
    ) -> Result<PathBuf, BuildFailure> {
        let svc = b.builds();
        let name = hex::encode(Sha256::digest(id.as_bytes()));
        let mut dir = svc.cache_mounts_dir().join(&name);
        match sharing {
            Sharing::Shared => {}
            Sharing::Locked => {
                let lock = svc
                    .cache_locks
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(id.to_string())
                    .or_default()
                    .clone();
                self.locks.push(lock.lock_owned().await);
            }
            Sharing::Private => {
                let mut in_use = svc.cache_in_use.lock().unwrap_or_else(|p| p.into_inner());
                let n = in_use.entry(id.to_string()).or_insert(0);
                if *n > 0 {
                    // Another step holds it: this one gets its own, thrown away afterwards.
                    dir = b
                        .scratch
                        .join(format!("cache-{}", hex::encode(rand::random::<[u8; 8]>())));
                } else {
                    *n += 1;
                    self.held.push(id.to_string());
                }
            }
        }
        if !dir.exists() {
            let fresh = dir.with_extension("new");
            let _ = std::fs::remove_dir_all(&fresh);
            if let Some(from) = from {
                // Seed a new cache from a stage or image (BuildKit's `from`/`source`).
                let view = self.view_of(b, st, &from).await?;
                let src =
                    crate::builder::rootfs::inside(view.path(), source.as_deref().unwrap_or("/"))?;
                crate::builder::rootfs::copy_tree(&src, &fresh)?;
            } else {
                std::fs::create_dir_all(&fresh)
                    .map_err(|e| EngineError::internal(format!("creating cache mount: {e}")))?;
            }
            let perm = std::fs::Permissions::from_mode(mode.unwrap_or(0o755));
            std::fs::set_permissions(&fresh, perm)
                .map_err(|e| EngineError::internal(format!("cache mount mode: {e}")))?;
            chown(&fresh, Some(uid.unwrap_or(0)), Some(gid.unwrap_or(0)))
                .map_err(|e| EngineError::internal(format!("cache mount owner: {e}")))?;
            // Another build may have made it meanwhile: theirs wins.
            if std::fs::rename(&fresh, &dir).is_err() {
                let _ = std::fs::remove_dir_all(&fresh);
            }
        }
        Ok(dir)
    }

    /// A read-only view of a stage's or an image's filesystem, mounted for this step.
    async fn view_of(
        &mut self,
        b: &Arc<Build>,
        st: &StageState,
        from: &str,
    ) -> Result<&ImageMount, BuildFailure> {
        let image = super::stage::resolve_from(b, st.index, from).await?;
        let lowers = b.engine.images.resolve(&image)?.layer_dirs;
        let view = ImageMount::read_only(&b.scratch, &lowers)?;
        self.views.push(view);
        Ok(self.views.last().expect("just pushed"))
    }

    async fn bind_source(
        &mut self,
        b: &Arc<Build>,
        st: &StageState,
        from: Option<&str>,
        source: &str,
        read_write: bool,
    ) -> Result<(PathBuf, String), BuildFailure> {
        let (root, key) = match from {
            Some(f) => {
                let image = super::stage::resolve_from(b, st.index, f).await?;
                let view = self.view_of(b, st, f).await?;
                (view.path().to_path_buf(), image)
            }
            None => (b.context.root.clone(), "context".to_string()),
        };
        let path = crate::builder::rootfs::inside(&root, source)?;
        let key = if from.is_none() {
            // The bound files are inputs of the step: their content is part of its key.
            crate::builder::rootfs::tree_digest(&path)?
        } else {
            key
        };
        if !read_write {
            return Ok((path, key));
        }
        // Writes to a read-write bind are thrown away: bind a copy.
        let copy = b
            .scratch
            .join(format!("bind-{}", hex::encode(rand::random::<[u8; 8]>())));
        crate::builder::rootfs::copy_tree(&path, &copy)?;
        Ok((copy, key))
    }

    pub fn api_mounts(&self) -> Vec<Value> {
        self.api.clone()
    }

    pub fn targets(&self) -> Vec<String> {
        self.targets.clone()
    }

    pub fn cache_key(&self) -> String {
        self.key.join("\n")
    }

    /// Give back what the step held (private cache ids, locks, image views).
    pub fn release(self, b: &Build) {
        let svc = b.builds();
        let mut in_use = svc.cache_in_use.lock().unwrap_or_else(|p| p.into_inner());
        for id in &self.held {
            if let Some(n) = in_use.get_mut(id) {
                *n = n.saturating_sub(1);
            }
        }
        drop(in_use);
        drop(self.locks);
        drop(self.views);
    }
}

/// A secret's bytes in a private file under the build's scratch dir.
fn write_secret(
    scratch: &Path,
    content: &[u8],
    mode: u32,
    uid: Option<u32>,
    gid: Option<u32>,
) -> Result<PathBuf, BuildFailure> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = scratch.join("secrets");
    crate::store::blobs::ensure_private_dir(&dir)?;
    let path = dir.join(hex::encode(rand::random::<[u8; 12]>()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| EngineError::internal(format!("writing a secret: {e}")))?;
    f.write_all(content)
        .map_err(|e| EngineError::internal(format!("writing a secret: {e}")))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
        .and_then(|_| chown(&path, Some(uid.unwrap_or(0)), Some(gid.unwrap_or(0))))
        .map_err(|e| EngineError::internal(format!("securing a secret: {e}")))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::absolute_target;

    #[test]
    fn targets_are_absolute_and_clean() {
        assert_eq!(absolute_target("/app", "cache"), "/app/cache");
        assert_eq!(absolute_target("/app", "/root/.cache/"), "/root/.cache");
        assert_eq!(absolute_target("/", "../x"), "/x");
    }
}
