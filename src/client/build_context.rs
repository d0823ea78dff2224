//! The build context as the docker CLI sends it (`cli/command/image/build.go` with
//! `build/context.go`): a directory walked into a tar with `.dockerignore` applied (the engine's
//! own matcher, [`berth_engine::builder::dockerignore`], so client and engine agree on every
//! pattern), uid/gid 0 and the files' own modes, symlinks kept as links, hard links as links;
//! the Dockerfile and the ignore file always sent even when excluded; a Dockerfile from stdin
//! (`-f -`) or from outside the context added as `.dockerfile.<random hex>`; a context of `-`
//! being a tar (maybe compressed) or a lone Dockerfile on stdin.
//!
//! The tar is produced while it is sent ([`Prepared::into_body`]): a 50 MiB context is never
//! held in memory. What can be checked before sending (the Dockerfile, the ignore file, unreadable
//! files) is checked first, so those errors come before any upload, as with docker.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use berth_engine::builder::dockerignore::{MatchInfo, Patterns};
use bytes::Bytes;

use super::{channel_body, ReqBody};

mod git;
pub mod remote;

pub use git::is_git_url;

/// The default Dockerfile name (and the one a Dockerfile on stdin gets).
pub const DEFAULT_DOCKERFILE: &str = "Dockerfile";

/// What `berth build` was asked to send.
#[derive(Debug, Clone, Default)]
pub struct ContextSpec {
    /// The context directory; None = the context comes on stdin (`berth build -`).
    pub dir: Option<PathBuf>,
    /// `-f PATH` (relative to the current directory, as docker takes it for a directory
    /// context; a path inside the archive for a context on stdin).
    pub dockerfile: Option<PathBuf>,
    /// `-f -`: the Dockerfile's text, read from stdin by the caller.
    pub dockerfile_stdin: Option<String>,
}

/// A context ready to send.
pub struct Prepared {
    /// The `dockerfile` query parameter ("" = the engine's default).
    pub dockerfile: String,
    /// The context directory (absolute, symlinks resolved) when there is one.
    pub dir: Option<PathBuf>,
    source: Source,
}

enum Source {
    /// A walked directory, tarred while sending.
    Dir(DirContext),
    /// stdin as it comes: a tar, plain or compressed (`head` already read to sniff it).
    Stream {
        head: Vec<u8>,
        rest: Box<dyn Read + Send>,
    },
    /// A downloaded plain tar with a Dockerfile from stdin added under `name` (and appended to
    /// its `.dockerignore`), as docker's AddDockerfileToBuildContext rewrites it.
    Rewrite {
        tar: File,
        name: String,
        dockerfile: Vec<u8>,
    },
}

/// One file of the context, as walked.
struct Entry {
    /// Relative to the root, '/'-separated (raw bytes: names need not be UTF-8).
    rel: Vec<u8>,
    meta: Metadata,
}

/// A file added to or replaced in the tar by the client (Dockerfile from stdin or outside,
/// the ignore file that hides it).
struct Synthetic {
    name: String,
    content: Vec<u8>,
    /// Its mode when appended (a replaced entry keeps the original's).
    mode: u32,
}

struct DirContext {
    root: PathBuf,
    entries: Vec<Entry>,
    /// Replaces the walked entry of the same name, or is appended at the end.
    synthetic: Vec<Synthetic>,
    /// The temporary checkout of a git context, removed once the tar is written.
    checkout: Option<git::TempDir>,
}

fn err_context(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("unable to prepare context: {e}")
}

/// Resolve the spec, read what must be read up front and walk the directory (nothing is tarred
/// yet). `stdin` is read only for a context on stdin. Errors are worded as docker's.
pub fn prepare(spec: &ContextSpec, stdin: Box<dyn Read + Send>) -> Result<Prepared> {
    match &spec.dir {
        None => from_stdin(spec, stdin),
        Some(dir) => match dir.to_str().filter(|d| git::is_git_url(d)) {
            Some(url) => from_git(url, spec),
            None => from_dir(dir, spec, false),
        },
    }
}

