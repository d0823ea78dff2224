//! Answers docker-py's integration suite checks against dockerd 20.10: the archive API on
//! created and exited containers reaching their volumes, inspect's HostConfig with dockerd's
//! keys and defaults, `GroupAdd` applied to the process and its execs, and the `none` and
//! `local` log drivers (unknown ones refused in dockerd's words). Through the raw API and the
//! stock docker CLI.

use crate::common;

use std::path::Path;

use common::api::{self, inspect, named, sh, start};
use common::{ok, stderr, stdout, TestEngine};
use serde_json::{json, Value};

fn create(e: &TestEngine, name: &str, cmd: &str, extra: Value) -> String {
    let mut body = named(name, sh(cmd));
    if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            b.insert(k.clone(), v.clone());
        }
    }
    api::create(e, body)
}

fn wait(e: &TestEngine, id: &str) -> i64 {
    let r = e.api_json("POST", &format!("/containers/{id}/wait"), None);
    r["StatusCode"].as_i64().unwrap()
}

/// stdout of the container's log, through `docker logs`.
fn logs(e: &TestEngine, id: &str) -> String {
    ok(&e.docker(&["logs", id]))
}

fn one_file_tar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, name, data).unwrap();
    b.into_inner().unwrap()
}

fn put(e: &TestEngine, id: &str, path: &str, tar: &[u8]) -> common::http::Response {
    common::http::request(
        &e.socket,
        "PUT",
        &format!("/containers/{id}/archive?path={path}"),
        Some(tar),
    )
    .unwrap()
}

fn tar_file(data: &[u8], name: &str) -> Option<String> {
    let mut a = tar::Archive::new(data);
    for entry in a.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap() == Path::new(name) {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut entry, &mut s).unwrap();
            return Some(s);
        }
    }
    None
}

/// docker-py's ArchiveTest.test_copy_file_to_container: a tar PUT into the anonymous volume of a
/// container that never ran lands in the volume the container then sees.
#[test]
fn put_archive_into_volume_of_created_container() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        "vol-put",
        "cat /vol1/data.txt",
        json!({"Volumes": {"/vol1": {}}}),
    );
    let r = put(&e, &id, "/vol1", &one_file_tar("data.txt", b"Deaf To All"));
    assert_eq!(r.status, 200, "{}", r.text());
    // Seen before the start too: stat and get of the file in the volume.
    let r = e.api(
        "HEAD",
        &format!("/containers/{id}/archive?path=/vol1/data.txt"),
        None,
    );
    assert_eq!(r.status, 200);
    let r = e.api(
        "GET",
        &format!("/containers/{id}/archive?path=/vol1/data.txt"),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        tar_file(&r.body, "data.txt").as_deref(),
        Some("Deaf To All")
    );
    start(&e, &id);
    assert_eq!(wait(&e, &id), 0);
    assert_eq!(logs(&e, &id), "Deaf To All");
    // And the docker CLI into a named volume of a created container, then out of the image.
    ok(&e.docker(&[
        "create",
        "--name",
        "vol-cli",
        "-v",
        "named:/data",
        "busybox",
        "true",
    ]));
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("in.txt"), "from-cli").unwrap();
    ok(&e.docker(&[
        "cp",
        &src.path().join("in.txt").to_string_lossy(),
        "vol-cli:/data/in.txt",
    ]));
    ok(&e.docker(&[
        "cp",
        "vol-cli:/data/in.txt",
        &src.path().join("out.txt").to_string_lossy(),
    ]));
    assert_eq!(
        std::fs::read_to_string(src.path().join("out.txt")).unwrap(),
        "from-cli"
    );
    ok(&e.docker(&[
        "cp",
        "vol-cli:/etc/group",
        &src.path().join("group").to_string_lossy(),
    ]));
    assert!(std::fs::read_to_string(src.path().join("group"))
        .unwrap()
        .contains("staff"));
    // A read-only volume refuses, in dockerd's words.
    ok(&e.docker(&[
        "create",
        "--name",
        "vol-ro",
        "-v",
        "named:/ro:ro",
        "busybox",
        "true",
    ]));
    let r = put(&e, "vol-ro", "/ro", &one_file_tar("x", b"x"));
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "mounted volume is marked read-only");
}

