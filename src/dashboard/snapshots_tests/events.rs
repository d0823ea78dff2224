//! The events view: empty, one, many (real engine event shapes: container lifecycle with exit
//! codes, network connect naming the container, volume mount, image untag, a long name) at
//! 80x24 and 200x50 and tiny sizes; the type filter cycle, text filter, clear, inspect and the
//! MAX_EVENTS bound.

use insta::assert_snapshot;
use serde_json::{json, Value};

use crate::dashboard::app::App;
use crate::dashboard::msg::Msg;
use crate::dashboard::store::MAX_EVENTS;
use crate::dashboard::testing::*;

/// An event as `GET /events` sends it, `ago` seconds before the fixed clock.
fn event(kind: &str, action: &str, id: &str, attrs: Value, ago: i64) -> Value {
    let t = now().timestamp() - ago;
    json!({"Type": kind, "Action": action, "Actor": {"ID": id, "Attributes": attrs},
           "scope": "local", "time": t, "timeNano": t * 1_000_000_000 + 123})
}

const LONG: &str = "a-container-with-a-very-long-name-that-does-not-fit-anywhere-at-all";

fn real_sequence() -> Vec<Value> {
    let web = id_of("web");
    let hello = id_of("hello");
    vec![
        event("volume", "create", "data1", json!({"driver": "local"}), 300),
        event(
            "network",
            "create",
            &"0a5e8b74".repeat(8),
            json!({"name": "net1", "type": "bridge"}),
            290,
        ),
        event(
            "container",
            "create",
            &web,
            json!({"image": "busybox:latest", "name": "web", "com.docker.compose.project": "shop"}),
            280,
        ),
        event(
            "volume",
            "mount",
            "data1",
            json!({"container": web, "destination": "/data", "driver": "local", "propagation": "", "read/write": "true"}),
            279,
        ),
        event(
            "network",
            "connect",
            &"e0f2da3b".repeat(8),
            json!({"container": web, "name": "bridge", "type": "bridge"}),
            278,
        ),
        event(
            "container",
            "start",
            &web,
            json!({"image": "busybox:latest", "name": "web"}),
            277,
        ),
        event(
            "container",
            "die",
            &hello,
            json!({"execDuration": "0", "exitCode": "3", "image": "busybox:latest", "name": "hello"}),
            200,
        ),
        event(
            "container",
            "health_status: unhealthy",
            &web,
            json!({"image": "busybox:latest", "name": "web"}),
            150,
        ),
        event(
            "container",
            "kill",
            &web,
            json!({"image": "busybox:latest", "name": "web", "signal": "9"}),
            100,
        ),
        event(
            "container",
            "die",
            &web,
            json!({"exitCode": "137", "image": "busybox:latest", "name": "web"}),
            99,
        ),
        event(
            "container",
            "exec_start: sh -c date",
            &id_of(LONG),
            json!({"image": "busybox:latest", "name": LONG, "execID": "abc123"}),
            60,
        ),
        event(
            "image",
            "untag",
            "sha256:2693888ab581",
            json!({"name": "foo:1"}),
            30,
        ),
        event(
            "network",
            "disconnect",
            &"0a5e8b74".repeat(8),
            json!({"container": "f".repeat(64), "name": "net1", "type": "bridge"}),
            10,
        ),
        event(
            "container",
            "destroy",
            &hello,
            json!({"image": "busybox:latest", "name": "hello"}),
            5,
        ),
    ]
}

fn many() -> App {
    let mut a = app();
    // web is known, so events naming its id show its name.
    set_containers(&mut a, vec![container("web", "running", None)]);
    for ev in real_sequence() {
        a.update(Msg::Event(ev));
    }
    press(&mut a, "5");
    a.take_effects();
    a
}