/// A git URL: fetched into a temporary checkout that lives as long as the context is being
/// sent; `-f` is relative to the checkout then, as with docker.
fn from_git(url: &str, spec: &ContextSpec) -> Result<Prepared> {
    let repo = git::parse_remote_url(url).map_err(err_context)?;
    let (dir, checkout) = git::clone(&repo).map_err(|e| {
        err_context(format!(
            "unable to 'git clone' to temporary context directory: {e}"
        ))
    })?;
    let mut p = from_dir(&dir, spec, true)?;
    p.dir = Some(PathBuf::from(url));
    if let Source::Dir(d) = &mut p.source {
        d.checkout = Some(checkout);
    }
    Ok(p)
}

/// A context downloaded from a URL (the file at its start): read as a context on stdin is, or,
/// with a Dockerfile from stdin, a plain tar that gets it added as for a directory.
pub fn prepare_download(spec: &ContextSpec, mut file: File) -> Result<Prepared> {
    let Some(text) = &spec.dockerfile_stdin else {
        return from_stdin(spec, Box::new(file));
    };
    let mut head = Vec::with_capacity(512);
    (&mut file)
        .take(512)
        .read_to_end(&mut head)
        .and_then(|_| std::io::Seek::rewind(&mut file))
        .map_err(err_context)?;
    if !is_archive(&head) {
        return Err(err_context("build context is not an archive"));
    }
    if is_compressed(&head) {
        return Err(err_context(
            "a Dockerfile from STDIN can only be added to an uncompressed tar context",
        ));
    }
    let name = format!(".dockerfile.{}", random_hex(20)?);
    Ok(Prepared {
        dockerfile: name.clone(),
        dir: None,
        source: Source::Rewrite {
            tar: file,
            name,
            dockerfile: text.clone().into_bytes(),
        },
    })
}

/// The whole context in memory, and the Dockerfile name to send (for callers that build from
/// a form, where the context is a directory; `berth build` streams with [`prepare`]).
pub fn tar_context(spec: &ContextSpec) -> Result<(Vec<u8>, String)> {
    let p = prepare(spec, Box::new(io::stdin()))?;
    let name = p.dockerfile.clone();
    let mut buf = Vec::new();
    p.write_to(&mut buf)?;
    Ok((buf, name))
}

fn from_stdin(spec: &ContextSpec, mut stdin: Box<dyn Read + Send>) -> Result<Prepared> {
    if spec.dockerfile_stdin.is_some() {
        anyhow::bail!("invalid argument: can't use stdin for both build context and dockerfile");
    }
    let mut head = Vec::with_capacity(512);
    (&mut stdin)
        .take(512)
        .read_to_end(&mut head)
        .map_err(|e| err_context(format!("failed to peek context header from STDIN: {e}")))?;
    if is_archive(&head) {
        let dockerfile = spec
            .dockerfile
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(Prepared {
            dockerfile,
            dir: None,
            source: Source::Stream { head, rest: stdin },
        });
    }
    // Not an archive: the input is the Dockerfile itself.
    let mut content = head;
    stdin
        .read_to_end(&mut content)
        .map_err(|e| err_context(format!("reading the Dockerfile from STDIN: {e}")))?;
    Ok(Prepared {
        dockerfile: DEFAULT_DOCKERFILE.to_string(),
        dir: None,
        source: Source::Dir(DirContext {
            root: PathBuf::new(),
            entries: Vec::new(),
            synthetic: vec![Synthetic {
                name: DEFAULT_DOCKERFILE.to_string(),
                content,
                // What docker's temporary file gets (0666 less the usual umask).
                mode: 0o644,
            }],
            checkout: None,
        }),
    })
}

