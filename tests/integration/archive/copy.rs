//! The archive API (HEAD/GET/PUT), `docker cp` both ways into running and stopped containers,
//! symlink escapes kept inside (CVE-2018-15664), and `berth cp`.

use super::*;

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
