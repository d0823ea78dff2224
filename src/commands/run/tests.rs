//! Tests of run/create/start: flag mapping, docker's errors, start error codes.

use super::body::*;
use super::*;
use crate::cli::{Cli, Cmd};
use clap::Parser;
use serde_json::{json, Value};

fn opts(args: &[&str]) -> (ContainerOpts, bool) {
    let mut v = vec!["berth", "run"];
    v.extend_from_slice(args);
    match Cli::try_parse_from(v).unwrap().command {
        Some(Cmd::Run(r)) => (r.opts, r.detach),
        _ => panic!("not run"),
    }
}

/// The create body as sent (serialized), for the flags after `berth run`.
fn body(args: &[&str]) -> Result<Value> {
    let (o, d) = opts(args);
    let spec = create_body(&o, "run", d, &|k| {
        (k == "HOME").then(|| "/root".to_string())
    })?;
    Ok(serde_json::to_value(spec)?)
}

#[test]
fn detached_run_maps_to_docker_body() {
    let b = body(&[
        "-d",
        "--rm",
        "-e",
        "A=1",
        "-e",
        "HOME",
        "-e",
        "UNSET",
        "--name",
        "web",
        "-w",
        "/app",
        "-u",
        "1000:1000",
        "-m",
        "512m",
        "--memory-swap",
        "1g",
        "--cpus",
        "1.5",
        "--cpu-shares",
        "512",
        "--pids-limit",
        "100",
        "--read-only",
        "--network",
        "none",
        "-h",
        "box",
        "--stop-signal",
        "SIGINT",
        "--stop-timeout",
        "5",
        "-l",
        "a=b",
        "-l",
        "c",
        "--init",
        "img",
        "cmd",
        "-x",
    ])
    .unwrap();
    assert_eq!(b["Image"], "img");
    assert_eq!(b["Cmd"], json!(["cmd", "-x"]));
    assert_eq!(b["Env"], json!(["A=1", "HOME=/root"]));
    assert_eq!(b["WorkingDir"], "/app");
    assert_eq!(b["User"], "1000:1000");
    assert_eq!(b["Hostname"], "box");
    assert_eq!(b["StopSignal"], "SIGINT");
    assert_eq!(b["StopTimeout"], 5);
    assert_eq!(b["Labels"], json!({"a": "b", "c": ""}));
    assert_eq!(b["AttachStdout"], false);
    assert_eq!(b["Tty"], false);
    assert!(b["Entrypoint"].is_null());
    let h = &b["HostConfig"];
    assert_eq!(h["Memory"], 512 * 1024 * 1024);
    assert_eq!(h["MemorySwap"], 1024 * 1024 * 1024);
    assert_eq!(h["NanoCpus"], 1_500_000_000i64);
    assert_eq!(h["CpuShares"], 512);
    assert_eq!(h["PidsLimit"], 100);
    assert_eq!(h["ReadonlyRootfs"], true);
    assert_eq!(h["NetworkMode"], "none");
    assert_eq!(h["Init"], true);
    assert_eq!(h["AutoRemove"], true);
}

#[test]
fn attached_interactive_run() {
    let b = body(&["-it", "--entrypoint", "", "img"]).unwrap();
    assert_eq!(b["AttachStdin"], true);
    assert_eq!(b["AttachStdout"], true);
    assert_eq!(b["AttachStderr"], true);
    assert_eq!(b["OpenStdin"], true);
    assert_eq!(b["StdinOnce"], true);
    assert_eq!(b["Tty"], true);
    assert_eq!(b["Entrypoint"], json!([""]));
    assert!(b["Cmd"].is_null());
    assert_eq!(b["HostConfig"]["NetworkMode"], "default");
    let b = body(&["-a", "stderr", "img"]).unwrap();
    assert_eq!(b["AttachStdout"], false);
    assert_eq!(b["AttachStderr"], true);
}