/// docker's `IsArchive`: a known compression's magic, or a tar header (its checksum right).
pub fn is_archive(head: &[u8]) -> bool {
    if is_compressed(head) {
        return true;
    }
    if head.len() < 512 {
        return false;
    }
    if &head[257..262] == b"ustar" {
        return true;
    }
    tar_checksum_ok(head)
}

/// gzip, bzip2, xz or zstd magic (docker's `compression.Detect`).
fn is_compressed(head: &[u8]) -> bool {
    const MAGICS: [&[u8]; 4] = [
        &[0x1f, 0x8b, 0x08],
        b"BZh",
        &[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
        &[0x28, 0xb5, 0x2f, 0xfd],
    ];
    MAGICS.iter().any(|m| head.starts_with(m))
}

/// Whether a 512-byte block is a tar header with a right checksum (unsigned or signed sum, as
/// Go's reader accepts).
fn tar_checksum_ok(head: &[u8]) -> bool {
    if head.len() < 512 {
        return false;
    }
    let field = String::from_utf8_lossy(&head[148..156]);
    let Ok(stored) = i64::from_str_radix(field.trim_matches(|c: char| c == ' ' || c == '\0'), 8)
    else {
        return false;
    };
    let sum = |signed: bool| -> i64 {
        head[..512]
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if (148..156).contains(&i) {
                    i64::from(b' ')
                } else if signed {
                    i64::from(*b as i8)
                } else {
                    i64::from(*b)
                }
            })
            .sum()
    };
    stored == sum(false) || stored == sum(true)
}

