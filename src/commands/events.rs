//! `berth events`: stream the engine's events as `docker events` prints them.

use anyhow::{Context, Result};
use chrono::{DateTime, Local, TimeZone, Utc};
use clap::Args;
use http_body_util::BodyExt;
use serde_json::{json, Value};

use super::{out, Ctx};
use crate::client::api::{system, Filters};
use crate::exit::flag_error;
use crate::format::template::{Missing, Template};
use crate::format::units;

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Show all events created since timestamp.
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp.
    #[arg(long)]
    pub until: Option<String>,
    /// Filter output based on conditions provided (key=value).
    #[arg(short = 'f', long = "filter")]
    pub filters: Vec<String>,
    /// Format output: "json" or a Go template.
    #[arg(long)]
    pub format: Option<String>,
}

/// How one event is printed.
enum Printer {
    /// docker's default line: time, type, action, id and sorted attributes.
    Default,
    /// The message as the engine sent it, one JSON object per line.
    Json,
    Template(Template),
}

pub async fn events(ctx: &Ctx, a: EventsArgs) -> Result<i32> {
    let now = Utc::now();
    // Like the docker CLI, relative times and dates are resolved here, so `--since 10m` means
    // ten minutes before the command ran.
    let time = |flag: &str, v: &Option<String>| -> Result<Option<String>> {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| units::parse_timestamp(v, now).map_err(|e| flag_error("events", flag, v, &e)))
            .transpose()
    };
    let since = time("--since", &a.since)?;
    let until = time("--until", &a.until)?;
    let filters = Filters::parse(&a.filters)?;
    let endpoint = system::events(since.as_deref(), until.as_deref(), &filters);
    let printer = match a.format.as_deref().map(str::trim) {
        None | Some("") => Printer::Default,
        Some("json") | Some("{{json .}}") => Printer::Json,
        Some(f) => Printer::Template(Template::parse(f).map_err(anyhow::Error::msg)?),
    };

    let client = ctx.client().await?;
    let resp = client.open(endpoint, &[]).await?;
    let mut body = resp.into_body();
    let mut pending: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.context("reading the event stream")?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        pending.extend_from_slice(data);
        while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            print_line(&printer, &line)?;
        }
    }
    if !pending.is_empty() {
        print_line(&printer, &pending)?;
    }
    Ok(0)
}

fn print_line(printer: &Printer, line: &[u8]) -> Result<()> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim();
    if text.is_empty() {
        return Ok(());
    }
    let event: Value = serde_json::from_str(text).context("decoding an event")?;
    let rendered = match printer {
        Printer::Json => format!("{text}\n"),
        Printer::Default => default_line(&event),
        Printer::Template(t) => {
            let mut s = t
                .render(&template_context(&event), Missing::Error)
                .map_err(anyhow::Error::msg)?;
            s.push('\n');
            s
        }
    };
    out(&rendered);
    Ok(())
}

/// The event as the docker CLI's template sees it: Go's `events.Message` field names.
fn template_context(e: &Value) -> Value {
    let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
    json!({
        "Status": s("status"),
        "ID": s("id"),
        "From": s("from"),
        "Type": s("Type"),
        "Action": s("Action"),
        "Actor": {
            "ID": e["Actor"]["ID"].as_str().unwrap_or(""),
            "Attributes": e["Actor"]["Attributes"].clone(),
        },
        "Scope": s("scope"),
        "Time": e["time"].as_i64().unwrap_or(0),
        "TimeNano": e["timeNano"].as_i64().unwrap_or(0),
    })
}

/// docker's RFC3339NanoFixed ("2006-01-02T15:04:05.000000000Z07:00") in local time.
fn fixed_time<Tz: TimeZone>(t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let base = t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
    let offset = t.format("%:z").to_string();
    if offset == "+00:00" {
        format!("{base}Z")
    } else {
        format!("{base}{offset}")
    }
}

/// `2026-11-23T10:00:00.000000000Z container start ID (image=busybox, name=web)`.
fn default_line(e: &Value) -> String {
    let nanos = e["timeNano"].as_i64().unwrap_or_else(|| {
        e["time"]
            .as_i64()
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
    });
    let time = Local.timestamp_nanos(nanos);
    let mut line = format!(
        "{} {} {} {}",
        fixed_time(&time),
        e["Type"].as_str().unwrap_or(""),
        e["Action"].as_str().unwrap_or(""),
        e["Actor"]["ID"].as_str().unwrap_or(""),
    );
    if let Some(attrs) = e["Actor"]["Attributes"].as_object() {
        if !attrs.is_empty() {
            let mut pairs: Vec<(&String, String)> = attrs
                .iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            line.push_str(&format!(" ({})", joined.join(", ")));
        }
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_default_line_matches_docker() {
        let e = json!({
            "status": "start", "id": "abc", "from": "busybox",
            "Type": "container", "Action": "start",
            "Actor": {"ID": "abc", "Attributes": {"name": "web", "image": "busybox"}},
            "scope": "local", "time": 1_795_000_000i64, "timeNano": 1_795_000_000_000_000_123i64
        });
        let line = default_line(&e);
        let time = fixed_time(&Local.timestamp_nanos(1_795_000_000_000_000_123));
        assert_eq!(
            line,
            format!("{time} container start abc (image=busybox, name=web)\n")
        );
        assert!(time.contains(".000000123"));
        assert_eq!(
            fixed_time(&Utc.timestamp_nanos(1_795_000_000_000_000_123)),
            "2026-11-18T11:06:40.000000123Z"
        );
        let ctx = template_context(&e);
        let t = Template::parse("{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Status}}")
            .unwrap();
        assert_eq!(
            t.render(&ctx, Missing::Error).unwrap(),
            "container start web start"
        );
    }
}
