//! Live stats through the raw API, `berth --headless stats` and the stock docker CLI, with real
//! containers.

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::api::{run_detached, sh};
use common::{eventually, stdout, TestEngine};
use serde_json::{json, Value};

fn one_shot(e: &TestEngine, id: &str) -> Value {
    e.api_json(
        "GET",
        &format!("/containers/{id}/stats?stream=false&one-shot=true"),
        None,
    )
}

/// The docker CLI's CPU % of one stats object.
fn cpu_percent(v: &Value) -> f64 {
    let f = |p: &str| v.pointer(p).and_then(Value::as_f64).unwrap_or(0.0);
    let d_cpu = f("/cpu_stats/cpu_usage/total_usage") - f("/precpu_stats/cpu_usage/total_usage");
    let d_sys = f("/cpu_stats/system_cpu_usage") - f("/precpu_stats/system_cpu_usage");
    if d_sys > 0.0 && d_cpu > 0.0 {
        d_cpu / d_sys * f("/cpu_stats/online_cpus") * 100.0
    } else {
        0.0
    }
}

#[test]
fn busy_container_shows_cpu_and_docker_shape() {
    let e = TestEngine::with_busybox();
    let id = run_detached(
        &e,
        json!({ "Image": "busybox", "Cmd": ["sh", "-c", "while :; do :; done"], "name": "burn" }),
    );
    // The first answer primes the engine's previous sample; the second one's precpu is it.
    let _ = one_shot(&e, &id);
    std::thread::sleep(Duration::from_millis(700));
    let v = one_shot(&e, &id);
    let pct = cpu_percent(&v);
    assert!(pct > 20.0, "CPU % {pct} of a busy loop: {v:#}");
    assert_eq!(v["name"], "/burn");
    assert_eq!(v["id"], id.as_str());
    assert_ne!(v["read"], "0001-01-01T00:00:00Z");
    assert_ne!(v["preread"], "0001-01-01T00:00:00Z");
    assert!(v["cpu_stats"]["online_cpus"].as_u64().unwrap() >= 1);
    assert!(v["cpu_stats"]["system_cpu_usage"].as_u64().unwrap() > 0);
    assert!(v["cpu_stats"]["throttling_data"]["periods"].is_u64());
    assert!(v["memory_stats"]["usage"].as_u64().unwrap() > 0);
    assert!(v["memory_stats"]["stats"].is_object());
    assert!(v["blkio_stats"]
        .as_object()
        .unwrap()
        .contains_key("io_service_bytes_recursive"));
    assert!(v["pids_stats"]["current"].as_u64().unwrap() >= 1);
    // No limit given: the limit is the host's memory.
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kb: u64 = meminfo
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        v["memory_stats"]["limit"].as_u64().unwrap(),
        total_kb * 1024
    );

    // Streaming: one JSON object per line, about a second apart, each with its precpu.
    let mut s = UnixStream::connect(&e.socket).unwrap();
    write!(
        s,
        "GET /v1.44/containers/burn/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut rd = BufReader::new(s);
    let mut objects = Vec::new();
    let started = Instant::now();
    let mut line = String::new();
    while objects.len() < 3 {
        line.clear();
        assert!(rd.read_line(&mut line).unwrap() > 0, "stream ended early");
        // Chunk-size lines of the chunked encoding are skipped; some parse as JSON numbers.
        if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(line.trim()) {
            objects.push(v);
        }
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Samples are taken about a second apart (judged by their own `read` times, which do not
    // depend on how fast a loaded machine delivers them).
    let reads: Vec<chrono::DateTime<chrono::FixedOffset>> = objects
        .iter()
        .map(|o| chrono::DateTime::parse_from_rfc3339(o["read"].as_str().unwrap()).unwrap())
        .collect();
    for pair in reads.windows(2) {
        let gap = (pair[1] - pair[0]).num_milliseconds();
        assert!((700..3000).contains(&gap), "samples {gap} ms apart");
    }
    for v in &objects[1..] {
        assert!(cpu_percent(v) > 20.0, "{v:#}");
    }

    // The stream ends when the container stops.
    let r = e.api("POST", &format!("/containers/{id}/kill"), None);
    assert_eq!(r.status, 204);
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        line.clear();
        match rd.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) if line.trim() == "0" => break, // last chunk of the chunked body
            Ok(_) => {}
            Err(e) => panic!("stream did not end: {e}"),
        }
        assert!(Instant::now() < deadline, "stream did not end");
    }
}