/// A directory context. `-f` is relative to the current directory (docker's rule for a local
/// directory), or to the context when `dockerfile_in_context` (a git checkout).
fn from_dir(dir: &Path, spec: &ContextSpec, dockerfile_in_context: bool) -> Result<Prepared> {
    let root = resolve_context_dir(dir).map_err(err_context)?;
    let given =
        match &spec.dockerfile {
            Some(g) if dockerfile_in_context && g.is_relative() => Some(root.join(g)),
            Some(g) => Some(std::path::absolute(g).map_err(|e| {
                err_context(format!("unable to get absolute path to Dockerfile: {e}"))
            })?),
            None => None,
        };
    // Where the Dockerfile is, relative to the context when inside it.
    let (dockerfile_rel, outside_dockerfile): (Option<String>, Option<Vec<u8>>) =
        match &spec.dockerfile_stdin {
            Some(text) => (None, Some(text.clone().into_bytes())),
            None => {
                let (abs, rel) = dockerfile_path(&root, given.as_deref()).map_err(err_context)?;
                match rel {
                    Some(rel) => (Some(rel), None),
                    None => {
                        let content = std::fs::read(given.as_deref().unwrap_or(&abs))
                            .map_err(|e| anyhow!("unable to open Dockerfile: {e}"))?;
                        (None, Some(content))
                    }
                }
            }
        };

    // The ignore file: `<Dockerfile>.dockerignore` beside a Dockerfile given by path, else the
    // context's `.dockerignore`.
    let own_ignore = match (&spec.dockerfile_stdin, &given) {
        (None, Some(given)) => {
            let mut p = given.clone();
            p.as_mut_os_string().push(".dockerignore");
            p.is_file().then_some(p)
        }
        (None, None) => dockerfile_rel.as_ref().and_then(|rel| {
            let p = root.join(format!("{rel}.dockerignore"));
            p.is_file().then_some(p)
        }),
        _ => None,
    };
    let ignore_path = own_ignore
        .clone()
        .unwrap_or_else(|| root.join(".dockerignore"));
    let ignore_text = match std::fs::read(&ignore_path) {
        Ok(t) => Some(String::from_utf8_lossy(&t).into_owned()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => anyhow::bail!("error reading {}: {e}", ignore_path.display()),
    };
    let patterns = match &ignore_text {
        Some(t) => Patterns::parse(t)
            .map_err(|e| anyhow!("error reading {}: {e}", ignore_path.display()))?,
        None => Patterns::default(),
    };
    // The ignore file inside the context, relative (it is always sent).
    let ignore_rel = ignore_path
        .strip_prefix(&root)
        .ok()
        .map(|r| r.to_string_lossy().into_owned());

    // docker's TrimBuildFilesFromExcludes: the Dockerfile and the ignore file are sent even
    // when excluded.
    let mut keep = patterns
        .keeping_build_files(
            dockerfile_rel.as_deref().unwrap_or("-"),
            dockerfile_rel.is_none(),
        )
        .map_err(|e| anyhow!("{e}"))?
        .patterns();
    if let Some(rel) = ignore_rel.as_deref().filter(|r| *r != ".dockerignore") {
        if patterns.matches(rel) {
            keep.push(format!("!{rel}"));
        }
    }
    let patterns = Patterns::new(&keep).map_err(|e| anyhow!("{e}"))?;

    let mut entries = Vec::new();
    walk(&root, &root, &patterns, &MatchInfo::default(), &mut entries)
        .map_err(|e| anyhow!("error checking context: {e}"))?;

    let mut synthetic = Vec::new();
    let dockerfile = match (dockerfile_rel, outside_dockerfile) {
        (Some(rel), _) => rel,
        (None, content) => {
            let name = format!(".dockerfile.{}", random_hex(20)?);
            let content = content.unwrap_or_default();
            match own_ignore.filter(|p| !p.starts_with(&root)) {
                // An ignore file of the Dockerfile's own travels as the new name's, which the
                // engine prefers, with the Dockerfile itself hidden from COPY.
                Some(p) => {
                    let mut text = std::fs::read(&p)
                        .map_err(|e| anyhow!("error reading {}: {e}", p.display()))?;
                    text.extend_from_slice(format!("\n{name}\n{name}.dockerignore\n").as_bytes());
                    synthetic.push(Synthetic {
                        name: format!("{name}.dockerignore"),
                        content: text,
                        mode: 0o600,
                    });
                }
                // As docker: `.dockerignore` gets the random name appended (created with
                // itself in it when there was none).
                None => {
                    let mut text = ignore_text
                        .filter(|_| ignore_rel.as_deref() == Some(".dockerignore"))
                        .unwrap_or_else(|| ".dockerignore".to_string())
                        .into_bytes();
                    text.extend_from_slice(format!("\n{name}\n").as_bytes());
                    synthetic.push(Synthetic {
                        name: ".dockerignore".to_string(),
                        content: text,
                        mode: 0o600,
                    });
                }
            }
            synthetic.insert(
                0,
                Synthetic {
                    name: name.clone(),
                    content,
                    mode: 0o600,
                },
            );
            name
        }
    };
    Ok(Prepared {
        dockerfile,
        dir: Some(root.clone()),
        source: Source::Dir(DirContext {
            root,
            entries,
            synthetic,
            checkout: None,
        }),
    })
}

/// docker's `ResolveAndValidateContextPath`: absolute, symlinks resolved, a directory.
fn resolve_context_dir(dir: &Path) -> Result<PathBuf, String> {
    let abs = std::path::absolute(dir).map_err(|e| {
        format!(
            "unable to get absolute context directory of given context directory {:?}: {e}",
            dir.display().to_string()
        )
    })?;
    if std::fs::symlink_metadata(&abs).is_err() {
        return Err(format!("path {:?} not found", dir.display().to_string()));
    }
    let real = std::fs::canonicalize(&abs)
        .map_err(|e| format!("unable to evaluate symlinks in context path: {e}"))?;
    let meta = std::fs::symlink_metadata(&real).map_err(|e| {
        format!(
            "unable to stat context directory {:?}: {e}",
            real.display().to_string()
        )
    })?;
    if !meta.is_dir() {
        return Err(format!("context must be a directory: {}", real.display()));
    }
    Ok(real)
}

/// docker's `getDockerfileRelPath`: the Dockerfile (`given` made absolute by the caller, or
/// `Dockerfile`, else `dockerfile`, in the context), symlinks resolved; with its path relative
/// to the context when it is inside.
fn dockerfile_path(root: &Path, given: Option<&Path>) -> Result<(PathBuf, Option<String>), String> {
    let abs = match given {
        Some(g) => g.to_path_buf(),
        None => {
            let default = root.join(DEFAULT_DOCKERFILE);
            let lower = root.join(DEFAULT_DOCKERFILE.to_lowercase());
            if std::fs::symlink_metadata(&default).is_err()
                && std::fs::symlink_metadata(&lower).is_ok()
            {
                lower
            } else {
                default
            }
        }
    };
    let real = std::fs::canonicalize(&abs).map_err(|e| {
        format!(
            "unable to evaluate symlinks in Dockerfile path: lstat {}: {}",
            abs.display(),
            io_text(&e)
        )
    })?;
    let rel = real
        .strip_prefix(root)
        .ok()
        .filter(|r| !r.as_os_str().is_empty())
        .map(|r| r.to_string_lossy().into_owned());
    Ok((real, rel))
}

/// An I/O error as Go words it ("no such file or directory"), without Rust's "(os error 2)".
fn io_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}

