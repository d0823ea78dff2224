//! `GET /events`: newline-delimited JSON event messages. Events from the engine's ring that fall
//! in `[since, until]` are replayed first, then live ones follow until `until` passes or the
//! client goes away. Filtering follows docker's daemon/events/filter.go.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use tokio::sync::{broadcast, mpsc};

use super::backend::EventsBackend;
use super::query::Filters;
use super::response::{progress_line, streaming, ApiResponse};
use super::timestamps::{now_nanos, parse_time_param};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::image::reference::Reference;
use crate::service::events::{kind, Event};

/// The filter keys docker accepts on `/events`.
const FILTER_KEYS: &[&str] = &[
    "config",
    "container",
    "daemon",
    "event",
    "image",
    "label",
    "network",
    "node",
    "plugin",
    "scope",
    "secret",
    "service",
    "type",
    "volume",
];

pub fn matches(method: &Method, segments: &[String]) -> bool {
    method == Method::GET && segments.len() == 1 && segments[0] == "events"
}

pub async fn handle<B: EventsBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let now = now_nanos();
    let raw_since = r.query.get("since").unwrap_or("");
    let raw_until = r.query.get("until").unwrap_or("");
    let since = parse_time_param("since", raw_since, now)?;
    let until = parse_time_param("until", raw_until, now)?;
    if let Some(u) = until {
        if u < since.unwrap_or(i64::MIN) {
            return Err(EngineError::invalid(format!(
                "`since` time ({raw_since}) cannot be after `until` time ({raw_until})"
            )));
        }
    }
    let filters = r.query.filters()?;
    filters.only(FILTER_KEYS)?;

    let (past, mut live) = r.backend.events_subscribe();
    // As in docker, the past is replayed only when the client asks for a time window.
    let replay: Vec<Arc<Event>> = if since.is_none() && until.is_none() {
        Vec::new()
    } else {
        past.into_iter()
            .filter(|e| since.is_none_or(|s| e.time_nano >= s))
            .filter(|e| until.is_none_or(|u| e.time_nano <= u))
            .filter(|e| include(&filters, e))
            .collect()
    };
    let only_past = until.is_some_and(|u| u < now);
    let deadline = until.map(|u| {
        tokio::time::Instant::now() + Duration::from_nanos(u.saturating_sub(now).max(0) as u64)
    });

    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        for e in replay {
            if tx.send(progress_line(&*e)).await.is_err() {
                return;
            }
        }
        if only_past {
            return;
        }
        let timeout = async move {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(timeout);
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(e) => {
                        if include(&filters, &e) && tx.send(progress_line(&*e)).await.is_err() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "events subscriber too slow, events dropped");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = &mut timeout => return,
                // The client hung up: stop listening rather than wait for the next event.
                _ = tx.closed() => return,
            }
        }
    });
    Ok(streaming("application/json", rx))
}

/// Go's filters.Args.ExactMatch: no values for the key matches everything.
fn exact(f: &Filters, key: &str, value: &str) -> bool {
    let values = f.get(key);
    values.is_empty() || values.iter().any(|v| v == value)
}

/// Go's filters.Args.FuzzyMatch: exact, or a filter value is a prefix of `source`.
fn fuzzy(f: &Filters, key: &str, source: &str) -> bool {
    let values = f.get(key);
    values.is_empty() || values.iter().any(|v| source.starts_with(v.as_str()))
}

/// Filter on the actor's id or name for events of `kind` (container=, volume=, network=...).
/// Like docker, a name filter for one kind excludes events of other kinds.
fn match_name(f: &Filters, key: &str, e: &Event) -> bool {
    let name = e
        .actor
        .attributes
        .get("name")
        .map(String::as_str)
        .unwrap_or("");
    fuzzy(f, key, &e.actor.id) || fuzzy(f, key, name)
}

/// The repository of an image reference without tag or digest ("busybox:1" → "busybox").
fn strip_tag(image: &str) -> String {
    match Reference::parse(image) {
        Ok(r) => r.familiar_name(),
        Err(_) => image.to_owned(),
    }
}

/// `image=` matches an image event's id or name, or a container event's image, with or
/// without tag.
fn match_image(f: &Filters, e: &Event) -> bool {
    if f.get("image").is_empty() {
        return true;
    }
    let attr = if e.kind == kind::IMAGE {
        "name"
    } else {
        "image"
    };
    let name = e
        .actor
        .attributes
        .get(attr)
        .map(String::as_str)
        .unwrap_or("");
    exact(f, "image", &e.actor.id)
        || exact(f, "image", name)
        || exact(f, "image", &strip_tag(&e.actor.id))
        || exact(f, "image", &strip_tag(name))
}

/// Go's filters.Args.MatchKVList on the actor's attributes (where docker puts labels).
fn match_labels(f: &Filters, e: &Event) -> bool {
    let wanted = f.get("label");
    if wanted.is_empty() {
        return true;
    }
    let attrs = &e.actor.attributes;
    !attrs.is_empty()
        && wanted.iter().all(|w| match w.split_once('=') {
            Some((k, v)) => attrs.get(k).is_some_and(|x| x == v),
            None => attrs.contains_key(w.as_str()),
        })
}

fn match_event(f: &Filters, e: &Event) -> bool {
    // docker moby#25798: these actions carry a suffix (`exec_start: sh`, `health_status:
    // healthy`), so a bare filter value matches as a prefix.
    let prefixed = f
        .get("event")
        .iter()
        .any(|v| matches!(v.as_str(), "health_status" | "exec_create" | "exec_start"));
    if prefixed {
        exact(f, "event", &e.action) || fuzzy(f, "event", &e.action)
    } else {
        exact(f, "event", &e.action)
    }
}

