//! `berth compose images`: the image of each of the project's containers, as docker compose
//! lists them: CONTAINER REPOSITORY TAG PLATFORM IMAGE ID SIZE CREATED in its 20-column table,
//! a JSON array, or the image ids alone. docker compose walks a Go map, so its row order is
//! random for JSON and `-q`; berth keeps the table's order (by container name) for all three.

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::args::ImagesArgs;
use super::ls::pretty_section;
use super::ps_format::canonical_name;
use super::target::{fail, project_name};
use super::Session;
use crate::client::api::{containers, images, Filters};
use crate::commands::{out, Ctx};
use crate::compose::labels;
use crate::format::units;

/// One container's image: docker compose's `ImageSummary` and the JSON it prints, in its
/// field order.
#[derive(Debug, Clone, Serialize)]
pub struct ImageRow {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "ContainerName")]
    pub container: String,
    #[serde(rename = "Repository")]
    pub repository: String,
    #[serde(rename = "Tag")]
    pub tag: String,
    #[serde(rename = "Platform")]
    pub platform: String,
    #[serde(rename = "Size")]
    pub size: i64,
    /// The JSON's `LastTagTime`: the tag time, else the creation time.
    #[serde(rename = "LastTagTime")]
    pub last_tag_time: String,
    /// The table's CREATED counts from the tag time alone (None: Go's zero time).
    #[serde(skip)]
    pub tagged: Option<DateTime<Utc>>,
}

/// docker's `reference.ParseDockerRef` then `FamiliarName` and the tag: `busybox` is
/// `busybox`/`latest`; an image id has neither.
pub fn repository_and_tag(image: &str) -> (String, String) {
    if image.starts_with("sha256:")
        || (image.len() == 64 && image.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return (String::new(), String::new());
    }
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let (name, tag) = match name.rfind(':') {
        Some(i) if !name[i + 1..].contains('/') => (&name[..i], Some(&name[i + 1..])),
        _ => (name, None),
    };
    let familiar = name
        .strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("index.docker.io/library/"))
        .or_else(|| name.strip_prefix("docker.io/"))
        .or_else(|| name.strip_prefix("index.docker.io/"))
        .unwrap_or(name);
    // A digest wins over a tag; a bare name means `latest`.
    let tag = match (tag, digest) {
        (_, Some(_)) => String::new(),
        (Some(t), None) => t.to_string(),
        (None, None) => "latest".to_string(),
    };
    (familiar.to_string(), tag)
}

/// Go's RFC 3339 with the fraction's trailing zeros dropped (`time.Time`'s JSON).
fn go_time(t: &DateTime<chrono::FixedOffset>) -> String {
    let mut s = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos > 0 {
        s.push_str(format!(".{nanos:09}").trim_end_matches('0'));
    }
    let offset = t.format("%:z").to_string();
    s.push_str(if offset == "+00:00" { "Z" } else { &offset });
    s
}

/// A time docker reports, None for Go's zero time or nothing.
fn parse_time(v: &Value) -> Option<DateTime<chrono::FixedOffset>> {
    DateTime::parse_from_rfc3339(v.as_str()?)
        .ok()
        .filter(|t| t.timestamp() > -62_135_596_800)
}

/// The row for `container` (a list entry) and its image's inspect.
pub fn row(container: &Value, image: &Value) -> ImageRow {
    let names: Vec<String> = container["Names"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let (repository, tag) = repository_and_tag(container["Image"].as_str().unwrap_or_default());
    let os = image["Os"].as_str().unwrap_or_default();
    let platform = if os.is_empty() {
        "unknown".to_string()
    } else {
        [
            os,
            image["Architecture"].as_str().unwrap_or_default(),
            image["Variant"].as_str().unwrap_or_default(),
        ]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/")
    };
    let tagged = parse_time(&image["Metadata"]["LastTagTime"]);
    let shown = tagged.or_else(|| parse_time(&image["Created"]));
    ImageRow {
        id: image["Id"].as_str().unwrap_or_default().to_string(),
        container: canonical_name(&names, container["Id"].as_str().unwrap_or_default()),
        repository,
        tag,
        platform,
        size: image["Size"].as_i64().unwrap_or(0),
        last_tag_time: shown.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), |t| go_time(&t)),
        tagged: tagged.map(|t| t.with_timezone(&Utc)),
    }
}

/// `json`, `table`, or docker compose's error for anything else.
pub fn render(rows: &[ImageRow], format: &str, now: DateTime<Utc>) -> Result<String> {
    if format == "json" {
        // An encoder line then Println's own newline; `null` for no container (a nil slice).
        return Ok(if rows.is_empty() {
            "null\n\n".to_string()
        } else {
            serde_json::to_string(rows)? + "\n\n"
        });
    }
    match format.to_lowercase().as_str() {
        "" | "table" | "pretty" => {
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let id = r.id.split_once(':').map_or(r.id.as_str(), |(_, h)| h);
                    let created = match r.tagged {
                        Some(t) => format!("{} ago", units::human_duration(now - t)),
                        // Go's time.Sub saturates at ~292 years from the zero time.
                        None => "292 years ago".to_string(),
                    };
                    let or_none = |s: &str| {
                        if s.is_empty() {
                            "<none>".to_string()
                        } else {
                            s.to_string()
                        }
                    };
                    vec![
                        r.container.clone(),
                        or_none(&r.repository),
                        or_none(&r.tag),
                        r.platform.clone(),
                        id.chars().take(12).collect(),
                        units::human_size_precision(r.size as f64, 3),
                        created,
                    ]
                })
                .collect();
            Ok(pretty_section(
                &[
                    "CONTAINER",
                    "REPOSITORY",
                    "TAG",
                    "PLATFORM",
                    "IMAGE ID",
                    "SIZE",
                    "CREATED",
                ],
                &table,
            ))
        }
        _ => Err(fail(format!(
            "format value {format:?} could not be parsed: parsing failed"
        ))),
    }
}

pub async fn run(ctx: &Ctx, session: &Session, a: ImagesArgs) -> Result<i32> {
    let name = project_name(session)?;
    let client = ctx.client().await?;
    // Every container of the project, one-offs too, as docker compose's `Images`.
    let list: Vec<Value> = client
        .send_as(containers::list(
            true,
            None,
            false,
            &Filters::one("label", &labels::project_filter(&name)),
        ))
        .await?;
    let list: Vec<Value> = list
        .into_iter()
        .filter(|c| {
            a.services.is_empty()
                || a.services
                    .iter()
                    .any(|s| c["Labels"][labels::SERVICE].as_str() == Some(s))
        })
        .collect();
    let inspects = futures_util::future::try_join_all(list.iter().map(|c| {
        let client = client.clone();
        async move {
            let image = c["Image"].as_str().unwrap_or_default();
            client.send_as::<Value>(images::inspect(image)).await
        }
    }))
    .await?;
    let mut rows: Vec<ImageRow> = list.iter().zip(&inspects).map(|(c, i)| row(c, i)).collect();
    rows.sort_by(|a, b| a.container.cmp(&b.container));
    if a.quiet {
        let mut ids: Vec<&str> = Vec::new();
        for r in &rows {
            let id = r.id.split_once(':').map_or(r.id.as_str(), |(_, h)| h);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        out(&ids.iter().map(|i| format!("{i}\n")).collect::<String>());
        return Ok(0);
    }
    out(&render(
        &rows,
        a.format.as_deref().unwrap_or("table"),
        Utc::now(),
    )?);
    Ok(0)
}

#[cfg(test)]
#[path = "images_tests.rs"]
mod tests;
