//! Volumes, bind and tmpfs mounts, `system df` and volume events, with a real engine, real
//! containers, `berth --headless` and the stock docker CLI.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::{eventually, http, ok, stderr, stdout, unix_now, urlencode, TestEngine};
use serde_json::{json, Value};

/// busybox plus test content: /data (a VOLUME) holding files owned by 1000:1000, a symlink and a
/// mode-0700 dir; /target → /etc; /escape → a relative path climbing to `host_victim`.
pub(crate) fn image_tar(host_victim: &Path) -> Vec<u8> {
    let base = common::image::busybox_rootfs_tar();
    let mut ar = tar::Archive::new(&base[..]);
    let mut b = tar::Builder::new(Vec::new());
    for entry in ar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut h = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        if h.entry_type() == tar::EntryType::Symlink {
            let target = entry.link_name().unwrap().unwrap().into_owned();
            b.append_link(&mut h, &path, &target).unwrap();
        } else {
            b.append_data(&mut h, &path, &mut entry).unwrap();
        }
    }
    let dir = |b: &mut tar::Builder<Vec<u8>>, p: &str, mode: u32, uid: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(uid);
        h.set_size(0);
        b.append_data(&mut h, p, std::io::empty()).unwrap();
    };
    let link = |b: &mut tar::Builder<Vec<u8>>, p: &str, t: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        b.append_link(&mut h, p, t).unwrap();
    };
    dir(&mut b, "data", 0o755, 1000);
    dir(&mut b, "data/private", 0o700, 1000);
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o640);
    h.set_uid(1000);
    h.set_gid(1000);
    h.set_size(5);
    b.append_data(&mut h, "data/private/seed", &b"seed\n"[..])
        .unwrap();
    link(&mut b, "data/link", "private/seed");
    link(&mut b, "target", "/etc");
    let climb = format!("../../../../../../..{}", host_victim.display());
    link(&mut b, "escape", &climb);
    b.into_inner().unwrap()
}

/// Import `image_tar` as `name` with `VOLUME /data`.
fn import_volume_image(e: &TestEngine, name: &str, victim: &Path) {
    let r = http::request(
        &e.socket,
        "POST",
        &format!("/images/create?fromSrc=-&repo={name}&tag=latest&changes=VOLUME%20%2Fdata"),
        Some(&image_tar(victim)),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("errorDetail"), "{}", r.text());
}

fn volume_names(e: &TestEngine) -> Vec<String> {
    let v = e.api_json("GET", "/volumes", None);
    let mut names: Vec<String> = v["Volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["Name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn create(e: &TestEngine, body: Value) -> http::Response {
    e.api("POST", "/containers/create", Some(&body.to_string()))
}

#[test]
fn named_volume_survives_rm_and_gets_the_image_content_docker_cli() {
    let e = TestEngine::with_busybox();
    let victim = tempfile::tempdir().unwrap();
    import_volume_image(&e, "volimg", victim.path());
    // First mount of an empty volume: the image's /data is copied in (owners, modes, links).
    let out = ok(&e.docker(&[
        "run", "--name", "first", "-v", "appdata:/data", "volimg", "sh", "-c",
        "cat /data/link; stat -c '%u:%g %a' /data/private/seed /data/private; echo persisted > /data/new",
    ]));
    assert_eq!(out, "seed\n1000:1000 640\n1000:1000 700\n");
    let on_disk = e.data_path("volumes/appdata/_data");
    assert_eq!(
        std::fs::read_link(on_disk.join("link")).unwrap(),
        Path::new("private/seed")
    );
    ok(&e.docker(&["rm", "-v", "first"]));
    // Named volumes survive `rm -v`; a new container (another image) sees the data.
    assert!(volume_names(&e).contains(&"appdata".to_string()));
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        "appdata:/srv",
        "busybox",
        "cat",
        "/srv/new",
        "/srv/private/seed",
    ]));
    assert_eq!(out, "persisted\nseed\n");
    // A volume with content is not overwritten by a later copy-up.
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        "appdata:/data",
        "volimg",
        "ls",
        "/data",
    ]));
    assert!(out.contains("new"), "{out}");
    // nocopy: the volume stays empty.
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=empty1,dst=/data,volume-nocopy",
        "volimg",
        "ls",
        "-A",
        "/data",
    ]));
    assert_eq!(out, "");
    // Inspect shows docker's mount shape.
    ok(&e.docker(&[
        "create",
        "--name",
        "insp",
        "-v",
        "appdata:/data:ro",
        "busybox",
        "true",
    ]));
    let v = e.api_json("GET", "/containers/insp/json", None);
    let m = &v["Mounts"][0];
    assert_eq!(m["Type"], "volume");
    assert_eq!(m["Name"], "appdata");
    assert_eq!(m["Destination"], "/data");
    assert_eq!(m["Driver"], "local");
    assert_eq!(m["RW"], false);
    assert_eq!(m["Mode"], "ro");
    assert_eq!(m["Source"], json!(on_disk));
    assert_eq!(v["HostConfig"]["Binds"], json!(["appdata:/data:ro"]));
    let out = ok(&e.docker(&[
        "volume",
        "inspect",
        "-f",
        "{{.Mountpoint}} {{.Driver}}",
        "appdata",
    ]));
    assert_eq!(out.trim(), format!("{} local", on_disk.display()));
}

