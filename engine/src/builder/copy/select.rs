//! Choosing a COPY/ADD's sources (dockerd's `getCopyInfosForSourcePaths` and `calcCopyInfo`):
//! URLs, wildcards matched over every path of the source root, plain paths cleaned and kept inside
//! it, heredocs; and docker's errors when that finds nothing or too much.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{EngineError, Result};

use super::source::{Entry, Kind, Meta, SourceRoot};
use super::{archive, is_url, parse_checksum, parse_chmod};
use super::{CopyRequest, Item, Origin, Selection};
use crate::builder::filepath_match as matcher;
use crate::util::go::clean_absolute as clean;

/// Resolve the sources of `req` (nothing is written).
pub fn select(req: &CopyRequest<'_>) -> Result<Selection> {
    let cmd = req.cmd();
    // An empty flag value is no flag, as in dockerd and BuildKit.
    let chown = req.chown.filter(|c| !c.is_empty());
    let chmod = req
        .chmod
        .filter(|c| !c.is_empty())
        .map(parse_chmod)
        .transpose()?;
    check_checksum(req)?;
    let sources: Vec<&String> = req
        .sources
        .iter()
        .filter(|s| {
            !s.strip_prefix("<<").is_some_and(|name| {
                let name = name
                    .trim_start_matches('-')
                    .trim_matches(|c| c == '"' || c == '\'');
                req.heredocs.iter().any(|(n, _)| n == name)
            })
        })
        .collect();
    let mut root = None;
    let mut items = Vec::new();
    for orig in sources {
        if is_url(orig) {
            if !req.is_add {
                return Err(EngineError::invalid(format!(
                    "{cmd} failed: source can't be a URL for COPY"
                )));
            }
            items.push(remote_item(req, orig)?);
            continue;
        }
        if root.is_none() {
            root = Some(
                SourceRoot::open(req.source_root).map_err(|e| EngineError::Io {
                    context: format!("opening {}", req.source_root.display()),
                    source: e,
                })?,
            );
        }
        let Some(tree) = root.as_ref() else {
            continue;
        };
        let p = orig.strip_prefix('/').unwrap_or(orig);
        let p = p.strip_prefix("./").unwrap_or(p);
        if matcher::contains_wildcards(p) {
            // Every path of the root is matched; deeper paths than the pattern can reach are
            // not walked (`*`, `?` never match '/', a class matches at most one byte).
            let depth = p.bytes().filter(|b| *b == b'/' || *b == b'[').count() + 1;
            let all = tree
                .walk(Path::new("/"), Some(depth))
                .map_err(|e| io_err(cmd, e))?;
            for e in all {
                let rel = e.rel_bytes();
                if matcher::matches(p, &rel) == Ok(true) {
                    items.push(item_for_path(req, tree, &rel)?);
                }
            }
        } else {
            items.push(item_for_path(req, tree, p.as_bytes())?);
        }
    }
    for (name, content) in req.heredocs {
        items.push(Item {
            origin: Origin::Inline(content.as_bytes().to_vec()),
            name: name.as_bytes().to_vec(),
            entries: vec![inline_entry(content.len() as u64)],
            is_dir: false,
            archive: false,
        });
    }
    if items.is_empty() {
        return Err(EngineError::invalid(format!(
            "{cmd} failed: no source files were specified"
        )));
    }
    if items.len() > 1 && !req.dest.ends_with('/') {
        return Err(EngineError::invalid(format!(
            "When using {cmd} with more than one source file, the destination must be a directory and end with a /"
        )));
    }
    Ok(Selection {
        cmd,
        root,
        items,
        dest: req.dest.to_string(),
        dest_path: normalize_dest(req.workdir, req.dest),
        chown: chown.map(str::to_string),
        chmod,
        preserve_ownership: req.from_stage && chown.is_none(),
        hashes: OnceLock::new(),
        known_digests: req.known_digests.cloned(),
    })
}

/// BuildKit's rules for `--checksum`.
fn check_checksum(req: &CopyRequest<'_>) -> Result<()> {
    let Some(c) = req.checksum else {
        return Ok(());
    };
    if !req.is_add {
        return Err(EngineError::invalid("checksum can't be specified for COPY"));
    }
    if req.sources.len() != 1 {
        return Err(EngineError::invalid(
            "checksum can't be specified for multiple sources",
        ));
    }
    if !is_url(&req.sources[0]) {
        return Err(EngineError::invalid(
            "checksum requires HTTP(S) or Git sources",
        ));
    }
    parse_checksum(c).map(|_| ())
}