#[test]
fn restart_policies() {
    let b = body(&["--restart", "on-failure:3", "img"]).unwrap();
    assert_eq!(
        b["HostConfig"]["RestartPolicy"],
        json!({"Name": "on-failure", "MaximumRetryCount": 3})
    );
    assert!(body(&["--rm", "--restart", "always", "img"]).is_err());
    assert!(body(&["--rm", "--restart", "no", "img"]).is_ok());
}

fn exit_error(r: Result<Value>) -> (i32, String) {
    let e = r.unwrap_err();
    let x = e.downcast_ref::<ExitError>().expect("ExitError");
    (x.code, x.message.clone().unwrap_or_default())
}

#[test]
fn health_flags() {
    let b = body(&[
        "--health-cmd",
        "true",
        "--health-interval",
        "200ms",
        "--health-timeout",
        "1m30s",
        "--health-retries",
        "2",
        "img",
    ])
    .unwrap();
    let h = &b["Healthcheck"];
    assert_eq!(h["Test"], json!(["CMD-SHELL", "true"]));
    assert_eq!(h["Interval"], 200_000_000);
    assert_eq!(h["Timeout"], 90_000_000_000i64);
    assert_eq!(h["Retries"], 2);
    assert!(body(&["img"]).unwrap().get("Healthcheck").is_none());
    let b = body(&["--no-healthcheck", "img"]).unwrap();
    assert_eq!(b["Healthcheck"]["Test"], json!(["NONE"]));
    // Timings alone keep the image's test (empty Test).
    let b = body(&["--health-interval", "5s", "img"]).unwrap();
    assert_eq!(b["Healthcheck"]["Test"], json!([]));
    for bad in [
        &["--no-healthcheck", "--health-cmd", "true", "img"][..],
        &["--health-interval", "soon", "img"],
        &["--health-interval", "-1s", "img"],
        &["--health-retries", "-1", "img"],
        &["--health-retries", "x", "img"],
    ] {
        assert_eq!(exit_error(body(bad)).0, 125, "{bad:?}");
    }
    assert_eq!(exit_error(body(&["--restart", ":3", "img"])).0, 125);
}

#[test]
fn bad_values_are_docker_errors() {
    assert_eq!(
        exit_error(body(&["-m", "12x", "img"])),
        (
            125,
            "berth run: invalid argument \"12x\" for \"-m, --memory\" flag: invalid size: '12x'"
                .to_string()
        )
    );
    assert_eq!(exit_error(body(&["--cpus", "lots", "img"])).0, 125);
    assert_eq!(exit_error(body(&["--pids-limit", "x", "img"])).0, 125);
    assert_eq!(exit_error(body(&["-d", "-a", "stdout", "img"])).0, 125);
    assert_eq!(
        exit_error(body(&["--cpus", "1", "--cpu-quota", "1000", "img"])).0,
        125
    );
}

#[test]
fn env_file_entries_come_first() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("env");
    std::fs::write(&f, "# comment\n\nX=1\nHOME\n").unwrap();
    let b = body(&["--env-file", f.to_str().unwrap(), "-e", "Y=2", "img"]).unwrap();
    assert_eq!(b["Env"], json!(["X=1", "HOME=/root", "Y=2"]));
    assert_eq!(
        exit_error(body(&["--env-file", "/nonexistent/env", "img"])).0,
        125
    );
}

#[test]
fn start_error_codes() {
    assert_eq!(
        start_error_code("exec: \"nope\": executable file not found in $PATH"),
        127
    );
    assert_eq!(start_error_code("exec /bin/x: permission denied"), 126);
    assert_eq!(start_error_code("cgroup setup failed"), 125);
    assert_eq!(display_ref("alpine"), "alpine:latest");
    assert_eq!(display_ref("localhost:5000/a"), "localhost:5000/a:latest");
    assert_eq!(display_ref("a:1"), "a:1");
}
