//! `GET /images/json`: the images, filtered (dangling, label, reference globs, before/since) and
//! newest first.

use std::collections::HashMap;

use super::{lock, ImageService};
use crate::error::Result;
use crate::image::reference::{familiar_string, Reference};
use crate::model::image::ImageSummary;

/// `GET /images/json` filters, parsed.
#[derive(Debug, Clone, Default)]
pub struct ImageListFilter {
    pub dangling: Option<bool>,
    /// "key" or "key=value".
    pub labels: Vec<String>,
    /// Glob patterns on the familiar reference ("busybox", "busy*:1.*").
    pub references: Vec<String>,
    pub before: Option<String>,
    pub since: Option<String>,
    /// `all=1`: also the untagged intermediate images a build left as parents of others
    /// (docker hides them by default).
    pub all: bool,
}

/// `path.Match`-style glob: '*' and '?' do not cross '/'.
pub(super) fn glob_match(pattern: &[u8], s: &[u8]) -> bool {
    match (pattern.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_match(&pattern[1..], s)
                || (!s.is_empty() && s[0] != b'/' && glob_match(pattern, &s[1..]))
        }
        (Some(b'?'), Some(c)) if *c != b'/' => glob_match(&pattern[1..], &s[1..]),
        (Some(b'['), Some(c)) if *c != b'/' => match class_match(&pattern[1..], *c) {
            Some((true, rest)) => glob_match(rest, &s[1..]),
            _ => false,
        },
        (Some(b'\\'), Some(c)) if pattern.get(1) == Some(c) => glob_match(&pattern[2..], &s[1..]),
        (Some(p), Some(c)) if p == c && *p != b'\\' => glob_match(&pattern[1..], &s[1..]),
        _ => false,
    }
}

/// A `[...]` class (after the '['): `^` negates, `a-z` ranges, `\\` escapes. Returns whether
/// `c` matched and the pattern after the ']', or None when the class is malformed.
fn class_match(p: &[u8], c: u8) -> Option<(bool, &[u8])> {
    let (negate, mut p) = match p.first() {
        Some(b'^') => (true, &p[1..]),
        _ => (false, p),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        match p.first() {
            None => return None,
            Some(b']') if !first => return Some((matched != negate, &p[1..])),
            _ => {}
        }
        first = false;
        let lit = |p: &[u8]| -> Option<(u8, usize)> {
            match p.first()? {
                b'\\' => p.get(1).map(|c| (*c, 2)),
                c => Some((*c, 1)),
            }
        };
        let (lo, n) = lit(p)?;
        p = &p[n..];
        let mut hi = lo;
        if p.first() == Some(&b'-') && p.get(1) != Some(&b']') {
            let (h, n) = lit(&p[1..])?;
            hi = h;
            p = &p[1 + n..];
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}

/// Docker's FamiliarMatch: the pattern matches the familiar "name:tag" or the familiar name.
pub(super) fn reference_matches(pattern: &str, full_ref: &str) -> bool {
    let Ok(r) = Reference::parse(full_ref) else {
        return false;
    };
    glob_match(pattern.as_bytes(), r.familiar().as_bytes())
        || glob_match(pattern.as_bytes(), r.familiar_name().as_bytes())
}

fn labels_match(filters: &[String], labels: &HashMap<String, String>) -> bool {
    filters.iter().all(|f| match f.split_once('=') {
        Some((k, v)) => labels.get(k).map(|x| x == v).unwrap_or(false),
        None => labels.contains_key(f.as_str()),
    })
}

impl ImageService {
    /// Number of images (for `/info`).
    pub fn count(&self) -> usize {
        lock(&self.inner.index).images.len()
    }

    /// `GET /images/json`, newest first like docker.
    pub fn list(&self, filter: &ImageListFilter) -> Result<Vec<ImageSummary>> {
        let idx = lock(&self.inner.index);
        let bound = |name: &Option<String>| -> Result<Option<i64>> {
            match name {
                Some(n) => Ok(Some(idx.entry(&idx.lookup(n)?)?.created_unix)),
                None => Ok(None),
            }
        };
        let before = bound(&filter.before)?;
        let since = bound(&filter.since)?;
        let parents: std::collections::HashSet<&str> = idx
            .images
            .values()
            .filter_map(|e| e.record.parent.as_deref())
            .collect();
        let mut out = Vec::new();
        for (id, entry) in &idx.images {
            let mut refs = idx.refs_of(id);
            if !filter.all && refs.is_empty() && parents.contains(id.as_str()) {
                continue;
            }
            if let Some(d) = filter.dangling {
                if d != refs.is_empty() {
                    continue;
                }
            }
            if !filter.references.is_empty() {
                refs.retain(|r| filter.references.iter().any(|p| reference_matches(p, r)));
                if refs.is_empty() {
                    continue;
                }
            }
            let labels = entry
                .config
                .config
                .as_ref()
                .and_then(|c| c.labels.clone())
                .unwrap_or_default();
            if !labels_match(&filter.labels, &labels) {
                continue;
            }
            if before.is_some_and(|b| entry.created_unix >= b)
                || since.is_some_and(|s| entry.created_unix <= s)
            {
                continue;
            }
            out.push(ImageSummary {
                id: id.clone(),
                parent_id: entry.record.parent.clone().unwrap_or_default(),
                repo_tags: refs.iter().map(|r| familiar_string(r)).collect(),
                repo_digests: entry.record.repo_digests.clone(),
                created: entry.created_unix,
                size: entry.record.size as i64,
                shared_size: -1,
                labels,
                containers: -1,
            });
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }
}
