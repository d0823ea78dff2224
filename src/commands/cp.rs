//! `cp`: copies between a container and the host. The path logic runs on the client, as docker's
//! CLI does: stat the destination, choose the directory to extract into and the name the copied
//! root gets there, then stream a tar (PUT or GET /containers/{id}/archive). Host-side
//! extraction never writes outside the destination.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use clap::Args;
use http_body_util::BodyExt;
use hyper::body::Frame;
use hyper::Method;
use serde_json::Value;

use super::archive::body_to;
use super::Ctx;
use crate::client::api::containers;
use crate::client::{Client, DaemonError, ReqBody};
use crate::exit::ExitError;

#[derive(Args, Debug)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information).
    #[arg(short = 'a', long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH.
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// CONTAINER:SRC_PATH, a local path, or - (a tar on stdin).
    #[arg(allow_hyphen_values = true)]
    pub src: String,
    /// CONTAINER:DEST_PATH, a local path, or - (a tar on stdout).
    #[arg(allow_hyphen_values = true)]
    pub dest: String,
}

/// One side of `cp`: a container path or a local one.
#[derive(Debug, PartialEq)]
enum Side {
    Local(String),
    Container(String, String),
}

/// docker's splitCpArg: absolute paths and paths whose part before ':' has a '/' are local.
fn split_arg(arg: &str) -> Side {
    if arg.starts_with('/') || arg.starts_with('.') {
        return Side::Local(arg.into());
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.is_empty() && !c.contains('/') => Side::Container(c.into(), p.into()),
        _ => Side::Local(arg.into()),
    }
}

/// The name an archive's root entry has: "." for "dir/." (contents), else the last component.
fn archive_base(p: &str) -> String {
    if p == "." || p.ends_with("/.") {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return ".".into();
    }
    t.rsplit('/').next().unwrap_or(".").to_string()
}

/// Parent of a path as docker's SplitPathDirEntry gives it ("/" for top-level names, "." for
/// bare names).
fn parent_of(p: &str) -> String {
    let t = p.trim_end_matches('/');
    match t.rsplit_once('/') {
        Some(("", _)) => "/".into(),
        Some((d, _)) => d.into(),
        None => ".".into(),
    }
}

/// `berth cp SRC DEST`.
pub async fn cp(ctx: &Ctx, a: CpArgs) -> Result<i32> {
    let src = split_arg(&a.src);
    let dst = split_arg(&a.dest);
    match (src, dst) {
        (Side::Container(..), Side::Container(..)) => Err(ExitError::with(
            1,
            "copying between containers is not supported",
        )),
        (Side::Local(_), Side::Local(_)) => Err(ExitError::with(
            1,
            "must specify at least one container source",
        )),
        (Side::Container(c, p), Side::Local(d)) => {
            let client = ctx.client().await?;
            copy_from(&client, &c, &p, &d, a.archive, a.follow_link).await
        }
        (Side::Local(s), Side::Container(c, p)) => {
            let client = ctx.client().await?;
            copy_to(&client, &s, &c, &p, a.archive, a.follow_link).await
        }
    }
}

/// Docker's ContainerPathStat from the stat header.
struct PathStat {
    mode: u32,
    link_target: String,
}

const GO_DIR: u32 = 1 << 31;
const GO_SYMLINK: u32 = 1 << 27;

async fn stat(client: &Client, container: &str, path: &str) -> Result<PathStat> {
    let resp = client
        .open(containers::archive(Method::HEAD, container, path), &[])
        .await
        .map_err(|e| match e.downcast::<DaemonError>() {
            // HEAD answers carry no body: give docker's wording.
            Ok(d) if d.status == 404 => DaemonError {
                status: 404,
                message: format!("Could not find the file {path} in container {container}"),
            }
            .into(),
            Ok(d) => d.into(),
            Err(e) => e,
        })?;
    let hdr = resp
        .headers()
        .get("x-docker-container-path-stat")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| anyhow!("the engine sent no path stat"))?;
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(hdr)
        .context("decoding the path stat")?;
    let v: Value = serde_json::from_slice(&raw).context("decoding the path stat")?;
    Ok(PathStat {
        mode: v["mode"].as_u64().unwrap_or(0) as u32,
        link_target: v["linkTarget"].as_str().unwrap_or_default().to_string(),
    })
}