#[test]
fn a_bind_mount_works_both_ways() {
    let e = TestEngine::with_busybox();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), "hello\n").unwrap();
    let spec = format!("{}:/mnt/h", host.path().display());

    // Both ways: the container reads the host's file and its write appears on the host.
    let out = ok(&e.berth(&[
        "run",
        "--rm",
        "-v",
        &spec,
        "busybox",
        "sh",
        "-c",
        "cat /mnt/h/from-host; echo back > /mnt/h/from-ct",
    ]));
    assert_eq!(out, "hello\n");
    assert_eq!(
        std::fs::read_to_string(host.path().join("from-ct")).unwrap(),
        "back\n"
    );
}

#[test]
fn read_only_binds_and_volumes_refuse_writes() {
    let e = TestEngine::with_busybox();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), "hello\n").unwrap();
    let spec = format!("{}:/mnt/h", host.path().display());

    // :ro makes writes fail, reads still work.
    let ro = format!("{spec}:ro");
    let o = e.docker(&[
        "run",
        "--rm",
        "-v",
        &ro,
        "busybox",
        "sh",
        "-c",
        "cat /mnt/h/from-host; echo x > /mnt/h/nope",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Read-only file system"),
        "{}",
        stderr(&o)
    );
    assert!(!host.path().join("nope").exists());
    let o = e.docker(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=rov,dst=/v,readonly",
        "busybox",
        "touch",
        "/v/x",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn a_file_can_be_bind_mounted() {
    let e = TestEngine::with_busybox();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), "hello\n").unwrap();

    // A file bind.
    let file = host.path().join("from-host");
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "--mount",
        &format!("type=bind,src={},dst=/etc/greeting,ro", file.display()),
        "busybox",
        "cat",
        "/etc/greeting",
    ]));
    assert_eq!(out, "hello\n");
}

