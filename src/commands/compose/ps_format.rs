//! `compose ps`'s rendering, as docker compose's `formatter/container.go` renders its
//! `ContainerSummary`: the default table (NAME IMAGE COMMAND SERVICE CREATED STATUS PORTS),
//! `json` (one object a line, Go's sorted keys and HTML escaping, `Publishers` as structs), and
//! Go templates over the same fields. Go's map iteration makes docker compose's `Labels` and
//! `Networks` order random; berth sorts them.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::commands::ps::ellipsis;
use crate::compose::types::to_go_json;
use crate::format::{render_rows, units};

/// docker compose's default `ps` table.
pub const PS_TABLE: &str = "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}";

/// One published (or exposed) port: docker compose's `PortPublisher`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Publisher {
    #[serde(rename = "URL")]
    pub url: String,
    pub target_port: u16,
    pub published_port: u16,
    pub protocol: String,
}

/// docker compose's `ContainerSummary`: the list entry completed by an inspect.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub id: String,
    /// The canonical name, without `/`.
    pub name: String,
    pub names: Vec<String>,
    pub image: String,
    pub command: String,
    pub project: String,
    pub service: String,
    pub created: i64,
    pub state: String,
    pub status: String,
    /// Of a running container with a healthcheck.
    pub health: String,
    /// Of an exited or dead container.
    pub exit_code: i64,
    /// Sorted by private port.
    pub publishers: Vec<Publisher>,
    pub labels: BTreeMap<String, String>,
    /// Volume names, or the source of other mounts.
    pub mounts: Vec<String>,
    pub local_volumes: usize,
    pub networks: Vec<String>,
}

