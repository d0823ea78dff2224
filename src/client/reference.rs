//! Image references split the way the docker CLI splits them before it calls the API (`tag`'s
//! `repo`/`tag` query, `pull`'s `fromImage`/`tag`, `push`'s path and `tag`). The engine parses
//! references fully; the client only needs to know where the tag or digest starts.

use anyhow::{bail, Result};

/// "repo:tag" → ("repo", Some("tag")); a ':' before the last '/' is a registry port, not a tag.
pub fn split_tag(reference: &str) -> (&str, Option<&str>) {
    let name_end = reference.rfind('/').map(|i| i + 1).unwrap_or(0);
    match reference[name_end..].rfind(':') {
        Some(i) => (
            &reference[..name_end + i],
            Some(&reference[name_end + i + 1..]),
        ),
        None => (reference, None),
    }
}

/// "repo@sha256:x" → ("repo", Some("sha256:x")); otherwise as [`split_tag`]. docker's pull sends
/// a digest in the `tag` query parameter.
pub fn split_tag_or_digest(reference: &str) -> (&str, Option<&str>) {
    match reference.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => split_tag(reference),
    }
}

/// `fromImage` and `tag` of a pull, as the docker CLI sends them: the tag (or digest) goes in
/// `tag`; no tag at all means every tag, so single pulls add "latest".
pub fn pull_source(image: &str, all_tags: bool) -> Result<(&str, Option<&str>)> {
    let (name, tag) = split_tag_or_digest(image);
    if all_tags && tag.is_some() {
        bail!("tag can't be used with --all-tags/-a");
    }
    Ok(match tag {
        Some(t) => (name, Some(t)),
        None if !all_tags => (name, Some("latest")),
        None => (name, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_not_a_tag() {
        assert_eq!(split_tag("alpine:3.19"), ("alpine", Some("3.19")));
        assert_eq!(split_tag("localhost:5000/a"), ("localhost:5000/a", None));
        assert_eq!(
            split_tag("localhost:5000/a:v1"),
            ("localhost:5000/a", Some("v1"))
        );
        assert_eq!(split_tag("busybox"), ("busybox", None));
    }

    #[test]
    fn a_digest_takes_the_tags_place() {
        let d = format!("sha256:{}", "a".repeat(64));
        let image = format!("x@{d}");
        assert_eq!(split_tag_or_digest(&image), ("x", Some(d.as_str())));
        assert_eq!(split_tag_or_digest("h:5000/x:1"), ("h:5000/x", Some("1")));
        assert_eq!(pull_source(&image, false).unwrap(), ("x", Some(d.as_str())));
        assert_eq!(
            pull_source("busybox", false).unwrap(),
            ("busybox", Some("latest"))
        );
        assert_eq!(pull_source("busybox", true).unwrap(), ("busybox", None));
        assert!(pull_source("x:1", true).is_err());
    }
}
