//! Container filesystem operations: changes, export, archive stat/get/put.
//!
//! A running (or paused) container is reached through its init's `/proc/<pid>/root`, which shows
//! its mounts too; a stopped one through a detached overlay of its layers (read-only with the
//! upper dir as top layer for reads; the real upper/work pair for writes, under the container's
//! operation lock so a start cannot mount the same upper dir meanwhile). A stopped container's
//! volumes and binds are attached to that overlay (`archive::volumes`), as dockerd mounts them
//! for a copy: `docker cp` into a created container's anonymous volume lands in the volume.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::archive::changes::{changes, Change};
use crate::archive::tar_in::{extract, ExtractOptions};
use crate::archive::tar_out::{write_tar, Mounts};
use crate::archive::volumes::VolumeBind;
use crate::archive::{stat_path, ContainerRoot, PathStat};
use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, Status};
use crate::model::volume::{MountPoint, MountType};
use crate::runtime::spec::files;
use crate::service::container::{Container, ContainerService};

/// Chunk size of streamed archives.
const CHUNK: usize = 64 * 1024;

fn is_live(rec: &ContainerRecord) -> bool {
    matches!(rec.state.status, Status::Running | Status::Paused) && rec.state.pid > 0
}

/// The container's root for reading.
fn root_for_read(svc: &ContainerService, c: &Container) -> Result<ContainerRoot> {
    let rec = c.record();
    if is_live(&rec) {
        if let Ok(root) = ContainerRoot::of_process(rec.state.pid) {
            // The pid could have exited (and been reused) between the record read and the open:
            // trust the fd only if the container is still running with that pid.
            let now = c.record();
            if is_live(&now) && now.state.pid == rec.state.pid {
                return Ok(root);
            }
        }
    }
    let dir = svc.dir(&rec.id);
    let root = ContainerRoot::overlay(&rec.layer_dirs, &dir.join(files::UPPER), None)?;
    // A volume that cannot be attached shows what the image has below its mount point.
    let _ = attach_volumes(&root, &rec, false);
    Ok(root)
}

/// A stopped container's mount points, made in its upper dir when missing (a container that never
/// ran has none), so the read-only view can attach its volumes: `docker cp` stats the volume's
/// directory before it copies into a created container. Under the operation lock, as a start
/// mounts the same upper dir.
async fn ensure_mount_points(svc: &Arc<ContainerService>, c: &Arc<Container>) -> Result<()> {
    if is_live(&c.record()) || c.record().mounts.iter().all(|m| m.kind == MountType::Tmpfs) {
        return Ok(());
    }
    let _op = c.lock_op().await;
    let rec = c.record();
    if is_live(&rec) {
        return Ok(());
    }
    let dir = svc.dir(&rec.id);
    blocking(move || {
        let upper = dir.join(files::UPPER);
        let ro = ContainerRoot::overlay(&rec.layer_dirs, &upper, None)?;
        let missing = rec.mounts.iter().any(|m| {
            m.kind != MountType::Tmpfs
                && ro
                    .open(&m.destination, libc::O_PATH)
                    .is_err_and(|e| e == nix::errno::Errno::ENOENT)
        });
        drop(ro);
        if missing {
            let rw = ContainerRoot::overlay(&rec.layer_dirs, &upper, Some(&dir.join(files::WORK)))?;
            let _ = attach_volumes(&rw, &rec, true);
        }
        Ok(())
    })
    .await
}

/// Attach a stopped container's volumes and binds (tmpfs ones have no content while it is
/// stopped) to its detached root; `create` makes missing mount points (the writable view).
/// Returns the destinations that could not be attached.
fn attach_volumes(root: &ContainerRoot, rec: &ContainerRecord, create: bool) -> Vec<String> {
    let mut mounts: Vec<&MountPoint> = rec
        .mounts
        .iter()
        .filter(|m| m.kind != MountType::Tmpfs)
        .collect();
    // Parents before children, so /a/b lands on top of /a.
    mounts.sort_by_key(|m| m.destination.matches('/').count());
    let binds: Vec<VolumeBind<'_>> = mounts
        .iter()
        .map(|m| VolumeBind {
            source: &m.source,
            destination: &m.destination,
            readonly: !m.rw,
        })
        .collect();
    let mut failed = Vec::new();
    for (dest, e) in root.attach_binds(&binds, create) {
        tracing::debug!(container = %rec.id, %dest, error = %e, "volume not attached for archive");
        failed.push(dest);
    }
    failed
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::internal(format!("archive task failed: {e}")))?
}

