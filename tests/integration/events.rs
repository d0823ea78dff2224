//! The engine's event stream: `GET /events` live and replayed, docker's filters, image events,
//! `berth events` and the stock `docker events`.

use crate::common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{now_ts, stderr, stdout, urlencode, TestEngine};
use serde_json::Value;

/// A live `GET /events` connection, decoded event by event on a reader thread.
struct EventStream {
    rx: mpsc::Receiver<Value>,
    _conn: UnixStream,
}

impl EventStream {
    fn open(e: &TestEngine, query: &str) -> EventStream {
        let mut s = UnixStream::connect(&e.socket).unwrap();
        write!(
            s,
            "GET /events{query} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reader = s.try_clone().unwrap();
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut raw = Vec::new();
            let mut buf = [0u8; 8192];
            let mut head_done = false;
            let mut body = Vec::new();
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                raw.extend_from_slice(&buf[..n]);
                if !head_done {
                    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
                    let _ = ready_tx.send(head);
                    raw.drain(..end + 4);
                    head_done = true;
                }
                // Dechunk whatever is complete.
                while let Some(le) = raw.windows(2).position(|w| w == b"\r\n") {
                    let size =
                        usize::from_str_radix(String::from_utf8_lossy(&raw[..le]).trim(), 16)
                            .unwrap();
                    if size == 0 {
                        return;
                    }
                    if raw.len() < le + 2 + size + 2 {
                        break;
                    }
                    body.extend_from_slice(&raw[le + 2..le + 2 + size]);
                    raw.drain(..le + 2 + size + 2);
                }
                while let Some(nl) = body.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = body.drain(..=nl).collect();
                    let v: Value = serde_json::from_slice(&line).unwrap();
                    if tx.send(v).is_err() {
                        return;
                    }
                }
            }
        });
        let head = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("events response headers");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        EventStream { rx, _conn: s }
    }

    /// Events until one with `action` arrives (included), or panic after `timeout`.
    fn until_action(&self, action: &str, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(v) => {
                    let done = v["Action"] == action;
                    got.push(v);
                    if done {
                        return got;
                    }
                }
                Err(_) => panic!("no {action} event; got {got:#?}"),
            }
        }
    }
}

/// Replay `[since, until]` through the API (the request must end by itself).
fn replay(e: &TestEngine, since: &str, until: &str, filters: Option<&str>) -> Vec<Value> {
    let mut path = format!("/events?since={since}&until={until}");
    if let Some(f) = filters {
        path.push_str(&format!("&filters={}", urlencode(f)));
    }
    let r = e.api("GET", &path, None);
    assert_eq!(r.status, 200, "{}", r.text());
    // Every start and stop of a bridge-mode container also emits network connect/disconnect (as
    // docker does); those are checked in tests/networks.rs, the sequences here are the others.
    r.text()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["Type"] != "network")
        .collect()
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["Action"].as_str().unwrap().to_owned())
        .collect()
}