#[test]
fn memory_limit_pids_and_quick_one_shot() {
    let e = TestEngine::with_busybox();
    let limit: u64 = 64 << 20;
    let id = run_detached(
        &e,
        json!({
            "Image": "busybox",
            "Cmd": ["sh", "-c", "for i in 1 2 3 4 5; do sleep 300 & done; wait"],
            "HostConfig": { "Memory": limit, "PidsLimit": 50 },
        }),
    );
    // sh + 5 sleeps.
    let v = eventually(Duration::from_secs(5), || {
        let v = one_shot(&e, &id);
        (v["pids_stats"]["current"] == 6).then_some(v)
    })
    .unwrap_or_else(|| panic!("pids never reached 6: {:#}", one_shot(&e, &id)));
    assert_eq!(v["pids_stats"]["limit"], 50);
    assert_eq!(v["memory_stats"]["limit"].as_u64().unwrap(), limit);
    assert!(v["memory_stats"]["usage"].as_u64().unwrap() > 0);

    // With a previous sample cached, a one-shot answers at once (docker waits a second).
    for query in ["stream=false&one-shot=true", "stream=false"] {
        let t = Instant::now();
        let r = e.api("GET", &format!("/containers/{id}/stats?{query}"), None);
        let took = t.elapsed();
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(took < Duration::from_millis(500), "{query}: {took:?}");
        assert_ne!(r.json()["preread"], "0001-01-01T00:00:00Z");
    }
    let r = e.api(
        "GET",
        &format!("/containers/{id}/stats?stream=true&one-shot=true"),
        None,
    );
    assert_eq!(r.status, 400);
}

#[test]
fn memory_grows_with_an_allocating_container() {
    let e = TestEngine::with_busybox();
    let idle = run_detached(&e, sh("sleep 300"));
    // 20 MB written to the container's /dev/shm (tmpfs) are charged to its memory cgroup.
    let hog = run_detached(
        &e,
        json!({
            "Image": "busybox",
            "Cmd": ["sh", "-c", "head -c 20000000 /dev/zero > /dev/shm/fill; sleep 300"],
            "HostConfig": { "Memory": 128u64 << 20 },
        }),
    );
    let usage = |id: &str| one_shot(&e, id)["memory_stats"]["usage"].as_u64().unwrap();
    let grown = eventually(Duration::from_secs(10), || {
        (usage(&hog) > usage(&idle) + (15 << 20)).then_some(())
    });
    assert!(
        grown.is_some(),
        "hog {} vs idle {}; engine log:\n{}",
        usage(&hog),
        usage(&idle),
        e.log()
    );
}