/// `GET /containers/{id}/changes`.
pub async fn container_changes(svc: &ContainerService, key: &str) -> Result<Vec<Change>> {
    let c = svc.get(key)?;
    let rec = c.record();
    let upper = svc.dir(&rec.id).join(files::UPPER);
    blocking(move || {
        changes(&upper, &rec.layer_dirs)
            .map_err(|e| EngineError::internal(format!("reading container changes: {e}")))
    })
    .await
}

/// `HEAD /containers/{id}/archive`.
pub async fn stat(svc: &Arc<ContainerService>, key: &str, path: &str) -> Result<PathStat> {
    let c = svc.get(key)?;
    ensure_mount_points(svc, &c).await?;
    let svc = svc.clone();
    let path = path.to_string();
    let name = key.to_string();
    blocking(move || {
        let root = root_for_read(&svc, &c)?;
        Ok(stat_path(&root, &path, &name)?.2)
    })
    .await
}

/// `GET /containers/{id}/archive`: the stat, and a stream of the tar.
pub async fn get_archive(
    svc: &Arc<ContainerService>,
    key: &str,
    path: &str,
) -> Result<(PathStat, mpsc::Receiver<Bytes>)> {
    let c = svc.get(key)?;
    ensure_mount_points(svc, &c).await?;
    let svc = svc.clone();
    let path = path.to_string();
    let name = key.to_string();
    let (tx, rx) = mpsc::channel(8);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let prepared = root_for_read(&svc, &c).and_then(|root| {
            let (p, res, st) = stat_path(&root, &path, &name)?;
            Ok((root, p, res, st))
        });
        let (root, p, res, st) = match prepared {
            Ok(v) => v,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        if ready_tx.send(Ok(st)).is_err() {
            return;
        }
        let w = ChannelWriter::new(tx);
        match write_tar(w, &res, &p.archive_base(), Mounts::SkipPseudo) {
            Ok(mut w) => {
                let _ = w.flush();
            }
            Err(e) => tracing::debug!(error = %e, "archive stream ended early"),
        }
        drop(root);
    });
    let st = ready_rx
        .await
        .map_err(|_| EngineError::internal("archive task ended"))??;
    Ok((st, rx))
}

/// `GET /containers/{id}/export`: the rootfs (without mounts) as a tar stream.
pub async fn export(svc: &Arc<ContainerService>, key: &str) -> Result<mpsc::Receiver<Bytes>> {
    let c = svc.get(key)?;
    let svc = svc.clone();
    let name = key.to_string();
    let (tx, rx) = mpsc::channel(8);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let prepared = root_for_read(&svc, &c).and_then(|root| {
            let (_, res, _) = stat_path(&root, "/.", &name)?;
            Ok((root, res))
        });
        let (root, res) = match prepared {
            Ok(v) => v,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        if ready_tx.send(Ok(())).is_err() {
            return;
        }
        match write_tar(ChannelWriter::new(tx), &res, ".", Mounts::SameMount) {
            Ok(mut w) => {
                let _ = w.flush();
            }
            Err(e) => tracing::debug!(error = %e, "export stream ended early"),
        }
        drop(root);
    });
    ready_rx
        .await
        .map_err(|_| EngineError::internal("export task ended"))??;
    Ok(rx)
}

pub struct PutOptions {
    pub no_overwrite_dir_non_dir: bool,
    pub copy_uid_gid: bool,
}

