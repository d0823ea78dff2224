//! `--network container:<name|id>`: a container joining another's network namespace, checked
//! against what dockerd 20.10 answers for the same requests (messages and statuses below were
//! read from it): the conflicting options refused at create, the name stored as the target's id,
//! the target required to run at start, one network and one set of /etc files for both.

use crate::common;

use common::api::{create, inspect, named, run_detached, sh};
use common::{eventually, ok, stderr, TestEngine};
use serde_json::json;
use std::time::Duration;

#[test]
fn a_container_joins_a_running_containers_network_and_etc_files() {
    let e = TestEngine::with_busybox();
    // The target serves HTTP on its loopback only: reachable from a container that shares its
    // network namespace, from nowhere else.
    let target = run_detached(
        &e,
        named(
            "web",
            sh("mkdir -p /www && echo from-web > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www"),
        ),
    );
    let joined = ok(&e.docker(&[
        "run",
        "--rm",
        "--network",
        "container:web",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:8080/ && break; sleep 0.2; done; hostname; ip -4 -o addr show eth0",
    ]));
    let web = inspect(&e, "web");
    let ip = web["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(joined.contains("from-web"), "{joined}");
    assert!(
        joined.contains(&format!("{}\n", &target[..12])),
        "hostname is the target's: {joined}"
    );
    assert!(joined.contains(&format!("inet {ip}/")), "{joined}");
    // A container outside that namespace does not see the loopback server.
    let outside = e.docker(&[
        "run",
        "--rm",
        "busybox",
        "wget",
        "-qO-",
        "-T",
        "2",
        "http://127.0.0.1:8080/",
    ]);
    assert!(!outside.status.success());

    // Created by name, stored by id; Networks empty, the target's /etc files, its hostname once started.
    let side = create(
        &e,
        named(
            "side",
            json!({"Image": "busybox", "Cmd": ["sleep", "60"], "HostConfig": {"NetworkMode": "container:web"}}),
        ),
    );
    let doc = inspect(&e, &side);
    assert_eq!(
        doc["HostConfig"]["NetworkMode"],
        format!("container:{target}")
    );
    assert_eq!(doc["NetworkSettings"]["Networks"], json!({}));
    assert_eq!(doc["Config"]["Hostname"], side[..12]);
    let r = e.api("POST", "/containers/side/start", None);
    assert_eq!(r.status, 204, "{}", r.text());
    let doc = inspect(&e, &side);
    assert_eq!(doc["Config"]["Hostname"], target[..12]);
    assert_eq!(doc["HostsPath"], web["HostsPath"]);
    assert_eq!(doc["ResolvConfPath"], web["ResolvConfPath"]);
    let ps = e.api_json(
        "GET",
        "/containers/json?filters=%7B%22name%22%3A%5B%22side%22%5D%7D",
        None,
    );
    assert_eq!(ps[0]["NetworkSettings"]["Networks"], json!({}), "{ps}");
    assert_eq!(
        ps[0]["HostConfig"]["NetworkMode"],
        format!("container:{target}")
    );
    let hosts = ok(&e.docker(&["exec", "side", "cat", "/etc/hosts"]));
    assert!(
        hosts.contains(&format!("{ip}\t{}", &target[..12])),
        "{hosts}"
    );
    // It cannot be given networks of its own.
    let c = e.docker(&["network", "connect", "bridge", "side"]);
    assert!(
        stderr(&c).contains("container sharing network namespace with another container or host cannot be connected to any other network"),
        "{}",
        stderr(&c)
    );
    // A chain resolves to the first container's namespace.
    let chain = ok(&e.docker(&[
        "run",
        "--rm",
        "--network",
        "container:side",
        "busybox",
        "ip",
        "-4",
        "-o",
        "addr",
        "show",
        "eth0",
    ]));
    assert!(chain.contains(&format!("inet {ip}/")), "{chain}");

    // The target stopped: a start is refused as docker refuses it, and works once it runs again.
    ok(&e.docker(&["rm", "-f", "side"]));
    let later = create(
        &e,
        json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "container:web"}}),
    );
    ok(&e.docker(&["stop", "-t", "0", "web"]));
    let r = e.api("POST", &format!("/containers/{later}/start"), None);
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(
        r.message(),
        format!("cannot join network of a non running container: {target}")
    );
    ok(&e.docker(&["start", "web"]));
    let r = e.api("POST", &format!("/containers/{later}/start"), None);
    assert_eq!(r.status, 204, "{}", r.text());
    let exited = eventually(Duration::from_secs(10), || {
        let s = inspect(&e, &later)["State"].clone();
        (s["Status"] == "exited").then_some(s)
    })
    .expect("the joined container ran and exited");
    assert_eq!(exited["ExitCode"], 0, "{exited}");
}

