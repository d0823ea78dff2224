//! `ps`: docker's container list — its default table, `--format` templates and JSON rows.

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::{json, Value};

use super::{out, Ctx};
use crate::client::api::{containers, Filters};
use crate::exit::flag_error;
use crate::format::template::Template;
use crate::format::{render_rows, units};

#[derive(Args, Debug, Default)]
pub struct PsArgs {
    #[arg(short = 'a', long)]
    pub all: bool,
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Show n last created containers (includes all states).
    #[arg(short = 'n', long)]
    pub last: Option<String>,
    /// Show the latest created container (includes all states).
    #[arg(short = 'l', long)]
    pub latest: bool,
    #[arg(short = 'f', long = "filter")]
    pub filters: Vec<String>,
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(long)]
    pub format: Option<String>,
    /// Display total file sizes.
    #[arg(short = 's', long)]
    pub size: bool,
}

/// docker's `Ellipsis`: cut to `max` characters, the last one being "…".
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn short_id(id: &str, trunc: bool) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    if trunc {
        id.chars().take(12).collect()
    } else {
        id.to_string()
    }
}

/// "0.0.0.0:8080->80/tcp, 443/tcp" from the API's Ports list.
pub fn format_ports(ports: &Value) -> String {
    let mut out = Vec::new();
    for p in ports.as_array().into_iter().flatten() {
        let private = p["PrivatePort"].as_u64().unwrap_or(0);
        let proto = p["Type"].as_str().unwrap_or("tcp");
        match p["PublicPort"].as_u64().filter(|v| *v != 0) {
            Some(public) => {
                let ip = p["IP"].as_str().unwrap_or("");
                let ip = if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip.to_string()
                };
                out.push(format!("{ip}:{public}->{private}/{proto}"));
            }
            None => out.push(format!("{private}/{proto}")),
        }
    }
    out.join(", ")
}

fn labels_text(labels: &Value) -> String {
    let mut pairs: Vec<String> = labels
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// The part of a ContainerSummary that `ps` reads; `ps_row` gets it back as a small JSON value.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PsEntry {
    #[serde(default)]
    id: String,
    #[serde(default)]
    image: String,
    #[serde(default)]
    command: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    created: i64,
    #[serde(default)]
    mounts: Value,
    #[serde(default)]
    network_settings: PsNetworkSettings,
    size_rw: Option<f64>,
    size_root_fs: Option<f64>,
    #[serde(default)]
    labels: Value,
    #[serde(default)]
    state: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    ports: Value,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct PsNetworkSettings {
    #[serde(default)]
    networks: Option<std::collections::BTreeMap<String, serde::de::IgnoredAny>>,
}

/// One `ps` row with docker's field names. `created_at` is formatted only when a custom format
/// may show it (formatting a date per row was a large share of a 200-container `ps`).
pub fn ps_row(c: &PsEntry, trunc: bool, now: DateTime<Utc>, created_at: bool) -> Value {
    let id = c.id.as_str();
    let image = ps_image(c, trunc);
    let names = ps_names(c);
    let created = c.created;
    let mounts: Vec<String> = c
        .mounts
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            m["Name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .or_else(|| m["Source"].as_str())
                .map(|n| {
                    if trunc {
                        ellipsis(n, 15)
                    } else {
                        n.to_string()
                    }
                })
                .unwrap_or_default()
        })
        .collect();
    // BTreeMap keys come sorted.
    let networks: Vec<&str> = c
        .network_settings
        .networks
        .iter()
        .flat_map(|n| n.keys())
        .map(String::as_str)
        .collect();
    json!({
        "Command": ps_command(c, trunc),
        "CreatedAt": if created_at { units::created_at(created) } else { String::new() },
        "ID": short_id(id, trunc),
        "Image": image,
        "Labels": labels_text(&c.labels),
        "LocalVolumes": mounts.iter().filter(|m| !m.is_empty()).count().to_string(),
        "Mounts": mounts.join(","),
        "Names": names,
        "Networks": networks.join(","),
        "Ports": format_ports(&c.ports),
        "RunningFor": units::ago(created, now),
        "Size": ps_size(c),
        "State": c.state,
        "Status": c.status,
    })
}

/// The IMAGE column: an image id is shortened like the ID column.
fn ps_image(c: &PsEntry, trunc: bool) -> String {
    if trunc && c.image.starts_with("sha256:") {
        short_id(&c.image, true)
    } else {
        c.image.clone()
    }
}

