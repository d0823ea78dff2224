//! `berth --headless` against a real engine.

use crate::common;

use std::io::Write;
use std::process::Stdio;

use common::{stderr, stdout, TestEngine};

#[test]
fn run_prints_output_and_returns_exit_codes() {
    let e = TestEngine::with_busybox();
    let o = e.berth(&["run", "--rm", "busybox", "echo", "hello"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hello\n");
    let o = e.berth(&["run", "busybox", "sh", "-c", "echo err >&2; exit 3"]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(stderr(&o), "err\n");
    let o = e.berth(&["run", "--rm", "busybox", "nosuchcmd"]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
    let o = e.berth(&[
        "run",
        "--rm",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "-u",
        "app",
        "--hostname",
        "h1",
        "busybox",
        "sh",
        "-c",
        "echo $A $(pwd) $(id -un) $(hostname)",
    ]);
    assert_eq!(stdout(&o), "1 /tmp app h1\n", "{}", stderr(&o));
    let env_file = e.dir.path().join("env");
    std::fs::write(&env_file, "# comment\nB=two\n").unwrap();
    let o = e.berth(&[
        "run",
        "--rm",
        "--env-file",
        env_file.to_str().unwrap(),
        "busybox",
        "sh",
        "-c",
        "echo $B",
    ]);
    assert_eq!(stdout(&o), "two\n", "{}", stderr(&o));
}

#[test]
fn stdin_is_piped_with_dash_i() {
    let e = TestEngine::with_busybox();
    let mut child = e
        .berth_command(&["run", "--rm", "-i", "busybox", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hi\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o), "hi\n", "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn detached_lifecycle_ps_logs_inspect() {
    let e = TestEngine::with_busybox();
    let o = e.berth(&[
        "run",
        "-d",
        "--name",
        "svc",
        "-l",
        "tier=web",
        "busybox",
        "sh",
        "-c",
        "echo up; sleep 300",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let id = stdout(&o).trim().to_owned();
    assert_eq!(id.len(), 64);
    let o = e.berth(&["ps"]);
    let table = stdout(&o);
    assert!(table.starts_with("CONTAINER ID"), "{table}");
    assert!(
        table.contains(&id[..12]) && table.contains("svc") && table.contains("Up "),
        "{table}"
    );
    let o = e.berth(&["ps", "-q"]);
    assert_eq!(stdout(&o).trim(), &id[..12]);
    let o = e.berth(&["ps", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(v["Names"], "svc");
    let o = e.berth(&["ps", "--filter", "label=tier=web", "--format", "{{.Names}}"]);
    assert_eq!(stdout(&o).trim(), "svc");
    let o = e.berth(&["logs", "svc"]);
    assert_eq!(stdout(&o), "up\n");
    let o = e.berth(&["inspect", "--format", "{{.State.Status}} {{.Name}}", "svc"]);
    assert_eq!(stdout(&o).trim(), "running /svc");
    let o = e.berth(&["stop", "-t", "1", "svc"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.berth(&["inspect", "--format", "{{.State.ExitCode}}", "svc"]);
    assert_eq!(stdout(&o).trim(), "137");
    let o = e.berth(&["rename", "svc", "svc2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.berth(&["rm", "svc2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.berth(&["ps", "-a", "-q"]);
    assert_eq!(stdout(&o).trim(), "");
}

#[test]
fn images_and_errors() {
    let e = TestEngine::start();
    let tar = e.dir.path().join("rootfs.tar");
    std::fs::write(&tar, common::image::busybox_rootfs_tar()).unwrap();
    let o = e.berth(&["import", tar.to_str().unwrap(), "tiny:1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).trim().starts_with("sha256:"));
    let o = e.berth(&["images"]);
    let table = stdout(&o);
    assert!(table.starts_with("REPOSITORY"), "{table}");
    assert!(table.contains("tiny") && table.contains("1"), "{table}");
    let o = e.berth(&["run", "--rm", "-m", "12x", "tiny:1", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    let o = e.berth(&["run", "--rm", "nosuchimage", "true"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    let o = e.berth(&["rm", "nosuchcontainer"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("No such container"), "{}", stderr(&o));
    let o = e.berth(&["rmi", "tiny:1"]);
    assert!(o.status.success(), "{}", stderr(&o));
}