/// Whether event `e` passes every filter (docker's Filter.Include).
pub fn include(f: &Filters, e: &Event) -> bool {
    match_event(f, e)
        && exact(f, "type", &e.kind)
        && exact(f, "scope", &e.scope)
        && match_name(f, "daemon", e)
        && match_name(f, "container", e)
        && match_name(f, "plugin", e)
        && match_name(f, "volume", e)
        && match_name(f, "network", e)
        && match_image(f, e)
        && match_name(f, "node", e)
        && match_name(f, "service", e)
        && match_name(f, "secret", e)
        && match_name(f, "config", e)
        && match_labels(f, e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::events::{container_attributes, Actor};
    use std::collections::{BTreeMap, HashMap};

    fn container_event(action: &str, id: &str, name: &str, labels: &[(&str, &str)]) -> Event {
        let labels: HashMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Event::new(
            kind::CONTAINER,
            action,
            Actor {
                id: id.into(),
                attributes: container_attributes(&labels, "busybox:1.36", name, &[]),
            },
        )
    }

    fn image_event(action: &str, id: &str, name: &str) -> Event {
        let mut attributes = BTreeMap::new();
        attributes.insert("name".to_string(), name.to_string());
        Event::new(
            kind::IMAGE,
            action,
            Actor {
                id: id.into(),
                attributes,
            },
        )
    }

    fn filters(json: &str) -> Filters {
        Filters::parse(Some(json)).unwrap()
    }

    #[test]
    fn events_filters_follow_docker() {
        let start = container_event("start", "abc123", "web", &[("app", "shop")]);
        let tag = image_event("tag", "sha256:ffff", "busybox:latest");
        assert!(include(&filters("{}"), &start));
        assert!(include(&filters(r#"{"type":["container"]}"#), &start));
        assert!(!include(&filters(r#"{"type":["image"]}"#), &start));
        assert!(include(&filters(r#"{"event":["start","die"]}"#), &start));
        assert!(!include(&filters(r#"{"event":["die"]}"#), &start));
        // container= matches the name or an id prefix, and excludes other objects' events.
        assert!(include(&filters(r#"{"container":["web"]}"#), &start));
        assert!(include(&filters(r#"{"container":["abc"]}"#), &start));
        assert!(!include(&filters(r#"{"container":["db"]}"#), &start));
        assert!(!include(&filters(r#"{"container":["web"]}"#), &tag));
        // image= matches container events by image (with or without tag) and image events.
        assert!(include(&filters(r#"{"image":["busybox"]}"#), &start));
        assert!(include(&filters(r#"{"image":["busybox:1.36"]}"#), &start));
        assert!(!include(&filters(r#"{"image":["alpine"]}"#), &start));
        assert!(include(&filters(r#"{"image":["busybox"]}"#), &tag));
        assert!(include(&filters(r#"{"image":["sha256:ffff"]}"#), &tag));
        // label= is key or key=value over the attributes, all of them required.
        assert!(include(&filters(r#"{"label":["app"]}"#), &start));
        assert!(include(&filters(r#"{"label":["app=shop"]}"#), &start));
        assert!(!include(&filters(r#"{"label":["app=other"]}"#), &start));
        assert!(!include(&filters(r#"{"label":["app","tier"]}"#), &start));
        assert!(include(&filters(r#"{"scope":["local"]}"#), &start));
        assert!(!include(&filters(r#"{"scope":["swarm"]}"#), &start));
        // exec_start carries the command after a colon: a bare value matches as a prefix.
        let exec = container_event("exec_start: sh -c true", "abc", "web", &[]);
        assert!(include(&filters(r#"{"event":["exec_start"]}"#), &exec));
        assert!(!include(&filters(r#"{"event":["start"]}"#), &exec));
    }

    #[test]
    fn events_times_parse_like_docker() {
        let now = 1_700_000_000_000_000_000i64;
        assert_eq!(parse_time_param("since", "", now).unwrap(), None);
        assert_eq!(parse_time_param("since", "0", now).unwrap(), Some(0));
        assert_eq!(
            parse_time_param("since", "1699999999.5", now).unwrap(),
            Some(1_699_999_999_500_000_000)
        );
        assert_eq!(
            parse_time_param("since", "1699999999.000000001", now).unwrap(),
            Some(1_699_999_999_000_000_001)
        );
        assert_eq!(
            parse_time_param("since", "1699999999", now).unwrap(),
            Some(1_699_999_999_000_000_000)
        );
        assert_eq!(
            parse_time_param("since", "10m", now).unwrap(),
            Some(now - 600_000_000_000)
        );
        assert_eq!(
            parse_time_param("since", "1h30m", now).unwrap(),
            Some(now - 5_400_000_000_000)
        );
        assert_eq!(
            parse_time_param("since", "2023-11-14T22:13:20Z", now).unwrap(),
            Some(now)
        );
        assert_eq!(
            parse_time_param("since", "2023-11-14T23:13:20.25+01:00", now).unwrap(),
            Some(now + 250_000_000)
        );
        for bad in ["yesterday", "12.", ".5", "1x", "--1"] {
            assert!(parse_time_param("since", bad, now).is_err(), "{bad}");
        }
    }
}
