//! Image names typed by the user: checked before the engine is asked, split as docker splits
//! them, and the pull task they start.

use crate::client::api::images;
use crate::dashboard::views::Cmd;

/// Checks a reference typed by the user (pull, tag): not empty, no spaces.
fn check_reference(r: &str) -> Result<&str, String> {
    let r = r.trim();
    if r.is_empty() {
        return Err("type an image reference, e.g. busybox or nginx:1.27".into());
    }
    if r.contains(char::is_whitespace) {
        return Err("an image reference has no spaces".into());
    }
    Ok(r)
}

/// The pull task for `reference`, split as `docker pull` does (`repo:tag`, `repo@sha256:…`,
/// latest when no tag is given), with the registry's credentials.
pub fn pull_task(reference: &str) -> Result<Cmd, String> {
    let r = check_reference(reference)?;
    let (name, tag) = crate::client::reference::pull_source(r, false).map_err(|e| e.to_string())?;
    let shown = match tag {
        Some(t) if t.starts_with("sha256:") => format!("{name}@{t}"),
        Some(t) => format!("{name}:{t}"),
        None => name.to_string(),
    };
    let pull = images::pull(name, tag, None);
    Ok(Cmd::StartTask {
        title: format!("pull {shown}"),
        method: pull.method,
        path: pull.path,
        body: pull.body,
        show: true,
        auth_for: Some(r.to_string()),
        upload: None,
    })
}

/// `repo[:tag]` → (repo, tag) for `POST /images/{id}/tag`; a ':' followed by a '/' is a
/// registry port. Docker refuses digests and upper-case repositories; so does this, before
/// the engine is asked.
pub fn split_new_name(name: &str) -> Result<(String, String), String> {
    let n = check_reference(name)?;
    if n.contains('@') {
        return Err("a tag cannot name a digest (@sha256:…)".into());
    }
    let (repo, tag) = match n.rfind(':') {
        Some(i) if !n[i + 1..].contains('/') => (&n[..i], &n[i + 1..]),
        _ => (n, "latest"),
    };
    if repo.is_empty() || tag.is_empty() {
        return Err(format!("\"{n}\" is not repository[:tag]"));
    }
    if repo.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("repository names must be lowercase".into());
    }
    Ok((repo.to_string(), tag.to_string()))
}
