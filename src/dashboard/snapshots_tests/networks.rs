//! The networks view: empty, one, many (built-ins, a long name, an internal network, attached
//! containers) at 80x24 and 200x50 and tiny sizes; the create form and its checks, connect and
//! disconnect pickers, remove (built-ins refused), prune, the engine's errors, and the API
//! calls with their bodies.

use insta::assert_snapshot;
use serde_json::{json, Value};

use super::volumes::bodies;
use crate::dashboard::app::App;
use crate::dashboard::msg::{Msg, Purpose};
use crate::dashboard::testing::*;

pub fn network(name: &str, driver: &str, subnet: &str, gateway: &str, internal: bool) -> Value {
    let config = if subnet.is_empty() {
        json!([])
    } else {
        json!([{"Subnet": subnet, "Gateway": gateway}])
    };
    json!({"Name": name, "Id": format!("{:0<64}", hex_of(name)), "Driver": driver, "Scope": "local",
           "Internal": internal, "IPAM": {"Driver": "default", "Config": config},
           "Created": rfc3339_ago(3600)})
}

fn set_networks(a: &mut App, nets: Vec<Value>) {
    a.update(Msg::Networks(serde_json::from_value(json!(nets)).unwrap()));
}

const LONG: &str = "a-network-with-a-very-long-name-that-does-not-fit-in-any-column";

/// A container attached to the given networks (by name).
fn on(name: &str, state: &str, nets: &[&str]) -> Value {
    let mut c = container(name, state, None);
    let map: serde_json::Map<String, Value> = nets
        .iter()
        .map(|n| {
            (
                n.to_string(),
                json!({"IPAddress": "10.0.0.2", "NetworkID": format!("{:0<64}", hex_of(n))}),
            )
        })
        .collect();
    c["NetworkSettings"] = json!({ "Networks": map });
    c
}

fn many() -> App {
    let mut a = app();
    set_containers(
        &mut a,
        vec![
            on("web", "running", &["bridge", "shop"]),
            on("db", "running", &["shop", "backend"]),
            on("worker", "exited", &["bridge"]),
            on("lonely", "created", &["none"]),
        ],
    );
    set_networks(
        &mut a,
        vec![
            network("bridge", "bridge", "10.88.0.0/16", "10.88.0.1", false),
            network("host", "host", "", "", false),
            network("none", "null", "", "", false),
            network("shop", "bridge", "10.89.1.0/24", "10.89.1.1", false),
            network("backend", "bridge", "10.89.2.0/24", "10.89.2.1", true),
            network(LONG, "bridge", "10.89.3.0/24", "10.89.3.1", false),
        ],
    );
    press(&mut a, "4");
    a.take_effects();
    a
}