/// `PUT /containers/{id}/archive`: extract the tar arriving on `body` into the directory `path`.
pub async fn put_archive(
    svc: &Arc<ContainerService>,
    key: &str,
    path: &str,
    opts: PutOptions,
    body: mpsc::Receiver<Bytes>,
) -> Result<()> {
    let c = svc.get(key)?;
    let rec = c.record();
    if matches!(rec.state.status, Status::Removing | Status::Dead) {
        return Err(EngineError::conflict(format!(
            "container {} is marked for removal",
            rec.id
        )));
    }
    // A stopped container's overlay is mounted writable below: no start may race with it.
    let _op = if is_live(&rec) {
        None
    } else {
        Some(c.lock_op().await)
    };
    let rec = c.record();
    let live = is_live(&rec);
    // dockerd's checkIfPathIsInAVolume: a read-only volume refuses, a writable one is written
    // even when the rootfs is read-only.
    let clean = crate::archive::ContainerPath::parse(path)?.clean;
    let mut to_volume = false;
    for m in rec
        .mounts
        .iter()
        .filter(|m| path_in(&m.destination, &clean))
    {
        if !m.rw {
            return Err(EngineError::invalid("mounted volume is marked read-only"));
        }
        to_volume = true;
    }
    if rec.host_config.readonly_rootfs && !live && !to_volume {
        return Err(EngineError::invalid("container rootfs is marked read-only"));
    }
    let dir = svc.dir(&rec.id);
    let path = path.to_string();
    let name = key.to_string();
    blocking(move || {
        let root = if live {
            ContainerRoot::of_process(rec.state.pid)?
        } else {
            let root = ContainerRoot::overlay(
                &rec.layer_dirs,
                &dir.join(files::UPPER),
                Some(&dir.join(files::WORK)),
            )?;
            // A copy into a volume that could not be attached (a kernel before 6.15) would land
            // in the upper dir, hidden by the volume at start: refuse rather than lose it.
            let clean = crate::archive::ContainerPath::parse(&path)?.clean;
            if let Some(dest) = attach_volumes(&root, &rec, true)
                .into_iter()
                .find(|d| path_in(d, &clean))
            {
                return Err(EngineError::internal(format!(
                    "cannot reach volume {dest} of a stopped container on this kernel"
                )));
            }
            root
        };
        let (_, res, _) = stat_path(&root, &format!("{}/.", path.trim_end_matches('/')), &name)
            .map_err(|e| match e {
                EngineError::InvalidArgument(m) if m.starts_with("not a directory") => {
                    EngineError::invalid("extraction point is not a directory")
                }
                EngineError::NotFound(_) => EngineError::not_found(format!(
                    "Could not find the file {path} in container {name}"
                )),
                e => e,
            })?;
        let target = res.parent.as_ref().expect("resolved dir fd");
        let dest = reopen_dir(target)?;
        let chown = if opts.copy_uid_gid && !rec.config.user.is_empty() {
            Some(container_user(&root, &rec.config.user)?)
        } else {
            None
        };
        let eopts = ExtractOptions {
            no_overwrite_dir_non_dir: opts.no_overwrite_dir_non_dir,
            chown,
            lenient_end: false,
        };
        extract(ChannelReader::new(body), &dest, &eopts)?;
        Ok(())
    })
    .await
}

/// Whether the clean container path `p` is `dest` or below it.
fn path_in(dest: &str, p: &str) -> bool {
    let dest = dest.trim_end_matches('/');
    p == dest || dest.is_empty() || p.strip_prefix(dest).is_some_and(|r| r.starts_with('/'))
}

fn reopen_dir(opath: &OwnedFd) -> Result<OwnedFd> {
    // SAFETY: valid fd and a static name.
    let fd = unsafe {
        libc::openat(
            opath.as_raw_fd(),
            c".".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(EngineError::internal(format!(
            "opening the extraction directory: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: the kernel returned a new fd.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}

/// uid/gid of docker's `User` inside the container (its own /etc/passwd and /etc/group).
fn container_user(root: &ContainerRoot, user: &str) -> Result<(u32, u32)> {
    use crate::runtime::init::user;
    let read = |p: &str| -> String {
        root.open(p, libc::O_RDONLY)
            .ok()
            .and_then(|fd| {
                let mut s = String::new();
                std::fs::File::from(fd)
                    .take(4 << 20)
                    .read_to_string(&mut s)
                    .ok()?;
                Some(s)
            })
            .unwrap_or_default()
    };
    let passwd = user::parse_passwd(&read("/etc/passwd"));
    let groups = user::parse_group(&read("/etc/group"));
    let id = user::resolve(user, &passwd, &groups)
        .map_err(|e| EngineError::invalid(format!("resolving user {user:?}: {}", e.msg)))?;
    Ok((id.uid, id.gid))
}

/// A blocking `Write` that sends 64 KiB chunks down a channel; fails once the receiver is gone
/// (the client hung up), which ends the walk.
pub struct ChannelWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    pub fn new(tx: mpsc::Sender<Bytes>) -> Self {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// A blocking `Read` over request body chunks arriving on a channel.
pub struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    cur: Bytes,
}

impl ChannelReader {
    pub fn new(rx: mpsc::Receiver<Bytes>) -> Self {
        ChannelReader {
            rx,
            cur: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.cur = b,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}