fn typed_actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["Type"].as_str().unwrap(),
                e["Action"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn events_run_rm_lifecycle_in_order() {
    let e = TestEngine::with_busybox();
    let stream = EventStream::open(
        &e,
        &format!("?filters={}", urlencode(r#"{"type":["container"]}"#)),
    );
    let o = e.berth(&[
        "run", "--rm", "--name", "ev-run", "-l", "app=shop", "busybox", "sh", "-c", "exit 3",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let events = stream.until_action("destroy", Duration::from_secs(20));
    let seen: Vec<String> = actions(&events)
        .into_iter()
        .filter(|a| a != "attach")
        .collect();
    assert_eq!(seen, ["create", "start", "die", "destroy"], "{events:#?}");
    let id = events[0]["Actor"]["ID"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 64);
    for ev in &events {
        assert_eq!(ev["Type"], "container");
        assert_eq!(ev["scope"], "local");
        assert_eq!(ev["Actor"]["ID"], id.as_str());
        assert_eq!(ev["id"], id.as_str());
        assert_eq!(ev["status"], ev["Action"]);
        assert_eq!(ev["from"], "busybox");
        let attrs = &ev["Actor"]["Attributes"];
        assert_eq!(attrs["name"], "ev-run");
        assert_eq!(attrs["image"], "busybox");
        assert_eq!(attrs["app"], "shop", "labels are attributes");
        let (t, tn) = (
            ev["time"].as_i64().unwrap(),
            ev["timeNano"].as_i64().unwrap(),
        );
        assert_eq!(tn / 1_000_000_000, t);
    }
    let die = events.iter().find(|v| v["Action"] == "die").unwrap();
    assert_eq!(die["Actor"]["Attributes"]["exitCode"], "3");
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["timeNano"].as_i64() <= w[1]["timeNano"].as_i64()),
        "in time order"
    );
    // The type filter kept image events out.
    assert!(stream.rx.try_recv().is_err());
}

#[test]
fn events_since_until_replay_and_end() {
    let e = TestEngine::with_busybox();
    let t0 = now_ts();
    let o = e.berth(&["run", "-d", "--name", "ev-replay", "busybox", "sleep", "60"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.berth(&["stop", "-t", "1", "ev-replay"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.berth(&["rename", "ev-replay", "ev-renamed"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.berth(&["rm", "ev-renamed"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t1 = now_ts();

    // A window in the past: exactly the events in it, then the response ends.
    let started = Instant::now();
    let events = replay(&e, &t0, &t1, None);
    assert!(started.elapsed() < Duration::from_secs(5));
    // `sleep` as PID 1 ignores SIGTERM, so stop escalates to SIGKILL after its timeout.
    assert_eq!(
        actions(&events),
        ["create", "start", "kill", "kill", "die", "stop", "rename", "destroy"],
        "{events:#?}"
    );
    assert_eq!(events[2]["Actor"]["Attributes"]["signal"], "15");
    assert_eq!(events[3]["Actor"]["Attributes"]["signal"], "9");
    assert_eq!(events[4]["Actor"]["Attributes"]["exitCode"], "137");
    let rename = &events[6]["Actor"]["Attributes"];
    assert_eq!(rename["oldName"], "/ev-replay");
    assert_eq!(rename["name"], "ev-renamed");
    // `since` alone with `until` before it: nothing replayed before the first event.
    assert!(replay(&e, &t1, &t1, None).is_empty());
    // `until` without `since` replays from the start of the ring.
    assert_eq!(
        replay(&e, "", &t1, None).len(),
        events.len() + 2,
        "plus the import's tag and import"
    );

    // A window reaching into the future: past events, live ones, then the end at `until`.
    let until = {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            + Duration::from_secs(5);
        format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
    };
    let stream = EventStream::open(&e, &format!("?since={t0}&until={until}"));
    let o = e.berth(&["create", "--name", "ev-live", "busybox", "true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let started = Instant::now();
    let mut got = Vec::new();
    while let Ok(v) = stream.rx.recv_timeout(Duration::from_secs(10)) {
        got.push(v);
    }
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "the stream ended at `until`"
    );
    got.retain(|v| v["Type"] != "network");
    let mut expected = actions(&events);
    expected.push("create".into());
    assert_eq!(actions(&got), expected, "{got:#?}");
    assert_eq!(
        got.last().unwrap()["Actor"]["Attributes"]["name"],
        "ev-live"
    );

    // Relative and RFC 3339 times are accepted; until before since and garbage are 400s.
    let r = e.api("GET", "/events?since=1h&until=1s", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().lines().count() >= events.len());
    let r = e.api(
        "GET",
        "/events?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z",
        None,
    );
    assert_eq!((r.status, r.text()), (200, String::new()));
    let r = e.api("GET", &format!("/events?since={t1}&until={t0}"), None);
    assert_eq!(r.status, 400);
    assert!(
        r.message().contains("cannot be after `until`"),
        "{}",
        r.message()
    );
    let r = e.api("GET", "/events?since=yesterday", None);
    assert_eq!(r.status, 400, "{}", r.text());
}

#[test]
fn events_filters_by_type_event_container_label() {
    let e = TestEngine::with_busybox();
    let t0 = now_ts();
    let o = e.berth(&["run", "--name", "ev-a", "-l", "tier=web", "busybox", "true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.berth(&[
        "run", "--name", "ev-b", "-l", "tier=db", "busybox", "sh", "-c", "exit 1",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = e.berth(&["tag", "busybox", "busybox:ev"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t1 = now_ts();

    let names = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|v| {
                format!(
                    "{} {}",
                    v["Action"].as_str().unwrap(),
                    v["Actor"]["Attributes"]["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    let die = replay(&e, &t0, &t1, Some(r#"{"event":["die"]}"#));
    assert_eq!(names(&die), ["die ev-a", "die ev-b"]);
    assert_eq!(die[1]["Actor"]["Attributes"]["exitCode"], "1");

    let b = replay(
        &e,
        &t0,
        &t1,
        Some(r#"{"container":["ev-b"],"event":["create","die"]}"#),
    );
    assert_eq!(names(&b), ["create ev-b", "die ev-b"]);
    // By id prefix too.
    let id = b[0]["Actor"]["ID"].as_str().unwrap();
    let by_id = replay(
        &e,
        &t0,
        &t1,
        Some(&format!(r#"{{"container":["{}"]}}"#, &id[..12])),
    );
    assert!(!by_id.is_empty());
    assert!(by_id.iter().all(|v| v["Actor"]["ID"] == id));

    let web = replay(
        &e,
        &t0,
        &t1,
        Some(r#"{"label":["tier=web"],"event":["start"]}"#),
    );
    assert_eq!(names(&web), ["start ev-a"]);
    let labelled = replay(
        &e,
        &t0,
        &t1,
        Some(r#"{"label":["tier"],"event":["start"]}"#),
    );
    assert_eq!(names(&labelled), ["start ev-a", "start ev-b"]);

    let images = replay(&e, &t0, &t1, Some(r#"{"type":["image"]}"#));
    assert_eq!(typed_actions(&images), ["image tag"]);
    assert_eq!(images[0]["Actor"]["Attributes"]["name"], "busybox:ev");
    let by_image = replay(
        &e,
        &t0,
        &t1,
        Some(r#"{"image":["busybox"],"event":["destroy"]}"#),
    );
    assert!(by_image.is_empty(), "nothing was destroyed");
    let by_image = replay(
        &e,
        &t0,
        &t1,
        Some(r#"{"image":["busybox"],"event":["create"]}"#),
    );
    assert_eq!(names(&by_image), ["create ev-a", "create ev-b"]);

    let r = e.api(
        "GET",
        &format!("/events?filters={}", urlencode(r#"{"bogus":["x"]}"#)),
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "invalid filter 'bogus'");
}

#[test]
fn events_for_image_import_tag_untag_delete() {
    let e = TestEngine::start();
    let t0 = now_ts();
    let id = e.import_busybox("busybox:latest");
    assert!(id.starts_with("sha256:"), "{id}");
    let o = e.berth(&["tag", "busybox", "mirror/busybox:2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.berth(&["rmi", "mirror/busybox:2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.berth(&["rmi", "busybox"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t1 = now_ts();
    let events = replay(&e, &t0, &t1, None);
    let summary: Vec<String> = events
        .iter()
        .map(|v| {
            format!(
                "{} {} {}",
                v["Type"].as_str().unwrap(),
                v["Action"].as_str().unwrap(),
                v["Actor"]["Attributes"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            "image tag busybox:latest".to_string(),
            format!("image import {id}"),
            "image tag mirror/busybox:2".to_string(),
            format!("image untag {id}"),
            format!("image untag {id}"),
            format!("image delete {id}"),
        ]
    );
    for v in &events {
        assert_eq!(v["Actor"]["ID"], id.as_str());
        assert_eq!(v["id"], id.as_str());
        assert_eq!(v["status"], v["Action"]);
        assert!(v.get("from").is_none(), "images have no `from`");
    }
}

#[test]
fn events_berth_and_docker_cli() {
    let e = TestEngine::with_busybox();
    let t0 = now_ts();
    let o = e.berth(&["run", "--rm", "--name", "ev-cli", "busybox", "true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t1 = now_ts();

    // The stock docker CLI converts the times itself and formats with its own template engine.
    let o = e.docker(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "--format",
        "{{.Type}} {{.Action}}",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "container create\ncontainer attach\nnetwork connect\ncontainer start\ncontainer die\nnetwork disconnect\ncontainer destroy\n"
    );
    let o = e.docker(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "--filter",
        "event=die",
        "--format",
        "{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}} {{.Status}} {{.From}}",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "ev-cli 0 die busybox\n");
    // docker's default line format, from docker's own printer.
    let o = e.docker(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "-f",
        "event=start",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let docker_line = stdout(&o);

    // berth events prints the same.
    let o = e.berth(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "-f",
        "event=start",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), docker_line);
    assert!(
        docker_line.contains(" container start ")
            && docker_line
                .trim_end()
                .ends_with("(image=busybox, name=ev-cli)"),
        "{docker_line}"
    );
    let o = e.berth(&[
        "events",
        "--since",
        &t0,
        "--until",
        &t1,
        "--format",
        "{{.Type}} {{.Action}}",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "container create\ncontainer attach\nnetwork connect\ncontainer start\ncontainer die\nnetwork disconnect\ncontainer destroy\n"
    );
    let o = e.berth(&["events", "--since", &t0, "--until", &t1, "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[0]["Action"], "create");
    assert_eq!(lines[0]["Actor"]["Attributes"]["name"], "ev-cli");
    // Relative times resolve on the client, as with docker.
    let o = e.berth(&[
        "events",
        "--since",
        "5m",
        "--until",
        "0s",
        "-f",
        "type=container",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 5, "{}", stdout(&o));
    let o = e.berth(&["events", "--since", "whenever", "--until", "0s"]);
    assert_eq!(o.status.code(), Some(125));
    let o = e.berth(&["events", "--until", "0s", "-f", "nope=1"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("invalid filter 'nope'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn events_die_on_failed_start_and_after_engine_restart() {
    let mut e = TestEngine::with_busybox();
    let t0 = now_ts();
    // A start that fails reports `die` with the exit code, as docker does; no `start`.
    let o = e.berth(&["run", "--name", "ev-missing", "busybox", "/no/such/binary"]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    let failed = replay(&e, &t0, &now_ts(), Some(r#"{"container":["ev-missing"]}"#));
    let seen: Vec<String> = actions(&failed)
        .into_iter()
        .filter(|a| a != "attach")
        .collect();
    assert_eq!(seen, ["create", "die"], "{failed:#?}");
    assert_eq!(
        failed.last().unwrap()["Actor"]["Attributes"]["exitCode"],
        "127"
    );

    // A container that exits while the engine is down: the restarted engine reports its `die`.
    let o = e.berth(&[
        "run",
        "-d",
        "--name",
        "ev-bg",
        "busybox",
        "sh",
        "-c",
        "sleep 1; exit 7",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let id = stdout(&o).trim().to_owned();
    e.kill9();
    // The shim records the exit on disk; wait for it so the exit really happens while the
    // engine is down.
    let exit_record = e.data_path(&format!("containers/{id}/exit.json"));
    assert!(
        common::eventually(Duration::from_secs(20), || exit_record
            .exists()
            .then_some(()))
        .is_some(),
        "container did not exit"
    );
    let t1 = now_ts();
    e.spawn();
    // A shim that outlived its container may still hand the exit over on reconnection, so
    // the `die` can follow the engine's start by a moment.
    let after = common::eventually(Duration::from_secs(10), || {
        let events = replay(&e, &t1, &now_ts(), None);
        (!events.is_empty()).then_some(events)
    })
    .expect("a die event after the restart");
    assert_eq!(typed_actions(&after), ["container die"], "{after:#?}");
    assert_eq!(after[0]["Actor"]["Attributes"]["name"], "ev-bg");
    assert_eq!(after[0]["Actor"]["Attributes"]["exitCode"], "7");
}
