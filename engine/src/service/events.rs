//! The engine's event stream (`GET /events`, `docker events`): services publish what happened to
//! containers and images; subscribers get the recent past from a bounded ring (for `since`) and
//! live events from a broadcast channel.
//!
//! Publishing and subscribing take the same lock, so a subscriber's snapshot of the ring and its
//! live receiver meet exactly: no event is both replayed and received live, and none falls
//! between the two.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use tokio::sync::broadcast;

/// How many past events are kept for `since` (docker keeps 256; a terminal user scrolling back
/// through a busy session benefits from more, and an event is a few hundred bytes).
pub const RING_CAPACITY: usize = 1024;

/// Live events a subscriber may fall behind by before it skips some.
const LIVE_CAPACITY: usize = 1024;

/// Object types that emit events (docker's `events.Type`).
pub mod kind {
    pub const CONTAINER: &str = "container";
    pub const IMAGE: &str = "image";
    pub const NETWORK: &str = "network";
    pub const VOLUME: &str = "volume";
}

/// Docker's `events.Actor`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    /// Sorted, as Go marshals maps.
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// Docker's `events.Message`, field names and order as the daemon writes them. `status`, `id`
/// and `from` are the deprecated fields older clients still read; docker fills them for
/// container and image events only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    pub scope: String,
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

impl Event {
    /// An event stamped now, with the deprecated fields filled as docker does.
    pub fn new(kind: &str, action: &str, actor: Actor) -> Event {
        let now = chrono::Utc::now();
        let time_nano = now
            .timestamp_nanos_opt()
            .unwrap_or_else(|| now.timestamp().saturating_mul(1_000_000_000));
        Event::at(kind, action, actor, time_nano)
    }

    fn at(kind: &str, action: &str, actor: Actor, time_nano: i64) -> Event {
        let legacy = kind == kind::CONTAINER || kind == kind::IMAGE;
        let from = if kind == kind::CONTAINER {
            actor.attributes.get("image").cloned().unwrap_or_default()
        } else {
            String::new()
        };
        Event {
            status: if legacy {
                action.to_owned()
            } else {
                String::new()
            },
            id: if legacy {
                actor.id.clone()
            } else {
                String::new()
            },
            from,
            kind: kind.to_owned(),
            action: action.to_owned(),
            actor,
            scope: "local".to_owned(),
            time: time_nano.div_euclid(1_000_000_000),
            time_nano,
        }
    }
}

/// Attributes of a container event: its labels, then `image` and `name` (docker copies labels
/// first so a label cannot hide the real name), then the action's own (`exitCode`, `signal`...).
pub fn container_attributes(
    labels: &HashMap<String, String>,
    image: &str,
    name: &str,
    extra: &[(&str, String)],
) -> BTreeMap<String, String> {
    let mut attrs: BTreeMap<String, String> =
        labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    if !image.is_empty() {
        attrs.insert("image".into(), image.to_owned());
    }
    attrs.insert("name".into(), name.trim_start_matches('/').to_owned());
    for (k, v) in extra {
        attrs.insert((*k).to_owned(), v.clone());
    }
    attrs
}

struct Shared {
    ring: Mutex<VecDeque<Arc<Event>>>,
    live: broadcast::Sender<Arc<Event>>,
    capacity: usize,
}

/// The event bus; cheap to clone (every clone is the same bus).
#[derive(Clone)]
pub struct EventBus {
    shared: Arc<Shared>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::with_capacity(RING_CAPACITY)
    }
}

impl std::fmt::Debug for EventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBus")
            .field("buffered", &self.ring().len())
            .finish()
    }
}

impl EventBus {
    pub fn new() -> EventBus {
        EventBus::default()
    }

    pub fn with_capacity(capacity: usize) -> EventBus {
        EventBus {
            shared: Arc::new(Shared {
                ring: Mutex::new(VecDeque::with_capacity(capacity.min(RING_CAPACITY))),
                live: broadcast::channel(LIVE_CAPACITY).0,
                capacity: capacity.max(1),
            }),
        }
    }