#[test]
fn empty_80x24() {
    let mut a = app();
    press(&mut a, "5");
    assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn one_event() {
    let mut a = app();
    a.update(Msg::Event(event(
        "volume",
        "create",
        "solo",
        json!({"driver": "local"}),
        2,
    )));
    press(&mut a, "5");
    let s = render(&mut a, 80, 6);
    assert!(
        s.contains("11:59:58") && s.contains("solo") && s.contains("driver=local"),
        "{s}"
    );
    assert_snapshot!(s);
}

#[test]
fn many_80x24() {
    let mut a = many();
    let s = render(&mut a, 80, 24);
    // Newest first; the exit code and the container's name (not its id) are shown.
    assert!(
        s.find("destroy").unwrap() < s.find("create").unwrap(),
        "{s}"
    );
    assert!(s.contains("exit=137") && s.contains("container=web"), "{s}");
    assert!(!s.contains("com.docker.compose"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn many_200x50() {
    let mut a = many();
    let s = render(&mut a, 200, 50);
    assert!(
        s.contains("AGO") && s.contains("5 minutes ago") && s.contains(LONG),
        "{s}"
    );
    assert!(
        s.contains("cmd=sh -c date") && s.contains("unhealthy"),
        "{s}"
    );
    assert_snapshot!(s);
}

#[test]
fn narrow_and_tiny() {
    let mut a = many();
    let s = render(&mut a, 40, 10);
    assert!(!s.contains("ATTRIBUTES") && !s.contains("TYPE"), "{s}");
    assert_snapshot!(s);
    for (w, h) in [(20, 5), (1, 1), (60, 3), (10, 30)] {
        render(&mut a, w, h);
    }
}

#[test]
fn type_filter_cycles() {
    let mut a = many();
    press(&mut a, "t");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("Events ctr") && !s.contains("untag"), "{s}");
    assert_snapshot!("type_container", s);
    press(&mut a, "t");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("untag") && !s.contains("destroy"), "{s}");
    press(&mut a, "t");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("mount") && !s.contains("untag"), "{s}");
    press(&mut a, "t");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("disconnect") && !s.contains("mount"), "{s}");
    press(&mut a, "t");
    let s = render(&mut a, 80, 24);
    assert!(
        !s.contains("Events net") && s.contains("untag") && s.contains("mount"),
        "{s}"
    );
    // A type with nothing yet says how to get back.
    let mut b = app();
    b.update(Msg::Event(event("volume", "create", "v", json!({}), 1)));
    press(&mut b, "5 t");
    assert_snapshot!("type_empty", render(&mut b, 80, 8));
}

#[test]
fn text_filter_matches_attributes() {
    let mut a = many();
    press(&mut a, "/ text:exitcode=137 enter");
    let s = render(&mut a, 80, 10);
    assert!(s.contains("exit=137") && !s.contains("exit=3"), "{s}");
    press(&mut a, "/ ctrl-u text:nothing-like-this enter");
    let s = render(&mut a, 80, 10);
    assert!(s.contains("no event matches"), "{s}");
}

#[test]
fn clear_hides_what_was_there_and_new_events_show() {
    let mut a = many();
    press(&mut a, "c");
    let s = render(&mut a, 80, 10);
    assert!(s.contains("waiting for events"), "{s}");
    a.update(Msg::Event(event(
        "container",
        "start",
        &id_of("web"),
        json!({"name": "web"}),
        0,
    )));
    let s = render(&mut a, 80, 10);
    assert!(s.contains("start") && !s.contains("destroy"), "{s}");
}

#[test]
fn inspect_shows_the_json() {
    let mut a = many();
    press(&mut a, "i");
    assert!(a.dialog_open());
    assert!(calls(&a.take_effects()).is_empty());
    let s = render(&mut a, 80, 24);
    assert!(s.contains("\"destroy\""), "{s}");
}

#[test]
fn at_most_max_events_are_kept() {
    let mut a = app();
    for i in 0..(MAX_EVENTS + 50) {
        a.update(Msg::Event(event(
            "volume",
            "create",
            &format!("v{i}"),
            json!({}),
            0,
        )));
    }
    assert_eq!(a.store.events.len(), MAX_EVENTS);
    press(&mut a, "5");
    let s = render(&mut a, 80, 6);
    // Newest first; the oldest 50 are gone.
    assert!(s.contains(&format!("v{}", MAX_EVENTS + 49)), "{s}");
    press(&mut a, "G");
    let s = render(&mut a, 80, 6);
    assert!(s.contains("v50") && !s.contains("v49 "), "{s}");
}
