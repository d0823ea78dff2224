//! `berth::compose::create` against a real engine: every project of
//! tests/fixtures/compose/create brought up through it (networks, volumes, each container's
//! create body, secrets copied in, start), then the engine's inspect compared with what docker
//! compose v2.40.3 asked for the same file (the recorded create bodies): the engine must have
//! answered the same, and applied the same. Then what the recording cannot show: external
//! resources that are missing, and networks and volumes whose configuration changed.
//!
//! Layout: the harness here (fixtures loaded as `up` loads them, an `up` made of the create
//! module's pieces, a `down`); [`recorded`] compares with docker compose; [`resources`]
//! covers external, foreign and diverged networks and volumes.

mod recorded;
mod resources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use berth::client::api::images;
use berth::client::Client;
use berth::compose::create::{self, CreateOptions, Event, Resolved};
use berth::compose::labels;
use berth::compose::observed::{self, OneOff};
use berth::compose::options::ProjectFlags;
use berth::compose::project::{self, LoadOptions};
use berth::compose::types::{service_hash, Project};
use serde_json::Value;

use crate::common::{urlencode, TestEngine};

/// Run one call with an event sink; its result and its events as `(id, text)`.
macro_rules! with_events {
    ($rt:expr, |$s:ident| $call:expr) => {{
        let events = Mutex::new(Vec::new());
        let sink = |e: Event| events.lock().unwrap().push((e.id, e.text));
        let $s: &(dyn Fn(Event) + Send + Sync) = &sink;
        let out = $rt.block_on($call);
        (out, events.into_inner().unwrap())
    }};
}
pub(crate) use with_events;

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose/create")
}

/// The fixture's project as `up` has it (record.sh's environment; `env_file` dropped once
/// resolved, as docker compose's `up` does).
pub fn load(name: &str) -> Project {
    load_file(name, "compose.yml")
}

/// The project of fixture file `<name>.<suffix>`.
pub fn load_file(name: &str, suffix: &str) -> Project {
    let env: BTreeMap<String, String> = [
        ("PATH", "/usr/bin:/bin"),
        ("HOME", "/nonexistent"),
        ("CC_SECRET", "from-the-environment"),
        ("CC_CONFIG", "config-from-env"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let flags = ProjectFlags {
        files: vec![format!("{name}.{suffix}")],
        project_name: Some(format!("cc{}", &name[..2])),
        ..Default::default()
    };
    let mut p = project::load(&flags, &env, &fixture_dir(), &LoadOptions::default())
        .unwrap()
        .project;
    for s in p.services.values_mut() {
        s.env_files.clear();
    }
    p
}

pub fn record(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture_dir().join(format!("{name}.record.json")))
        .unwrap()
        .replace("@DIR@", &fixture_dir().display().to_string());
    serde_json::from_str(&text).unwrap()
}

/// What an `up` through the create module did.
#[derive(Default)]
pub struct Up {
    /// Container name → id, or the engine's refusal.
    pub created: BTreeMap<String, Result<String, String>>,
    pub start_errors: Vec<String>,
    pub events: Vec<Event>,
    /// Container name → the config hash of its service as resolved (ids of this engine).
    pub hashes: BTreeMap<String, String>,
}

/// Services with their dependencies first (names sorted among equals).
fn dependency_order(p: &Project) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    while order.len() < p.services.len() {
        let next = p
            .services
            .values()
            .find(|s| {
                !order.contains(&s.name) && s.get_dependencies().iter().all(|d| order.contains(d))
            })
            .expect("no dependency cycle");
        order.push(next.name.clone());
    }
    order
}

