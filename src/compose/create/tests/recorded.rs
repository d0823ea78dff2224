//! Each NN-*.record.json holds what docker compose v2.40.3 sent an engine for `up -d` of
//! NN-*.compose.yml. The project is loaded here as `berth compose` loads it, and every
//! recorded network, volume and container create body, and every archive upload of a
//! secret or config, must be rebuilt equal.
//!
//! Normalisation, and only this:
//! - `@DIR@` in the records stands for the fixture directory (record.sh wrote it so): it is
//!   put back before comparing;
//! - lists docker compose builds by ranging over a Go map, whose order changes from run to
//!   run, are compared sorted: `Env`, `HostConfig.Binds`, `HostConfig.Mounts`,
//!   `HostConfig.ExtraHosts`, `HostConfig.Ulimits` and the items of the
//!   `com.docker.compose.depends_on` label.
//!
//! What the engine decided during the recording is input here, as it is to docker compose:
//! the image id (`com.docker.compose.image`), the ids of containers created earlier in the
//! run (`network_mode`/`ipc`/`pid: service:…`, `volumes_from`, links), and for a record made
//! over a previous `up` (NN-*.before.yml) the inspect of the containers it replaced.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::compose::create::{
    container, create_body, links, networks, resolve_service_references, secrets, volumes,
    CreateOptions, Resolved,
};
use crate::compose::labels;
use crate::compose::observed::Container;
use crate::compose::options::ProjectFlags;
use crate::compose::project::{self, LoadOptions};
use crate::compose::types::Project;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose/create")
}

/// The environment record.sh ran docker compose with.
fn env() -> BTreeMap<String, String> {
    [
        ("PATH", "/usr/bin:/bin"),
        ("HOME", "/nonexistent"),
        ("DOCKER_HOST", "unix:///tmp/cc/proxy.sock"),
        ("CC_SECRET", "from-the-environment"),
        ("CC_CONFIG", "config-from-env"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The project of fixture `name` (e.g. "01-minimal"), named as record.sh names it, as
/// docker compose's `up` has it: once the environment is resolved, `env_file` is dropped
/// (cmd/compose's `WithServices` calls `WithServicesEnvironmentResolved(true)`) while
/// `label_file` stays, so neither is in the config hash of an `env_file` service.
pub fn load(name: &str) -> Project {
    let flags = ProjectFlags {
        files: vec![format!("{name}.compose.yml")],
        project_name: Some(format!("cc{}", &name[..2])),
        ..Default::default()
    };
    let mut p = project::load(&flags, &env(), &fixture_dir(), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .project;
    for s in p.services.values_mut() {
        s.env_files.clear();
    }
    p
}

/// The record of fixture `name`, `@DIR@` replaced by the fixture directory.
pub fn record(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture_dir().join(format!("{name}.record.json")))
        .unwrap()
        .replace("@DIR@", &fixture_dir().display().to_string());
    serde_json::from_str(&text).unwrap()
}

pub fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.strip_suffix(".record.json").map(String::from)
        })
        .collect();
    names.sort();
    names
}

/// The Go-map-ordered lists sorted (see the module header).
pub fn normalise(body: &mut Value) {
    let sort = |v: &mut Value, key: fn(&Value) -> String| {
        if let Value::Array(a) = v {
            a.sort_by_key(key);
        }
    };
    let text = |v: &Value| v.to_string();
    sort(&mut body["Env"], text);
    if body["HostConfig"].is_object() {
        let h = &mut body["HostConfig"];
        sort(&mut h["Binds"], text);
        sort(&mut h["ExtraHosts"], text);
        sort(&mut h["Mounts"], |m| m["Target"].to_string());
        sort(&mut h["Ulimits"], |u| u["Name"].to_string());
    }
    if let Some(deps) = body["Labels"][labels::DEPENDENCIES].as_str() {
        let mut items: Vec<&str> = deps.split(',').collect();
        items.sort();
        body["Labels"][labels::DEPENDENCIES] = json!(items.join(","));
    }
}

/// Where two JSON values differ, one line per path.
fn differences(got: &Value, want: &Value, at: &str) -> Vec<String> {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let keys: std::collections::BTreeSet<&String> = g.keys().chain(w.keys()).collect();
            keys.into_iter()
                .flat_map(|k| {
                    let path = format!("{at}/{k}");
                    match (g.get(k), w.get(k)) {
                        (Some(a), Some(b)) => differences(a, b, &path),
                        (a, b) => vec![format!("{path}: got {a:?}, want {b:?}")],
                    }
                })
                .collect()
        }
        _ if got == want => vec![],
        _ => vec![format!("{at}: got {got}, want {want}")],
    }
}

/// A container as the engine would list it, from a recorded create and its answer.
fn listed(name: &str, id: &str, body: &Value) -> Container {
    Container::from_summary(&json!({
        "Id": id,
        "Names": [format!("/{name}")],
        "Labels": body["Labels"],
        "State": "created",
    }))
}