/// The COMMAND column: quoted, cut to 20 characters unless --no-trunc.
fn ps_command(c: &PsEntry, trunc: bool) -> String {
    let command = if trunc {
        ellipsis(&c.command, 20)
    } else {
        c.command.clone()
    };
    serde_json::to_string(&command).unwrap_or_default()
}

/// The NAMES column. Names with another '/' are legacy links, which docker hides.
fn ps_names(c: &PsEntry) -> String {
    c.names
        .iter()
        .map(|n| n.strip_prefix('/').unwrap_or(n))
        .filter(|n| !n.contains('/'))
        .collect::<Vec<_>>()
        .join(",")
}

fn ps_size(c: &PsEntry) -> String {
    match (c.size_rw, c.size_root_fs) {
        (Some(rw), Some(root)) => format!(
            "{} (virtual {})",
            units::human_size(rw),
            units::human_size(root)
        ),
        (Some(rw), None) => units::human_size(rw),
        _ => "0B".into(),
    }
}

/// The default `ps` table (`PS_TABLE`, plus SIZE with -s) written straight from the entries: the
/// same text `render_rows` makes through the template engine (a test holds them equal), without
/// a JSON row and a template pass per container, which were most of a 200-container `ps`.
fn ps_default_table(list: &[PsEntry], trunc: bool, now: DateTime<Utc>, size: bool) -> String {
    let mut text = String::with_capacity(128 * (list.len() + 1));
    text.push_str("CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES");
    if size {
        text.push_str("\tSIZE");
    }
    text.push('\n');
    for c in list {
        let columns = [
            short_id(&c.id, trunc),
            ps_image(c, trunc),
            ps_command(c, trunc),
            units::ago(c.created, now),
            c.status.clone(),
            format_ports(&c.ports),
            ps_names(c),
        ];
        text.push_str(&columns.join("\t"));
        if size {
            text.push('\t');
            text.push_str(&ps_size(c));
        }
        text.push('\n');
    }
    crate::format::table::TabWriter::default().format(&text)
}

pub fn ps_headers() -> Value {
    json!({
        "Command": "COMMAND", "CreatedAt": "CREATED AT", "ID": "CONTAINER ID", "Image": "IMAGE",
        "Labels": "LABELS", "LocalVolumes": "LOCAL VOLUMES", "Mounts": "MOUNTS", "Names": "NAMES",
        "Networks": "NETWORKS", "Ports": "PORTS", "RunningFor": "CREATED", "Size": "SIZE",
        "State": "STATE", "Status": "STATUS",
    })
}

pub const PS_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

