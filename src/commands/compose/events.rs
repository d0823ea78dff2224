//! `berth compose events`: the engine's events about the project's containers (one-off `run`
//! containers left out), printed as docker compose prints them: a line and an empty line
//! (its `Event.String()` ends with a newline and is printed with another), or `--json`
//! objects. Attributes drop compose's own labels; Go prints them in map order, berth sorted.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{DateTime, Local, TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;

use super::args::EventsArgs;
use super::target::{fail, project_name};
use super::Session;
use crate::client::api::Filters;
use crate::commands::{out, Ctx};
use crate::compose::labels;
use crate::compose::monitor::EventStream;
use crate::compose::types::to_go_json;
use crate::format::units;

/// docker compose's `api.Event`, in the JSON's (sorted) key order.
#[derive(Debug, Serialize)]
struct Event {
    action: String,
    attributes: BTreeMap<String, String>,
    id: String,
    service: String,
    time: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The event docker compose makes of an engine message, or None for what it skips.
fn event(msg: &Value, services: &[String]) -> Option<(Event, DateTime<Local>)> {
    if msg["Type"] != "container" {
        return None;
    }
    let attrs = msg["Actor"]["Attributes"].as_object();
    let attr = |k: &str| attrs.and_then(|a| a.get(k)).and_then(Value::as_str);
    if attr(labels::ONEOFF) == Some("True") {
        return None;
    }
    let service = attr(labels::SERVICE).unwrap_or_default().to_string();
    if !services.is_empty() && !services.contains(&service) {
        return None;
    }
    let attributes = attrs
        .into_iter()
        .flatten()
        .filter(|(k, _)| !k.starts_with("com.docker.compose."))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let nanos = match msg["timeNano"].as_i64() {
        Some(n) if n != 0 => n,
        _ => msg["time"]
            .as_i64()
            .unwrap_or(0)
            .saturating_mul(1_000_000_000),
    };
    let time = Local.timestamp_nanos(nanos);
    let e = Event {
        action: msg["Action"].as_str().unwrap_or_default().to_string(),
        attributes,
        id: msg["Actor"]["ID"].as_str().unwrap_or_default().to_string(),
        service,
        time: rfc3339_nano(&time),
        kind: "container",
    };
    Some((e, time))
}

/// Go's `time.RFC3339Nano`: the fraction without trailing zeros, `Z` for a zero offset.
fn rfc3339_nano<Tz: TimeZone>(t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let mut s = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos > 0 {
        s.push_str(format!(".{nanos:09}").trim_end_matches('0'));
    }
    let offset = t.format("%:z").to_string();
    s.push_str(if offset == "+00:00" { "Z" } else { &offset });
    s
}

/// One event as docker compose prints it.
fn render(e: &Event, time: &DateTime<Local>, json: bool) -> String {
    if json {
        return to_go_json(e) + "\n";
    }
    let attrs: Vec<String> = e
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{} container {} {} ({})\n\n",
        time.format("%Y-%m-%d %H:%M:%S%.6f"),
        e.action,
        e.id,
        attrs.join(", ")
    )
}

pub async fn run(ctx: &Ctx, session: &Session, a: EventsArgs) -> Result<i32> {
    let name = project_name(session)?;
    let now = Utc::now();
    let time = |v: &Option<String>| -> Result<Option<String>> {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| units::parse_timestamp(v, now).map_err(fail))
            .transpose()
    };
    let (since, until) = (time(&a.since)?, time(&a.until)?);
    let client = ctx.client().await?;
    let filters = Filters::one("label", &labels::project_filter(&name));
    let mut stream =
        EventStream::open(&client, since.as_deref(), until.as_deref(), &filters).await?;
    while let Some(msg) = stream.next().await? {
        if let Some((e, t)) = event(&msg, &a.services) {
            out(&render(&e, &t, a.json));
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kill() -> Value {
        json!({
            "Type": "container", "Action": "kill", "time": 1_796_669_986i64,
            "timeNano": 1_796_669_986_092_918_380i64,
            "Actor": {"ID": "e40ee3277680156abd9bafde48252dc23d6a4a9a2f61c2ae174e94ca3e1ac21e",
                "Attributes": {
                    "image": "busybox:latest", "name": "demo-database-1", "signal": "15",
                    labels::SERVICE: "database", labels::PROJECT: "demo", labels::ONEOFF: "False",
                }}
        })
    }

    /// docker compose v2.40.3's lines for the same engine event (its attributes in Go's random
    /// order there; sorted here).
    #[test]
    fn lines_and_json_as_docker_compose_prints_them() {
        let (e, t) = event(&kill(), &[]).unwrap();
        let stamp = t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        assert_eq!(
            render(&e, &t, false),
            format!("{stamp} container kill e40ee3277680156abd9bafde48252dc23d6a4a9a2f61c2ae174e94ca3e1ac21e (image=busybox:latest, name=demo-database-1, signal=15)\n\n")
        );
        assert!(stamp.ends_with(":46.092918"), "{stamp}");
        let time = rfc3339_nano(&t);
        assert_eq!(
            render(&e, &t, true),
            format!("{{\"action\":\"kill\",\"attributes\":{{\"image\":\"busybox:latest\",\"name\":\"demo-database-1\",\"signal\":\"15\"}},\"id\":\"e40ee3277680156abd9bafde48252dc23d6a4a9a2f61c2ae174e94ca3e1ac21e\",\"service\":\"database\",\"time\":\"{time}\",\"type\":\"container\"}}\n")
        );
        assert_eq!(
            rfc3339_nano(&Utc.timestamp_nanos(1_796_669_986_092_918_380)),
            "2026-12-07T18:59:46.09291838Z"
        );
    }

    #[test]
    fn skips_what_docker_compose_skips() {
        assert!(event(&kill(), &["web".into()]).is_none());
        assert!(event(&kill(), &["database".into()]).is_some());
        let mut oneoff = kill();
        oneoff["Actor"]["Attributes"][labels::ONEOFF] = json!("True");
        assert!(event(&oneoff, &[]).is_none());
        let mut network = kill();
        network["Type"] = json!("network");
        assert!(event(&network, &[]).is_none());
    }
}
