//! The real dashboard binary under tmux against a real engine: it follows what the CLI does,
//! acts on keys, shows and filters logs, hands the terminal to an exec and takes it back,
//! survives the engine going away, and imports images from files into an empty images view.

use crate::common;

use std::time::{Duration, Instant};

use common::tmux::Dashboard;
use common::{stdout, TestEngine};

const SECOND: Duration = Duration::from_secs(1);

fn state_of(engine: &TestEngine, name: &str) -> String {
    let v = engine.api_json("GET", &format!("/containers/{name}/json"), None);
    v["State"]["Status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn rm_all(engine: &TestEngine) {
    let ids = stdout(&engine.berth(&["ps", "-aq"]));
    let ids: Vec<&str> = ids.split_whitespace().collect();
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids);
        engine.berth(&args);
    }
}

#[test]
fn follows_the_cli_acts_on_keys_shows_logs_and_execs() {
    let engine = TestEngine::start();
    engine.import_busybox("busybox:latest");
    let d = Dashboard::start(&engine, 120, 30);
    d.wait_for("Containers 0/0", 10 * SECOND);
    // First run: the defaults were written where BERTH_CONFIG points.
    let config = std::fs::read_to_string(d.config_path()).expect("default config written");
    assert!(config.contains("[keys.containers]"), "{config}");

    // A container started from the CLI shows up within a second of the command returning.
    let out = engine.berth(&[
        "run",
        "-d",
        "--name",
        "e2e-web",
        "busybox:latest",
        "sh",
        "-c",
        "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.1; done",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let t0 = Instant::now();
    d.wait("e2e-web running", SECOND, |s| {
        s.lines()
            .any(|l| l.contains("e2e-web") && l.contains("running"))
    });
    eprintln!("container appeared after {:?}", t0.elapsed());

    // Stop it with keys: select it by filtering, `s`, and the row turns "exited".
    d.keys(&["/"]);
    d.type_text("e2e-web");
    d.keys(&["Enter", "s"]);
    d.wait("e2e-web exited", 20 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("e2e-web") && l.contains("exited"))
    });
    assert_eq!(state_of(&engine, "e2e-web"), "exited");
    // And start it again.
    d.keys(&["s"]);
    d.wait("e2e-web running again", 10 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("e2e-web") && l.contains("running"))
    });
    assert_eq!(state_of(&engine, "e2e-web"), "running");

    // Its logs, searched, then only the lines matching the search.
    d.keys(&["L"]);
    d.wait_for("Logs: e2e-web", 5 * SECOND);
    d.wait_for("line-1", 5 * SECOND);
    d.keys(&["/"]);
    d.type_text("line-3");
    d.keys(&["Enter"]);
    d.wait_for("matches", 5 * SECOND);
    d.keys(&["F"]);
    let s = d.wait_for("line-3", 5 * SECOND);
    let log_lines: Vec<&str> = s.lines().filter(|l| l.contains("line-")).collect();
    assert!(
        !log_lines.is_empty() && log_lines.iter().all(|l| l.contains("line-3")),
        "{s}"
    );
    // Esc clears the search, a second Esc leaves the logs.
    d.keys(&["Escape", "Escape"]);
    d.wait_for("Containers 1/1", 5 * SECOND);

    // A shell in the container: the dashboard suspends, the shell runs on a real PTY, and
    // exiting it brings the dashboard back.
    d.keys(&["e"]);
    d.wait_for("berth: shell in e2e-web", 10 * SECOND);
    d.wait("the shell prompt", 10 * SECOND, |s| s.contains("/ #"));
    d.type_text("echo from-exec-$((40+2)); tty\n");
    let s = d.wait_for("from-exec-42", 10 * SECOND);
    assert!(s.contains("/dev/pts/"), "the exec has a real PTY: {s}");
    d.type_text("exit\n");
    let s = d.wait_for("Containers 1/1", 10 * SECOND);
    assert!(!s.contains("from-exec-42"), "the dashboard repainted: {s}");
    assert!(s.contains("shell in e2e-web: done"), "{s}");

    // Quit: q ends the process and leaves the terminal.
    d.keys(&["q"]);
    let deadline = Instant::now() + 5 * SECOND;
    while !d.dead() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(d.dead(), "q did not quit: {}", d.screen());
    rm_all(&engine);
}