/// docker-py's test_get_file_archive_from_container / test_get_file_stat_from_container: what a
/// container wrote into its anonymous volume is read after it exited.
#[test]
fn get_archive_from_volume_of_exited_container() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        "vol-get",
        "echo The Maid > /vol1/data.txt",
        json!({"Volumes": {"/vol1": {}}}),
    );
    start(&e, &id);
    assert_eq!(wait(&e, &id), 0);
    let r = e.api(
        "GET",
        &format!("/containers/{id}/archive?path=/vol1/data.txt"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(tar_file(&r.body, "data.txt").as_deref(), Some("The Maid\n"));
    let stat = r.header("X-Docker-Container-Path-Stat").unwrap().to_owned();
    use base64::Engine as _;
    let stat: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(stat)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stat["name"], "data.txt");
    assert_eq!(stat["size"], 9);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.txt");
    ok(&e.docker(&["cp", "vol-get:/vol1/data.txt", &out.to_string_lossy()]));
    assert_eq!(std::fs::read_to_string(out).unwrap(), "The Maid\n");
}

/// Inspect's HostConfig has dockerd 20.10's keys with its defaults for `docker create busybox
/// true`; /info names dockerd's runtimes.
#[test]
fn inspect_host_config_has_dockerds_fields() {
    let e = TestEngine::with_busybox();
    let id = stdout(&e.docker(&["create", "busybox", "true"]));
    let id = id.trim();
    let h = &inspect(&e, id)["HostConfig"];
    let expected: Value = serde_json::from_str(
        r#"{
        "Binds": null, "ContainerIDFile": "", "LogConfig": {"Type": "json-file", "Config": {}},
        "NetworkMode": "default", "AutoRemove": false, "VolumeDriver": "", "VolumesFrom": null,
        "CapAdd": null, "CapDrop": null, "CgroupnsMode": "host", "Dns": [], "DnsOptions": [],
        "DnsSearch": [], "ExtraHosts": null, "GroupAdd": null, "IpcMode": "private", "Cgroup": "",
        "Links": null, "OomScoreAdj": 0, "PidMode": "", "Privileged": false,
        "PublishAllPorts": false, "ReadonlyRootfs": false, "SecurityOpt": null, "UTSMode": "",
        "UsernsMode": "", "ShmSize": 67108864, "Runtime": "runc", "Isolation": "",
        "CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0,
        "BlkioWeightDevice": [], "BlkioDeviceReadBps": [], "BlkioDeviceWriteBps": [],
        "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [], "CpuPeriod": 0, "CpuQuota": 0,
        "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "",
        "Devices": [], "DeviceCgroupRules": null, "DeviceRequests": null, "KernelMemory": 0,
        "KernelMemoryTCP": 0, "MemoryReservation": 0, "MemorySwap": 0, "MemorySwappiness": null,
        "OomKillDisable": false, "PidsLimit": null, "Ulimits": [], "CpuCount": 0,
        "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
        "ReadonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
    }"#,
    )
    .unwrap();
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&h[k], v, "HostConfig.{k} in {h:#}");
    }
    for k in ["RestartPolicy", "PortBindings", "ConsoleSize"] {
        assert!(h.get(k).is_some(), "HostConfig.{k} missing");
    }
    // A raw API body leaves the lists out: dockerd shows them null (the CLI sends []).
    let raw = api::create(&e, sh("true"));
    let hr = &inspect(&e, &raw)["HostConfig"];
    for k in [
        "Dns",
        "Devices",
        "Ulimits",
        "BlkioWeightDevice",
        "PortBindings",
        "Binds",
    ] {
        assert_eq!(hr[k], Value::Null, "HostConfig.{k} in {hr:#}");
    }
    assert_eq!(hr["ConsoleSize"], json!([0, 0]));
    assert_eq!(hr["ShmSize"], 67108864);
    let masked = h["MaskedPaths"].as_array().unwrap();
    assert!(masked.contains(&json!("/proc/kcore")), "{masked:?}");
    // Privileged: no masked or read-only paths, shown as null.
    let id = stdout(&e.docker(&["create", "--privileged", "busybox", "true"]));
    let h = &inspect(&e, id.trim())["HostConfig"];
    assert_eq!(h["MaskedPaths"], Value::Null);
    assert_eq!(h["ReadonlyPaths"], Value::Null);
    let info = e.api_json("GET", "/info", None);
    assert_eq!(info["DefaultRuntime"], "runc");
    assert_eq!(info["Runtimes"]["runc"]["path"], "runc");
    // dockerd's one runtime name is accepted; another is refused in its words.
    ok(&e.docker(&["create", "--runtime", "runc", "busybox", "true"]));
    let r = e.api(
        "POST",
        "/containers/create",
        Some(&json!({"Image": "busybox", "HostConfig": {"Runtime": "foo"}}).to_string()),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "Unknown runtime specified foo");
}