async fn copy_from(
    client: &Client,
    container: &str,
    path: &str,
    dest: &str,
    archive: bool,
    follow: bool,
) -> Result<i32> {
    let path = if path.is_empty() { "/" } else { path };
    let mut src_path = path.to_string();
    let mut st = stat(client, container, &src_path).await?;
    // -L: copy what the link points at, under the link's own name.
    let mut rebase_from = None;
    if follow && st.mode & GO_SYMLINK != 0 {
        rebase_from = Some(archive_base(&st.link_target));
        src_path = st.link_target.clone();
        st = stat(client, container, &src_path).await?;
    }
    let resp = client
        .open(containers::archive(Method::GET, container, &src_path), &[])
        .await?;
    if dest == "-" {
        body_to(resp, &mut std::io::stdout().lock()).await?;
        return Ok(0);
    }
    let src_is_dir = st.mode & GO_DIR != 0;
    let src_base = rebase_from.unwrap_or_else(|| archive_base(&src_path));
    let orig_base = archive_base(path);
    let dest_path = Path::new(dest);
    let (dir, from, to) = match std::fs::metadata(dest_path) {
        Ok(m) if m.is_dir() => (dest_path.to_path_buf(), src_base.clone(), orig_base),
        Ok(_) if src_is_dir => {
            bail!("cannot copy a directory to a file: {dest}")
        }
        Ok(_) => (
            PathBuf::from(parent_of(dest)),
            src_base.clone(),
            archive_base(dest),
        ),
        Err(_) if dest.ends_with('/') => {
            bail!("destination directory {dest} does not exist")
        }
        Err(_) => {
            let parent = PathBuf::from(parent_of(dest));
            if !parent.is_dir() {
                bail!("destination directory {} does not exist", parent.display());
            }
            (parent, src_base.clone(), archive_base(dest))
        }
    };
    // Stream the body into a blocking extractor.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(8);
    let worker = std::thread::spawn(move || {
        extract_local(
            ChanRead {
                rx,
                cur: Bytes::new(),
            },
            &dir,
            &from,
            &to,
            archive,
        )
    });
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.context("reading the engine's stream")?.into_data() {
            if tx.send(data).is_err() {
                break;
            }
        }
    }
    drop(tx);
    worker
        .join()
        .map_err(|_| anyhow!("extraction thread failed"))??;
    Ok(0)
}

struct ChanRead {
    rx: std::sync::mpsc::Receiver<Bytes>,
    cur: Bytes,
}

impl Read for ChanRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.recv() {
                Ok(b) => self.cur = b,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}

/// `name` with its leading `from` component replaced by `to` (docker's RebaseArchiveEntries).
fn rebase(name: &str, from: &str, to: &str) -> String {
    let n = name.trim_start_matches("./");
    let n = if name.starts_with("./") || name == "." || name == "./" {
        format!("./{n}")
    } else {
        n.to_string()
    };
    if n == from || n == format!("{from}/") {
        return to.to_string();
    }
    match n.strip_prefix(&format!("{from}/")) {
        Some(rest) => format!("{to}/{rest}"),
        None => n,
    }
}