#[test]
fn engine_lost_shows_a_banner_and_reconnects() {
    let mut engine = TestEngine::start();
    engine.import_busybox("busybox:latest");
    let out = engine.berth(&[
        "run",
        "-d",
        "--name",
        "survivor",
        "busybox:latest",
        "sleep",
        "600",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let d = Dashboard::start(&engine, 100, 24);
    d.wait("survivor running", 10 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("survivor") && l.contains("running"))
    });

    engine.kill9();
    d.wait_for("Engine connection lost", 5 * SECOND);
    // Keys still work: switch views and back; the last known list stays on screen.
    d.keys(&["2"]);
    d.wait_for("REPOSITORY", 2 * SECOND);
    d.keys(&["1"]);
    let s = d.wait_for("survivor", 2 * SECOND);
    assert!(s.contains("Engine connection lost"), "{s}");
    assert!(!d.dead());

    // The engine comes back (the container survived under its shim): the banner goes and the
    // dashboard is live again.
    engine.spawn();
    d.wait("the banner to go", 10 * SECOND, |s| {
        !s.contains("Engine connection lost") && s.contains("survivor")
    });
    let out = engine.berth(&["stop", "-t", "1", "survivor"]);
    assert!(out.status.success());
    d.wait("survivor exited after reconnect", 10 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("survivor") && l.contains("exited"))
    });
    rm_all(&engine);
}

