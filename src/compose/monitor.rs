//! A project's containers watched through the engine's events, as docker compose's `monitor`
//! does for `logs -f` and attached `up`: which containers are created, start, restart or exit,
//! until none of those it watches is left running. [`EventStream`] reads the engine's event
//! stream itself, for `compose events` too.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::Value;

use super::labels;
use crate::client::api::{containers, system, Filters};
use crate::client::{Client, DaemonError};

/// The engine's `/events` stream, one decoded message at a time.
pub struct EventStream {
    body: Incoming,
    pending: Vec<u8>,
}

impl EventStream {
    /// Open the stream; `since`/`until` are API timestamps (already converted).
    pub async fn open(
        client: &Client,
        since: Option<&str>,
        until: Option<&str>,
        filters: &Filters,
    ) -> Result<EventStream> {
        let resp = client
            .open(system::events(since, until, filters), &[])
            .await?;
        Ok(EventStream {
            body: resp.into_body(),
            pending: Vec::new(),
        })
    }

    /// The next message, `None` once the engine ends the stream.
    pub async fn next(&mut self) -> Result<Option<Value>> {
        loop {
            if let Some(nl) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=nl).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Ok(Some(
                    serde_json::from_slice(&line).context("decoding an event")?,
                ));
            }
            match self.body.frame().await {
                Some(frame) => {
                    if let Some(data) = frame.context("reading the event stream")?.data_ref() {
                        self.pending.extend_from_slice(data);
                    }
                }
                None => {
                    let rest = std::mem::take(&mut self.pending);
                    if rest.iter().all(u8::is_ascii_whitespace) {
                        return Ok(None);
                    }
                    return Ok(Some(
                        serde_json::from_slice(&rest).context("decoding an event")?,
                    ));
                }
            }
        }
    }
}

/// What happened to a container (docker compose's `ContainerEvent` types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    /// Created to replace another (`com.docker.compose.replace`).
    Recreated,
    Started,
    Restarted,
    Exited,
}

/// One event about a container of the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEvent {
    pub kind: EventKind,
    pub id: String,
    /// The name docker compose shows: `web-1`, or the custom `container_name`.
    pub source: String,
    pub service: String,
    pub exit_code: i64,
    /// Exited with a restart to follow, or started again after one.
    pub restarting: bool,
    /// The event's attributes (the container's labels, name, image, exitCode…).
    pub attributes: BTreeMap<String, String>,
    pub time_nano: i64,
}

impl ContainerEvent {
    fn new(kind: EventKind, project: &str, msg: &Value) -> ContainerEvent {
        let attributes: BTreeMap<String, String> = msg["Actor"]["Attributes"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let attr = |k: &str| attributes.get(k).cloned().unwrap_or_default();
        let name = attr("name");
        let default = format!(
            "{project}-{}-{}",
            attr(labels::SERVICE),
            attr(labels::CONTAINER_NUMBER)
        );
        let source = if name == default {
            name[project.len() + 1..].to_string()
        } else {
            name
        };
        ContainerEvent {
            kind,
            id: msg["Actor"]["ID"].as_str().unwrap_or_default().to_string(),
            source,
            service: attr(labels::SERVICE),
            exit_code: attr("exitCode").parse().unwrap_or(0),
            restarting: false,
            time_nano: msg["timeNano"].as_i64().unwrap_or(0),
            attributes,
        }
    }
}

/// Watch the project's containers (of `services`, or all) and hand each event to `listener`,
/// until every watched container has exited for good (at once when none exists).
pub async fn monitor(
    client: &Client,
    project: &str,
    services: &[String],
    mut listener: impl FnMut(ContainerEvent),
) -> Result<()> {
    let wanted = |service: &str| services.is_empty() || services.iter().any(|s| s == service);
    let mut filters = Filters::one("label", &labels::project_filter(project));
    filters.add("label", &format!("{}=False", labels::ONEOFF));
    filters.add("label", labels::CONFIG_HASH);
    let initial: Vec<Value> = client
        .send_as(containers::list(true, None, false, &filters))
        .await?;
    let mut watched: BTreeSet<String> = initial
        .iter()
        .filter(|c| wanted(c["Labels"][labels::SERVICE].as_str().unwrap_or_default()))
        .filter_map(|c| c["Id"].as_str().map(String::from))
        .collect();
    let mut restarting: BTreeSet<String> = BTreeSet::new();

    let mut filters = Filters::one("type", "container");
    filters.add("label", &labels::project_filter(project));
    let mut events = EventStream::open(client, None, None, &filters).await?;
    while !watched.is_empty() {
        let Some(msg) = events.next().await? else {
            return Ok(());
        };
        let action = msg["Action"].as_str().unwrap_or_default();
        let service = msg["Actor"]["Attributes"][labels::SERVICE]
            .as_str()
            .unwrap_or_default();
        if !wanted(service) {
            continue;
        }
        let id = msg["Actor"]["ID"].as_str().unwrap_or_default().to_string();
        match action {
            "create" => {
                watched.insert(id);
                let replaces = msg["Actor"]["Attributes"]
                    .get(labels::CONTAINER_REPLACE)
                    .is_some();
                let kind = if replaces {
                    EventKind::Recreated
                } else {
                    EventKind::Created
                };
                listener(ContainerEvent::new(kind, project, &msg));
            }
            "start" => {
                let mut e = ContainerEvent::new(EventKind::Started, project, &msg);
                e.restarting = restarting.contains(&id);
                listener(e);
                watched.insert(id);
            }
            "restart" => listener(ContainerEvent::new(EventKind::Restarted, project, &msg)),
            "die" => {
                let state = match client.container_inspect(&id).await {
                    Ok(v) => v["State"].clone(),
                    Err(e)
                        if e.downcast_ref::<DaemonError>()
                            .is_some_and(|d| d.status == 404) =>
                    {
                        Value::Null
                    }
                    Err(e) => return Err(e),
                };
                let mut e = ContainerEvent::new(EventKind::Exited, project, &msg);
                // The engine reports a container about to be restarted by its policy as
                // restarting (or, after `docker restart`, still running).
                if state["Restarting"] == true || state["Running"] == true {
                    e.restarting = true;
                    restarting.insert(id);
                } else {
                    watched.remove(&id);
                }
                listener(e);
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_sources_drop_the_project_from_default_names() {
        let msg = json!({
            "Type": "container", "Action": "die", "timeNano": 5,
            "Actor": {"ID": "abc", "Attributes": {
                "name": "demo-web-1", "exitCode": "3",
                labels::SERVICE: "web", labels::CONTAINER_NUMBER: "1",
            }}
        });
        let e = ContainerEvent::new(EventKind::Exited, "demo", &msg);
        assert_eq!(e.source, "web-1");
        assert_eq!(e.exit_code, 3);
        assert_eq!(e.service, "web");
        assert_eq!(e.time_nano, 5);
        let mut custom = msg.clone();
        custom["Actor"]["Attributes"]["name"] = json!("my-web");
        assert_eq!(
            ContainerEvent::new(EventKind::Exited, "demo", &custom).source,
            "my-web"
        );
    }
}
