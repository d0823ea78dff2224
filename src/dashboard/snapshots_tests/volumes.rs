//! The volumes view: empty, loading, one, many (sizes from `/system/df`, users from the
//! containers list, a long name) at 80x24 and 200x50 and tiny sizes; create and prune forms,
//! remove confirmation, the engine's refusal, and the API calls with their bodies.

use insta::assert_snapshot;
use serde_json::{json, Value};

use crate::dashboard::app::App;
use crate::dashboard::msg::{Effect, FeedRequest, Msg, Purpose};
use crate::dashboard::testing::*;

pub fn volume(name: &str) -> Value {
    json!({"Name": name, "Driver": "local", "Mountpoint": format!("/var/lib/berth/volumes/{name}/_data"),
           "CreatedAt": rfc3339_ago(7200), "Labels": {}, "Scope": "local"})
}

/// `(method path, body)` of every API call among the effects.
pub fn bodies(effects: &[Effect]) -> Vec<(String, Option<Value>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Feed(r) => match &r.0 {
                FeedRequest::Call(c) => Some((format!("{} {}", c.method, c.path), c.body.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn set_volumes(a: &mut App, names: &[&str]) {
    let list = names.iter().map(|n| volume(n)).collect::<Vec<_>>();
    a.update(Msg::Volumes(serde_json::from_value(json!(list)).unwrap()));
}

fn df(a: &mut App, sizes: &[(&str, i64)]) {
    let vols: Vec<Value> = sizes
        .iter()
        .map(|(n, s)| {
            let mut v = volume(n);
            v["UsageData"] = json!({"Size": s, "RefCount": 0});
            v
        })
        .collect();
    a.update(Msg::CallDone {
        purpose: Purpose::DiskUsage,
        result: Ok(Some(
            json!({"Volumes": vols, "Images": [], "Containers": []}),
        )),
    });
}

const LONG: &str = "a-volume-with-a-very-long-name-that-does-not-fit-in-any-column-at-all";

fn many() -> App {
    let mut a = app();
    let mut web = container("web", "running", None);
    web["Mounts"] =
        json!([{"Type": "volume", "Name": "webdata", "Source": "", "Destination": "/data"}]);
    let mut db = container("db", "running", None);
    db["Mounts"] = json!([{"Type": "volume", "Name": "dbdata", "Source": "", "Destination": "/var/lib/db"},
                          {"Type": "volume", "Name": "webdata", "Source": "", "Destination": "/shared"}]);
    set_containers(&mut a, vec![web, db, container("idle", "exited", None)]);
    set_volumes(
        &mut a,
        &[
            "webdata",
            "dbdata",
            "cache",
            LONG,
            "3f1a0c8e7d2b4a6f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f",
        ],
    );
    press(&mut a, "3");
    a.take_effects();
    df(
        &mut a,
        &[
            ("webdata", 1_500_000),
            ("dbdata", 250_000_000),
            ("cache", 0),
            (LONG, -1),
        ],
    );
    a
}

#[test]
fn opening_the_view_asks_for_sizes() {
    let mut a = app();
    press(&mut a, "3");
    assert_eq!(calls(&a.take_effects()), vec!["GET /system/df"]);
    // Before the list arrives it says so.
    let s = render(&mut a, 80, 8);
    assert!(s.contains("loading…"), "{s}");
}

#[test]
fn empty_80x24() {
    let mut a = app();
    set_volumes(&mut a, &[]);
    press(&mut a, "3");
    assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn one_volume() {
    let mut a = app();
    set_volumes(&mut a, &["solo"]);
    press(&mut a, "3");
    df(&mut a, &[("solo", 4096)]);
    let s = render(&mut a, 80, 8);
    assert!(s.contains("solo") && s.contains("4.1kB"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn many_80x24() {
    let mut a = many();
    let s = render(&mut a, 80, 24);
    assert!(s.contains("db, web") || s.contains("web, db"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn many_200x50() {
    let mut a = many();
    let s = render(&mut a, 200, 50);
    assert!(s.contains("CREATED") && s.contains(LONG), "{s}");
    assert_snapshot!(s);
}

#[test]
fn narrow_drops_columns_and_tiny_does_not_panic() {
    let mut a = many();
    let s = render(&mut a, 44, 10);
    assert!(
        !s.contains("DRIVER") && !s.contains("IN USE BY") && s.contains("SIZE"),
        "{s}"
    );
    assert_snapshot!(s);
    for (w, h) in [(20, 5), (1, 1), (60, 3), (10, 30)] {
        render(&mut a, w, h);
    }
    press(&mut a, "c");
    for (w, h) in [(20, 5), (1, 1), (30, 4)] {
        render(&mut a, w, h);
    }
}

#[test]
fn sort_by_size_from_the_keys() {
    let mut a = many();
    press(&mut a, "o");
    let s = render(&mut a, 80, 10);
    let db = s.find("dbdata").unwrap();
    let web = s.find("webdata").unwrap();
    assert!(db < web, "largest first: {s}");
}

#[test]
fn create_form_posts_name_driver_and_labels() {
    let mut a = many();
    press(&mut a, "c");
    assert_snapshot!("create_form", render(&mut a, 80, 24));
    press(&mut a, "text:pgdata tab tab text:env=prod,team=db");
    assert_snapshot!("create_form_filled", render(&mut a, 80, 24));
    press(&mut a, "enter");
    assert!(!a.dialog_open());
    assert_eq!(
        bodies(&a.take_effects()),
        vec![(
            "POST /volumes/create".to_string(),
            Some(
                json!({"Name": "pgdata", "Driver": "local", "Labels": {"env": "prod", "team": "db"}})
            )
        )]
    );
    a.update(Msg::CallDone {
        purpose: Purpose::VolumeChange {
            label: "create volume pgdata".into(),
        },
        result: Ok(Some(volume("pgdata"))),
    });
    // Sizes are asked again after a change.
    assert_eq!(calls(&a.take_effects()), vec!["GET /system/df"]);
    assert!(a.status().unwrap().1.contains("create volume pgdata: done"));
}

#[test]
fn create_without_a_name_lets_the_engine_pick_and_says_which() {
    let mut a = many();
    press(&mut a, "c enter");
    assert_eq!(
        bodies(&a.take_effects()),
        vec![(
            "POST /volumes/create".to_string(),
            Some(json!({"Name": "", "Driver": "local", "Labels": {}}))
        )]
    );
    a.update(Msg::CallDone {
        purpose: Purpose::VolumeChange {
            label: "create volume".into(),
        },
        result: Ok(Some(volume("0a1b2c3d"))),
    });
    assert_eq!(a.status().unwrap().1, "create volume 0a1b2c3d: done");
}

#[test]
fn create_form_keeps_bad_labels_open_with_the_reason() {
    let mut a = many();
    press(&mut a, "c text:x tab tab text:oops enter");
    assert!(a.dialog_open());
    assert!(calls(&a.take_effects()).is_empty());
    assert_snapshot!(render(&mut a, 80, 24));
    press(&mut a, "esc");
    assert!(!a.dialog_open());
}

#[test]
fn remove_confirms_names_users_and_shows_the_engines_refusal() {
    let mut a = many();
    press(&mut a, "/ text:webdata enter d");
    assert!(calls(&a.take_effects()).is_empty());
    let s = render(&mut a, 80, 24);
    assert!(s.contains("in use by web, db"), "{s}");
    assert_snapshot!("remove_confirm", s);
    press(&mut a, "y");
    assert_eq!(calls(&a.take_effects()), vec!["DELETE /volumes/webdata"]);
    a.update(Msg::CallDone {
        purpose: Purpose::VolumeChange {
            label: "remove volume webdata".into(),
        },
        result: Err("remove webdata: volume is in use - [web, db]".into()),
    });
    assert!(calls(&a.take_effects()).is_empty());
    assert_snapshot!("remove_refused", render(&mut a, 80, 24));
}

#[test]
fn remove_marked_volumes() {
    let mut a = many();
    // Sorted by name: the anonymous one, a-volume…, cache, dbdata, webdata.
    press(&mut a, "j space space d y");
    assert_eq!(
        calls(&a.take_effects()),
        vec![
            format!("DELETE /volumes/{LONG}"),
            "DELETE /volumes/cache".to_string()
        ]
    );
    a.update(Msg::CallDone {
        purpose: Purpose::VolumeChange {
            label: "remove volume cache".into(),
        },
        result: Ok(None),
    });
    assert_eq!(calls(&a.take_effects()), vec!["GET /system/df"]);
}

#[test]
fn prune_offers_anonymous_only_or_all() {
    let mut a = many();
    press(&mut a, "X");
    assert_snapshot!("prune_form", render(&mut a, 80, 24));
    press(&mut a, "esc");
    assert!(calls(&a.take_effects()).is_empty());
    press(&mut a, "X enter");
    assert_eq!(calls(&a.take_effects()), vec!["POST /volumes/prune"]);
    press(&mut a, "X space");
    assert_snapshot!("prune_form_all", render(&mut a, 80, 24));
    press(&mut a, "enter");
    assert_eq!(
        calls(&a.take_effects()),
        vec!["POST /volumes/prune?filters=%7B%22all%22%3A%5B%22true%22%5D%7D"]
    );
    a.update(Msg::CallDone {
        purpose: Purpose::VolumePrune,
        result: Ok(Some(
            json!({"VolumesDeleted": ["cache", LONG], "SpaceReclaimed": 1_048_576}),
        )),
    });
    assert_eq!(calls(&a.take_effects()), vec!["GET /system/df"]);
    assert_eq!(
        a.status().unwrap().1,
        "prune volumes: removed 2 volumes, reclaimed 1.05MB"
    );
    assert_snapshot!("prune_done", render(&mut a, 80, 24));
    a.update(Msg::CallDone {
        purpose: Purpose::VolumePrune,
        result: Ok(Some(json!({"VolumesDeleted": null, "SpaceReclaimed": 0}))),
    });
    assert_eq!(a.status().unwrap().1, "prune volumes: nothing to remove");
    a.update(Msg::CallDone {
        purpose: Purpose::VolumePrune,
        result: Err("not connected to the engine".into()),
    });
    assert_eq!(
        a.status().unwrap().1,
        "prune volumes: not connected to the engine"
    );
}

#[test]
fn inspect_loads_the_volume() {
    let mut a = many();
    press(&mut a, "/ text:cache enter i");
    assert_eq!(calls(&a.take_effects()), vec!["GET /volumes/cache"]);
    a.update(Msg::CallDone {
        purpose: Purpose::Inspect {
            title: "inspect volume cache".into(),
        },
        result: Ok(Some(volume("cache"))),
    });
    let s = render(&mut a, 80, 24);
    assert!(s.contains("\"Mountpoint\""), "{s}");
}