impl Summary {
    /// From the engine's list entry and the container's inspect, as docker compose's `Ps`.
    pub fn new(list: &Value, inspect: &Value) -> Summary {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let names: Vec<String> = list["Names"]
            .as_array()
            .map(|a| a.iter().map(s).collect())
            .unwrap_or_default();
        let id = s(&list["Id"]);
        let labels: BTreeMap<String, String> = list["Labels"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
            .unwrap_or_default();
        let mut publishers: Vec<Publisher> = list["Ports"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| Publisher {
                url: s(&p["IP"]),
                target_port: p["PrivatePort"].as_u64().unwrap_or(0) as u16,
                published_port: p["PublicPort"].as_u64().unwrap_or(0) as u16,
                protocol: s(&p["Type"]),
            })
            .collect();
        publishers.sort_by_key(|p| p.target_port);
        let mounts = list["Mounts"].as_array().cloned().unwrap_or_default();
        let state = &inspect["State"];
        let status = state["Status"].as_str().unwrap_or_default();
        Summary {
            name: canonical_name(&names, &id),
            image: s(&list["Image"]),
            command: s(&list["Command"]),
            project: labels
                .get(crate::compose::labels::PROJECT)
                .cloned()
                .unwrap_or_default(),
            service: labels
                .get(crate::compose::labels::SERVICE)
                .cloned()
                .unwrap_or_default(),
            created: list["Created"].as_i64().unwrap_or(0),
            state: s(&list["State"]),
            status: s(&list["Status"]),
            health: match status {
                "running" => s(&state["Health"]["Status"]),
                _ => String::new(),
            },
            exit_code: match status {
                "exited" | "dead" => state["ExitCode"].as_i64().unwrap_or(0),
                _ => 0,
            },
            publishers,
            local_volumes: mounts.iter().filter(|m| m["Driver"] == "local").count(),
            mounts: mounts
                .iter()
                .map(|m| match m["Name"].as_str() {
                    Some(n) if !n.is_empty() => n.to_string(),
                    _ => s(&m["Source"]),
                })
                .collect(),
            networks: list["NetworkSettings"]["Networks"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            names,
            id,
            labels,
        }
    }
}

/// docker compose's `getCanonicalContainerName`: the name without a link path, or the short
/// id for a container caught without names.
pub fn canonical_name(names: &[String], id: &str) -> String {
    if names.is_empty() {
        return id.chars().take(12).collect();
    }
    names
        .iter()
        .find(|n| n.rfind('/') == Some(0))
        .unwrap_or(&names[0])
        .trim_start_matches('/')
        .to_string()
}

/// docker's `DisplayablePorts` (docker CLI v28, which docker compose v2.40.3 links): ports
/// published on their own number grouped into ranges per address and protocol, then the other
/// mappings, `0.0.0.0:9000-9001->9000-9001/udp, 0.0.0.0:8080->80/tcp`.
pub fn displayable_ports(publishers: &[Publisher]) -> String {
    let mut ports = publishers.to_vec();
    ports.sort_by(|a, b| {
        (a.target_port, &a.url, a.published_port, &a.protocol).cmp(&(
            b.target_port,
            &b.url,
            b.published_port,
            &b.protocol,
        ))
    });
    let mut groups: BTreeMap<String, (u16, u16)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut result: Vec<String> = Vec::new();
    let mut mappings: Vec<String> = Vec::new();
    for p in &ports {
        let current = p.target_port;
        let mut key = p.protocol.clone();
        if !p.url.is_empty() {
            if p.published_port != current {
                mappings.push(format!(
                    "{}->{}/{}",
                    join_host_port(&p.url, &p.published_port.to_string()),
                    p.target_port,
                    p.protocol
                ));
                continue;
            }
            key = format!("{}/{}", p.url, p.protocol);
        }
        match groups.get_mut(&key) {
            None => {
                groups.insert(key.clone(), (current, current));
                order.push(key);
            }
            Some(g) if g.1.checked_add(1) == Some(current) => g.1 = current,
            Some(g) => {
                result.push(form_group(&key, g.0, g.1));
                *g = (current, current);
            }
        }
    }
    for key in &order {
        let (first, last) = groups[key];
        result.push(form_group(key, first, last));
    }
    result.extend(mappings);
    result.join(", ")
}

fn form_group(key: &str, first: u16, last: u16) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    let (ip, kind) = match parts.as_slice() {
        [kind] => ("", *kind),
        [ip, kind, ..] => (*ip, *kind),
        [] => ("", ""),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{}->{group}", join_host_port(ip, &group));
    }
    format!("{group}/{kind}")
}

/// Go's `net.JoinHostPort`: brackets around an IPv6 host.
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The fields a `--format` template sees (docker compose's `ContainerContext` methods).
pub fn template_row(c: &Summary, trunc: bool, now: DateTime<Utc>) -> Value {
    serde_json::to_value(JsonView::new(c, trunc, now)).unwrap_or(Value::Null)
}

/// The column names of a `table` template's header.
pub fn headers() -> Value {
    json!({
        "ID": "CONTAINER ID", "Name": "NAME", "Project": "PROJECT", "Service": "SERVICE",
        "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
        "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
        "Size": "SIZE", "Labels": "LABELS",
    })
}

/// `{{json .}}` of a container: docker's `MarshalJSON` of the context, every method's value
/// under its name, keys sorted.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonView<'a> {
    command: String,
    created_at: String,
    exit_code: i64,
    health: &'a str,
    #[serde(rename = "ID")]
    id: String,
    image: &'a str,
    labels: String,
    local_volumes: String,
    mounts: String,
    name: &'a str,
    names: String,
    networks: String,
    ports: String,
    project: &'a str,
    publishers: &'a [Publisher],
    running_for: String,
    service: &'a str,
    size: &'static str,
    state: &'a str,
    status: &'a str,
}

impl<'a> JsonView<'a> {
    fn new(c: &'a Summary, trunc: bool, now: DateTime<Utc>) -> JsonView<'a> {
        let mut networks = c.networks.clone();
        networks.sort();
        JsonView {
            command: command(c, trunc),
            created_at: units::created_at(c.created),
            exit_code: c.exit_code,
            health: &c.health,
            id: if trunc { short_id(&c.id) } else { c.id.clone() },
            image: &c.image,
            labels: {
                let mut pairs: Vec<String> =
                    c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                pairs.sort();
                pairs.join(",")
            },
            local_volumes: c.local_volumes.to_string(),
            mounts: c
                .mounts
                .iter()
                .map(|m| if trunc { ellipsis(m, 15) } else { m.clone() })
                .collect::<Vec<_>>()
                .join(","),
            name: &c.name,
            names: names(c, trunc),
            networks: networks.join(","),
            ports: displayable_ports(&c.publishers),
            project: &c.project,
            publishers: &c.publishers,
            running_for: units::ago(c.created, now),
            service: &c.service,
            // `ps` never asks the engine for sizes.
            size: "0B",
            state: &c.state,
            status: &c.status,
        }
    }
}

/// stringid.TruncateID.
fn short_id(id: &str) -> String {
    let id = id.split_once(':').map_or(id, |(_, rest)| rest);
    id.chars().take(12).collect()
}

/// The command, quoted as Go's `%q`, cut to 20 characters unless `--no-trunc`.
fn command(c: &Summary, trunc: bool) -> String {
    let text = if trunc {
        ellipsis(&c.command, 20)
    } else {
        c.command.clone()
    };
    serde_json::to_string(&text).unwrap_or_default()
}

/// docker's `Names`: the names without `/`, only the canonical one when truncating.
fn names(c: &Summary, trunc: bool) -> String {
    let stripped: Vec<&str> = c.names.iter().map(|n| n.trim_start_matches('/')).collect();
    if trunc {
        if let Some(n) = stripped.iter().find(|n| !n.contains('/')) {
            return n.to_string();
        }
    }
    stripped.join(",")
}

/// The containers as `--format` asks: the default table, `json`, or a template (`table …`
/// for a header and aligned columns).
pub fn render(
    list: &[Summary],
    format: Option<&str>,
    trunc: bool,
    now: DateTime<Utc>,
) -> Result<String> {
    let format = format.map(str::trim).filter(|f| !f.is_empty());
    if format.is_some_and(|f| f == "json" || f == "{{json .}}") {
        return Ok(list
            .iter()
            .map(|c| to_go_json(&JsonView::new(c, trunc, now)) + "\n")
            .collect());
    }
    let rows: Vec<Value> = list.iter().map(|c| template_row(c, trunc, now)).collect();
    render_rows(format, PS_TABLE, &headers(), &rows)
}

#[cfg(test)]
#[path = "ps_format_tests.rs"]
mod tests;