#[test]
fn a_missing_bind_source_is_created_by_v_and_refused_by_mount() {
    let e = TestEngine::with_busybox();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), "hello\n").unwrap();

    // -v with a missing source creates it as a directory; --mount refuses.
    let missing = host.path().join("made/by/engine");
    ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/m", missing.display()),
        "busybox",
        "touch",
        "/m/f",
    ]));
    assert!(missing.join("f").is_file());
    let gone = host.path().join("gone");
    let o = e.docker(&[
        "run",
        "--rm",
        "--mount",
        &format!("type=bind,src={},dst=/m", gone.display()),
        "busybox",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("bind source path does not exist"),
        "{}",
        stderr(&o)
    );
    assert!(!gone.exists());
    let o = e.berth(&[
        "run",
        "--rm",
        "--mount",
        &format!("type=bind,src={},dst=/m", gone.display()),
        "busybox",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("bind source path does not exist"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn tmpfs_mounts_honour_size_and_mode() {
    let e = TestEngine::with_busybox();
    let out = ok(&e.docker(&[
        "run", "--rm", "--tmpfs", "/scratch:size=1m,mode=1777", "busybox", "sh", "-c",
        "grep ' /scratch ' /proc/mounts; stat -c %a /scratch; dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/dev/null; echo rc=$?; du -k /scratch/big",
    ]));
    assert!(
        out.starts_with("tmpfs /scratch tmpfs rw,nosuid,nodev,noexec"),
        "{out}"
    );
    assert!(out.contains("size=1024k"), "{out}");
    assert!(out.contains("\n1777\n"), "{out}");
    // The write beyond the size fails and what is stored stays within it.
    assert!(out.contains("rc=1"), "{out}");
    let kb: u64 = out
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(kb <= 1024, "{out}");
    let out = ok(&e.berth(&[
        "run",
        "--rm",
        "--mount",
        "type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=700",
        "busybox",
        "sh",
        "-c",
        "grep ' /t ' /proc/mounts; stat -c %a /t",
    ]));
    assert!(out.contains("size=2048k"), "{out}");
    assert!(out.ends_with("700\n"), "{out}");
}

#[test]
fn anonymous_volumes_image_volume_and_rm_v() {
    let e = TestEngine::with_busybox();
    let victim = tempfile::tempdir().unwrap();
    import_volume_image(&e, "volimg", victim.path());
    ok(&e.docker(&["volume", "create", "keepme"]));
    // Image VOLUME /data and -v /cache both get anonymous volumes; a named one is shared.
    ok(&e.docker(&[
        "create",
        "--name",
        "c1",
        "-v",
        "/cache",
        "-v",
        "keepme:/keep",
        "volimg",
        "true",
    ]));
    let v = e.api_json("GET", "/containers/c1/json", None);
    let mounts = v["Mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 3, "{mounts:?}");
    let anon: Vec<String> = mounts
        .iter()
        .filter(|m| m["Name"] != "keepme")
        .map(|m| m["Name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(anon.len(), 2);
    for a in &anon {
        assert_eq!(a.len(), 64);
        let vol = e.api_json("GET", &format!("/volumes/{a}"), None);
        assert!(vol["Labels"]
            .as_object()
            .unwrap()
            .contains_key("com.docker.volume.anonymous"));
    }
    ok(&e.docker(&["start", "-a", "c1"]));
    // The image's content was copied into the anonymous /data volume at start.
    let data = mounts.iter().find(|m| m["Destination"] == "/data").unwrap();
    assert!(Path::new(data["Source"].as_str().unwrap())
        .join("private/seed")
        .is_file());
    ok(&e.docker(&["rm", "-v", "c1"]));
    let names = volume_names(&e);
    assert_eq!(names, vec!["keepme".to_string()]);
    // `rm` without -v keeps anonymous volumes; `run --rm` removes them.
    ok(&e.berth(&["create", "--name", "c2", "-v", "/x", "busybox", "true"]));
    let anon2 = e.api_json("GET", "/containers/c2/json", None)["Mounts"][0]["Name"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&e.berth(&["rm", "c2"]));
    assert!(volume_names(&e).contains(&anon2));
    ok(&e.docker(&["run", "--rm", "-v", "/y", "busybox", "true"]));
    let names = volume_names(&e);
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn cve_2021_30465_symlinked_mount_targets_stay_inside_the_rootfs() {
    let e = TestEngine::with_busybox();
    let victim_root = tempfile::tempdir().unwrap();
    let victim = victim_root.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    import_volume_image(&e, "evil", &victim);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("payload"), "payload\n").unwrap();
    let bind = |t: &str| format!("{}:{t}", src.path().display());
    // /target → /etc: the bind lands on the container's /etc/x, not the host's.
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        &bind("/target/x"),
        "-v",
        &bind("/escape/sub"),
        "--tmpfs",
        "/escape/t",
        "evil",
        "sh",
        "-c",
        "cat /etc/x/payload; readlink /escape; ls -d /escape/sub/payload /escape/t",
    ]));
    assert!(out.starts_with("payload\n"), "{out}");
    assert!(!Path::new("/etc/x").exists(), "the host's /etc was touched");
    // /escape climbs out with ../ to a real host directory: it was created inside the rootfs.
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "host path touched"
    );
    // And a bind straight onto the dangling link itself.
    ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        &bind("/escape"),
        "evil",
        "cat",
        "/escape/payload",
    ]));
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "host path touched"
    );
    // Destinations in /proc are refused.
    let o = e.docker(&[
        "run",
        "--rm",
        "-v",
        &bind("/proc/sys/kernel"),
        "busybox",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
}

/// The volumes several tests start from: "apivol" (label tier=db) used by the stopped container
/// "user", and one anonymous volume nothing uses. Returns (the container's id, the anonymous
/// volume's name).
fn volume_in_use_and_a_dangling_one(e: &TestEngine) -> (String, String) {
    let r = e.api(
        "POST",
        "/volumes/create",
        Some(r#"{"Name":"apivol","Labels":{"tier":"db"}}"#),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    ok(&e.docker(&[
        "create",
        "--name",
        "user",
        "-v",
        "apivol:/db",
        "busybox",
        "true",
    ]));
    let id = e.api_json("GET", "/containers/user/json", None)["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let anon = e.api_json("POST", "/volumes/create", Some("{}"))["Name"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, anon)
}

#[test]
fn volume_create_named_labelled_idempotent_or_random() {
    let e = TestEngine::start();
    // Create: named, labelled, random name, idempotent.
    let r = e.api(
        "POST",
        "/volumes/create",
        Some(r#"{"Name":"apivol","Labels":{"tier":"db"}}"#),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    assert_eq!(v["Scope"], "local");
    assert_eq!(v["Labels"]["tier"], "db");
    assert!(v["Mountpoint"]
        .as_str()
        .unwrap()
        .ends_with("/volumes/apivol/_data"));
    assert_eq!(
        e.api("POST", "/volumes/create", Some(r#"{"Name":"apivol"}"#))
            .status,
        201
    );
    let anon = e.api_json("POST", "/volumes/create", Some("{}"))["Name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(anon.len(), 64);
    assert_eq!(volume_names(&e).len(), 2);
}

#[test]
fn volume_create_with_bad_input_is_a_4xx_with_a_message_and_creates_nothing() {
    let e = TestEngine::start();
    for (body, status) in [
        (r#"{"Name":"bad/name"}"#, 400),
        (r#"{"Name":"x"}"#, 400),
        (
            r#"{"Name":"nfsvol","DriverOpts":{"type":"nfs","o":"addr=10.0.0.1"}}"#,
            400,
        ),
        (r#"{"Name":"plug","Driver":"flocker"}"#, 404),
        ("{not json", 400),
    ] {
        let r = e.api("POST", "/volumes/create", Some(body));
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert!(!r.message().is_empty());
    }
    assert!(volume_names(&e).is_empty());
}

#[test]
fn malformed_binds_and_mounts_are_refused_leaving_no_container_or_volume() {
    let e = TestEngine::with_busybox();
    // Malformed -v / --mount through the API: 400, no container, no volume.
    for host in [
        json!({"Binds": ["/a:/b:c:d"]}),
        json!({"Binds": ["newvol:/b", "/host:relative"]}),
        json!({"Binds": ["/a:/b:bogus"]}),
        json!({"Mounts": [{"Type": "volume", "Source": "newvol2"}]}),
        json!({"Mounts": [{"Type": "bind", "Target": "/x"}]}),
        json!({"Mounts": [{"Type": "nfs", "Target": "/x"}]}),
        json!({"Binds": ["/a:/same", "newvol3:/same"]}),
        json!({"Tmpfs": {"/t": "size=huge"}}),
    ] {
        let r = create(
            &e,
            json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": host}),
        );
        assert_eq!(r.status, 400, "{host}: {}", r.text());
        assert!(!r.message().is_empty());
    }
    assert_eq!(e.api_json("GET", "/containers/json?all=1", None), json!([]));
    assert!(volume_names(&e).is_empty());
    // The same through the CLIs: exit 125 with one line of error.
    let o = e.berth(&["run", "--rm", "-v", "/a:/b:c:d", "busybox", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = e.berth(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,target=/x,bogus=1",
        "busybox",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    let o = e.docker(&["run", "--rm", "-v", "/a:/b:bogus", "busybox", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(stderr(&o).contains("invalid mode: bogus"), "{}", stderr(&o));
}

#[test]
fn a_volume_in_use_by_a_stopped_container_stays_until_the_container_goes() {
    let e = TestEngine::with_busybox();
    let (id, _) = volume_in_use_and_a_dangling_one(&e);
    // In use (even by a stopped container): 409, force does not help, the volume stays.
    for q in ["", "?force=1"] {
        let r = e.api("DELETE", &format!("/volumes/apivol{q}"), None);
        assert_eq!(r.status, 409, "{}", r.text());
        assert_eq!(
            r.message(),
            format!("remove apivol: volume is in use - [{id}]")
        );
    }
    let o = e.docker(&["volume", "rm", "apivol"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("volume is in use"));
    let o = e.berth(&["volume", "rm", "apivol"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("volume is in use"), "{}", stderr(&o));
    assert!(e.data_path("volumes/apivol/_data").is_dir());
    // Once the container is gone the volume can go, data and all.
    ok(&e.docker(&["rm", "user"]));
    ok(&e.docker(&["volume", "rm", "apivol"]));
    assert!(!e.data_path("volumes/apivol").exists());
}

#[test]
fn volume_list_filters_and_unknown_volumes() {
    let e = TestEngine::with_busybox();
    let (_, anon) = volume_in_use_and_a_dangling_one(&e);
    let list = |f: &str| -> Vec<String> {
        let q: String = urlencode(f);
        let v = e.api_json("GET", &format!("/volumes?filters={q}"), None);
        let mut n: Vec<String> = v["Volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["Name"].as_str().unwrap().to_owned())
            .collect();
        n.sort();
        n
    };
    assert_eq!(list(r#"{"dangling":["true"]}"#), vec![anon.clone()]);
    assert_eq!(
        list(r#"{"dangling":["false"]}"#),
        vec!["apivol".to_string()]
    );
    assert_eq!(list(r#"{"label":["tier=db"]}"#), vec!["apivol".to_string()]);
    assert_eq!(list(r#"{"name":["apiv"]}"#), vec!["apivol".to_string()]);
    assert_eq!(list(r#"{"driver":["local"]}"#).len(), 2);
    assert_eq!(
        e.api(
            "GET",
            "/volumes?filters=%7B%22colour%22%3A%5B%22x%22%5D%7D",
            None
        )
        .status,
        400
    );
    assert_eq!(e.api("GET", "/volumes/nope", None).status, 404);
    assert_eq!(e.api("DELETE", "/volumes/nope", None).status, 404);
    assert_eq!(e.api("DELETE", "/volumes/nope?force=1", None).status, 204);
}

#[test]
fn berth_volume_create_ls_and_inspect() {
    let e = TestEngine::start();
    ok(&e.berth(&["volume", "create", "--label", "a=b", "clivol"]));
    let out = ok(&e.berth(&["volume", "ls"]));
    assert!(out.starts_with("DRIVER    VOLUME NAME\n"), "{out}");
    assert!(out.contains("local     clivol\n"), "{out}");
    let out = ok(&e.berth(&["volume", "ls", "-q", "--filter", "label=a=b"]));
    assert_eq!(out, "clivol\n");
    let out = ok(&e.berth(&[
        "volume",
        "ls",
        "--format",
        "json",
        "--filter",
        "name=clivol",
    ]));
    let row: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(row["Labels"], "a=b");
    let out = ok(&e.berth(&["volume", "inspect", "clivol"]));
    let arr: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(arr[0]["Name"], "clivol");
    let o = e.berth(&["volume", "inspect", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn volume_prune_takes_unused_anonymous_volumes_then_named_ones_with_all() {
    let e = TestEngine::with_busybox();
    let (_, anon) = volume_in_use_and_a_dangling_one(&e);
    ok(&e.berth(&["volume", "create", "--label", "a=b", "clivol"]));
    // Prune: anonymous unused volumes only; then all=true for named ones.
    let r = e.api_json("POST", "/volumes/prune", None);
    assert_eq!(r["VolumesDeleted"], json!([anon]));
    let out = ok(&e.berth(&["volume", "prune", "-f", "--all"]));
    assert!(out.contains("clivol"), "{out}");
    assert_eq!(volume_names(&e), vec!["apivol".to_string()]);
    ok(&e.docker(&["rm", "user"]));
    ok(&e.docker(&["volume", "rm", "apivol"]));
    assert!(volume_names(&e).is_empty());
}

#[test]
fn a_tmpfs_volume_is_shared_by_its_containers_and_unmounted_when_removed() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=1m",
        "tv",
    ]));
    ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        "tv:/tv",
        "busybox",
        "sh",
        "-c",
        "echo shared > /tv/f",
    ]));
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        "tv:/tv",
        "busybox",
        "sh",
        "-c",
        "cat /tv/f; grep ' /tv ' /proc/mounts",
    ]));
    assert!(out.starts_with("shared\ntmpfs /tv tmpfs"), "{out}");
    ok(&e.docker(&["volume", "rm", "tv"]));
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&e.data_path("volumes").display().to_string()));
}

#[test]
fn system_df_reports_images_containers_and_volume_usage() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&[
        "run", "--name", "writer", "-v", "dfvol:/v", "busybox", "sh", "-c",
        "dd if=/dev/zero of=/v/blob bs=1024 count=300 2>/dev/null; dd if=/dev/zero of=/rw bs=1024 count=100 2>/dev/null",
    ]));
    ok(&e.docker(&["volume", "create", "idle"]));
    let df = e.api_json("GET", "/system/df", None);
    assert!(df["LayersSize"].as_u64().unwrap() > 500_000, "{df}");
    assert_eq!(df["BuildCache"], json!([]));
    let img = &df["Images"][0];
    assert_eq!(img["Containers"], 1);
    assert!(img["Size"].as_u64().unwrap() > 500_000);
    let c = &df["Containers"][0];
    assert_eq!(c["Names"], json!(["/writer"]));
    let rw = c["SizeRw"].as_u64().unwrap();
    assert!((100 * 1024..200 * 1024).contains(&rw), "{c}");
    assert!(c["SizeRootFs"].as_u64().unwrap() > rw);
    let vols = df["Volumes"].as_array().unwrap();
    let dfvol = vols.iter().find(|v| v["Name"] == "dfvol").unwrap();
    assert_eq!(
        dfvol["UsageData"],
        json!({"Size": 300 * 1024, "RefCount": 1})
    );
    let idle = vols.iter().find(|v| v["Name"] == "idle").unwrap();
    assert_eq!(idle["UsageData"], json!({"Size": 0, "RefCount": 0}));
    let only = e.api_json("GET", "/system/df?type=volume", None);
    assert_eq!(only["Images"], json!([]));
    assert_eq!(only["Volumes"].as_array().unwrap().len(), 2);
    assert_eq!(e.api("GET", "/system/df?type=bogus", None).status, 400);

    let out = ok(&e.berth(&["system", "df"]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("TYPE"), "{out}");
    assert!(lines[1].starts_with("Images "), "{out}");
    assert!(
        lines[3].starts_with("Local Volumes   2         1         307.2kB"),
        "{out}"
    );
    let out = ok(&e.berth(&["system", "df", "-v"]));
    assert!(out.contains("Local Volumes space usage:"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("dfvol ") && l.contains("307.2kB")),
        "{out}"
    );
    let out = ok(&e.docker(&["system", "df"]));
    assert!(out.contains("Local Volumes   2"), "{out}");
    let out = ok(&e.docker(&["system", "df", "-v"]));
    assert!(out.contains("dfvol"), "{out}");
}

#[test]
fn volume_events_create_mount_unmount_destroy() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&["run", "--name", "ev", "-v", "evvol:/e", "busybox", "true"]));
    ok(&e.docker(&["rm", "ev"]));
    ok(&e.docker(&["volume", "rm", "evvol"]));
    let got = eventually(Duration::from_secs(5), || {
        let o = e.docker(&[
            "events",
            "--since",
            "1h",
            "--until",
            "0s",
            "--filter",
            "type=volume",
            "--format",
            "{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes \"driver\"}}",
        ]);
        let out = stdout(&o);
        out.contains("destroy").then_some(out)
    })
    .expect("volume events");
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(
        lines,
        vec![
            "create evvol local",
            "mount evvol local",
            "unmount evvol local",
            "destroy evvol local"
        ],
        "{got}"
    );
    // The mount event names the container and destination.
    let r = e.api(
        "GET",
        &format!(
            "/events?since=0&until={}&filters=%7B%22event%22%3A%5B%22mount%22%5D%7D",
            (unix_now() + 1)
        ),
        None,
    );
    let text = r.text();
    let ev: Value = serde_json::from_str(text.lines().next().unwrap_or("null")).unwrap();
    assert_eq!(ev["Type"], "volume", "{text}");
    assert_eq!(ev["Actor"]["Attributes"]["destination"], "/e");
    assert_eq!(ev["Actor"]["Attributes"]["read/write"], "true");
    assert_eq!(
        ev["Actor"]["Attributes"]["container"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
}