fn remote_item(req: &CopyRequest<'_>, url: &str) -> Result<Item> {
    let file = req
        .remote
        .iter()
        .find(|r| r.url == url)
        .cloned()
        .ok_or_else(|| EngineError::internal(format!("ADD: {url} was not downloaded")))?;
    let name = match &file.filename {
        Some(n) => n.clone(),
        None if req.dest.ends_with('/') => {
            return Err(EngineError::invalid(format!(
                "ADD failed: cannot determine filename for source {url}"
            )))
        }
        None => "__unnamed__".to_string(),
    };
    let size = std::fs::metadata(file.path()).map(|m| m.len()).unwrap_or(0);
    let mut entry = inline_entry(size);
    entry.meta.perm = 0o600;
    entry.meta.mtime = file.mtime;
    Ok(Item {
        origin: Origin::Remote(file),
        name: name.into_bytes(),
        entries: vec![entry],
        is_dir: false,
        archive: false,
    })
}

/// The entry of a file the builder makes itself (a heredoc, a download): 0644, root-owned.
fn inline_entry(size: u64) -> Entry {
    Entry {
        rel: Vec::new(),
        meta: Meta {
            kind: Kind::File,
            perm: 0o644,
            uid: 0,
            gid: 0,
            size,
            mtime: now(),
            dev: 0,
            ino: 0,
            nlink: 1,
        },
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// dockerd's `calcCopyInfo` for one path (no wildcards): a file, or a directory and its tree.
fn item_for_path(req: &CopyRequest<'_>, tree: &SourceRoot, p: &[u8]) -> Result<Item> {
    let cmd = req.cmd();
    let shown = String::from_utf8_lossy(p);
    // Cleaned lexically as dockerd's `filepath.Join(root, p)`; `..` may not climb out of the root
    // ("forbidden path outside the build context").
    let mut comps: Vec<&[u8]> = Vec::new();
    for c in p.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                comps.pop().ok_or_else(|| {
                    EngineError::invalid(format!(
                        "{cmd} failed: forbidden path outside the build context: {shown} ()"
                    ))
                })?;
            }
            c => comps.push(c),
        }
    }
    let path = PathBuf::from(OsStr::from_bytes(&comps.join(&b'/')));
    let meta = match tree.stat(&path) {
        Ok(m) => m,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => {
            let what = if req.from_stage {
                String::new()
            } else {
                "file not found in build context or excluded by .dockerignore: ".to_string()
            };
            return Err(EngineError::invalid(format!(
                "{cmd} failed: {what}stat {shown}: file does not exist"
            )));
        }
        Err(e) => return Err(io_err(cmd, e)),
    };
    let name = base_name(p);
    if meta.kind == Kind::Dir {
        let entries = tree.walk(&path, None).map_err(|e| io_err(cmd, e))?;
        return Ok(Item {
            origin: Origin::Tree(path),
            name,
            entries,
            is_dir: true,
            archive: false,
        });
    }
    let archive = req.is_add
        && meta.kind == Kind::File
        && tree
            .open_file(&path, &[])
            .map(archive::is_archive)
            .unwrap_or(false);
    Ok(Item {
        origin: Origin::Tree(path),
        name,
        entries: vec![Entry {
            rel: Vec::new(),
            meta,
        }],
        is_dir: false,
        archive,
    })
}

/// Go's `filepath.Base`.
fn base_name(p: &[u8]) -> Vec<u8> {
    let trimmed = {
        let mut end = p.len();
        while end > 0 && p[end - 1] == b'/' {
            end -= 1;
        }
        &p[..end]
    };
    if trimmed.is_empty() {
        return if p.is_empty() {
            b".".to_vec()
        } else {
            b"/".to_vec()
        };
    }
    match trimmed.iter().rposition(|b| *b == b'/') {
        Some(i) => trimmed[i + 1..].to_vec(),
        None => trimmed.to_vec(),
    }
}

fn io_err(cmd: &str, e: io::Error) -> EngineError {
    EngineError::Io {
        context: format!("{cmd} failed"),
        source: e,
    }
}

/// dockerd's `normalizeDest` (Linux): a relative destination is joined to the workdir, cleaned,
/// and keeps its trailing '/'.
pub fn normalize_dest(workdir: &str, dest: &str) -> String {
    if dest.starts_with('/') {
        return dest.to_string();
    }
    let mut out = clean(&format!("/{workdir}/{dest}"));
    if dest.ends_with('/') && !out.ends_with('/') {
        out.push('/');
    }
    out
}