#[test]
fn stopped_and_unknown_containers() {
    let e = TestEngine::with_busybox();
    let r = e.api("POST", "/containers/create", Some(&sh("true").to_string()));
    let id = r.json()["Id"].as_str().unwrap().to_owned();
    for query in ["stream=false", "stream=true", "stream=false&one-shot=true"] {
        let r = e.api("GET", &format!("/containers/{id}/stats?{query}"), None);
        assert_eq!(r.status, 200);
        // One object, then the stream ends.
        let text = r.text();
        assert_eq!(text.trim().lines().count(), 1, "{query}: {text}");
        let v: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["read"], "0001-01-01T00:00:00Z");
        assert_eq!(v["cpu_stats"]["cpu_usage"]["total_usage"], 0);
        assert_eq!(v["memory_stats"], json!({}));
        assert_eq!(v["id"], id.as_str());
    }
    let r = e.api("GET", "/containers/nosuch/stats?stream=false", None);
    assert_eq!(r.status, 404);
    assert!(r.message().contains("nosuch"), "{}", r.message());

    let o = e.berth(&["stats", "--no-stream", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(common::stderr(&o).contains("No such container"), "{o:?}");
}

/// Three containers: "one" (32 MiB limit) and "two" running `sleep 300`, "three" created only.
/// The id of "one".
fn one_two_running_and_three_created(e: &TestEngine) -> String {
    let a = run_detached(
        e,
        json!({ "Image": "busybox", "Cmd": ["sleep", "300"], "name": "one",
                "HostConfig": { "Memory": 32u64 << 20 } }),
    );
    run_detached(
        e,
        json!({ "Image": "busybox", "Cmd": ["sleep", "300"], "name": "two" }),
    );
    let r = e.api(
        "POST",
        "/containers/create?name=three",
        Some(&sh("true").to_string()),
    );
    assert_eq!(r.status, 201);
    a
}

#[test]
fn berth_stats_json_has_one_object_per_running_container_with_dockers_fields() {
    let e = TestEngine::with_busybox();
    let a = one_two_running_and_three_created(&e);

    // JSON: one object per running container, docker's field names.
    let o = e.berth(&["stats", "--no-stream", "--format", "json"]);
    assert!(o.status.success(), "{o:?}");
    let objs: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 2, "{}", stdout(&o));
    let mut names: Vec<&str> = objs.iter().map(|o| o["Name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["one", "two"]);
    let one = objs.iter().find(|o| o["Name"] == "one").unwrap();
    for k in [
        "BlockIO",
        "CPUPerc",
        "Container",
        "ID",
        "MemPerc",
        "NetIO",
        "PIDs",
    ] {
        assert!(one.get(k).is_some(), "{k} missing: {one}");
    }
    assert_eq!(one["ID"], &a[..12]);
    assert!(
        one["MemUsage"].as_str().unwrap().ends_with(" / 32MiB"),
        "{one}"
    );
    assert_eq!(one["PIDs"], "1");
}

#[test]
fn berth_stats_all_adds_created_containers_with_zeros() {
    let e = TestEngine::with_busybox();
    one_two_running_and_three_created(&e);

    // -a adds the created container, with zeros.
    let o = e.berth(&[
        "stats",
        "--no-stream",
        "-a",
        "--format",
        "{{.Name}} {{.PIDs}} {{.MemUsage}}",
    ]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.lines().any(|l| l == "three 0 0B / 0B"), "{out}");
}

#[test]
fn berth_stats_default_table() {
    let e = TestEngine::with_busybox();
    let a = one_two_running_and_three_created(&e);

    // The default table.
    let o = e.berth(&["stats", "--no-stream", "one"]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    for col in [
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let row = lines.next().unwrap();
    assert!(row.starts_with(&a[..12]) && row.contains(" one "), "{row}");
    assert!(lines.next().is_none());
}

#[test]
fn berth_stats_streams_successive_tables_without_a_terminal() {
    let e = TestEngine::with_busybox();
    one_two_running_and_three_created(&e);

    // Streaming without a terminal prints successive tables.
    let mut child = e
        .berth_command(&["stats", "--format", "{{.Name}} {{.PIDs}}", "one"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut rd = BufReader::new(child.stdout.take().unwrap());
    let mut seen = 0;
    let mut line = String::new();
    while seen < 2 {
        line.clear();
        assert!(rd.read_line(&mut line).unwrap() > 0);
        assert_eq!(line, "one 1\n");
        seen += 1;
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn docker_cli_stats_computes_its_rows_from_our_json() {
    let e = TestEngine::with_busybox();
    one_two_running_and_three_created(&e);

    // The stock docker CLI computes its own row from our JSON.
    let o = e.docker(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.CPUPerc}} {{.MemUsage}}",
    ]);
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let line_one = lines.iter().find(|l| l.starts_with("one ")).unwrap();
    assert!(line_one.ends_with(" / 32MiB"), "{line_one}");
    assert!(line_one.contains('%'), "{line_one}");
    let o = e.docker(&["stats", "--no-stream", "two"]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("two"), "{}", stdout(&o));
}
