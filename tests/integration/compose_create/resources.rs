//! What the recording cannot show: external resources that are missing, resources of the
//! project's names that compose did not create, networks and volumes whose configuration
//! changed since they were created.

use super::{load, up, with_events};
use crate::common::TestEngine;
use berth::client::Client;
use berth::compose::create::{self, Event};
use berth::compose::labels;
use std::sync::Mutex;

#[test]
fn external_missing_foreign_and_diverged_resources() {
    let e = TestEngine::with_busybox();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(Client::connect(&e.socket)).unwrap();
    let c = &client;

    // External resources must exist, in docker compose's words.
    let p = load("16-external");
    let (r, _) = with_events!(rt, |s| create::ensure_networks(c, &p, s));
    assert_eq!(
        format!("{:#}", r.unwrap_err()),
        "network cc-outside declared as external, but could not be found"
    );
    let (r, _) = with_events!(rt, |s| create::ensure_volumes(c, &p, false, s));
    assert_eq!(
        format!("{:#}", r.unwrap_err()),
        r#"external volume "cc-external-vol" not found"#
    );

    // A network of the project's name that compose did not create is not taken over.
    e.api_json(
        "POST",
        "/networks/create",
        Some(r#"{"Name":"cc01_default"}"#),
    );
    let p = load("01-minimal");
    let (r, events) = with_events!(rt, |s| create::ensure_networks(c, &p, s));
    assert_eq!(
        format!("{:#}", r.unwrap_err()),
        r#"network cc01_default was found but has incorrect label com.docker.compose.network set to "" (expected: "default")"#
    );
    assert!(events[0]
        .1
        .starts_with("a network with name cc01_default exists but was not created by compose."));

    // A network whose configuration changed: its containers stopped and disconnected, the
    // network recreated, the containers connected again.
    let mut p = load("04-networks");
    rt.block_on(up(c, &p));
    let old = e.api_json("GET", "/networks/cc04_front", None);
    p.networks
        .get_mut("front")
        .unwrap()
        .labels
        .0
        .insert("role".into(), "changed".into());
    let (r, events) = with_events!(rt, |s| create::ensure_networks(c, &p, s));
    let ids = r.unwrap();
    let texts: Vec<String> = events.iter().map(|(i, t)| format!("{i} {t}")).collect();
    assert_eq!(
        texts,
        [
            "Container cc04-api-1 Stopping",
            "Container cc04-api-1 Stopped",
            "Network cc04_front Removed",
            "Network cc04_front Creating",
            "Network cc04_front Created"
        ]
    );
    let new = e.api_json("GET", "/networks/cc04_front", None);
    assert_ne!(new["Id"], old["Id"]);
    assert_eq!(ids["front"], new["Id"]);
    assert_eq!(new["Labels"]["role"], "changed");
    assert_eq!(
        new["Labels"][labels::CONFIG_HASH].as_str().unwrap(),
        berth::compose::types::network_hash(&p.networks["front"])
    );
    let api = e.api_json("GET", "/containers/cc04-api-1/json", None);
    assert_eq!(api["State"]["Running"], false);
    assert_eq!(
        api["NetworkSettings"]["Networks"]["cc04_front"]["NetworkID"],
        new["Id"]
    );
    // Unchanged networks are found again, not recreated.
    let (_, events) = with_events!(rt, |s| create::ensure_networks(c, &p, s));
    assert!(events.is_empty(), "{events:?}");

    // A volume whose configuration changed is recreated only when agreed to.
    let mut p = load("03-volumes");
    rt.block_on(up(c, &p));
    p.volumes
        .get_mut("cache")
        .unwrap()
        .labels
        .0
        .insert("tier".into(), "hot".into());
    let (r, _) = with_events!(rt, |s| create::ensure_volumes(c, &p, false, s));
    let err = r.unwrap_err();
    assert!(err.downcast_ref::<create::VolumeDiverged>().is_some());
    assert_eq!(
        err.to_string(),
        r#"Volume "cc03_cache" exists but doesn't match configuration in compose file. Recreate (data will be lost)?"#
    );
    let (r, events) = with_events!(rt, |s| create::ensure_volumes(c, &p, true, s));
    assert_eq!(r.unwrap()["cache"], "cc03_cache");
    let texts: Vec<String> = events.iter().map(|(i, t)| format!("{i} {t}")).collect();
    assert_eq!(
        texts,
        [
            "Container cc03-store-1 Stopping",
            "Container cc03-store-1 Stopped",
            "Container cc03-store-1 Removing",
            "Container cc03-store-1 Removed",
            "Volume cc03_cache Creating",
            "Volume cc03_cache Created"
        ]
    );
    let vol = e.api_json("GET", "/volumes/cc03_cache", None);
    assert_eq!(vol["Labels"]["tier"], "hot");
    assert_eq!(
        e.api("GET", "/containers/cc03-store-1/json", None).status,
        404
    );

    // A volume of the project's name that compose did not create is used, with a warning.
    e.api_json("POST", "/volumes/create", Some(r#"{"Name":"cc08x_v"}"#));
    let p = {
        let mut p = load("03-volumes");
        p.name = "cc08x".into();
        p.volumes.retain(|k, _| k == "data");
        p.volumes.get_mut("data").unwrap().name = "cc08x_v".into();
        p
    };
    let (r, events) = with_events!(rt, |s| create::ensure_volumes(c, &p, false, s));
    assert_eq!(r.unwrap()["data"], "cc08x_v");
    assert_eq!(
        events,
        [(
            "Volume cc08x_v".to_string(),
            r#"volume "cc08x_v" already exists but was not created by Docker Compose. Use `external: true` to use an existing volume"#.to_string()
        )]
    );
}