/// `--group-add` by number and by name (the container's /etc/group) reaches the process and its
/// execs; an unknown name fails the start as dockerd's does.
#[test]
fn group_add_is_applied_to_process_and_exec() {
    let e = TestEngine::with_busybox();
    // The test image's root is in audio (29); staff is 50. The kernel sorts the list.
    let o = e.docker(&[
        "run",
        "--rm",
        "--group-add",
        "1234",
        "--group-add",
        "staff",
        "busybox",
        "id",
        "-G",
    ]);
    assert_eq!(ok(&o).trim(), "0 29 50 1234");
    ok(&e.docker(&[
        "run",
        "-d",
        "--name",
        "grp",
        "--group-add",
        "1234",
        "--group-add",
        "staff",
        "busybox",
        "sleep",
        "60",
    ]));
    assert_eq!(
        ok(&e.docker(&["exec", "grp", "id", "-G"])).trim(),
        "0 29 50 1234"
    );
    assert_eq!(
        ok(&e.docker(&["exec", "-u", "1000:1000", "grp", "id", "-G"])).trim(),
        "1000 50 1234"
    );
    let id = create(
        &e,
        "grp-bad",
        "true",
        json!({"HostConfig": {"GroupAdd": ["nosuch"]}}),
    );
    let r = e.api("POST", &format!("/containers/{id}/start"), None);
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(
        r.message()
            .contains("Unable to find group nosuch: no matching entries in group file"),
        "{}",
        r.message()
    );
    // (dockerd resolves the groups before it creates the task and leaves the container
    // "created" with 128; berth's init resolves them inside the container, as it does the
    // user, and the failed start is recorded as an exit.)
    let st = &inspect(&e, &id)["State"];
    assert!(st["Error"]
        .as_str()
        .unwrap()
        .contains("Unable to find group nosuch"));
}

/// `--log-driver none`: output still reaches an attached client, nothing is kept, and reading
/// the logs is dockerd's 501.
#[test]
fn log_driver_none_keeps_nothing() {
    let e = TestEngine::with_busybox();
    let o = e.docker(&[
        "run",
        "--name",
        "nolog",
        "--log-driver",
        "none",
        "busybox",
        "echo",
        "hi",
    ]);
    assert_eq!(ok(&o), "hi\n");
    let c = inspect(&e, "nolog");
    assert_eq!(c["HostConfig"]["LogConfig"]["Type"], "none");
    assert_eq!(c["LogPath"], "");
    let upper = c["GraphDriver"]["Data"]["UpperDir"].as_str().unwrap();
    let dir = Path::new(upper).parent().unwrap();
    assert!(!dir.join("container-json.log").exists());
    let r = e.api("GET", "/containers/nolog/logs?stdout=1", None);
    assert_eq!(r.status, 501);
    assert_eq!(
        r.message(),
        "configured logging driver does not support reading"
    );
    let o = e.docker(&["logs", "nolog"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("configured logging driver does not support reading"),
        "{}",
        stderr(&o)
    );
}

/// `--log-driver local` keeps readable logs and takes its rotation options; unknown options and
/// drivers are refused in dockerd's words.
#[test]
fn log_driver_local_and_unknown_drivers() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&[
        "run",
        "--name",
        "loc",
        "--log-driver",
        "local",
        "--log-opt",
        "max-size=1m",
        "--log-opt",
        "max-file=2",
        "busybox",
        "echo",
        "kept",
    ]));
    assert_eq!(logs(&e, "loc"), "kept\n");
    let lc = &inspect(&e, "loc")["HostConfig"]["LogConfig"];
    assert_eq!(lc["Type"], "local");
    assert_eq!(lc["Config"]["max-file"], "2");
    let o = e.docker(&[
        "create",
        "--log-driver",
        "local",
        "--log-opt",
        "bogus=1",
        "busybox",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown log opt 'bogus' for log driver local"),
        "{}",
        stderr(&o)
    );
    let r = e.api(
        "POST",
        "/containers/create",
        Some(
            &json!({"Image": "busybox", "HostConfig": {"LogConfig": {"Type": "asdf"}}}).to_string(),
        ),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.message(),
        "error looking up logging plugin asdf: plugin \"asdf\" not found"
    );
    let r = e.api(
        "POST",
        "/containers/create",
        Some(
            &json!({"Image": "busybox",
                "HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"bogus": "1"}}}})
            .to_string(),
        ),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.message(),
        "unknown log opt 'bogus' for json-file log driver"
    );
}
