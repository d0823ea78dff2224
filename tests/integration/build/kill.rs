//! kill -9 of the engine in the middle of a long RUN: after a restart no build container is left,
//! no half-committed image exists, the build's record says `cancelled`, and the next build reuses
//! the layers that were finished.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{build_ok, cache_hits, docker, ran, Ctx};
use crate::common::{self, eventually, TestEngine};

#[test]
fn engine_killed_mid_run_leaves_nothing_half_done() {
    let mut e = TestEngine::with_busybox();
    let ctx = Ctx::new(
        "FROM busybox\nRUN echo one > /one\nCOPY f /f\nRUN echo long-run-started; sleep 30\n",
    );
    ctx.file("f", "f\n");

    let mut cmd = e.docker_command(&["build", "-t", "killed", ctx.arg()]);
    cmd.env("DOCKER_BUILDKIT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("docker build");
    let stdout = child.stdout.take().unwrap();
    // Read the build's output until the long RUN is running.
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("long-run-started") {
                let _ = tx.send(());
            }
        }
        seen
    });
    let started = Instant::now();
    let running = rx.recv_timeout(Duration::from_secs(60)).is_ok();
    if !running {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "the long RUN never started; output:\n{}\nengine log:\n{}",
            reader.join().unwrap(),
            super::tail(&e.log(), 40)
        );
    }
    e.kill9();
    let status = child.wait().unwrap();
    let seen = reader.join().unwrap();
    assert!(!status.success(), "the build cannot succeed:\n{seen}");
    assert!(started.elapsed() < Duration::from_secs(30));

    e.spawn();
    // No build container survives the restart (the engine removes them as it starts).
    let leftovers = eventually(Duration::from_secs(15), || {
        let o = docker(&e, &["ps", "-aq"]);
        let out = common::ok(&o);
        out.trim().is_empty().then_some(())
    });
    assert!(
        leftovers.is_some(),
        "build containers left: {}",
        common::stdout(&docker(&e, &["ps", "-a"]))
    );
    // No image for the killed step: busybox and the two finished steps only, all complete.
    let o = docker(&e, &["images", "-aq", "--no-trunc"]);
    let ids: Vec<String> = common::ok(&o).lines().map(str::to_owned).collect();
    assert_eq!(ids.len(), 3, "images: {ids:?}");
    for id in &ids {
        let hist = super::history(&e, id);
        assert!(
            !hist.iter().any(|h| h.contains("sleep 30")),
            "a half image: {id} {hist:?}"
        );
        // Every layer is there: the image's files can be read.
        let o = docker(&e, &["run", "--rm", id, "true"]);
        common::ok(&o);
    }
    assert!(
        common::stdout(&docker(&e, &["images", "-q", "killed"])).is_empty(),
        "the tag was never applied"
    );
    let o = docker(&e, &["system", "df", "--format", "{{.Type}}"]);
    common::ok(&o);

    // The record says cancelled, with the long step not done.
    let list = e.api_json("GET", "/berth/v1/builds", None);
    assert_eq!(list[0]["status"], "cancelled", "{:#}", list[0]);
    let steps = list[0]["steps"].as_array().unwrap();
    assert_eq!(steps[1]["status"], "done", "{:#}", list[0]);
    assert_eq!(steps[2]["status"], "done", "{:#}", list[0]);
    assert_ne!(steps[3]["status"], "done", "{:#}", list[0]);

    // A rebuild reuses the finished steps.
    ctx.file(
        "Dockerfile",
        "FROM busybox\nRUN echo one > /one\nCOPY f /f\nRUN echo short\n",
    );
    let (out, _) = build_ok(&e, &ctx, "killed", &[]);
    assert_eq!(cache_hits(&out), 2, "{out}");
    assert_eq!(ran(&out), 1, "{out}");
}