#[test]
fn a_bad_config_is_refused_before_the_screen_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "theme = \"dark\"\n\n[keys.containers]\nrestart = \"ctrl-\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(common::BERTH)
        .env("BERTH_CONFIG", &path)
        .args(["--host", "unix:///nonexistent/berth.sock", "--no-autostart"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(
        err.contains(&format!(
            "{} line 4: keys.containers.restart",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one readable line: {err}");
}

#[test]
fn runs_a_container_from_the_images_form() {
    let engine = TestEngine::start();
    engine.import_busybox("busybox:latest");
    let d = Dashboard::start(&engine, 120, 30);
    d.wait_for("Containers 0/0", 10 * SECOND);
    d.keys(&["2"]);
    d.wait_for("busybox", 5 * SECOND);
    // The form opens with the selected image filled in and the name field focused.
    d.keys(&["r"]);
    d.wait_for("detach", 5 * SECOND);
    d.type_text("from-form");
    // name → ports → env: one variable, then on to the command.
    d.keys(&["Tab", "Tab"]);
    d.type_text("GREETING=hi");
    d.keys(&["Tab", "Tab", "Tab"]);
    d.type_text("sh -c 'echo $GREETING from the form; sleep 300'");
    d.keys(&["C-s"]);
    // Detached (the default): back in the containers view with the new container.
    d.wait("from-form running", 10 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("from-form") && l.contains("running"))
    });
    let v = engine.api_json("GET", "/containers/from-form/json", None);
    assert_eq!(v["State"]["Status"], "running");
    assert_eq!(v["Path"], "sh");
    assert!(
        v["Config"]["Env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "GREETING=hi"),
        "{v}"
    );
    let logs = engine.berth(&["logs", "from-form"]);
    assert!(
        stdout(&logs).contains("hi from the form"),
        "{}",
        stdout(&logs)
    );
    rm_all(&engine);
}

/// A first run with no registry: the empty images view offers importing from a file; a rootfs
/// tarball's path typed with Tab completion is imported under the name made from the file's, with
/// a command, and listed; a `save` archive of it is then loaded back the same way.
#[test]
fn imports_a_rootfs_tarball_typed_with_tab_completion_into_the_empty_images_view() {
    let engine = TestEngine::start();
    let files = tempfile::tempdir().unwrap();
    let dir = files.path().display().to_string();
    std::fs::write(
        files.path().join("busybox-rootfs.tar"),
        common::image::busybox_rootfs_tar(),
    )
    .unwrap();
    std::fs::write(files.path().join("busybox-notes.txt"), "not a tar\n").unwrap();

    let d = Dashboard::start(&engine, 120, 30);
    d.wait_for("Containers 0/0", 10 * SECOND);
    d.keys(&["2"]);
    d.wait_for("No images yet.", 5 * SECOND);
    let s = d.screen();
    assert!(
        s.contains("I  import a rootfs tarball or an image archive (docker save) from a file"),
        "{s}"
    );

    // Tab completes the common prefix and lists both files; one more letter and Tab finish it.
    d.keys(&["I"]);
    d.wait_for("Import an image from a file", 5 * SECOND);
    d.type_text(&format!("{dir}/bu"));
    d.keys(&["Tab"]);
    d.wait("the two matches listed", 5 * SECOND, |s| {
        s.contains("busybox-notes.txt") && s.contains("busybox-rootfs.tar")
    });
    assert!(d.screen().contains(&format!("{dir}/busybox-")));
    d.type_text("r");
    d.keys(&["Tab"]);
    d.wait_for(&format!("{dir}/busybox-rootfs.tar"), 5 * SECOND);
    d.keys(&["Enter"]);
    // A root file system: named after the file, with a command.
    d.wait_for("busybox-rootfs:latest", 5 * SECOND);
    d.keys(&["Tab"]);
    d.type_text("sh");
    d.keys(&["Enter"]);
    d.wait_for(
        "import busybox-rootfs.tar as busybox-rootfs:latest",
        5 * SECOND,
    );
    d.wait_for("Uploaded", 20 * SECOND);
    d.keys(&["Escape"]);
    d.wait("busybox-rootfs listed", 10 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("busybox-rootfs") && l.contains("latest"))
    });
    let v = engine.api_json("GET", "/images/busybox-rootfs:latest/json", None);
    assert_eq!(v["Config"]["Cmd"], serde_json::json!(["sh"]));
    let out = engine.berth(&[
        "run",
        "--rm",
        "busybox-rootfs",
        "echo",
        "imported-and-running",
    ]);
    assert!(
        stdout(&out).contains("imported-and-running"),
        "{}",
        common::stderr(&out)
    );

    // An image archive is loaded at once, names and all.
    let archive = files.path().join("saved.tar");
    let out = engine.berth(&[
        "save",
        "-o",
        archive.to_str().unwrap(),
        "busybox-rootfs:latest",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let out = engine.berth(&["rmi", "busybox-rootfs:latest"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    d.wait_for("No images yet.", 10 * SECOND);
    d.keys(&["I"]);
    d.wait_for("Import an image from a file", 5 * SECOND);
    d.type_text(&format!("{dir}/sa"));
    d.keys(&["Tab"]);
    d.wait_for(&format!("{dir}/saved.tar"), 5 * SECOND);
    d.keys(&["Enter"]);
    d.wait_for("Loaded image: busybox-rootfs:latest", 20 * SECOND);
    d.keys(&["Escape"]);
    d.wait("busybox-rootfs listed again", 10 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("busybox-rootfs") && l.contains("latest"))
    });
}

/// The Stacks view: a compose file opened with `--compose-file` is listed as not running with
/// its service; `u` brings it up (the container runs, labelled as docker compose labels it),
/// `D` and the confirm take it down again (nothing of the project left).
#[test]
fn stacks_view_brings_a_project_up_and_down() {
    let engine = TestEngine::start();
    engine.import_busybox("busybox:latest");
    let dir = tempfile::Builder::new().prefix("stk").tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(
        &file,
        "name: e2estack\nservices:\n  app:\n    image: busybox:latest\n    command: sleep 600\n",
    )
    .unwrap();
    let d = Dashboard::start_args(
        &engine,
        140,
        24,
        None,
        &["--compose-file", file.to_str().unwrap()],
    );
    d.wait_for("Containers 0/0", 10 * SECOND);
    d.keys(&["7"]);
    d.wait("e2estack not running", 10 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("e2estack") && l.contains("not running"))
    });

    d.keys(&["u"]);
    d.wait("e2estack running", 30 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("e2estack") && l.contains("running(1)"))
    });
    assert_eq!(state_of(&engine, "e2estack-app-1"), "running");
    let v = engine.api_json("GET", "/containers/e2estack-app-1/json", None);
    assert_eq!(
        v["Config"]["Labels"]["com.docker.compose.project.config_files"],
        file.to_str().unwrap()
    );
    // The unfolded project shows its service running.
    d.keys(&["Enter"]);
    d.wait("app row", 5 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("└ app") && l.contains("running") && l.contains("1/1"))
    });

    d.keys(&["D"]);
    d.wait_for("Down e2estack", 5 * SECOND);
    d.keys(&["Enter"]);
    d.wait("e2estack down", 30 * SECOND, |s| {
        s.lines()
            .any(|l| l.contains("e2estack") && l.contains("not running"))
    });
    let ps = stdout(&engine.berth(&["ps", "-aq"]));
    assert!(ps.trim().is_empty(), "left behind: {ps}");
    d.keys(&["q"]);
}
