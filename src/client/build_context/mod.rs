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

use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::path::PathBuf;

use anyhow::{anyhow, Result};

use super::{channel_body, ReqBody};

mod dir;
mod git;
pub mod remote;
mod write;

use dir::*;
use write::*;

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

#[cfg(test)]
mod tests;
