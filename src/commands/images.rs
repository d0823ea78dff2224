//! Image commands: images, rmi, tag, import.

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::{json, Value};

use super::{for_each, out, Ctx};
use crate::client::api::{images, Filters};
use crate::client::progress::{read_stream, render_message};
use crate::client::reference::split_tag;
use crate::format::{render_rows, units};

#[derive(Args, Debug)]
pub struct ImagePruneArgs {
    /// Remove all images not used by a container, not just untagged ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Filter values (until=<timestamp>, label=<key>[=<value>]).
    #[arg(long)]
    pub filter: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Tarball path, or - for stdin.
    pub file: String,
    /// Repository and optional tag for the new image.
    pub reference: Option<String>,
    /// Apply a Dockerfile instruction to the created image.
    #[arg(short = 'c', long = "change")]
    pub changes: Vec<String>,
    /// Commit message for the imported image.
    #[arg(short = 'm', long)]
    pub message: Option<String>,
}

#[derive(Args, Debug, Default)]
pub struct ImagesArgs {
    /// Repository to list (optionally REPO:TAG).
    pub reference: Option<String>,
    /// Show all images (default hides intermediate images).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only show image IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Show digests.
    #[arg(long)]
    pub digests: bool,
    #[arg(short = 'f', long = "filter")]
    pub filters: Vec<String>,
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct RmiArgs {
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(long)]
    pub no_prune: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

fn image_id(id: &str, trunc: bool) -> String {
    if trunc {
        id.strip_prefix("sha256:")
            .unwrap_or(id)
            .chars()
            .take(12)
            .collect()
    } else {
        id.to_string()
    }
}

/// docker's `images` rows: one per repo:tag (`<none>` when untagged).
pub fn image_rows(img: &Value, trunc: bool, now: DateTime<Utc>) -> Vec<Value> {
    let id = image_id(img["Id"].as_str().unwrap_or(""), trunc);
    let created = img["Created"].as_i64().unwrap_or(0);
    let size = units::human_size(img["Size"].as_f64().unwrap_or(0.0));
    let count = |k: &str| match img[k].as_i64() {
        Some(n) if n >= 0 => n.to_string(),
        _ => "N/A".to_string(),
    };
    let shared = match img["SharedSize"].as_f64() {
        Some(s) if s >= 0.0 => units::human_size(s),
        _ => "N/A".into(),
    };
    let digests: Vec<&str> = img["RepoDigests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut tags: Vec<(String, String)> = img["RepoTags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|t| *t != "<none>:<none>")
        .map(|t| {
            let (r, tag) = split_tag(t);
            (r.to_string(), tag.unwrap_or("<none>").to_string())
        })
        .collect();
    if tags.is_empty() {
        let repo = digests
            .first()
            .and_then(|d| d.split('@').next())
            .unwrap_or("<none>");
        tags.push((repo.to_string(), "<none>".into()));
    }
    tags.into_iter()
        .map(|(repo, tag)| {
            let digest = digests
                .iter()
                .find(|d| d.starts_with(&format!("{repo}@")))
                .and_then(|d| d.split('@').nth(1))
                .unwrap_or("<none>");
            json!({
                "Containers": count("Containers"),
                "CreatedAt": units::created_at(created),
                "CreatedSince": units::ago(created, now),
                "Digest": digest,
                "ID": id,
                "Repository": repo,
                "SharedSize": shared,
                "Size": size,
                "Tag": tag,
                "UniqueSize": "N/A",
                "VirtualSize": size,
            })
        })
        .collect()
}

pub fn image_headers() -> Value {
    json!({
        "Containers": "CONTAINERS", "CreatedAt": "CREATED AT", "CreatedSince": "CREATED",
        "Digest": "DIGEST", "ID": "IMAGE ID", "Repository": "REPOSITORY",
        "SharedSize": "SHARED SIZE", "Size": "SIZE", "Tag": "TAG", "UniqueSize": "UNIQUE SIZE",
        "VirtualSize": "VIRTUAL SIZE",
    })
}

pub const IMAGES_TABLE: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

pub async fn list(ctx: &Ctx, a: ImagesArgs) -> Result<i32> {
    let mut filters = a.filters.clone();
    if let Some(r) = &a.reference {
        filters.push(format!("reference={r}"));
    }
    let endpoint = images::list(a.all, &Filters::parse(&filters)?);
    let client = ctx.client().await?;
    let list: Vec<Value> = client.send_as(endpoint).await?;
    let now = Utc::now();
    if a.quiet {
        let mut seen = std::collections::HashSet::new();
        let mut text = String::new();
        for img in &list {
            let id = image_id(img["Id"].as_str().unwrap_or(""), !a.no_trunc);
            if seen.insert(id.clone()) {
                text.push_str(&id);
                text.push('\n');
            }
        }
        out(&text);
        return Ok(0);
    }
    let rows: Vec<Value> = list
        .iter()
        .flat_map(|i| image_rows(i, !a.no_trunc, now))
        .collect();
    let default = if a.digests {
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    } else {
        IMAGES_TABLE
    };
    out(&render_rows(
        a.format.as_deref(),
        default,
        &image_headers(),
        &rows,
    )?);
    Ok(0)
}

pub async fn remove(ctx: &Ctx, a: RmiArgs) -> Result<i32> {
    let client = ctx.client().await?;
    for_each(&a.images, |name| {
        let client = client.clone();
        async move {
            let v = client.image_remove(&name, a.force, a.no_prune).await?;
            let mut text = String::new();
            for item in v.as_array().into_iter().flatten() {
                if let Some(t) = item["Untagged"].as_str() {
                    text.push_str(&format!("Untagged: {t}\n"));
                }
                if let Some(d) = item["Deleted"].as_str() {
                    text.push_str(&format!("Deleted: {d}\n"));
                }
            }
            out(&text);
            Ok(())
        }
    })
    .await
}

pub async fn tag(ctx: &Ctx, a: TagArgs) -> Result<i32> {
    let (repo, tag) = split_tag(&a.target);
    let client = ctx.client().await?;
    client.image_tag(&a.source, repo, tag).await?;
    Ok(0)
}

/// `import FILE|- [REPO[:TAG]]`: stream the tarball as the body of
/// `POST /images/create?fromSrc=-` and print the new image id.
pub async fn import(ctx: &Ctx, a: ImportArgs) -> Result<i32> {
    // Open the source before contacting the engine so a typo fails fast.
    let source: Box<dyn tokio::io::AsyncRead + Unpin + Send> = if a.file == "-" {
        Box::new(tokio::io::stdin())
    } else {
        Box::new(
            tokio::fs::File::open(&a.file)
                .await
                .map_err(|e| anyhow::anyhow!("open {}: {e}", a.file))?,
        )
    };
    // Like docker, the whole reference goes in `repo`; the engine splits off the tag.
    let endpoint = images::import(
        a.reference.as_deref(),
        None,
        a.message.as_deref(),
        &a.changes,
    );
    let client = ctx.client().await?;
    let (resp, pump) = client
        .post_tar_stream(&endpoint.path, source, "the tarball")
        .await?;
    let mut text = String::new();
    read_stream(resp.into_body(), |msg| {
        match render_message(msg) {
            Ok(Some(line)) => {
                text.push_str(&line);
                text.push('\n');
            }
            Ok(None) => {}
            Err(e) => anyhow::bail!("{e}"),
        }
        Ok(())
    })
    .await?;
    pump.await??;
    out(&text);
    Ok(0)
}

/// `image prune [-a] [-f] [--filter]`, docker's prompt and report.
pub async fn prune(ctx: &Ctx, a: crate::cli::ImagePruneArgs) -> Result<i32> {
    let mut filters = a.filter.clone();
    if a.all {
        filters.push("dangling=false".into());
    }
    super::prune::Prune {
        warning: if a.all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        },
        endpoint: crate::client::api::images::prune,
        deleted_key: "ImagesDeleted",
        heading: "Deleted Images",
        reports_space: true,
    }
    .run(ctx, a.force, &filters)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn image_table_like_docker() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let img = json!({
            "Id": "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
            "RepoTags": ["busybox:latest", "mine:v1"],
            "RepoDigests": [],
            "Created": 1_700_000_000 - 3 * 86400,
            "Size": 4_260_000,
            "Containers": -1
        });
        let rows = image_rows(&img, true, now);
        assert_eq!(rows.len(), 2);
        let t = render_rows(None, IMAGES_TABLE, &image_headers(), &rows).unwrap();
        assert_eq!(
            t,
            "REPOSITORY   TAG       IMAGE ID       CREATED      SIZE\n\
             busybox      latest    abcdef012345   3 days ago   4.26MB\n\
             mine         v1        abcdef012345   3 days ago   4.26MB\n"
        );
        let untagged =
            json!({"Id": "sha256:1234567890abcdef", "RepoTags": [], "Created": 0, "Size": 0});
        let rows = image_rows(&untagged, false, now);
        assert_eq!(rows[0]["Repository"], "<none>");
        assert_eq!(rows[0]["Tag"], "<none>");
        assert_eq!(rows[0]["ID"], "sha256:1234567890abcdef");
        assert_eq!(rows[0]["Containers"], "N/A");
    }
}