    fn ring(&self) -> MutexGuard<'_, VecDeque<Arc<Event>>> {
        // The ring is plain data: a panic elsewhere while holding it leaves it usable.
        self.shared.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publish one event, stamped now.
    pub fn publish(
        &self,
        kind: &str,
        action: &str,
        id: &str,
        attributes: BTreeMap<String, String>,
    ) {
        let actor = Actor {
            id: id.to_owned(),
            attributes,
        };
        let mut ring = self.ring();
        // Stamped under the lock so the ring stays in time order.
        let mut event = Event::new(kind, action, actor);
        if let Some(last) = ring.back() {
            if event.time_nano < last.time_nano {
                // The wall clock stepped back: keep the ring sorted for `since` scans.
                event = Event::at(kind, action, event.actor, last.time_nano);
            }
        }
        tracing::debug!(kind, action, id, "event");
        let event = Arc::new(event);
        if ring.len() >= self.shared.capacity {
            ring.pop_front();
        }
        ring.push_back(event.clone());
        // No receivers is fine: nobody is listening right now.
        let _ = self.shared.live.send(event);
    }

    /// The buffered past and a receiver of everything published after it, atomically.
    pub fn subscribe(&self) -> (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>) {
        let ring = self.ring();
        let past = ring.iter().cloned().collect();
        let rx = self.shared.live.subscribe();
        (past, rx)
    }

    /// Buffered events with `since <= timeNano <= until` (nanoseconds), oldest first.
    pub fn past(&self, since: Option<i64>, until: Option<i64>) -> Vec<Arc<Event>> {
        self.ring()
            .iter()
            .filter(|e| since.is_none_or(|s| e.time_nano >= s))
            .filter(|e| until.is_none_or(|u| e.time_nano <= u))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn events_serialize_like_docker() {
        let e = Event::at(
            kind::CONTAINER,
            "start",
            Actor {
                id: "abc".into(),
                attributes: attrs(&[("name", "web"), ("image", "busybox")]),
            },
            1_700_000_000_123_456_789,
        );
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["status"], "start");
        assert_eq!(v["id"], "abc");
        assert_eq!(v["from"], "busybox");
        assert_eq!(v["Type"], "container");
        assert_eq!(v["Action"], "start");
        assert_eq!(v["Actor"]["ID"], "abc");
        assert_eq!(v["Actor"]["Attributes"]["name"], "web");
        assert_eq!(v["scope"], "local");
        assert_eq!(v["time"], 1_700_000_000i64);
        assert_eq!(v["timeNano"], 1_700_000_000_123_456_789i64);
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.starts_with(r#"{"status":"start","id":"abc","from":"busybox","Type":"#));

        // Networks and volumes carry no deprecated fields.
        let n = Event::at(kind::NETWORK, "create", Actor::default(), 5);
        let v = serde_json::to_value(&n).unwrap();
        assert!(v.get("status").is_none() && v.get("id").is_none() && v.get("from").is_none());
        // Images have status and id but no from.
        let i = Event::at(kind::IMAGE, "tag", Actor::default(), 5);
        let v = serde_json::to_value(&i).unwrap();
        assert_eq!(v["status"], "tag");
        assert!(v.get("from").is_none());
    }

    #[test]
    fn events_container_attributes_keep_name_over_labels() {
        let labels: HashMap<String, String> = [
            ("name".to_string(), "spoof".to_string()),
            ("app".to_string(), "x".to_string()),
        ]
        .into();
        let a = container_attributes(&labels, "busybox", "/web", &[("exitCode", "3".into())]);
        assert_eq!(
            a,
            attrs(&[
                ("app", "x"),
                ("exitCode", "3"),
                ("image", "busybox"),
                ("name", "web")
            ])
        );
    }

    #[test]
    fn events_ring_is_bounded_and_replays_in_order() {
        let bus = EventBus::with_capacity(3);
        for i in 0..5 {
            bus.publish(kind::IMAGE, "tag", &format!("i{i}"), BTreeMap::new());
        }
        let past = bus.past(None, None);
        let ids: Vec<&str> = past.iter().map(|e| e.actor.id.as_str()).collect();
        assert_eq!(ids, ["i2", "i3", "i4"]);
        assert!(past.windows(2).all(|w| w[0].time_nano <= w[1].time_nano));
        let cut = past[1].time_nano;
        assert!(bus.past(Some(cut), None).iter().all(|e| e.time_nano >= cut));
        assert!(bus.past(None, Some(past[0].time_nano - 1)).is_empty());
    }

    #[tokio::test]
    async fn events_subscribers_get_past_then_live() {
        let bus = EventBus::new();
        bus.publish(kind::CONTAINER, "create", "c1", BTreeMap::new());
        let (past, mut rx) = bus.subscribe();
        assert_eq!(past.len(), 1);
        bus.clone()
            .publish(kind::CONTAINER, "start", "c1", BTreeMap::new());
        let live = rx.recv().await.unwrap();
        assert_eq!(live.action, "start");
        assert!(rx.try_recv().is_err());
    }
}