pub async fn list(ctx: &Ctx, a: PsArgs) -> Result<i32> {
    let mut limit = match &a.last {
        Some(n) => n
            .parse::<i64>()
            .map_err(|_| flag_error("ps", "-n, --last", n, "strconv.ParseInt: invalid syntax"))?,
        None => -1,
    };
    if a.latest {
        limit = 1;
    }
    // -s is needed by the default table with sizes and by any template naming .Size.
    let want_size = a.size || a.format.as_deref().is_some_and(|f| f.contains(".Size"));
    let endpoint = containers::list(
        a.all || limit > 0,
        (limit > 0).then_some(limit),
        want_size,
        &Filters::parse(&a.filters)?,
    );
    // Validate the template before asking the engine.
    if let Some(f) = &a.format {
        if !matches!(f.trim(), "" | "table" | "json") {
            Template::parse(f.trim().strip_prefix("table ").unwrap_or(f))
                .map_err(anyhow::Error::msg)?;
        }
    }
    let client = ctx.client().await?;
    // Decode only the fields `ps` shows: with hundreds of containers, building full JSON trees
    // of every summary dominated the command's time.
    let list: Vec<PsEntry> = client.send_as(endpoint).await?;
    let now = Utc::now();
    let created_at = a
        .format
        .as_deref()
        .is_some_and(|f| f.contains("CreatedAt") || f.trim() == "json" || f.contains("json ."));
    if a.format
        .as_deref()
        .is_none_or(|f| matches!(f.trim(), "" | "table"))
        && !a.quiet
    {
        out(&ps_default_table(&list, !a.no_trunc, now, a.size));
        return Ok(0);
    }
    let rows: Vec<Value> = list
        .iter()
        .map(|c| ps_row(c, !a.no_trunc, now, created_at))
        .collect();
    let format = if a.quiet {
        Some("{{.ID}}")
    } else {
        a.format.as_deref()
    };
    let default = if a.size {
        format!("{PS_TABLE}\t{{{{.Size}}}}")
    } else {
        PS_TABLE.to_string()
    };
    out(&render_rows(format, &default, &ps_headers(), &rows)?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> Value {
        json!({
            "Id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "Names": ["/web", "/other/link"],
            "Image": "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
            "Command": "sh -c 'while true; do sleep 1; done'",
            "Created": 1_700_000_000 - 5,
            "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                      {"PrivatePort": 443, "Type": "tcp"}],
            "Labels": {"b": "2", "a": "1"},
            "State": "running",
            "Status": "Up 5 seconds",
            "NetworkSettings": {"Networks": {"bridge": {}}},
            "Mounts": []
        })
    }

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000, 0).unwrap()
    }

    fn entry() -> PsEntry {
        serde_json::from_value(sample()).unwrap()
    }

    #[test]
    fn ps_row_matches_docker_json() {
        let r = ps_row(&entry(), true, now(), true);
        assert_eq!(r["ID"], "0123456789ab");
        assert_eq!(r["Image"], "fedcba987654");
        assert_eq!(r["Command"], "\"sh -c 'while true; …\"");
        assert_eq!(r["RunningFor"], "5 seconds ago");
        assert_eq!(r["Ports"], "0.0.0.0:8080->80/tcp, 443/tcp");
        assert_eq!(r["Names"], "web");
        assert_eq!(r["Labels"], "a=1,b=2");
        assert_eq!(r["Networks"], "bridge");
        assert_eq!(r["State"], "running");
        let full = ps_row(&entry(), false, now(), true);
        assert_eq!(full["Command"], "\"sh -c 'while true; do sleep 1; done'\"");
        assert_eq!(full["ID"].as_str().unwrap().len(), 64);
    }

    #[test]
    fn ps_table_and_formats() {
        let rows = vec![ps_row(&entry(), true, now(), true)];
        let t = render_rows(None, PS_TABLE, &ps_headers(), &rows).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "CONTAINER ID   IMAGE          COMMAND                  CREATED         STATUS         PORTS                           NAMES"
        );
        assert_eq!(
            lines[1],
            "0123456789ab   fedcba987654   \"sh -c 'while true; …\"   5 seconds ago   Up 5 seconds   0.0.0.0:8080->80/tcp, 443/tcp   web"
        );
        let t = render_rows(Some("{{.Names}}"), PS_TABLE, &ps_headers(), &rows).unwrap();
        assert_eq!(t, "web\n");
        let t = render_rows(
            Some("table {{.ID}}\\t{{.Names}}"),
            PS_TABLE,
            &ps_headers(),
            &rows,
        )
        .unwrap();
        assert_eq!(t, "CONTAINER ID   NAMES\n0123456789ab   web\n");
        let t = render_rows(Some("json"), PS_TABLE, &ps_headers(), &rows).unwrap();
        let v: Value = serde_json::from_str(t.trim()).unwrap();
        assert_eq!(v["Names"], "web");
        assert_eq!(v["Status"], "Up 5 seconds");
        assert!(render_rows(Some("{{.Nope}}"), PS_TABLE, &ps_headers(), &rows).is_err());
    }

    #[test]
    fn default_table_fast_path_equals_the_template() {
        let mut other = sample();
        other["Names"] = json!(["/db", "/web/db"]);
        other["Image"] = json!("busybox");
        other["Ports"] = json!([]);
        other["SizeRw"] = json!(2048);
        let list: Vec<PsEntry> = vec![entry(), serde_json::from_value(other).unwrap()];
        for trunc in [true, false] {
            for size in [false, true] {
                let rows: Vec<Value> = list
                    .iter()
                    .map(|c| ps_row(c, trunc, now(), false))
                    .collect();
                let table = if size {
                    format!("{PS_TABLE}\t{{{{.Size}}}}")
                } else {
                    PS_TABLE.to_string()
                };
                let templated = render_rows(None, &table, &ps_headers(), &rows).unwrap();
                assert_eq!(ps_default_table(&list, trunc, now(), size), templated);
            }
        }
    }

    #[test]
    fn ellipsis_like_docker() {
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(ellipsis("abc", 4), "abc");
    }
}
