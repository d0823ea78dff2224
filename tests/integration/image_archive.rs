//! save/load: berth's own roundtrip (multi-layer with whiteouts, tags, containers run from the
//! result), the stock docker CLI's `save | load`, interop with skopeo (berth's archive read by
//! `skopeo copy docker-archive:`, skopeo's oci-archive loaded), a docker 20.10-format archive
//! written here byte for byte as docker wrote it, and hostile or broken archives that must fail
//! clearly and keep nothing.

use crate::common;

use std::process::Command;

use common::{image, ok, sha256, stderr, TestEngine};
use serde_json::{json, Value};

fn file_entry(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, data).unwrap();
}

fn dir_entry(b: &mut tar::Builder<Vec<u8>>, path: &str) {
    let mut h = tar::Header::new_ustar();
    h.set_size(0);
    h.set_mode(0o755);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::Directory);
    b.append_data(&mut h, path, std::io::empty()).unwrap();
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, d) in files {
        if p.ends_with('/') {
            dir_entry(&mut b, p);
        } else {
            file_entry(&mut b, p, d);
        }
    }
    b.into_inner().unwrap()
}

/// Three layers: busybox, then /data/{a,b}, then a whiteout of /data/a plus /data/c.
fn layers() -> Vec<Vec<u8>> {
    vec![
        image::busybox_rootfs_tar(),
        tar_of(&[("data/", b""), ("data/a", b"A\n"), ("data/b", b"B\n")]),
        tar_of(&[("data/.wh.a", b""), ("data/c", b"C\n")]),
    ]
}

fn config_for(layers: &[Vec<u8>], cmd: &[&str]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": {"Cmd": cmd, "Env": ["PATH=/bin:/usr/bin"], "Labels": {"made.by": "test"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": layers.iter().map(|_| json!({"created": "2023-11-14T22:13:20Z", "created_by": "test"})).collect::<Vec<_>>(),
    }))
    .unwrap()
}

/// An archive exactly as docker 20.10's `docker save` writes it: `<v1 id>/{VERSION,json,
/// layer.tar}`, `<config hex>.json`, `manifest.json`, `repositories`, in the tar order docker's
/// directory walk gives.
fn docker_2010_archive(layers: &[Vec<u8>], tags: &[&str]) -> Vec<u8> {
    let config = config_for(layers, &["ls", "/data"]);
    let config_hex = sha256(&config)[7..].to_string();
    let mut v1_ids = Vec::new();
    let mut parent: Option<String> = None;
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        // docker derives v1 ids from the chain; any distinct hex works for the loader.
        let id = sha256(format!("{parent:?} {}", sha256(l)).as_bytes())[7..].to_string();
        let mut j = json!({"id": id, "created": "1970-01-01T00:00:00Z",
            "container_config": {"Hostname": "", "Cmd": null}, "os": "linux"});
        if let Some(p) = &parent {
            j["parent"] = json!(p);
        }
        if i == layers.len() - 1 {
            j["config"] = json!({"Cmd": ["ls", "/data"]});
            j["architecture"] = json!("amd64");
        }
        entries.push((format!("{id}/"), Vec::new()));
        entries.push((format!("{id}/VERSION"), b"1.0".to_vec()));
        entries.push((format!("{id}/json"), serde_json::to_vec(&j).unwrap()));
        entries.push((format!("{id}/layer.tar"), l.clone()));
        v1_ids.push(id.clone());
        parent = Some(id);
    }
    entries.push((format!("{config_hex}.json"), config.clone()));
    let manifest = json!([{
        "Config": format!("{config_hex}.json"),
        "RepoTags": tags,
        "Layers": v1_ids.iter().map(|i| format!("{i}/layer.tar")).collect::<Vec<_>>(),
    }]);
    entries.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    let mut repos = serde_json::Map::new();
    for t in tags {
        let (r, tag) = t.rsplit_once(':').unwrap();
        repos
            .entry(r.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap()
            .insert(tag.into(), json!(v1_ids.last().unwrap()));
    }
    entries.push((
        "repositories".into(),
        serde_json::to_vec(&Value::Object(repos)).unwrap(),
    ));
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    tar_of(&refs)
}

fn write_tmp(dir: &std::path::Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.to_string_lossy().into_owned()
}

fn image_ids(e: &TestEngine) -> Vec<String> {
    let v = e.api_json("GET", "/images/json", None);
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i["Id"].as_str().unwrap().to_owned())
        .collect()
}

fn ls_data(e: &TestEngine, img: &str) -> String {
    ok(&e.berth(&["run", "--rm", img, "ls", "/data"]))
}