/// What the convergence will do for a fresh project, with the create module's pieces.
pub async fn up(client: &Client, p: &Project) -> Up {
    let events = Mutex::new(Vec::new());
    let sink = |e: Event| events.lock().unwrap().push(e);
    create::ensure_networks(client, p, &sink)
        .await
        .unwrap_or_else(|e| panic!("{}: {e:#}", p.name));
    create::ensure_volumes(client, p, false, &sink)
        .await
        .unwrap_or_else(|e| panic!("{}: {e:#}", p.name));
    let image: Value = client.send_as(images::inspect("busybox")).await.unwrap();
    let mut out = Up::default();
    let mut to_start = Vec::new();
    for name in dependency_order(p) {
        let observed = observed::containers(client, &p.name, OneOff::Include, true, &[])
            .await
            .unwrap();
        let service = create::resolve_service_references(&p.services[&name], &observed).unwrap();
        for number in 1..=service.get_scale() as u32 {
            let cname = create::container_name(&p.name, &service, number);
            let mut merged = service.labels.0.clone();
            merged.extend(service.custom_labels.0.clone());
            let opts = CreateOptions {
                use_network_aliases: true,
                labels: merged,
                ..Default::default()
            };
            let r = Resolved {
                links: create::references::get_links(client, &p.name, &service, number)
                    .await
                    .unwrap(),
                image_digest: image["Id"].as_str().map(String::from),
                api_version: client.api_version().to_string(),
                ..Default::default()
            };
            let created =
                create::create_container(client, p, &service, &cname, number, &opts, &r, &sink);
            let result = match created.await {
                Ok(inspect) => {
                    let id = inspect["Id"].as_str().unwrap().to_string();
                    create::inject_secrets_and_configs(client, p, &service, &id)
                        .await
                        .unwrap();
                    to_start.push(id.clone());
                    Ok(id)
                }
                Err(e) => Err(format!("{e:#}")),
            };
            out.created.insert(cname.clone(), result);
            out.hashes.insert(cname, service_hash(&service));
        }
    }
    for id in to_start {
        if let Err(e) = client.container_start(&id).await {
            out.start_errors.push(format!("{e:#}"));
        }
    }
    out.events = events.into_inner().unwrap();
    out
}

/// docker compose's `recreateContainer` of the containers `old` (inspects) with the
/// services of `p`: each replacement created under a temporary name, inheriting the old one's
/// anonymous volumes, then the old one stopped and removed and the new one renamed and started.
pub async fn recreate(client: &Client, p: &Project, old: &[Value]) -> Up {
    let events = Mutex::new(Vec::new());
    let sink = |e: Event| events.lock().unwrap().push(e);
    let image: Value = client.send_as(images::inspect("busybox")).await.unwrap();
    let mut out = Up::default();
    for c in old {
        let service = &p.services[c["Config"]["Labels"][labels::SERVICE].as_str().unwrap()];
        let number: u32 = c["Config"]["Labels"][labels::CONTAINER_NUMBER]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let old_id = c["Id"].as_str().unwrap();
        let name = create::container_name(&p.name, service, number);
        let tmp = create::container::temporary_name(old_id, &name);
        let mut labels_of = service.labels.0.clone();
        labels_of.extend(service.custom_labels.0.clone());
        labels_of.insert(
            labels::CONTAINER_REPLACE.into(),
            create::container::replaced_name(service, number),
        );
        let opts = CreateOptions {
            use_network_aliases: true,
            labels: labels_of,
            ..Default::default()
        };
        let r = Resolved {
            inherit: Some(c.clone()),
            image_volumes: create::container::image_volumes(client, p, service)
                .await
                .unwrap(),
            image_digest: image["Id"].as_str().map(String::from),
            api_version: client.api_version().to_string(),
            ..Default::default()
        };
        let new = create::create_moby_container(client, p, service, &tmp, number, &opts, &r, &sink)
            .await
            .unwrap();
        let id = new["Id"].as_str().unwrap().to_string();
        client.container_stop(old_id, None, None).await.unwrap();
        client.container_remove(old_id, false, false).await.unwrap();
        client.container_rename(&id, &name).await.unwrap();
        client.container_start(&id).await.unwrap();
        out.hashes.insert(tmp.clone(), service_hash(service));
        out.created.insert(tmp, Ok(id));
    }
    out.events = events.into_inner().unwrap();
    out
}

/// Everything of project `p` removed (the test engine's address pool holds 16 networks).
pub fn down(e: &TestEngine, p: &str) {
    let filter = urlencode(&format!(r#"{{"label":["{}={p}"]}}"#, labels::PROJECT));
    for (list, item, remove) in [
        (
            "/containers/json?all=1&filters=",
            "Id",
            "/containers/{}?force=1&v=1",
        ),
        ("/networks?filters=", "Id", "/networks/{}"),
    ] {
        let found = e.api_json("GET", &format!("{list}{filter}"), None);
        for x in found.as_array().unwrap() {
            let path = remove.replace("{}", x[item].as_str().unwrap());
            e.api("DELETE", &path, None);
        }
    }
    let vols = e.api_json("GET", &format!("/volumes?filters={filter}"), None);
    for v in vols["Volumes"].as_array().into_iter().flatten() {
        e.api(
            "DELETE",
            &format!("/volumes/{}", v["Name"].as_str().unwrap()),
            None,
        );
    }
}
