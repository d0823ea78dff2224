//! The unmodified docker CLI against berth's socket.

use crate::common;

use std::time::Duration;

use common::{stderr, stdout, TestEngine};

#[test]
fn docker_cli_workflow() {
    let e = TestEngine::start();
    // import through the docker CLI itself
    let tar = e.dir.path().join("rootfs.tar");
    std::fs::write(&tar, common::image::busybox_rootfs_tar()).unwrap();
    let o = e.docker(&[
        "import",
        "-c",
        "CMD [\"sh\"]",
        tar.to_str().unwrap(),
        "busybox:latest",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("sha256:"), "{}", stdout(&o));

    let o = e.docker(&["version", "--format", "{{.Server.APIVersion}}"]);
    assert_eq!(stdout(&o).trim(), "1.44", "{}", stderr(&o));
    let o = e.docker(&["info", "--format", "{{.Images}} {{.Driver}}"]);
    assert_eq!(stdout(&o).trim(), "1 overlay2", "{}", stderr(&o));
    let o = e.docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(stdout(&o).trim(), "busybox:latest", "{}", stderr(&o));

    let o = e.docker(&["run", "--rm", "busybox", "echo", "hi"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hi\n");
    let o = e.docker(&["run", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let o = e.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2",
    ]);
    assert_eq!(stdout(&o), "out\n");
    assert_eq!(stderr(&o), "err\n");

    let o = e.docker(&[
        "run",
        "-d",
        "--name",
        "web",
        "busybox",
        "sh",
        "-c",
        "echo started; sleep 300",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let id = stdout(&o).trim().to_owned();
    assert_eq!(id.len(), 64);
    let o = e.docker(&["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert!(stdout(&o).starts_with("web Up"), "{}", stdout(&o));
    let o = e.docker(&["logs", "web"]);
    assert_eq!(stdout(&o), "started\n");
    let o = e.docker(&["rename", "web", "web2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.docker(&["stop", "-t", "1", "web2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.docker(&["inspect", "--format", "{{.State.ExitCode}}", "web2"]);
    assert_eq!(stdout(&o).trim(), "137");
    let o = e.docker(&["wait", "web2"]);
    assert_eq!(stdout(&o).trim(), "137");
    let o = e.docker(&["ps", "-a", "--format", "{{.Names}}"]);
    assert!(stdout(&o).contains("web2"));

    let o = e.docker(&["run", "-d", "busybox", "sleep", "300"]);
    let id2 = stdout(&o).trim().to_owned();
    let o = e.docker(&["kill", &id2]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = e.docker(&["inspect", "--format", "{{.State.ExitCode}}", &id2]);
    assert_eq!(stdout(&o).trim(), "137");

    let o = e.docker(&["run", "-d", "busybox", "sleep", "300"]);
    let id3 = stdout(&o).trim().to_owned();
    let o = e.docker(&["rm", &id3]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot remove a running container"),
        "{}",
        stderr(&o)
    );
    let o = e.docker(&["rm", "-f", &id3, "web2", &id2]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = e.docker(&["inspect", "nosuchthing"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("No such object"), "{}", stderr(&o));
}

#[test]
fn docker_logs_follow_streams_until_exit() {
    let e = TestEngine::with_busybox();
    let o = e.docker(&[
        "run",
        "-d",
        "busybox",
        "sh",
        "-c",
        "echo one; sleep 1; echo two",
    ]);
    let id = stdout(&o).trim().to_owned();
    let start = std::time::Instant::now();
    let o = e.docker(&["logs", "-f", &id]);
    assert_eq!(stdout(&o), "one\ntwo\n");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn docker_run_unknown_image_and_bad_memory() {
    let e = TestEngine::with_busybox();
    let o = e.docker(&["run", "--rm", "-m", "12x", "busybox", "true"]);
    assert_eq!(o.status.code(), Some(125));
    let o = e.docker(&["run", "--rm", "-m", "1k", "busybox", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("Minimum memory limit"),
        "{}",
        stderr(&o)
    );
    let o = e.docker(&["run", "--rm", "busybox", "nosuchcmd"]);
    assert_eq!(o.status.code(), Some(127), "{}", stderr(&o));
}
