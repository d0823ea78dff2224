//! `POST /build/prune` (`docker builder prune`) and the build cache `system df` reports.
//!
//! The build cache is the cache index and the intermediate images only it refers to. Without
//! `all`, prune drops the entries no tagged image is built on (dangling cache: failed or
//! superseded builds); with `all`, every entry. `until` keeps entries used more recently;
//! `keep_storage` keeps the most recently used entries within that many bytes. An entry's image
//! goes with it when it is untagged, no other image's parent and no container's image.

use std::collections::HashSet;

use super::cache::CacheEntry;
use crate::error::Result;
use crate::service::Engine;

#[derive(Debug, Clone, Default)]
pub struct PruneOptions {
    pub all: bool,
    /// Unix seconds: only entries last used before.
    pub until: Option<i64>,
    /// Bytes of cache to keep (0: none).
    pub keep_storage: u64,
}

fn unix(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// The build cache as `system df` lists it.
pub fn usage(engine: &Engine) -> Result<Vec<serde_json::Value>> {
    let in_use = engine.images.tagged_ancestry();
    let mut entries = engine.builds.cache.all()?;
    entries.sort_by(|a, b| b.last_used.cmp(&a.last_used));
    Ok(entries
        .iter()
        .filter(|e| engine.images.contains(&e.image))
        .map(|e| {
            serde_json::json!({
                "ID": &e.key[..25.min(e.key.len())],
                "Parents": e.parent.iter().collect::<Vec<_>>(),
                "Type": "regular",
                "Description": e.description,
                "InUse": in_use.contains(&e.image),
                "Shared": false,
                "Size": e.size,
                "CreatedAt": e.created,
                "LastUsedAt": e.last_used,
                "UsageCount": e.usage_count,
            })
        })
        .collect())
}

/// Prune the build cache; returns the pruned entries' ids and the bytes freed.
pub async fn prune(engine: &Engine, opts: &PruneOptions) -> Result<(Vec<String>, u64)> {
    let in_use = engine.images.tagged_ancestry();
    let mut entries: Vec<CacheEntry> = engine.builds.cache.all()?;
    // Newest first, so keep_storage keeps the most recently used.
    entries.sort_by(|a, b| b.last_used.cmp(&a.last_used));
    let mut kept_bytes = 0u64;
    let mut doomed = Vec::new();
    for e in entries {
        let eligible = (opts.all || !in_use.contains(&e.image))
            && opts.until.is_none_or(|u| unix(&e.last_used) < u);
        if !eligible {
            continue;
        }
        if opts.keep_storage > 0 && kept_bytes + e.size <= opts.keep_storage {
            kept_bytes += e.size;
            continue;
        }
        doomed.push(e);
    }
    let mut ids = Vec::new();
    let mut reclaimed = 0u64;
    let mut images: Vec<(String, u64)> = Vec::new();
    for e in &doomed {
        engine.builds.cache.remove(&e.key)?;
        ids.push(e.key[..25.min(e.key.len())].to_string());
        images.push((e.image.clone(), e.size));
    }
    // Delete the images only the cache held, children before parents (repeat while any goes).
    let usage = engine.containers.image_usage();
    let used: HashSet<&str> = usage.iter().map(|(img, _, _)| img.as_str()).collect();
    let remaining: HashSet<String> = engine
        .builds
        .cache
        .all()?
        .into_iter()
        .map(|e| e.image)
        .collect();
    loop {
        let mut progressed = false;
        for (img, size) in &images {
            if used.contains(img.as_str())
                || remaining.contains(img)
                || !engine.images.is_bare_intermediate(img)
            {
                continue;
            }
            if engine
                .images
                .remove(img, false, true, usage.clone())
                .await
                .is_ok()
            {
                reclaimed += size;
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    Ok((ids, reclaimed))
}
