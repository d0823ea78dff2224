//! The volume aggregate through the API, `berth` and the docker CLI: create, list and filters,
//! prune, in-use rules, bad input, tmpfs volumes, `system df` and volume events.

use super::*;

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
