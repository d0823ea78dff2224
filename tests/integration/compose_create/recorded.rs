//! The fixtures brought up through the create module and compared with what docker compose
//! asked of the engine for the same files.

use serde_json::{json, Value};

use super::{down, fixture_dir, load, load_file, record, recreate, up, Up};
use crate::common::TestEngine;
use berth::client::Client;
use berth::compose::create::{Event, Status};
use berth::compose::labels;

/// Go-map-ordered lists sorted, as the unit tests compare them.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Array(a) => {
            let mut a = a.clone();
            a.sort_by_key(|x| x.to_string());
            Value::Array(a)
        }
        other => other.clone(),
    }
}

/// The fields of the recorded create body the engine must show back in its inspect, as they
/// are (inspect normalises the others: default log driver, shm size, links as paths…).
const CONFIG_FIELDS: &[&str] = &[
    "Cmd",
    "Entrypoint",
    "Env",
    "Domainname",
    "User",
    "WorkingDir",
    "Tty",
    "OpenStdin",
    "StopSignal",
    "StopTimeout",
    "Healthcheck",
];
const HOST_FIELDS: &[&str] = &[
    "Binds",
    "CapAdd",
    "CapDrop",
    "Dns",
    "DnsOptions",
    "DnsSearch",
    "ExtraHosts",
    "GroupAdd",
    "IpcMode",
    "PidMode",
    "NetworkMode",
    "Privileged",
    "ReadonlyRootfs",
    "RestartPolicy",
    "SecurityOpt",
    "Tmpfs",
    "Ulimits",
    "Memory",
    "MemoryReservation",
    "MemorySwap",
    "NanoCpus",
    "CpuShares",
    "CpuQuota",
    "CpuPeriod",
    "CpusetCpus",
    "PidsLimit",
    "PortBindings",
    "Init",
    "Sysctls",
    "Devices",
    "DeviceRequests",
    "OomScoreAdj",
    "Annotations",
    "VolumesFrom",
    "Mounts",
    "MaskedPaths",
    "ReadonlyPaths",
    "UTSMode",
    "CgroupnsMode",
    "AutoRemove",
    "BlkioWeight",
    "BlkioDeviceReadBps",
    "DeviceCgroupRules",
    "OomKillDisable",
];

/// One fixture: the same engine answers, and the inspect holds what docker compose asked.
fn check(
    e: &TestEngine,
    name: &str,
    up: &Up,
    busybox_id: &str,
    seeds: Vec<(String, String)>,
    fails: &mut Vec<String>,
) {
    let mut expect = |ok: bool, what: String| {
        if !ok {
            fails.push(what);
        }
    };
    let rec = record(name);
    // The recorded ids of containers, to be read as ours.
    let mut ids: Vec<(String, String)> = seeds;
    for req in rec["requests"].as_array().unwrap() {
        let path = req["path"].as_str().unwrap();
        let Some(cname) = path.strip_prefix("/containers/create?name=") else {
            continue;
        };
        let masked_name = ids.iter().fold(cname.to_string(), |s, (theirs, ours)| {
            s.replace(theirs, ours)
        });
        let ours = &up.created[&masked_name];
        let Some(their_id) = req["response"]["Id"].as_str() else {
            // The engine refused docker compose's request: it must refuse ours alike.
            let msg = req["response"]["message"].as_str().unwrap();
            let got = ours.as_ref().unwrap_err();
            let masked = |s: &str| {
                ids.iter()
                    .fold(s.to_string(), |s, (theirs, ours)| s.replace(theirs, ours))
            };
            assert!(got.ends_with(&masked(msg)), "{name} {cname}: {got} / {msg}");
            continue;
        };
        let id = ours
            .as_ref()
            .unwrap_or_else(|e| panic!("{name} {cname}: {e}"));
        ids.push((their_id.to_string(), id.clone()));
        let ours_of = |v: &Value| -> Value {
            let text = ids
                .iter()
                .fold(v.to_string(), |s, (theirs, ours)| s.replace(theirs, ours));
            serde_json::from_str(&text).unwrap()
        };
        let want = ours_of(&req["body"]);
        let inspect = e.api_json("GET", &format!("/containers/{id}/json"), None);
        let what = format!("{name} {cname}");
        for f in CONFIG_FIELDS {
            let (got, w) = (&inspect["Config"][f], &want[f]);
            if w.is_null() || *w == json!("") {
                continue;
            }
            // The engine adds its defaults (PATH, HOSTNAME) to the environment asked for.
            let ok = if *f == "Env" {
                let got = got.as_array().unwrap();
                w.as_array().unwrap().iter().all(|v| got.contains(v))
            } else {
                sorted(got) == sorted(w)
            };
            expect(ok, format!("{what} {f}: got {got}, want {w}"));
        }
        let mut want_labels = want["Labels"].clone();
        want_labels[labels::IMAGE_DIGEST] = json!(busybox_id);
        if want != req["body"]
            || want
                .to_string()
                .contains(&fixture_dir().display().to_string())
        {
            // The body named containers of the recording (`container:<id>`), or bind sources
            // under the fixture directory (absolute, so the recording machine's): the config
            // hash covers those, so here it is the hash over this run's (the unit tests check
            // the same computation against docker compose's, with the recorded values).
            want_labels[labels::CONFIG_HASH] = json!(up.hashes[&masked_name]);
        }
        let got = &inspect["Config"]["Labels"];
        expect(
            *got == want_labels,
            format!("{what} Labels: got {got}, want {want_labels}"),
        );
        for f in HOST_FIELDS {
            let w = &want["HostConfig"][f];
            if !w.is_null() && *w != json!(0) && *w != json!(false) && *w != json!("") {
                let got = sorted(&inspect["HostConfig"][f]);
                let w = if *f == "Mounts" {
                    let mut m = w.as_array().unwrap().clone();
                    m.sort_by_key(|x| x.to_string());
                    Value::Array(m)
                } else {
                    sorted(w)
                };
                expect(
                    got == w,
                    format!("{what} HostConfig.{f}: got {got}, want {w}"),
                );
            }
        }
        // Every endpoint asked for, with its aliases and fixed address.
        let nets = &inspect["NetworkSettings"]["Networks"];
        for (net, ep) in want["NetworkingConfig"]["EndpointsConfig"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let got = &nets[net]["Aliases"];
            expect(
                *got == ep["Aliases"],
                format!("{what} {net} aliases: got {got}"),
            );
            if let Some(ip) = ep["IPAMConfig"]["IPv4Address"].as_str() {
                let got = &nets[net]["IPAddress"];
                expect(*got == ip, format!("{what} {net} address: got {got}"));
            }
        }
    }
    // Networks and volumes: created with the same labels (config hashes included).
    for req in rec["requests"].as_array().unwrap() {
        let (path, body) = (req["path"].as_str().unwrap(), &req["body"]);
        let kind = match path {
            "/networks/create" => "networks",
            "/volumes/create" => "volumes",
            _ => continue,
        };
        let name_of = body["Name"].as_str().unwrap();
        let got = e.api_json("GET", &format!("/{kind}/{name_of}"), None);
        let what = format!("{name} {kind} {name_of}");
        expect(
            got["Labels"] == body["Labels"],
            format!("{what} labels: got {}", got["Labels"]),
        );
        if kind == "networks" {
            for f in ["Internal", "Attachable", "Options"] {
                if !body[f].is_null() {
                    expect(got[f] == body[f], format!("{what} {f}: got {}", got[f]));
                }
            }
        }
    }
    // Starts the engine refused docker compose too.
    let errors = rec["errors"].as_array().unwrap();
    for err in &up.start_errors {
        let known = errors
            .iter()
            .any(|r| r.as_str().unwrap().ends_with(err.as_str()));
        expect(known, format!("{name}: start failed: {err}"));
    }
}

