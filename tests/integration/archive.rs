//! diff, export, cp (archive HEAD/GET/PUT) and update against a real engine and real containers,
//! through the raw API, `berth --headless` and the stock docker CLI, including symlink escapes.

use crate::common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::api::{self, named, sh, start};
use common::{stderr, stdout, TestEngine};
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

/// Run `cmd` to completion in a new container (the setup of a stopped container).
fn run_to_exit(e: &TestEngine, name: &str, cmd: &str) -> String {
    let id = create(e, name, cmd, json!({}));
    start(e, &id);
    let r = e.api("POST", &format!("/containers/{id}/wait"), None);
    assert_eq!(r.status, 200);
    id
}

fn exec_out(e: &TestEngine, name: &str, cmd: &str) -> String {
    let o = e.docker(&["exec", name, "sh", "-c", cmd]);
    assert!(o.status.success(), "exec {cmd}: {}", stderr(&o));
    stdout(&o)
}

/// Tar entries: name → (type byte, size, mode, uid).
fn tar_entries(data: &[u8]) -> BTreeMap<String, (u8, u64, u32, u64)> {
    let mut a = tar::Archive::new(data);
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                (
                    h.entry_type().as_byte(),
                    h.size().unwrap(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                ),
            )
        })
        .collect()
}

#[test]
fn diff_lists_added_modified_deleted() {
    let e = TestEngine::with_busybox();
    let id = run_to_exit(
        &e,
        "differ",
        "echo x > /newfile; mkdir -p /tmp/d; echo y > /tmp/d/f; rm /bin/ls; echo more >> /etc/passwd",
    );
    let v = e.api_json("GET", &format!("/containers/{id}/changes"), None);
    let got: Vec<(String, i64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["Path"].as_str().unwrap().into(),
                c["Kind"].as_i64().unwrap(),
            )
        })
        .collect();
    for want in [
        ("/newfile", 1),
        ("/tmp", 0),
        ("/tmp/d", 1),
        ("/tmp/d/f", 1),
        ("/bin", 0),
        ("/bin/ls", 2),
        ("/etc", 0),
        ("/etc/passwd", 0),
    ] {
        assert!(
            got.contains(&(want.0.to_string(), want.1)),
            "missing {want:?} in {got:?}"
        );
    }
    // The engine's own mount targets are not reported.
    assert!(
        !got.iter().any(|(p, _)| p == "/etc/hosts" || p == "/proc"),
        "{got:?}"
    );
    // docker diff and berth diff print docker's letters.
    let o = e.docker(&["diff", "differ"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("A /newfile\n")
            && out.contains("D /bin/ls\n")
            && out.contains("C /etc/passwd\n"),
        "{out}"
    );
    let o = e.berth(&["diff", "differ"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), out);
    let o = e.berth(&["diff", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("No such container"), "{}", stderr(&o));
}

#[test]
fn export_running_and_stopped() {
    let e = TestEngine::with_busybox();
    let id = create(&e, "exp", "echo hi > /created.txt; sleep 600", json!({}));
    start(&e, &id);
    common::eventually(std::time::Duration::from_secs(5), || {
        let o = e.docker(&["exec", "exp", "cat", "/created.txt"]);
        o.status.success().then_some(())
    })
    .expect("file created");
    let r = e.api("GET", &format!("/containers/{id}/export"), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-tar"));
    let ents = tar_entries(&r.body);
    let bb = ents.get("./bin/busybox").expect("busybox in export");
    assert!(bb.1 > 100_000);
    assert_eq!(ents.get("./created.txt").map(|e| e.1), Some(3));
    // Mounted pseudo filesystems are not exported, their mount points are.
    assert!(ents.contains_key("./proc/"));
    assert!(
        !ents.keys().any(|k| k.starts_with("./proc/1/")),
        "proc content exported"
    );
    // The stock CLI and berth, to a file, from a stopped container.
    let r = e.api("POST", &format!("/containers/{id}/kill"), None);
    assert_eq!(r.status, 204);
    let _ = e.api("POST", &format!("/containers/{id}/wait"), None);
    let out = e.dir.path().join("exp.tar");
    let o = e.docker(&["export", "-o", out.to_str().unwrap(), "exp"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ents = tar_entries(&std::fs::read(&out).unwrap());
    assert!(ents.contains_key("./bin/busybox") && ents.contains_key("./created.txt"));
    let out2 = e.dir.path().join("exp2.tar");
    let o = e.berth(&["export", "-o", out2.to_str().unwrap(), "exp"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(tar_entries(&std::fs::read(&out2).unwrap()), ents);
    let o = e.berth(&["export", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("No such container"));
}

#[test]
fn archive_head_get_and_404() {
    let e = TestEngine::with_busybox();
    let id = run_to_exit(
        &e,
        "arch",
        "echo hello > /tmp/f; chmod 640 /tmp/f; ln -s /tmp/f /tmp/l",
    );
    let r = e.api(
        "HEAD",
        &format!("/containers/{id}/archive?path=/tmp/f"),
        None,
    );
    assert_eq!(r.status, 200);
    let hdr = r
        .header("X-Docker-Container-Path-Stat")
        .expect("stat header");
    use base64::Engine as _;
    let st: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(hdr)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(st["name"], "f");
    assert_eq!(st["size"], 6);
    assert_eq!(st["mode"], 0o640);
    assert!(st["mtime"].as_str().unwrap().contains('T'));
    let r = e.api(
        "HEAD",
        &format!("/containers/{id}/archive?path=/tmp/l"),
        None,
    );
    let st: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(r.header("X-Docker-Container-Path-Stat").unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(st["linkTarget"], "/tmp/f");
    assert_eq!(st["mode"].as_u64().unwrap() & (1 << 27), 1 << 27);
    // GET: a tar rooted at the base name; a dir with trailing "/." is rooted at ".".
    let r = e.api("GET", &format!("/containers/{id}/archive?path=/tmp"), None);
    assert_eq!(r.status, 200);
    let ents = tar_entries(&r.body);
    assert!(
        ents.contains_key("tmp/") && ents.contains_key("tmp/f"),
        "{ents:?}"
    );
    assert_eq!(ents["tmp/l"].0, b'2');
    let r = e.api(
        "GET",
        &format!("/containers/{id}/archive?path=/tmp/."),
        None,
    );
    assert!(tar_entries(&r.body).contains_key("./f"));
    // Missing path: docker's 404 message.
    let r = e.api("GET", &format!("/containers/{id}/archive?path=/nope"), None);
    assert_eq!(r.status, 404);
    assert_eq!(
        r.message(),
        format!("Could not find the file /nope in container {id}")
    );
    let r = e.api(
        "HEAD",
        &format!("/containers/{id}/archive?path=/nope"),
        None,
    );
    assert_eq!(r.status, 404);
    let r = e.api("GET", &format!("/containers/{id}/archive"), None);
    assert_eq!(r.status, 400);
    let o = e.docker(&["cp", "arch:/nope", e.dir.path().to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("Could not find the file /nope in container arch"),
        "{}",
        stderr(&o)
    );
}

/// docker cp both ways, for files and dirs, into running and stopped containers.
fn cp_round_trip(e: &TestEngine, name: &str, running: bool) {
    let host = tempfile::tempdir().unwrap();
    let src = host.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/a.txt"), "alpha").unwrap();
    let f = host.path().join("file.txt");
    std::fs::write(&f, "file-data").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o604)).unwrap();
    std::os::unix::fs::chown(&f, Some(1234), Some(5678)).unwrap();
    let id = if running {
        let id = create(e, name, "sleep 600", json!({}));
        start(e, &id);
        id
    } else {
        run_to_exit(e, name, "true")
    };
    let c = |p: &str| format!("{name}:{p}");
    // Host → container: a file into an existing dir, a file to a new name, a dir, dir contents.
    for (s, d) in [
        (f.to_str().unwrap().to_string(), c("/tmp")),
        (f.to_str().unwrap().to_string(), c("/tmp/renamed.txt")),
        (src.to_str().unwrap().to_string(), c("/tmp")),
        (format!("{}/.", src.display()), c("/tmp/contents")),
    ] {
        let o = e.docker(&["cp", &s, &d]);
        assert!(o.status.success(), "docker cp {s} {d}: {}", stderr(&o));
    }
    // Container → host, checked there (works for both states).
    let out = tempfile::tempdir().unwrap();
    for (s, d) in [
        (c("/tmp/file.txt"), out.path().join("f1")),
        (c("/tmp/renamed.txt"), out.path().to_path_buf()),
        (c("/tmp/src"), out.path().join("dir")),
        (c("/tmp/contents/."), out.path().join("contents")),
    ] {
        let o = e.docker(&["cp", &s, d.to_str().unwrap()]);
        assert!(o.status.success(), "docker cp {s}: {}", stderr(&o));
    }
    let o = out.path();
    assert_eq!(std::fs::read_to_string(o.join("f1")).unwrap(), "file-data");
    let m = std::fs::metadata(o.join("f1")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o604);
    assert_eq!(
        std::fs::read_to_string(o.join("renamed.txt")).unwrap(),
        "file-data"
    );
    assert_eq!(
        std::fs::read_to_string(o.join("dir/sub/a.txt")).unwrap(),
        "alpha"
    );
    assert_eq!(
        std::fs::read_to_string(o.join("contents/sub/a.txt")).unwrap(),
        "alpha"
    );
    // Ownership and mode inside the container.
    let r = e.api(
        "HEAD",
        &format!("/containers/{id}/archive?path=/tmp/file.txt"),
        None,
    );
    assert_eq!(r.status, 200);
    let got = e.api(
        "GET",
        &format!("/containers/{id}/archive?path=/tmp/file.txt"),
        None,
    );
    let ents = tar_entries(&got.body);
    assert_eq!(ents["file.txt"].2 & 0o777, 0o604);
    assert_eq!(ents["file.txt"].3, 1234);
    if running {
        assert_eq!(exec_out(e, name, "cat /tmp/src/sub/a.txt"), "alpha");
        assert_eq!(
            exec_out(e, name, "stat -c %u:%g /tmp/file.txt").trim(),
            "1234:5678"
        );
    }
}

#[test]
fn docker_cp_running_container() {
    let e = TestEngine::with_busybox();
    cp_round_trip(&e, "cprun", true);
}

#[test]
fn docker_cp_stopped_container() {
    let e = TestEngine::with_busybox();
    cp_round_trip(&e, "cpstop", false);
    // What was copied into the stopped container is in its rootfs when it runs again.
    let o = e.docker(&["start", "cpstop"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.docker(&["diff", "cpstop"]);
    assert!(stdout(&o).contains("A /tmp/file.txt"), "{}", stdout(&o));
}

#[test]
fn cve_2018_15664_cp_symlink_escapes_stay_inside() {
    let e = TestEngine::with_busybox();
    let host = tempfile::Builder::new()
        .prefix("berth-escape-")
        .tempdir_in("/tmp")
        .unwrap();
    let hostname = host
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    std::fs::write(host.path().join("secret"), "HOST SECRET").unwrap();
    let setup = format!("ln -s / /escape; ln -s ../../../../../../tmp/{hostname} /link; sleep 600");
    for running in [true, false] {
        let name = if running { "esc-run" } else { "esc-stop" };
        let id = create(&e, name, &setup, json!({}));
        start(&e, &id);
        common::eventually(std::time::Duration::from_secs(5), || {
            let r = e.api(
                "HEAD",
                &format!("/containers/{id}/archive?path=/link"),
                None,
            );
            (r.status == 200).then_some(())
        })
        .expect("links created");
        if !running {
            let _ = e.api("POST", &format!("/containers/{id}/kill"), None);
            let _ = e.api("POST", &format!("/containers/{id}/wait"), None);
        }
        let f = host.path().join("payload");
        std::fs::write(&f, "x").unwrap();
        // Writes through the links must not land on the host.
        let o = e.docker(&["cp", f.to_str().unwrap(), &format!("{name}:/link/x")]);
        assert!(!o.status.success(), "cp through /link succeeded");
        assert!(
            !host.path().join("x").exists(),
            "wrote through the link on the host"
        );
        let o = e.docker(&[
            "cp",
            f.to_str().unwrap(),
            &format!("{name}:/escape/tmp/{hostname}/y"),
        ]);
        assert!(!o.status.success());
        assert!(!host.path().join("y").exists());
        // A tar that plants a symlink and writes through it is refused.
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, "evil", host.path()).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        b.append_data(&mut h, "evil/z", &b"z"[..]).unwrap();
        let t = b.into_inner().unwrap();
        let r = common::http::request(
            &e.socket,
            "PUT",
            &format!("/containers/{id}/archive?path=/tmp"),
            Some(&t),
        )
        .unwrap();
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(!host.path().join("z").exists());
        // Reads through the links never see host files.
        let r = e.api(
            "GET",
            &format!("/containers/{id}/archive?path=/link/secret"),
            None,
        );
        assert_eq!(r.status, 404);
        let out = tempfile::tempdir().unwrap();
        let o = e.docker(&[
            "cp",
            &format!("{name}:/link/secret"),
            out.path().to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let o = e.docker(&[
            "cp",
            &format!("{name}:/escape/tmp/{hostname}/secret"),
            out.path().to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let o = e.docker(&[
            "cp",
            "-L",
            &format!("{name}:/link"),
            out.path().join("l").to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        for entry in walk(out.path()) {
            let data = std::fs::read(&entry).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&data).contains("HOST SECRET"),
                "{entry:?}"
            );
        }
    }
}

fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(p).unwrap().flatten() {
        let m = e.path().symlink_metadata().unwrap();
        if m.is_dir() {
            v.extend(walk(&e.path()));
        } else {
            v.push(e.path());
        }
    }
    v
}

#[test]
fn berth_cp_both_ways_and_stream() {
    let e = TestEngine::with_busybox();
    let id = create(&e, "bcp", "sleep 600", json!({}));
    start(&e, &id);
    let host = tempfile::tempdir().unwrap();
    let f = host.path().join("hello.txt");
    std::fs::write(&f, "hi there").unwrap();
    let o = e.berth(&["cp", f.to_str().unwrap(), "bcp:/tmp/"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(exec_out(&e, "bcp", "cat /tmp/hello.txt"), "hi there");
    let d = host.path().join("back");
    let o = e.berth(&["cp", "bcp:/tmp/hello.txt", d.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&d).unwrap(), "hi there");
    let o = e.berth(&["cp", "-a", "bcp:/etc", host.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(host.path().join("etc/passwd").is_file());
    // "-" writes a tar to stdout.
    let o = e.berth(&["cp", "bcp:/etc/passwd", "-"]);
    assert!(o.status.success());
    assert!(tar_entries(&o.stdout).contains_key("passwd"));
    // Errors: one line, exit 1.
    for args in [
        vec!["cp", "bcp:/nope", host.path().to_str().unwrap()],
        vec!["cp", "nosuch:/x", host.path().to_str().unwrap()],
        vec!["cp", "/no/such/host/file", "bcp:/tmp"],
        vec!["cp", "a", "b"],
    ] {
        let o = e.berth(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o).trim().lines().count(),
            1,
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

fn cgroup_file(id: &str, ctrl: &str, file: &str) -> String {
    for base in [
        format!("/sys/fs/cgroup/{ctrl}/berth/{id}"),
        format!("/sys/fs/cgroup/berth/{id}"),
    ] {
        if let Ok(s) = std::fs::read_to_string(Path::new(&base).join(file)) {
            return s.trim().to_string();
        }
    }
    panic!("no cgroup file {ctrl}/{file} for {id}");
}

#[test]
fn update_running_container() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        "upd",
        "sleep 600",
        json!({"HostConfig": {"Memory": 64 << 20}}),
    );
    start(&e, &id);
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|s| !s.trim().is_empty());
    let r = e.api(
        "POST",
        &format!("/containers/{id}/update"),
        Some(&json!({"Memory": 128 << 20, "CpuShares": 512, "PidsLimit": 50}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"Warnings": []}));
    if v2 {
        assert_eq!(
            cgroup_file(&id, "", "memory.max"),
            (128u64 << 20).to_string()
        );
        assert_eq!(cgroup_file(&id, "", "pids.max"), "50");
    } else {
        assert_eq!(
            cgroup_file(&id, "memory", "memory.limit_in_bytes"),
            (128u64 << 20).to_string()
        );
        assert_eq!(cgroup_file(&id, "cpu", "cpu.shares"), "512");
        assert_eq!(cgroup_file(&id, "pids", "pids.max"), "50");
    }
    let hc = &e.api_json("GET", &format!("/containers/{id}/json"), None)["HostConfig"];
    assert_eq!(hc["Memory"], 128 << 20);
    assert_eq!(hc["CpuShares"], 512);
    assert_eq!(hc["PidsLimit"], 50);
    // The stock CLI.
    let o = e.docker(&[
        "update",
        "--cpus",
        "0.5",
        "--restart",
        "on-failure:3",
        "upd",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "upd");
    if !v2 {
        assert_eq!(cgroup_file(&id, "cpu", "cpu.cfs_quota_us"), "50000");
    }
    let hc = &e.api_json("GET", &format!("/containers/{id}/json"), None)["HostConfig"];
    assert_eq!(hc["NanoCpus"], 500_000_000);
    assert_eq!(hc["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(hc["RestartPolicy"]["MaximumRetryCount"], 3);
    // berth.
    let o = e.berth(&["update", "--pids-limit", "77", "-m", "96m", "upd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let hc = &e.api_json("GET", &format!("/containers/{id}/json"), None)["HostConfig"];
    assert_eq!(hc["PidsLimit"], 77);
    assert_eq!(hc["Memory"], 96 << 20);
    // The next start uses the stored limits.
    let r = e.api("POST", &format!("/containers/{id}/restart?t=0"), None);
    assert_eq!(r.status, 204);
    if !v2 {
        assert_eq!(cgroup_file(&id, "pids", "pids.max"), "77");
        assert_eq!(
            cgroup_file(&id, "memory", "memory.limit_in_bytes"),
            (96u64 << 20).to_string()
        );
    }
}

#[test]
fn update_rejects_bad_values() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        "badupd",
        "sleep 600",
        json!({"HostConfig": {"Memory": 64 << 20}}),
    );
    start(&e, &id);
    for (body, msg) in [
        (
            json!({"Memory": 1 << 20}),
            "Minimum memory limit allowed is 6MB",
        ),
        (
            json!({"Memory": 64 << 20, "MemorySwap": 32 << 20}),
            "memoryswap",
        ),
        (json!({"CpuPeriod": 10}), "CPU cfs period"),
        (
            json!({"RestartPolicy": {"Name": "sometimes"}}),
            "invalid restart policy",
        ),
        (json!({"CpusetCpus": "0"}), "not supported"),
    ] {
        let r = e.api(
            "POST",
            &format!("/containers/{id}/update"),
            Some(&body.to_string()),
        );
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert!(r.message().contains(msg), "{body}: {}", r.message());
    }
    let r = e.api(
        "POST",
        &format!("/containers/{id}/update"),
        Some("{not json"),
    );
    assert_eq!(r.status, 400);
    let r = e.api("POST", "/containers/nosuch/update", Some("{}"));
    assert_eq!(r.status, 404);
    // Nothing changed.
    let hc = &e.api_json("GET", &format!("/containers/{id}/json"), None)["HostConfig"];
    assert_eq!(hc["Memory"], 64 << 20);
    let o = e.docker(&["update", "-m", "1m", "badupd"]);
    assert!(!o.status.success());
    let o = e.berth(&["update", "-m", "1m", "badupd"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Minimum memory limit"),
        "{}",
        stderr(&o)
    );
}