/// Walk `dir` in lexical order as docker's `TarWithOptions` does: an excluded file is left
/// out; an excluded directory is left out (its entry too) but still entered when an exception
/// may re-include something below it; sockets are skipped; an unreadable file fails the build
/// before anything is sent.
fn walk(
    root: &Path,
    dir: &Path,
    patterns: &Patterns,
    parent: &MatchInfo,
    out: &mut Vec<Entry>,
) -> Result<(), String> {
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(dir)
        .map_err(|e| permission_or(&e, dir, "can't stat"))?
        .map(|r| r.map(|e| e.file_name()))
        .collect::<io::Result<_>>()
        .map_err(|e| format!("can't stat '{}': {}", dir.display(), io_text(&e)))?;
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let rel_path = path
            .strip_prefix(root)
            .map_err(|_| format!("{} is outside the context", path.display()))?;
        let rel = rel_path.as_os_str().as_bytes().to_vec();
        let rel_text = String::from_utf8_lossy(&rel).into_owned();
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            // Removed while walking: nothing to send.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(permission_or(&e, &path, "can't stat")),
        };
        let (excluded, info) = patterns.matches_in(&rel_text, parent);
        let ft = meta.file_type();
        if excluded {
            if ft.is_dir() && patterns.dir_may_have_exceptions(&rel_text) {
                walk(root, &path, patterns, &info, out)?;
            }
            continue;
        }
        if ft.is_socket() {
            continue;
        }
        if ft.is_file() {
            if let Err(e) = File::open(&path) {
                if e.kind() == io::ErrorKind::PermissionDenied {
                    return Err(format!("no permission to read from '{}'", path.display()));
                }
            }
        }
        let is_dir = ft.is_dir();
        out.push(Entry { rel, meta });
        if is_dir {
            walk(root, &path, patterns, &info, out)?;
        }
    }
    Ok(())
}

fn permission_or(e: &io::Error, path: &Path, what: &str) -> String {
    if e.kind() == io::ErrorKind::PermissionDenied {
        format!("{what} '{}'", path.display())
    } else {
        format!("{what} '{}': {}", path.display(), io_text(e))
    }
}

/// `n` random hex digits (docker's `stringid.GenerateRandomID()[:20]`).
fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n.div_ceil(2)];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| anyhow!("reading random bytes: {e}"))?;
    let mut s: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    s.truncate(n);
    Ok(s)
}

