//! A context directory made ready to send: resolved, its Dockerfile found (inside or outside
//! it), `.dockerignore` read, and walked, with what docker checks before an upload (unreadable
//! files, a missing Dockerfile) checked first.

use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use berth_engine::builder::dockerignore::{MatchInfo, Patterns};

use super::*;

/// A directory context. `-f` is relative to the current directory (docker's rule for a local
/// directory), or to the context when `dockerfile_in_context` (a git checkout).
pub(super) fn from_dir(
    dir: &Path,
    spec: &ContextSpec,
    dockerfile_in_context: bool,
) -> Result<Prepared> {
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
pub(super) fn resolve_context_dir(dir: &Path) -> Result<PathBuf, String> {
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
pub(super) fn dockerfile_path(
    root: &Path,
    given: Option<&Path>,
) -> Result<(PathBuf, Option<String>), String> {
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
pub(super) fn io_text(e: &io::Error) -> String {
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
pub(super) fn walk(
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

pub(super) fn permission_or(e: &io::Error, path: &Path, what: &str) -> String {
    if e.kind() == io::ErrorKind::PermissionDenied {
        format!("{what} '{}'", path.display())
    } else {
        format!("{what} '{}': {}", path.display(), io_text(e))
    }
}
