//! `docker diff` (added, modified, deleted) and `docker export` of running and stopped
//! containers.

use super::*;

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
