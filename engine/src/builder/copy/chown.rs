//! `--chown` and `--chmod` values.
//!
//! `--chown=user[:group]` is resolved as dockerd's `parseChownFlag`: numbers are ids, names are
//! looked up in the *target* rootfs' /etc/passwd and /etc/group (read through the rootfs fd, so a
//! symlinked /etc/passwd in the image resolves inside the image), and every failure is worded as
//! docker words it. A user given without a group takes the group of the same name, or (where
//! dockerd would fail and BuildKit succeeds) the user's primary group.
//! `--chmod` is BuildKit's: an octal mode up to 07777.

use std::io::Read;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use crate::error::{EngineError, Result};
use crate::fs_at::in_root::open_in_root;

const CHOWN_PREFIX: &str = "unable to convert uid/gid chown string to host mapping";

/// The uid and gid `chown` names inside the rootfs `root`.
pub fn resolve_chown(root: BorrowedFd<'_>, chown: &str) -> Result<(u32, u32)> {
    resolve_inner(root, chown).map_err(|m| EngineError::invalid(format!("{CHOWN_PREFIX}: {m}")))
}

fn resolve_inner(root: BorrowedFd<'_>, chown: &str) -> std::result::Result<(u32, u32), String> {
    let parts: Vec<&str> = chown.split(':').collect();
    let (user, group) = match parts.as_slice() {
        [u] => (*u, None),
        [u, g] => (*u, Some(*g)),
        _ => return Err(format!("invalid chown string format: {chown}")),
    };
    let users = || read_db(root, "/etc/passwd");
    let (uid, primary) = match user.parse::<u32>() {
        Ok(n) => (n, None),
        Err(_) => {
            let text = users().map_err(|e| format!("can't find uid for user {user}: {e}"))?;
            let entry = parse_db(&text)
                .into_iter()
                .find(|f| f.first().is_some_and(|n| *n == user))
                .ok_or_else(|| format!("can't find uid for user {user}: no such user: {user}"))?;
            (field_id(&entry, 2), Some(field_id(&entry, 3)))
        }
    };
    let group_name = match group {
        Some(g) => g,
        None => match primary {
            None => return Ok((uid, uid)),
            Some(_) => user,
        },
    };
    if let Ok(n) = group_name.parse::<u32>() {
        return Ok((uid, n));
    }
    let not_found = |e: String| format!("can't find gid for group {group_name}: {e}");
    let found = match read_db(root, "/etc/group") {
        Ok(text) => parse_db(&text)
            .into_iter()
            .find(|f| f.first().is_some_and(|n| *n == group_name))
            .map(|f| field_id(&f, 2)),
        // With no group given, a missing /etc/group still leaves the primary group.
        Err(e) if group.is_some() => return Err(not_found(e)),
        Err(_) => None,
    };
    match (found, group, primary) {
        (Some(gid), _, _) => Ok((uid, gid)),
        (None, None, Some(gid)) => Ok((uid, gid)),
        _ => Err(not_found(format!("no such group: {group_name}"))),
    }
}

/// A passwd/group file of the rootfs, read without leaving it.
fn read_db(root: BorrowedFd<'_>, path: &str) -> std::result::Result<String, String> {
    let fd = open_in_root(root.as_raw_fd(), Path::new(path), libc::O_RDONLY, 0).map_err(|e| {
        format!(
            "open {path}: {}",
            super::apply::go_err(&std::io::Error::from(e))
        )
    })?;
    let mut text = String::new();
    std::fs::File::from(fd)
        .take(16 << 20)
        .read_to_string(&mut text)
        .map_err(|e| format!("read {path}: {e}"))?;
    Ok(text)
}

/// Lines split into fields as runc's libcontainer/user parser does (trimmed, blank lines skipped).
fn parse_db(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(':').collect())
        .collect()
}

/// A numeric field; runc reads a malformed one as 0.
fn field_id(fields: &[&str], i: usize) -> u32 {
    fields.get(i).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// BuildKit's `--chmod` check: octal, at most 07777.
pub fn parse_chmod(s: &str) -> Result<u32> {
    match u32::from_str_radix(s, 8) {
        Ok(m) if m <= 0o7777 && !s.is_empty() && !s.starts_with('+') => Ok(m),
        _ => Err(EngineError::invalid(format!(
            "invalid chmod parameter: '{s}'. it should be octal string and between 0 and 07777"
        ))),
    }
}