/// What the recording says about one fixture, rebuilt and compared request by request.
fn check_fixture(name: &str) {
    let project = load(name);
    let rec = record(name);
    let api = rec["api_version"].as_str().unwrap().to_string();
    let mut created: Vec<Container> = Vec::new();
    let mut checked = 0;
    for req in rec["requests"].as_array().unwrap() {
        let path = req["path"].as_str().unwrap();
        let want = &req["body"];
        let what = format!("{name}: {} {path}", req["method"]);
        if path == "/networks/create" {
            let (key, n) = project
                .networks
                .iter()
                .find(|(_, n)| n.name == want["Name"])
                .unwrap_or_else(|| panic!("{what}: no such network"));
            assert_eq!(
                networks::network_create_body(&project, key, n),
                *want,
                "{what}"
            );
        } else if path == "/volumes/create" {
            let (key, v) = project
                .volumes
                .iter()
                .find(|(_, v)| v.name == want["Name"])
                .unwrap_or_else(|| panic!("{what}: no such volume"));
            assert_eq!(
                volumes::volume_create_body(&project, key, v),
                *want,
                "{what}"
            );
        } else if let Some(cname) = path.strip_prefix("/containers/create?name=") {
            let service_name = want["Labels"][labels::SERVICE].as_str().unwrap();
            let number: u32 = want["Labels"][labels::CONTAINER_NUMBER]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let service = &project.services[service_name];
            let service = resolve_service_references(service, &created).unwrap();
            let mut merged = service.labels.0.clone();
            merged.extend(service.custom_labels.0.clone());
            // A recreation (`<old id prefix>_<name>`): the container it replaces is inherited
            // and named in the replace label, as recreateContainer does.
            let replaced = cname.split_once('_').and_then(|(prefix, _)| {
                rec["before"]
                    .as_array()?
                    .iter()
                    .find(|c| c["Id"].as_str().is_some_and(|id| id.starts_with(prefix)))
            });
            if replaced.is_some() {
                merged.insert(
                    labels::CONTAINER_REPLACE.into(),
                    container::replaced_name(&service, number),
                );
            }
            let opts = CreateOptions {
                use_network_aliases: true,
                labels: merged,
                ..Default::default()
            };
            let r = Resolved {
                links: links(&project.name, &service, number, &created),
                image_digest: want["Labels"][labels::IMAGE_DIGEST]
                    .as_str()
                    .map(String::from),
                api_version: api.clone(),
                inherit: replaced.cloned(),
                // The recorded image (an import) declares no volume.
                image_volumes: Vec::new(),
                ..Default::default()
            };
            let mut got = create_body(&project, &service, number, &opts, &r)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let mut want = want.clone();
            normalise(&mut got);
            normalise(&mut want);
            // A service with bind mounts hashes the fixture directory's absolute path, which
            // is the recording machine's: the hash is compared only where no path enters it
            // (hashes are checked against docker compose itself by the types and loader corpora,
            // and across tools by tests/integration/compose_up.rs).
            if want
                .to_string()
                .contains(&fixture_dir().display().to_string())
            {
                got["Labels"][labels::CONFIG_HASH] = Value::Null;
                want["Labels"][labels::CONFIG_HASH] = Value::Null;
            }
            let diff = differences(&got, &want, "");
            assert!(diff.is_empty(), "{what}:\n{}", diff.join("\n"));
            if let Some(id) = req["response"]["Id"].as_str() {
                created.push(listed(cname, id, &want));
            }
        } else if req["method"] == "PUT" {
            check_archive(&project, &created, req, &what);
        } else {
            panic!("{what}: unexpected request");
        }
        checked += 1;
    }
    assert!(checked > 0, "{name}: nothing recorded");
}

/// An archive upload: the container it went to, the query and the one tar member.
fn check_archive(project: &Project, created: &[Container], req: &Value, what: &str) {
    let path = req["path"].as_str().unwrap();
    let id = path
        .strip_prefix("/containers/")
        .and_then(|p| p.split('/').next())
        .unwrap();
    let c = created.iter().find(|c| c.id == id).expect(what);
    let injections = secrets::injections(project, &project.services[&c.service]).unwrap();
    let member = &req["body"]["tar"][0];
    let i = injections
        .iter()
        .find(|i| i.target == member["name"])
        .unwrap_or_else(|| panic!("{what}: no injection at {}", member["name"]));
    assert_eq!(i.content, member["content"], "{what}");
    assert_eq!(format!("0o{:o}", i.mode), member["mode"], "{what}");
    assert_eq!(
        (json!(i.uid), json!(i.gid)),
        (member["uid"].clone(), member["gid"].clone())
    );
    assert_eq!(i.copy_uid_gid, path.contains("copyUIDGID=true"), "{what}");
    // The tar itself, read back as the engine reads it.
    let tar = secrets::tar_of(i).unwrap();
    let mut a = tar::Archive::new(&tar[..]);
    let entry = a.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(&*entry.path_bytes(), i.target.as_bytes());
    assert_eq!(entry.header().mode().unwrap(), i.mode);
    assert_eq!(req["body"]["tar"].as_array().unwrap().len(), 1);
}

#[test]
fn every_recorded_request_is_rebuilt() {
    let names = fixture_names();
    assert!(names.len() >= 15, "{names:?}");
    for name in names {
        check_fixture(&name);
    }
}
