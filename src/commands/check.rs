//! `system check [--repair]`: the engine re-verifies its image store
//! (`POST /berth/v1/system/check`) and this prints what it found or removed.

use anyhow::Result;
use clap::Args;
use serde_json::Value;

use super::{out, Ctx};

#[derive(Args, Debug)]
pub struct SystemCheckArgs {
    /// Remove broken images (with their tags), corrupt blobs and orphaned blobs and layers.
    #[arg(long)]
    pub repair: bool,
    /// "json" prints the engine's report as JSON.
    #[arg(long)]
    pub format: Option<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// The report as text, and whether the store had problems.
pub fn render_report(r: &Value) -> (String, bool) {
    let mut t = format!(
        "Checked {} images, {} blobs, {} layers\n",
        r["ImagesChecked"].as_u64().unwrap_or(0),
        r["BlobsChecked"].as_u64().unwrap_or(0),
        r["LayersChecked"].as_u64().unwrap_or(0),
    );
    let mut problems = 0;
    for b in r["BrokenImages"].as_array().into_iter().flatten() {
        problems += 1;
        let tags = strings(&b["RepoTags"]);
        let name = if tags.is_empty() {
            String::new()
        } else {
            format!(" ({})", tags.join(", "))
        };
        t.push_str(&format!(
            "Broken image: {}{name}\n",
            b["Id"].as_str().unwrap_or("")
        ));
        for p in strings(&b["Problems"]) {
            t.push_str(&format!("  {p}\n"));
        }
    }
    for (key, label) in [
        ("CorruptBlobs", "Corrupt blob"),
        ("OrphanBlobs", "Orphan blob"),
        ("OrphanLayers", "Orphan layer"),
        ("DanglingTags", "Dangling tag"),
    ] {
        for d in strings(&r[key]) {
            problems += 1;
            t.push_str(&format!("{label}: {d}\n"));
        }
    }
    let resumable = strings(&r["Resumable"]).len();
    if resumable > 0 {
        t.push_str(&format!(
            "Kept {resumable} verified blobs/layers of interrupted pulls (they resume the next pull)\n"
        ));
    }
    if r["Repaired"].as_bool().unwrap_or(false) {
        for (key, label) in [
            ("RemovedImages", "Removed image"),
            ("RemovedTags", "Removed tag"),
            ("RemovedBlobs", "Removed blob"),
            ("RemovedLayers", "Removed layer"),
        ] {
            for d in strings(&r[key]) {
                t.push_str(&format!("{label}: {d}\n"));
            }
        }
        if problems == 0 {
            t.push_str("The image store is healthy\n");
        } else {
            t.push_str(&format!("Repaired {problems} problems\n"));
        }
        return (t, false);
    }
    if problems == 0 {
        t.push_str("The image store is healthy\n");
    } else {
        t.push_str(&format!(
            "Found {problems} problems; run `berth system check --repair` to remove what is broken\n"
        ));
    }
    (t, problems > 0)
}

pub async fn check(ctx: &Ctx, a: SystemCheckArgs) -> Result<i32> {
    let client = ctx.client().await?;
    let report = client.berth_check(a.repair).await?;
    let (text, problems) = render_report(&report);
    if a.format.as_deref() == Some("json") {
        out(&format!("{}\n", serde_json::to_string(&report)?));
    } else {
        out(&text);
    }
    Ok(if problems { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn check_report_text() {
        let r = json!({
            "ImagesChecked": 2, "BlobsChecked": 5, "LayersChecked": 2,
            "BrokenImages": [{"Id": "sha256:ab", "RepoTags": ["a:1"], "Problems": ["layer sha256:cd is missing"]}],
            "CorruptBlobs": [], "OrphanBlobs": ["sha256:ee"], "OrphanLayers": [], "DanglingTags": [],
            "Resumable": [], "Repaired": false
        });
        let (t, bad) = render_report(&r);
        assert!(bad);
        assert!(
            t.starts_with("Checked 2 images, 5 blobs, 2 layers\n"),
            "{t}"
        );
        assert!(
            t.contains("Broken image: sha256:ab (a:1)\n  layer sha256:cd is missing\n"),
            "{t}"
        );
        assert!(t.contains("Orphan blob: sha256:ee\n"), "{t}");
        assert!(t.contains("Found 2 problems"), "{t}");
        let healthy = json!({"ImagesChecked": 1, "BlobsChecked": 3, "LayersChecked": 1});
        let (t, bad) = render_report(&healthy);
        assert!(!bad);
        assert!(t.ends_with("The image store is healthy\n"), "{t}");
    }
}