#[test]
fn archive_berth_save_load_roundtrip_multi_layer() {
    let e = TestEngine::start();
    let tmp = tempfile::tempdir().unwrap();
    let src = write_tmp(
        tmp.path(),
        "src.tar",
        &docker_2010_archive(&layers(), &["multi:1", "example.com/team/multi:2"]),
    );
    let out = ok(&e.berth(&["load", "-i", &src]));
    assert!(out.contains("Loaded image: multi:1"), "{out}");
    assert!(
        out.contains("Loaded image: example.com/team/multi:2"),
        "{out}"
    );
    let id = e.api_json("GET", "/images/multi:1/json", None)["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(ls_data(&e, "multi:1"), "b\nc\n", "whiteout applied");

    let saved = tmp.path().join("saved.tar");
    ok(&e.berth(&[
        "save",
        "-o",
        saved.to_str().unwrap(),
        "multi",
        "example.com/team/multi",
    ]));
    // docker ≥ 25's layout: OCI index plus the legacy files.
    let mut names = Vec::new();
    let mut ar = tar::Archive::new(std::fs::File::open(&saved).unwrap());
    for en in ar.entries().unwrap() {
        names.push(en.unwrap().path().unwrap().to_string_lossy().into_owned());
    }
    for n in ["index.json", "manifest.json", "oci-layout", "repositories"] {
        assert!(names.iter().any(|x| x == n), "{n} missing: {names:?}");
    }
    ok(&e.berth(&["rmi", "multi:1", "example.com/team/multi:2"]));
    assert!(image_ids(&e).is_empty());

    // Load from stdin, as `berth load < file`.
    let o = e
        .berth_command(&["load"])
        .stdin(std::fs::File::open(&saved).unwrap())
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(out.contains("Loaded image: multi:1"), "{out}");
    assert_eq!(
        image_ids(&e),
        vec![id.clone()],
        "same image id after the roundtrip"
    );
    let v = e.api_json("GET", "/images/multi:1/json", None);
    let mut tags: Vec<String> = v["RepoTags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    tags.sort();
    assert_eq!(tags, vec!["example.com/team/multi:2", "multi:1"]);
    assert_eq!(v["RootFS"]["Layers"].as_array().unwrap().len(), 3);
    assert_eq!(ls_data(&e, "example.com/team/multi:2"), "b\nc\n");
    // Loading again while the layers are stored takes them from the store (blob digest =
    // diff_id for uncompressed layers) and still reports the image.
    let out = ok(&e.berth(&["load", "-i", saved.to_str().unwrap()]));
    assert!(out.contains("Loaded image: multi:1"), "{out}");
    assert_eq!(image_ids(&e), vec![id.clone()]);

    // The API directly: one image by path, several by query, 404 before any byte for a miss.
    let r = e.api("GET", "/images/example.com/team/multi:2/get", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-tar"));
    let r2 = e.api(
        "GET",
        "/images/get?names=multi:1&names=example.com/team/multi:2",
        None,
    );
    assert_eq!(r2.status, 200);
    assert!(r2.body.len() >= r.body.len());
    let r = e.api("GET", "/images/get?names=multi:1&names=nope:9", None);
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(
        r.message().contains("No such image: nope:9"),
        "{}",
        r.text()
    );
    // Saving to a terminal-less stdout streams the same archive; an unknown name is an error
    // before any output.
    let o = e.berth(&["save", "multi:1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.len() > 1024);
    let o = e.berth(&[
        "save",
        "-o",
        tmp.path().join("x.tar").to_str().unwrap(),
        "nope:1",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("No such image"), "{}", stderr(&o));
    assert!(!tmp.path().join("x.tar").exists());
}

#[test]
fn archive_docker_cli_save_pipe_load() {
    let e = TestEngine::start();
    let tmp = tempfile::tempdir().unwrap();
    let src = write_tmp(
        tmp.path(),
        "src.tar",
        &docker_2010_archive(&layers(), &["dk:1"]),
    );
    let out = ok(&e.docker(&["load", "-i", &src]));
    assert!(out.contains("Loaded image: dk:1"), "{out}");
    let id = image_ids(&e);
    // docker save | docker load, through a shell pipe.
    let sh = "docker save dk:1 | docker load && docker image inspect -f '{{.Id}}' dk:1";
    ok(&e.docker(&["rmi", "dk:1"]));
    let sh_rm = Command::new("sh")
        .arg("-c")
        .arg(sh)
        .env("DOCKER_HOST", e.host())
        .output()
        .unwrap();
    // dk:1 was removed, so save must fail cleanly first.
    assert!(!sh_rm.status.success());
    ok(&e.docker(&["load", "-i", &src]));
    let o = Command::new("sh")
        .arg("-c")
        .arg(sh)
        .env("DOCKER_HOST", e.host())
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(out.contains("Loaded image: dk:1"), "{out}");
    assert!(out.contains(&id[0]), "{out}");
    let out = ok(&e.docker(&["run", "--rm", "dk:1"]));
    assert_eq!(out, "b\nc\n");
    // docker save -o, then load into an empty store.
    let saved = tmp.path().join("dk.tar");
    ok(&e.docker(&["save", "-o", saved.to_str().unwrap(), "dk:1"]));
    ok(&e.docker(&["rmi", "dk:1"]));
    let out = ok(&e.docker(&["load", "-i", saved.to_str().unwrap()]));
    assert!(out.contains("Loaded image: dk:1"), "{out}");
    // Saved by id: no tags in the archive, reported by id on load.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("docker save {} | docker load", id[0]))
        .env("DOCKER_HOST", e.host())
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(
        out.contains(&format!("Loaded image ID: {}", id[0])),
        "{out}"
    );
    // A missing image is docker's clean error.
    let o = e.docker(&["save", "-o", saved.to_str().unwrap(), "missing:1"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("No such image"), "{}", stderr(&o));
}

#[test]
fn archive_skopeo_reads_berth_save_and_oci_archive_loads() {
    if Command::new("skopeo").arg("--version").output().is_err() {
        panic!("skopeo is required (apt-get install -y skopeo)");
    }
    let e = TestEngine::start();
    let tmp = tempfile::tempdir().unwrap();
    let src = write_tmp(
        tmp.path(),
        "src.tar",
        &docker_2010_archive(&layers(), &["sk:1"]),
    );
    ok(&e.berth(&["load", "-i", &src]));
    let layers_before = e.api_json("GET", "/images/sk:1/json", None)["RootFS"]["Layers"].clone();
    let saved = tmp.path().join("saved.tar");
    ok(&e.berth(&["save", "-o", saved.to_str().unwrap(), "sk:1"]));
    let oci_dir = tmp.path().join("oci");
    let o = Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("docker-archive:{}", saved.display()))
        .arg(format!("oci:{}:latest", oci_dir.display()))
        .output()
        .unwrap();
    ok(&o);
    // skopeo's OCI layout as an oci-archive naming the image.
    let ociar = tmp.path().join("oci-archive.tar");
    let o = Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("oci:{}:latest", oci_dir.display()))
        .arg(format!(
            "oci-archive:{}:example.com/sk/from-skopeo:2",
            ociar.display()
        ))
        .output()
        .unwrap();
    ok(&o);
    ok(&e.berth(&["rmi", "sk:1"]));
    let out = ok(&e.berth(&["load", "-i", ociar.to_str().unwrap()]));
    assert!(
        out.contains("Loaded image: example.com/sk/from-skopeo:2"),
        "{out}"
    );
    // skopeo re-serialises the config when it converts docker's manifest to OCI, so the id
    // changes; the layers must not.
    let loaded = e.api_json("GET", "/images/example.com/sk/from-skopeo:2/json", None);
    assert_eq!(loaded["RootFS"]["Layers"], layers_before);
    assert_eq!(ls_data(&e, "example.com/sk/from-skopeo:2"), "b\nc\n");

    // The OCI layout directory as a tar with a bare tag: loads untagged, reported by id.
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all(".", &oci_dir).unwrap();
    let layout = b.into_inner().unwrap();
    ok(&e.berth(&["rmi", "example.com/sk/from-skopeo:2"]));
    let p = write_tmp(tmp.path(), "layout.tar", &layout);
    let out = ok(&e.berth(&["load", "-i", &p]));
    assert!(out.contains("Loaded image ID: sha256:"), "{out}");
}

/// POST /images/load; the error message whether it came as a status or inside the stream.
fn load_error(e: &TestEngine, body: &[u8]) -> String {
    let r = common::http::request(&e.socket, "POST", "/images/load", Some(body)).unwrap();
    if r.status != 200 {
        assert_eq!(r.status, 400, "{}", r.text());
        return r.message();
    }
    let text = r.text();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if let Some(m) = v["errorDetail"]["message"].as_str() {
            return m.to_owned();
        }
    }
    panic!("load of a bad archive succeeded: {text}");
}

#[test]
fn archive_bad_archives_fail_clearly_and_keep_nothing() {
    let e = TestEngine::start();
    let good = layers();

    let m = load_error(&e, &b"definitely not a tar archive ".repeat(40));
    assert!(m.contains("not a readable tar"), "{m}");

    let m = load_error(&e, &tar_of(&[("hello.txt", b"hi")]));
    assert!(m.contains("no manifest.json"), "{m}");

    // The config promises other layers than the archive has.
    let mut wrong = good.clone();
    wrong[2] = tar_of(&[("data/x", b"tampered")]);

    let tampered = docker_2010_archive(&wrong, &["bad:1"]);
    // Keep the honest config but the tampered layers: rebuild with the good config name.
    let ar = {
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        let mut a = tar::Archive::new(&tampered[..]);
        for en in a.entries().unwrap() {
            let mut en = en.unwrap();
            let name = en.path().unwrap().to_string_lossy().into_owned();
            let mut d = Vec::new();
            std::io::Read::read_to_end(&mut en, &mut d).unwrap();
            members.push((name, d));
        }
        let good_cfg = config_for(&good, &["ls", "/data"]);
        let cfg_name = format!(
            "{}.json",
            &sha256(&config_for(&wrong, &["ls", "/data"]))[7..]
        );
        for (n, d) in members.iter_mut() {
            if *n == cfg_name {
                *d = good_cfg.clone();
            }
        }
        let refs: Vec<(&str, &[u8])> = members
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        tar_of(&refs)
    };
    let m = load_error(&e, &ar);
    assert!(m.contains("digest mismatch"), "{m}");

    // An OCI layout whose layer blob does not match its name.
    let layer = &good[1];
    let fake = format!("blobs/sha256/{}", "e".repeat(64));
    let cfg = config_for(&good[1..2], &["true"]);
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&cfg), "size": cfg.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": format!("sha256:{}", "e".repeat(64)), "size": layer.len()}]}))
    .unwrap();
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&manifest), "size": manifest.len()}]}))
    .unwrap();
    let cfg_name = format!("blobs/sha256/{}", &sha256(&cfg)[7..]);
    let man_name = format!("blobs/sha256/{}", &sha256(&manifest)[7..]);
    let m = load_error(
        &e,
        &tar_of(&[
            (fake.as_str(), layer.as_slice()),
            (cfg_name.as_str(), cfg.as_slice()),
            (man_name.as_str(), manifest.as_slice()),
            ("index.json", index.as_slice()),
        ]),
    );
    assert!(m.to_lowercase().contains("digest"), "{m}");

    // A member name that climbs out of the archive.
    let mut raw = tar::Header::new_old();
    let evil = b"../../../../tmp/berth-archive-escape";
    raw.as_old_mut().name[..evil.len()].copy_from_slice(evil);
    raw.set_size(2);
    raw.set_mode(0o644);
    raw.set_cksum();
    let mut t = raw.as_bytes().to_vec();
    t.extend_from_slice(b"{}");
    t.resize(512 * 4, 0);
    let m = load_error(&e, &t);
    assert!(m.contains("outside the archive"), "{m}");
    assert!(!std::path::Path::new("/tmp/berth-archive-escape").exists());

    // manifest.json naming a layer that is not there.
    let cfg = config_for(&good[1..2], &["true"]);
    let manifest =
        json!([{"Config": "c.json", "RepoTags": ["gone:1"], "Layers": ["nothere/layer.tar"]}]);
    let m = load_error(
        &e,
        &tar_of(&[
            ("c.json", cfg.as_slice()),
            (
                "manifest.json",
                serde_json::to_vec(&manifest).unwrap().as_slice(),
            ),
        ]),
    );
    assert!(m.contains("missing layer nothere/layer.tar"), "{m}");

    // Gzip-compressed garbage inside a valid gzip stream.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &b"garbage!".repeat(200)).unwrap();
    let m = load_error(&e, &gz.finish().unwrap());
    assert!(m.contains("not a readable tar"), "{m}");

    assert!(image_ids(&e).is_empty(), "no image kept");
    // The stock CLI shows the engine's message.
    let tmp = tempfile::tempdir().unwrap();
    let p = write_tmp(tmp.path(), "bad.tar", &tar_of(&[("hello.txt", b"hi")]));
    let o = e.docker(&["load", "-i", &p]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no manifest.json"), "{}", stderr(&o));
    let o = e.berth(&["load", "-i", &p]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no manifest.json"), "{}", stderr(&o));
}

#[test]
fn archive_gzip_archive_loads() {
    let e = TestEngine::start();
    let ar = docker_2010_archive(&layers(), &["gz:1"]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &ar).unwrap();
    let r = common::http::request(
        &e.socket,
        "POST",
        "/images/load?quiet=1",
        Some(&gz.finish().unwrap()),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(!text.contains("Loading layer"), "quiet: {text}");
    assert!(text.contains("Loaded image: gz:1"), "{text}");
    assert_eq!(ls_data(&e, "gz:1"), "b\nc\n");
}