/// A fixture recorded over a previous `up`: that `up` made here, then the recreation. The
/// recorded ids of the replaced containers, their id prefixes (in the temporary names) and
/// their volumes' names are paired with this engine's, to read the record as about ours.
fn recreated(
    e: &TestEngine,
    rt: &tokio::runtime::Runtime,
    client: &Client,
    name: &str,
    p: &berth::compose::types::Project,
) -> (Up, Vec<(String, String)>) {
    rt.block_on(up(client, &load_file(name, "before.yml")));
    let rec = record(name);
    let mut seeds = Vec::new();
    let mut old = Vec::new();
    for theirs in rec["before"].as_array().unwrap() {
        let ours = e.api_json(
            "GET",
            &format!("/containers{}/json", theirs["Name"].as_str().unwrap()),
            None,
        );
        let (t, o) = (theirs["Id"].as_str().unwrap(), ours["Id"].as_str().unwrap());
        seeds.push((t.to_string(), o.to_string()));
        seeds.push((t[..12].to_string(), o[..12].to_string()));
        for m in theirs["Mounts"].as_array().unwrap() {
            let same = ours["Mounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["Destination"] == m["Destination"]);
            if let (Some(t), Some(o)) = (m["Name"].as_str(), same.and_then(|x| x["Name"].as_str()))
            {
                seeds.push((t.to_string(), o.to_string()));
            }
        }
        old.push(ours);
    }
    (rt.block_on(recreate(client, p, &old)), seeds)
}

#[test]
fn recorded_projects_come_up_as_docker_compose_asked() {
    let e = TestEngine::with_busybox();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(Client::connect(&e.socket)).unwrap();
    e.api_json("POST", "/networks/create", Some(r#"{"Name":"cc-outside"}"#));
    e.api_json(
        "POST",
        "/volumes/create",
        Some(r#"{"Name":"cc-external-vol"}"#),
    );
    let busybox = e.api_json("GET", "/images/busybox/json", None);
    let busybox_id = busybox["Id"].as_str().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .filter_map(|d| {
            let n = d.unwrap().file_name().to_string_lossy().into_owned();
            n.strip_suffix(".record.json").map(String::from)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 15);
    let mut fails = Vec::new();
    for name in &names {
        let p = load(name);
        let (up, seeds) = match fixture_dir().join(format!("{name}.before.yml")).exists() {
            false => (rt.block_on(up(&client, &p)), Vec::new()),
            true => recreated(&e, &rt, &client, name, &p),
        };
        check(&e, name, &up, busybox_id, seeds, &mut fails);
        // Kept for the checks below; the others make room.
        if !["02-ports", "13-secrets"].contains(&name.as_str()) {
            down(&e, &p.name);
        }
        let created: Vec<&Event> = up.events.iter().filter(|e| e.text == "Created").collect();
        assert!(created.iter().all(|e| e.status == Status::Done), "{name}");
    }
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    // What the containers got besides their create bodies.
    let ports = e.api_json("GET", "/containers/cc02-web-1/json", None);
    assert_eq!(
        ports["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"],
        "18080"
    );
    let secret = e.api(
        "GET",
        "/containers/cc13-vault-1/archive?path=/abs/env_token",
        None,
    );
    let mut tar = tar::Archive::new(&secret.body[..]);
    let entry = tar.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.header().mode().unwrap(), 0o400);
    assert_eq!(
        (entry.header().uid().unwrap(), entry.header().gid().unwrap()),
        (1000, 1001)
    );
}