/// A relative path without "." or ".." parts; None if it would climb out.
fn clean_rel(p: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Extract into `dir`, renaming the root `from` → `to`. Parents are checked not to lead out of
/// `dir` through symlinks; hard links may only point inside.
fn extract_local<R: Read>(r: R, dir: &Path, from: &str, to: &str, keep_owner: bool) -> Result<()> {
    let root = dir
        .canonicalize()
        .with_context(|| format!("destination {}", dir.display()))?;
    let mut ar = tar::Archive::new(r);
    ar.set_preserve_permissions(true);
    ar.set_preserve_ownerships(keep_owner);
    ar.set_overwrite(true);
    for entry in ar.entries().context("reading the archive")? {
        let mut entry = entry.context("reading the archive")?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let renamed = rebase(&name, from, to);
        let rel = clean_rel(&renamed).ok_or_else(|| anyhow!("refusing archive entry {name:?}"))?;
        let target = root.join(&rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
            let real = parent.canonicalize()?;
            if !real.starts_with(&root) {
                bail!("refusing archive entry {name:?}: it leads outside the destination");
            }
        }
        if entry.header().entry_type() == tar::EntryType::Link {
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default();
            let lrel = clean_rel(&rebase(&link, from, to))
                .ok_or_else(|| anyhow!("refusing hard link {name:?}"))?;
            let _ = std::fs::remove_file(&target);
            std::fs::hard_link(root.join(lrel), &target)
                .with_context(|| format!("linking {}", target.display()))?;
            continue;
        }
        if rel.as_os_str().is_empty() && entry.header().entry_type().is_dir() {
            continue;
        }
        // Replace a symlink at the target instead of writing through it.
        if let Ok(m) = std::fs::symlink_metadata(&target) {
            if m.file_type().is_symlink() || (m.is_file() && entry.header().entry_type().is_dir()) {
                std::fs::remove_file(&target)?;
            }
        }
        entry
            .unpack(&target)
            .with_context(|| format!("extracting {}", target.display()))?;
    }
    Ok(())
}

async fn copy_to(
    client: &Client,
    src: &str,
    container: &str,
    path: &str,
    archive: bool,
    follow: bool,
) -> Result<i32> {
    let path = if path.is_empty() { "/" } else { path };
    if src == "-" {
        // A tar on stdin goes as is into the destination directory.
        let st = stat(client, container, path).await?;
        if st.mode & GO_DIR == 0 {
            bail!("destination \"{container}:{path}\" must be a directory");
        }
        let (tx, body) = body_channel();
        let worker = std::thread::spawn(move || -> Result<()> {
            let mut stdin = std::io::stdin().lock();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = stdin.read(&mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                if tx.blocking_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
                    return Ok(());
                }
            }
        });
        put(client, container, path, archive, body).await?;
        worker
            .join()
            .map_err(|_| anyhow!("stdin thread failed"))??;
        return Ok(0);
    }
    let src_meta = if follow {
        std::fs::metadata(src)
    } else {
        std::fs::symlink_metadata(src)
    }
    .map_err(|e| anyhow!("stat {src}: {}", io_reason(&e)))?;
    let src_is_dir = src_meta.is_dir();
    // Where to extract, and what the source root is called there.
    let mut dst_path = path.to_string();
    let mut dst = stat(client, container, &dst_path).await;
    if let Ok(st) = &dst {
        if st.mode & GO_SYMLINK != 0 {
            let t = &st.link_target;
            dst_path = if t.starts_with('/') {
                t.clone()
            } else {
                format!("{}/{t}", parent_of(path))
            };
            dst = stat(client, container, &dst_path).await;
        }
    }
    let contents_only = archive_base(src) == ".";
    let (dir, name): (String, Option<String>) = match dst {
        Ok(st) if st.mode & GO_DIR != 0 => (
            dst_path.clone(),
            (!contents_only).then(|| archive_base(src)),
        ),
        Ok(_) if src_is_dir => bail!("cannot copy a directory to a file: {container}:{path}"),
        Ok(_) => (parent_of(&dst_path), Some(archive_base(&dst_path))),
        Err(e) => match e.downcast_ref::<DaemonError>() {
            Some(d) if d.status == 404 => {
                if path.ends_with('/') {
                    bail!("destination directory {container}:{path} does not exist");
                }
                (parent_of(&dst_path), Some(archive_base(&dst_path)))
            }
            _ => return Err(e),
        },
    };
    let (tx, body) = body_channel();
    let src_owned = PathBuf::from(src);
    let worker = std::thread::spawn(move || -> Result<()> {
        let w = ChanWrite {
            tx,
            buf: Vec::new(),
        };
        let mut b = tar::Builder::new(w);
        b.follow_symlinks(false);
        let top = name.unwrap_or_else(|| ".".into());
        if src_is_dir {
            b.append_dir_all(&top, &src_owned)?;
        } else if follow {
            let mut f = std::fs::File::open(&src_owned)?;
            b.append_file(&top, &mut f)?;
        } else {
            b.append_path_with_name(&src_owned, &top)?;
        }
        let mut w = b.into_inner()?;
        w.flush()?;
        Ok(())
    });
    let res = put(client, container, &dir, archive, body).await;
    let built = worker
        .join()
        .map_err(|_| anyhow!("archive thread failed"))?;
    res?;
    built.context("archiving the source")?;
    Ok(0)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

async fn put(
    client: &Client,
    container: &str,
    dir: &str,
    archive: bool,
    body: ReqBody,
) -> Result<()> {
    client
        .container_archive_put(container, dir, archive, body)
        .await
}

/// A request body fed from a blocking thread.
fn body_channel() -> (tokio::sync::mpsc::Sender<Bytes>, ReqBody) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(Frame::data(chunk)), rx))
    });
    (tx, http_body_util::StreamBody::new(stream).boxed())
}

struct ChanWrite {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl Write for ChanWrite {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp_args_split_like_docker() {
        assert_eq!(
            split_arg("c:/tmp"),
            Side::Container("c".into(), "/tmp".into())
        );
        assert_eq!(split_arg("/abs:x"), Side::Local("/abs:x".into()));
        assert_eq!(split_arg("./a:b"), Side::Local("./a:b".into()));
        assert_eq!(split_arg("dir/a:b"), Side::Local("dir/a:b".into()));
        assert_eq!(split_arg("-"), Side::Local("-".into()));
    }

    #[test]
    fn bases_and_rebasing() {
        assert_eq!(archive_base("/etc/"), "etc");
        assert_eq!(archive_base("/etc/."), ".");
        assert_eq!(archive_base("/"), ".");
        assert_eq!(parent_of("/etc/passwd"), "/etc");
        assert_eq!(parent_of("/etc"), "/");
        assert_eq!(parent_of("x"), ".");
        assert_eq!(rebase("etc/passwd", "etc", "e2"), "e2/passwd");
        assert_eq!(rebase("etc", "etc", "e2"), "e2");
        assert_eq!(rebase("./a.txt", ".", "new"), "new/a.txt");
        assert_eq!(rebase("etcx/a", "etc", "e2"), "etcx/a");
        assert!(clean_rel("../x").is_none());
        assert_eq!(clean_rel("./a/../b").unwrap(), PathBuf::from("b"));
    }
}