impl Prepared {
    /// Write the context (tar, or stdin's bytes as they are) to `w`; the number of bytes.
    pub fn write_to(self, w: impl Write) -> io::Result<u64> {
        let mut w = Counting { inner: w, n: 0 };
        match self.source {
            Source::Dir(d) => d.write_tar(&mut w)?,
            Source::Stream { head, mut rest } => {
                w.write_all(&head)?;
                io::copy(&mut rest, &mut w)?;
            }
            Source::Rewrite {
                tar,
                name,
                dockerfile,
            } => rewrite_tar(tar, &name, dockerfile, &mut w)?,
        }
        w.flush()?;
        Ok(w.n)
    }

    /// The context as a streamed request body: produced on a blocking thread while hyper sends
    /// it. The task answers the bytes sent, or why producing it failed (the body then fails too,
    /// so the request stops).
    pub fn into_body(self) -> (ReqBody, tokio::task::JoinHandle<io::Result<u64>>) {
        let (tx, body) = channel_body();
        let handle = tokio::runtime::Handle::current();
        let task = tokio::task::spawn_blocking(move || {
            let mut w = ChannelWriter {
                tx: Some(tx),
                handle,
                buf: Vec::with_capacity(CHUNK),
            };
            let result = self.write_to(&mut w);
            if let (Err(e), Some(tx)) = (&result, w.tx.take()) {
                tx.abort(io::Error::new(e.kind(), e.to_string()));
            }
            result
        });
        (body, task)
    }
}

/// The request body's chunk size.
const CHUNK: usize = 256 * 1024;