#[test]
fn empty_80x24() {
    let mut a = app();
    set_networks(&mut a, vec![]);
    press(&mut a, "4");
    assert!(calls(&a.take_effects()).is_empty());
    assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn one_network() {
    let mut a = app();
    set_networks(
        &mut a,
        vec![network("solo", "bridge", "10.1.0.0/24", "10.1.0.1", false)],
    );
    press(&mut a, "4");
    let s = render(&mut a, 80, 8);
    assert!(s.contains("solo") && s.contains("10.1.0.0/24"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn many_80x24() {
    let mut a = many();
    let s = render(&mut a, 80, 24);
    assert!(s.contains("web, db"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn many_200x50() {
    let mut a = many();
    let s = render(&mut a, 200, 50);
    assert!(
        s.contains("INTERNAL") && s.contains("NETWORK ID") && s.contains(LONG),
        "{s}"
    );
    assert_snapshot!(s);
}

#[test]
fn narrow_drops_columns_and_tiny_does_not_panic() {
    let mut a = many();
    let s = render(&mut a, 60, 10);
    assert!(s.contains("SUBNET") && !s.contains("GATEWAY"), "{s}");
    assert_snapshot!("narrow_60", s);
    let s = render(&mut a, 40, 10);
    assert!(!s.contains("SUBNET") && s.contains("CONTAINERS"), "{s}");
    for (w, h) in [(20, 5), (1, 1), (80, 3), (8, 30)] {
        render(&mut a, w, h);
    }
    for keys in ["c", "/ text:shop enter C", "x"] {
        press(&mut a, keys);
        for (w, h) in [(20, 5), (1, 1), (30, 4)] {
            render(&mut a, w, h);
        }
        press(&mut a, "esc");
    }
}

#[test]
fn create_form_posts_every_field() {
    let mut a = many();
    press(&mut a, "c");
    assert_snapshot!("create_form", render(&mut a, 80, 24));
    press(
        &mut a,
        "text:front tab tab text:10.90.0.0/24 tab text:10.90.0.254 tab space",
    );
    assert_snapshot!("create_form_filled", render(&mut a, 80, 24));
    press(&mut a, "enter");
    assert!(!a.dialog_open());
    assert_eq!(
        bodies(&a.take_effects()),
        vec![(
            "POST /networks/create".to_string(),
            Some(
                json!({"Name": "front", "Driver": "bridge", "Internal": true, "CheckDuplicate": true,
                        "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.90.0.0/24", "Gateway": "10.90.0.254"}]}})
            )
        )]
    );
}

#[test]
fn create_with_only_a_name_leaves_addresses_to_the_engine() {
    let mut a = many();
    press(&mut a, "c text:plain enter");
    assert_eq!(
        bodies(&a.take_effects()),
        vec![(
            "POST /networks/create".to_string(),
            Some(
                json!({"Name": "plain", "Driver": "bridge", "Internal": false, "CheckDuplicate": true})
            )
        )]
    );
    // The engine's refusal reaches the status line.
    a.update(Msg::CallDone {
        purpose: Purpose::Action {
            label: "create network plain".into(),
        },
        result: Err("network with name plain already exists".into()),
    });
    assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn create_form_checks_what_it_can() {
    let mut a = many();
    press(&mut a, "c enter");
    assert!(a.dialog_open());
    let s = render(&mut a, 80, 24);
    assert!(s.contains("a network needs a name"), "{s}");
    press(&mut a, "text:bad/name enter");
    assert!(render(&mut a, 80, 24).contains("invalid name \"bad/name\""));
    press(&mut a, "ctrl-a");
    // Start again with a fresh form.
    press(&mut a, "esc c text:ok tab tab text:10.0.0.0 enter");
    assert_snapshot!("bad_subnet", render(&mut a, 80, 24));
    press(&mut a, "text:/24 tab text:nope enter");
    assert!(render(&mut a, 80, 24).contains("gateway \"nope\" is not an IP address"));
    press(&mut a, "esc c text:ok tab tab tab text:10.0.0.1 enter");
    assert!(render(&mut a, 80, 24).contains("a gateway needs a subnet"));
    assert!(calls(&a.take_effects()).is_empty());
}

#[test]
fn connect_picks_among_containers_not_attached() {
    let mut a = many();
    press(&mut a, "/ text:shop enter C");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("worker") && s.contains("lonely"), "{s}");
    assert_snapshot!("connect_picker", s);
    press(&mut a, "text:lon");
    assert_snapshot!("connect_picker_narrowed", render(&mut a, 80, 24));
    press(&mut a, "enter");
    assert_eq!(
        bodies(&a.take_effects()),
        vec![(
            "POST /networks/shop/connect".to_string(),
            Some(json!({"Container": id_of("lonely")}))
        )]
    );
    a.update(Msg::CallDone {
        purpose: Purpose::Action {
            label: "connect lonely to shop".into(),
        },
        result: Err("container lonely is connected to the none network".into()),
    });
    assert_eq!(
        a.status().unwrap().1,
        "connect lonely to shop: container lonely is connected to the none network"
    );
}

#[test]
fn connect_down_arrow_and_nothing_left() {
    let mut a = many();
    press(&mut a, "/ text:shop enter C down enter");
    assert_eq!(
        bodies(&a.take_effects()),
        vec![(
            "POST /networks/shop/connect".to_string(),
            Some(json!({"Container": id_of("lonely")}))
        )]
    );
    // A picker where nothing matches stays open.
    press(&mut a, "C text:zzz enter");
    assert!(a.dialog_open());
    assert!(render(&mut a, 80, 24).contains("nothing matches"));
    press(&mut a, "esc");
    // Every container on it already: said instead of an empty picker.
    let mut b = app();
    set_containers(&mut b, vec![on("web", "running", &["shop"])]);
    set_networks(
        &mut b,
        vec![network(
            "shop",
            "bridge",
            "10.89.1.0/24",
            "10.89.1.1",
            false,
        )],
    );
    press(&mut b, "4 C");
    assert!(!b.dialog_open());
    assert_eq!(
        b.status().unwrap().1,
        "every container is already on network shop"
    );
}

#[test]
fn disconnect_picks_among_attached() {
    let mut a = many();
    press(&mut a, "/ text:shop enter x");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("Disconnect from shop") && !s.contains("lonely"),
        "{s}"
    );
    assert_snapshot!("disconnect_picker", s);
    press(&mut a, "down enter");
    assert_eq!(
        bodies(&a.take_effects()),
        vec![(
            "POST /networks/shop/disconnect".to_string(),
            Some(json!({"Container": id_of("db")}))
        )]
    );
    press(&mut a, "esc / text:a-network enter x");
    assert!(!a.dialog_open());
    assert_eq!(
        a.status().unwrap().1,
        format!("no container is on network {LONG}")
    );
}

#[test]
fn remove_refuses_builtins_and_confirms_others() {
    let mut a = many();
    press(&mut a, "/ text:host enter d");
    assert!(!a.dialog_open());
    assert!(calls(&a.take_effects()).is_empty());
    assert_snapshot!("remove_builtin", render(&mut a, 80, 24));
    press(&mut a, "esc / text:backend enter d");
    assert_snapshot!("remove_confirm", render(&mut a, 80, 24));
    press(&mut a, "y");
    assert_eq!(calls(&a.take_effects()), vec!["DELETE /networks/backend"]);
    a.update(Msg::CallDone {
        purpose: Purpose::Action {
            label: "remove network backend".into(),
        },
        result: Err("error while removing network: network backend has active endpoints".into()),
    });
    assert_snapshot!("remove_refused", render(&mut a, 80, 24));
}

#[test]
fn prune_confirms_and_names_what_went() {
    let mut a = many();
    press(&mut a, "X");
    assert!(calls(&a.take_effects()).is_empty());
    assert_snapshot!("prune_confirm", render(&mut a, 80, 24));
    press(&mut a, "y");
    assert_eq!(calls(&a.take_effects()), vec!["POST /networks/prune"]);
    a.update(Msg::CallDone {
        purpose: Purpose::NetworkPrune,
        result: Ok(Some(json!({"NetworksDeleted": [LONG, "old"]}))),
    });
    assert_eq!(
        a.status().unwrap().1,
        format!("prune networks: removed {LONG}, old")
    );
    a.update(Msg::CallDone {
        purpose: Purpose::NetworkPrune,
        result: Ok(Some(json!({"NetworksDeleted": null}))),
    });
    assert_eq!(a.status().unwrap().1, "prune networks: nothing to remove");
    a.update(Msg::CallDone {
        purpose: Purpose::NetworkPrune,
        result: Err("not connected to the engine".into()),
    });
    assert_eq!(
        a.status().unwrap().1,
        "prune networks: not connected to the engine"
    );
}

#[test]
fn inspect_loads_the_network() {
    let mut a = many();
    press(&mut a, "/ text:backend enter i");
    assert_eq!(calls(&a.take_effects()), vec!["GET /networks/backend"]);
}
