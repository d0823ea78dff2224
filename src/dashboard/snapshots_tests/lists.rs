//! Bugs the list table once had, each with the snapshot that would have caught it: the sort
//! arrow pointing the wrong way over newest-first rows, and a prune's status saying what went
//! over a list that still showed it.

use insta::assert_snapshot;
use serde_json::json;

use super::networks::network;
use super::volumes::volume;
use crate::dashboard::msg::{Msg, Purpose};
use crate::dashboard::testing::*;

/// Images sort newest first by default: the arrow points down (▼) over newest-first rows, and
/// up once reversed; the name sorts A to Z under ▲.
#[test]
fn sort_arrow_follows_the_rows() {
    let mut a = app();
    set_images(
        &mut a,
        vec![
            image("old", &["old:1"], 1_000, 86_400 * 30),
            image("new", &["new:1"], 1_000, 60),
            image("mid", &["mid:1"], 1_000, 86_400),
        ],
    );
    press(&mut a, "2");
    let s = render(&mut a, 80, 8);
    assert!(s.contains("CREATED ▼"), "{s}");
    assert!(s.find("new").unwrap() < s.find("old").unwrap(), "{s}");
    assert_snapshot!("sort_arrow_newest_first", s);
    press(&mut a, "O");
    let s = render(&mut a, 80, 8);
    assert!(s.contains("CREATED ▲"), "{s}");
    assert!(s.find("old").unwrap() < s.find("new").unwrap(), "{s}");
    assert_snapshot!("sort_arrow_oldest_first", s);
    // o cycles to size, in use, then the name (still reversed); O turns it back: A to Z, ▲.
    press(&mut a, "o o o O");
    let s = render(&mut a, 80, 8);
    assert!(s.contains("REPOSITORY ▲"), "{s}");
    assert!(s.find("mid").unwrap() < s.find("new").unwrap(), "{s}");
}

/// The prune answer names the volumes that went: they leave the list (and the counts) with
/// the status line that says so, without waiting for the list to be read again.
#[test]
fn volume_prune_drops_the_pruned_rows() {
    let mut a = app();
    let list: Vec<_> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|n| volume(n))
        .collect();
    a.update(Msg::Volumes(serde_json::from_value(json!(list)).unwrap()));
    press(&mut a, "3 X enter");
    a.take_effects();
    a.update(Msg::CallDone {
        purpose: Purpose::VolumePrune,
        result: Ok(Some(
            json!({"VolumesDeleted": ["b", "d"], "SpaceReclaimed": 2048}),
        )),
    });
    assert_eq!(
        a.status().unwrap().1,
        "prune volumes: removed 2 volumes, reclaimed 2.05kB"
    );
    let s = render(&mut a, 80, 10);
    assert!(s.contains("Volumes 3") && s.contains("3 vol"), "{s}");
    assert!(!s.contains("  b ") && !s.contains("  d "), "{s}");
    assert_snapshot!("volume_prune_done", s);
}

/// The same for networks: `NetworksDeleted` leave the list at once.
#[test]
fn network_prune_drops_the_pruned_rows() {
    let mut a = app();
    let nets: Vec<_> = ["bridge", "front", "back", "old"]
        .iter()
        .map(|n| network(n, "bridge", "", "", false))
        .collect();
    a.update(Msg::Networks(serde_json::from_value(json!(nets)).unwrap()));
    press(&mut a, "4 X y");
    a.take_effects();
    a.update(Msg::CallDone {
        purpose: Purpose::NetworkPrune,
        result: Ok(Some(json!({"NetworksDeleted": ["back", "old"]}))),
    });
    let s = render(&mut a, 80, 10);
    assert!(s.contains("Networks 2"), "{s}");
    assert!(!s.contains("  back ") && !s.contains("  old "), "{s}");
    assert_snapshot!("network_prune_done", s);
}
