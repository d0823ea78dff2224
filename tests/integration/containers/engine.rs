//! Containers as the engine manages them: list filters and prune, auto-remove, rename, fifty
//! at once, engine kill -9 / SIGTERM and restart, terminal resize.

use super::*;

#[test]
fn list_filters_and_prune() {
    let e = TestEngine::with_busybox();
    let a = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["true"], "Labels": {"team": "a"}}),
    );
    let b = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["sh", "-c", "exit 2"]}),
    );
    start(&e, &b);
    wait(&e, &b);
    let ids = |q: &str| -> Vec<String> {
        e.api_json("GET", &format!("/containers/json?{q}"), None)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["Id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(ids("").is_empty());
    assert_eq!(ids("all=1").len(), 2);
    assert_eq!(ids("all=1&limit=1"), vec![b.clone()]);
    let f = |v: &str| format!("all=1&filters={}", urlencode(v));
    assert_eq!(ids(&f(r#"{"label":["team=a"]}"#)), vec![a.clone()]);
    assert_eq!(ids(&f(r#"{"status":["exited"]}"#)), vec![b.clone()]);
    assert_eq!(ids(&f(r#"{"exited":["2"]}"#)), vec![b.clone()]);
    assert_eq!(
        ids(&f(&format!(r#"{{"id":["{}"]}}"#, &a[..6]))),
        vec![a.clone()]
    );
    assert_eq!(ids(&f(r#"{"ancestor":["busybox"]}"#)).len(), 2);
    let summary = &e.api_json("GET", "/containers/json?all=1&limit=1", None)[0];
    assert!(
        summary["Status"]
            .as_str()
            .unwrap()
            .starts_with("Exited (2)"),
        "{summary}"
    );
    assert_eq!(summary["Command"], "sh -c exit 2");
    let v = e.api_json("POST", "/containers/prune", None);
    assert_eq!(v["ContainersDeleted"].as_array().unwrap().len(), 2);
    assert!(ids("all=1").is_empty());
}

#[test]
fn auto_remove_removes_the_container_after_its_exit() {
    let e = TestEngine::with_busybox();

    let id = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"AutoRemove": true}}),
    );
    // wait answers its headers at once and its body at the exit: ask from another thread.
    let socket = e.socket.clone();
    let path = format!("/containers/{id}/wait?condition=removed");
    let waiter =
        std::thread::spawn(move || common::http::request(&socket, "POST", &path, None).unwrap());
    std::thread::sleep(Duration::from_millis(100));
    start(&e, &id);
    let r = waiter.join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["StatusCode"], 0);
    assert!(eventually(Duration::from_secs(5), || {
        (e.api("GET", &format!("/containers/{id}/json"), None).status == 404).then_some(())
    })
    .is_some());
}

#[test]
fn rename_changes_the_name_and_frees_the_old_one() {
    let e = TestEngine::with_busybox();

    let id = create(&e, serde_json::json!({"Image": "busybox", "Cmd": ["true"]}));
    let old = inspect(&e, &id)["Name"].as_str().unwrap().to_owned();
    assert_eq!(
        e.api(
            "POST",
            &format!("/containers/{id}/rename?name=renamed"),
            None
        )
        .status,
        204
    );
    assert_eq!(inspect(&e, "renamed")["Id"], id.as_str());
    assert_eq!(
        e.api("GET", &format!("/containers{old}/json"), None).status,
        404
    );
}

#[test]
fn engine_kill9_and_restart_keeps_containers() {
    let mut e = TestEngine::with_busybox();
    let long = create(
        &e,
        sh("i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.2; done"),
    );
    start(&e, &long);
    let short = create(&e, sh("sleep 1; exit 7"));
    start(&e, &short);
    let pid = inspect(&e, &long)["State"]["Pid"].as_i64().unwrap();
    e.kill9();
    std::thread::sleep(Duration::from_millis(1500));
    // The container kept running while the engine was down.
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    e.spawn();
    let v = eventually(Duration::from_secs(5), || {
        let v = inspect(&e, &short);
        (v["State"]["Status"] == "exited").then_some(v)
    })
    .expect("short container settles as exited");
    assert_eq!(v["State"]["ExitCode"], 7);
    let v = inspect(&e, &long);
    assert_eq!(v["State"]["Status"], "running");
    assert_eq!(v["State"]["Pid"], pid);
    // Logging continued, and the reconnected engine can stop it.
    let before = logs(&e, &long, "stdout=1").0.lines().count();
    std::thread::sleep(Duration::from_millis(600));
    assert!(logs(&e, &long, "stdout=1").0.lines().count() > before);
    assert_eq!(
        e.api("POST", &format!("/containers/{long}/stop?t=1"), None)
            .status,
        204
    );
    assert_eq!(inspect(&e, &long)["State"]["Status"], "exited");
}

#[test]
fn auto_remove_happens_even_when_the_engine_was_down() {
    let mut e = TestEngine::with_busybox();
    let id = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["sleep", "1"], "HostConfig": {"AutoRemove": true}}),
    );
    start(&e, &id);
    e.kill9();
    std::thread::sleep(Duration::from_millis(1500));
    e.spawn();
    assert!(eventually(Duration::from_secs(5), || {
        (e.api("GET", &format!("/containers/{id}/json"), None).status == 404).then_some(())
    })
    .is_some());
}

#[test]
fn kill9_during_creates_leaves_no_half_listed_container() {
    let mut e = TestEngine::with_busybox();
    let socket = e.socket.clone();
    let creators: Vec<_> = (0..8)
        .map(|_| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let _ = common::http::request(
                        &socket,
                        "POST",
                        "/containers/create",
                        Some(br#"{"Image":"busybox","Cmd":["true"]}"#),
                    );
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    e.kill9();
    for c in creators {
        let _ = c.join();
    }
    e.spawn();
    let list = e.api_json("GET", "/containers/json?all=1", None);
    for c in list.as_array().unwrap() {
        let id = c["Id"].as_str().unwrap();
        let v = inspect(&e, id);
        assert_eq!(v["State"]["Status"], "created");
        assert!(e
            .data_path(&format!("containers/{id}/container.json"))
            .exists());
    }
    let leftovers = std::fs::read_dir(e.data_path("containers"))
        .unwrap()
        .flatten()
        .filter(|d| d.file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn fifty_containers_in_parallel() {
    let e = TestEngine::with_busybox();
    let socket = e.socket.clone();
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                // Long enough to be running when listed however loaded the machine is; killed
                // below.
                let body =
                    format!(r#"{{"Image":"busybox","Cmd":["sh","-c","echo n{i}; sleep 120"]}}"#);
                let r = common::http::request(
                    &socket,
                    "POST",
                    "/containers/create",
                    Some(body.as_bytes()),
                )
                .unwrap();
                assert_eq!(r.status, 201, "{}", r.text());
                let id = r.json()["Id"].as_str().unwrap().to_owned();
                let r = common::http::request(
                    &socket,
                    "POST",
                    &format!("/containers/{id}/start"),
                    None,
                )
                .unwrap();
                assert_eq!(r.status, 204, "{}", r.text());
                id
            })
        })
        .collect();
    let ids: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let running = e.api_json("GET", "/containers/json", None);
    assert_eq!(running.as_array().unwrap().len(), 50);
    for (i, id) in ids.iter().enumerate() {
        let r = e.api("POST", &format!("/containers/{id}/kill"), None);
        assert_eq!(r.status, 204, "{}", r.text());
        assert_eq!(wait(&e, id), 137);
        assert_eq!(logs(&e, id, "stdout=1").0, format!("n{i}\n"));
    }
}

#[test]
fn sigterm_of_the_engine_leaves_containers_running() {
    let mut e = TestEngine::with_busybox();
    let id = create(&e, sh("while true; do sleep 0.2; done"));
    start(&e, &id);
    let pid = inspect(&e, &id)["State"]["Pid"].as_i64().unwrap();
    e.terminate();
    assert!(!e.socket.exists(), "a clean shutdown removes the socket");
    std::thread::sleep(Duration::from_millis(500));
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    e.spawn();
    let v = inspect(&e, &id);
    assert_eq!(v["State"]["Status"], "running");
    assert_eq!(v["State"]["Pid"], pid);
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/kill"), None)
            .status,
        204
    );
    assert_eq!(wait(&e, &id), 137);
}

#[test]
fn resize_changes_the_container_terminal() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        serde_json::json!({
            "Image": "busybox", "Tty": true, "OpenStdin": true,
            "Cmd": ["sh", "-c", "sleep 1; stty size"]
        }),
    );
    // Not running yet: nothing to resize.
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/resize?h=40&w=120"), None)
            .status,
        409
    );
    start(&e, &id);
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/resize?h=40&w=120"), None)
            .status,
        204
    );
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/resize?h=0&w=x"), None)
            .status,
        400
    );
    assert_eq!(wait(&e, &id), 0);
    let r = e.api("GET", &format!("/containers/{id}/logs?stdout=1"), None);
    // A TTY container's logs are raw, not framed.
    assert!(r.text().contains("40 120"), "{}", r.text());
}