/// Feeds the request body from the blocking thread.
struct ChannelWriter {
    tx: Option<http_body_util::channel::Sender<Bytes, io::Error>>,
    handle: tokio::runtime::Handle,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        let tx = self
            .tx
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::BrokenPipe))?;
        self.handle.block_on(tx.send_data(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the engine stopped reading the build context",
            )
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl DirContext {
    fn write_tar(self, w: impl Write) -> io::Result<()> {
        let mut tar = tar::Builder::new(w);
        let mut synthetic: Vec<Option<Synthetic>> = self.synthetic.into_iter().map(Some).collect();
        // Hard links: the first path seen for an inode with several links carries the data.
        let mut inodes: HashMap<(u64, u64), PathBuf> = HashMap::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        for e in &self.entries {
            let rel = PathBuf::from(std::ffi::OsStr::from_bytes(&e.rel));
            let replaced = synthetic
                .iter_mut()
                .find(|s| {
                    s.as_ref()
                        .is_some_and(|s| s.name.as_bytes() == e.rel.as_slice())
                })
                .and_then(Option::take);
            let mut h = header_for(&e.meta);
            if let Some(s) = replaced {
                // docker keeps the entry's header and swaps its content.
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(s.content.len() as u64);
                tar.append_data(&mut h, &rel, s.content.as_slice())?;
                continue;
            }
            let ft = e.meta.file_type();
            let abs = self.root.join(&rel);
            if ft.is_symlink() {
                let target = std::fs::read_link(&abs)?;
                h.set_entry_type(tar::EntryType::Symlink);
                tar.append_link(&mut h, &rel, &target)?;
            } else if ft.is_dir() {
                h.set_entry_type(tar::EntryType::Directory);
                tar.append_data(&mut h, &rel, io::empty())?;
            } else if ft.is_file() {
                if e.meta.nlink() > 1 {
                    let key = (e.meta.dev(), e.meta.ino());
                    if let Some(first) = inodes.get(&key) {
                        h.set_entry_type(tar::EntryType::Link);
                        h.set_size(0);
                        tar.append_link(&mut h, &rel, first)?;
                        continue;
                    }
                    inodes.insert(key, rel.clone());
                }
                h.set_entry_type(tar::EntryType::Regular);
                let size = e.meta.len();
                h.set_size(size);
                match File::open(&abs) {
                    Ok(f) => tar.append_data(&mut h, &rel, ExactSize::new(f, size))?,
                    // Removed since the walk: sent empty rather than failing the build late.
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {
                        h.set_size(0);
                        tar.append_data(&mut h, &rel, io::empty())?
                    }
                    Err(err) => {
                        return Err(io::Error::new(
                            err.kind(),
                            format!("{}: {err}", abs.display()),
                        ))
                    }
                }
            } else {
                let kind = if ft.is_fifo() {
                    tar::EntryType::Fifo
                } else if ft.is_char_device() {
                    tar::EntryType::Char
                } else if ft.is_block_device() {
                    tar::EntryType::Block
                } else {
                    continue;
                };
                h.set_entry_type(kind);
                if kind != tar::EntryType::Fifo {
                    let rdev = e.meta.rdev();
                    h.set_device_major(libc::major(rdev))?;
                    h.set_device_minor(libc::minor(rdev))?;
                }
                tar.append_data(&mut h, &rel, io::empty())?;
            }
        }
        // What replaced nothing is appended, dated now, as docker's AddDockerfileToBuildContext.
        for s in synthetic.into_iter().flatten() {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(s.mode);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(now);
            h.set_size(s.content.len() as u64);
            tar.append_data(&mut h, &s.name, s.content.as_slice())?;
        }
        tar.into_inner()?.flush()
    }
}

/// docker's AddDockerfileToBuildContext on a tar stream: every entry copied, `.dockerignore`
/// (matched by its exact name, as docker does) with the Dockerfile's name appended, then the
/// Dockerfile (0600, now) and, when there was none, a `.dockerignore` hiding both.
fn rewrite_tar(tar: File, name: &str, dockerfile: Vec<u8>, w: impl Write) -> io::Result<()> {
    let mut out = tar::Builder::new(w);
    let mut input = tar::Archive::new(io::BufReader::new(tar));
    let mut had_ignore = false;
    for e in input.entries()? {
        let mut e = e?;
        let mut h = e.header().clone();
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(&e.path_bytes()));
        if e.path_bytes().as_ref() == b".dockerignore" {
            had_ignore = true;
            let mut text = Vec::new();
            e.read_to_end(&mut text)?;
            text.extend_from_slice(format!("\n{name}\n").as_bytes());
            h.set_size(text.len() as u64);
            out.append_data(&mut h, &path, text.as_slice())?;
            continue;
        }
        match e.link_name_bytes() {
            Some(link) if h.entry_type().is_symlink() || h.entry_type().is_hard_link() => {
                let link = PathBuf::from(std::ffi::OsStr::from_bytes(&link));
                out.append_link(&mut h, &path, &link)?;
            }
            _ => out.append_data(&mut h, &path, &mut e)?,
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut add = |file: &str, content: &[u8]| -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o600);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(now);
        h.set_size(content.len() as u64);
        out.append_data(&mut h, file, content)
    };
    add(name, &dockerfile)?;
    if !had_ignore {
        add(
            ".dockerignore",
            format!(".dockerignore\n{name}\n").as_bytes(),
        )?;
    }
    out.into_inner()?.flush()
}

/// A tar header from a file's metadata: its mode bits and mtime, owner 0:0 (docker's
/// `ChownOpts`), no user or group names.
fn header_for(meta: &Metadata) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_mode(meta.mode() & 0o7777);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0));
    h.set_size(0);
    h
}

/// Exactly `size` bytes of a file that may have changed since its size was read: cut when it
/// grew, padded with zeros when it shrank, so the tar stays well-formed.
struct ExactSize<R> {
    inner: io::Take<R>,
    left: u64,
}

impl<R: Read> ExactSize<R> {
    fn new(r: R, size: u64) -> ExactSize<R> {
        ExactSize {
            inner: r.take(size),
            left: size,
        }
    }
}

impl<R: Read> Read for ExactSize<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.left -= n as u64;
            return Ok(n);
        }
        let pad = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        buf[..pad].fill(0);
        self.left -= pad as u64;
        Ok(pad)
    }
}

#[cfg(test)]
mod tests;