#[test]
fn host_mode_targets_missing_targets_and_conflicting_options() {
    let e = TestEngine::with_busybox();
    run_detached(
        &e,
        named(
            "onhost",
            json!({"Image": "busybox", "Cmd": ["sleep", "60"], "HostConfig": {"NetworkMode": "host"}}),
        ),
    );
    let links = ok(&e.docker(&[
        "run",
        "--rm",
        "--network",
        "container:onhost",
        "busybox",
        "ip",
        "-o",
        "link",
    ]));
    assert!(
        links.contains(&e.net.bridge),
        "the host's interfaces: {links}"
    );

    // A missing target is accepted at create, as docker does, and is a 404 at start.
    let orphan = create(
        &e,
        json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "container:nope"}}),
    );
    assert_eq!(
        inspect(&e, &orphan)["HostConfig"]["NetworkMode"],
        "container:nope"
    );
    let r = e.api("POST", &format!("/containers/{orphan}/start"), None);
    assert_eq!(
        (r.status, r.message()),
        (404, "No such container: nope".to_string())
    );
    let own = create(
        &e,
        named(
            "own",
            json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": "container:own"}}),
        ),
    );
    let r = e.api("POST", &format!("/containers/{own}/start"), None);
    assert_eq!(
        (r.status, r.message()),
        (400, "cannot join own network".to_string())
    );

    // docker's validateNetContainerMode, word for word, and nothing created.
    let before = e
        .api_json("GET", "/containers/json?all=1", None)
        .as_array()
        .unwrap()
        .len();
    let cases: &[(&[&str], &str)] = &[
        (&["-h", "x"], "conflicting options: hostname and the network mode"),
        (&["-p", "80:80"], "conflicting options: port publishing and the container type network mode"),
        (&["-P", "--expose", "80"], "conflicting options: port publishing and the container type network mode"),
        (&["--expose", "80"], "conflicting options: port exposing and the container type network mode"),
        (&["--dns", "1.1.1.1"], "conflicting options: dns and the network mode"),
        (&["--add-host", "a:1.2.3.4"], "conflicting options: custom host-to-IP mapping and the network mode"),
        (&["--link", "onhost:x"], "conflicting options: container type network can't be used with links. This would result in undefined behavior"),
    ];
    for (flags, msg) in cases {
        let mut args = vec!["create", "--network", "container:onhost"];
        args.extend_from_slice(flags);
        args.extend(["busybox", "true"]);
        let out = e.docker(&args);
        assert!(!out.status.success(), "{flags:?}");
        assert!(stderr(&out).contains(msg), "{flags:?}: {}", stderr(&out));
    }
    let r = e.api(
        "POST",
        "/containers/create",
        Some(&json!({"Image": "busybox", "HostConfig": {"NetworkMode": "container:"}}).to_string()),
    );
    assert_eq!(
        (r.status, r.message()),
        (
            400,
            "Invalid network mode: invalid container format container:<name|id>".to_string()
        )
    );
    let after = e
        .api_json("GET", "/containers/json?all=1", None)
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
}

#[test]
fn after_a_reboot_the_joined_container_starts_after_its_target() {
    let mut e = TestEngine::with_busybox();
    let serve =
        "mkdir -p /www && echo up > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www";
    ok(&e.docker(&[
        "run",
        "-d",
        "--name",
        "web",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        serve,
    ]));
    // Several joined containers, so that a start order that ignored the target would show.
    let sides = ["side1", "side2", "side3"];
    for s in sides {
        ok(&e.docker(&[
            "run",
            "-d",
            "--name",
            s,
            "--restart",
            "always",
            "--network",
            "container:web",
            "busybox",
            "sleep",
            "600",
        ]));
    }
    let pids: Vec<String> = std::iter::once("web")
        .chain(sides)
        .map(|n| {
            ok(&e.docker(&["inspect", "-f", "{{.State.Pid}}", n]))
                .trim()
                .to_owned()
        })
        .collect();
    crate::networks::simulate_reboot(&mut e, &pids, &[]);
    e.spawn();
    for s in sides {
        let got = eventually(Duration::from_secs(15), || {
            let out = e.docker(&["exec", s, "wget", "-qO-", "http://127.0.0.1:8080/"]);
            out.status.success().then(|| crate::common::stdout(&out))
        });
        assert_eq!(
            got.as_deref().map(str::trim),
            Some("up"),
            "{s}\n{}",
            e.log()
        );
    }
}
