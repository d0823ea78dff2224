//! The engine as a background service: socket activation (with `systemd-socket-activate`, no
//! systemd as PID 1 needed), sd_notify readiness, the pid file, and the `berth engine`
//! management commands (`status`, `stop`, `install`/`uninstall`, `env`). Real processes, as root.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::procfs::{cmdline, environ, fd_targets, ppid, process_gone};
use common::{eventually, http, stderr, stdout, TestEngine, TestNetwork, BERTH};

const ACTIVATOR: &str = "/usr/bin/systemd-socket-activate";

/// `berth --host SOCKET --no-autostart ARGS`.
fn berth_on(socket: &Path, args: &[&str]) -> Output {
    Command::new(BERTH)
        .arg("--host")
        .arg(format!("unix://{}", socket.display()))
        .arg("--no-autostart")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run berth")
}

fn read_pid_file(data_root: &Path) -> Option<(u32, String)> {
    let text = std::fs::read_to_string(data_root.join("engine.pid")).ok()?;
    let mut lines = text.lines();
    Some((lines.next()?.parse().ok()?, lines.next()?.to_owned()))
}

fn import_busybox(socket: &Path) {
    let tar = common::image::busybox_rootfs_tar();
    let r = http::request(
        socket,
        "POST",
        "/images/create?fromSrc=-&repo=busybox&tag=latest",
        Some(&tar),
    )
    .expect("import");
    assert_eq!(r.status, 200, "import: {}", r.text());
    assert!(!r.text().contains("errorDetail"), "{}", r.text());
}

/// `run -d busybox sleep 600`; returns the container id and its process's pid.
fn run_sleeper(socket: &Path) -> (String, u32) {
    let o = berth_on(socket, &["run", "-d", "busybox", "sleep", "600"]);
    assert!(o.status.success(), "run: {}", stderr(&o));
    let id = stdout(&o).trim().to_owned();
    let r = http::request(socket, "GET", &format!("/containers/{id}/json"), None).unwrap();
    let pid = r.json()["State"]["Pid"].as_u64().expect("State.Pid") as u32;
    assert!(pid > 0);
    (id, pid)
}

fn remove_container(socket: &Path, id: &str) {
    let r = http::request(socket, "DELETE", &format!("/containers/{id}?force=1"), None).unwrap();
    assert!(r.status < 300, "rm: {} {}", r.status, r.text());
}

fn sigterm_and_wait(child: &mut Child) -> std::process::ExitStatus {
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap()
}

/// A log file for a child's stdout and stderr.
fn log_file(path: &Path) -> (Stdio, Stdio) {
    let f = std::fs::File::create(path).unwrap();
    (Stdio::from(f.try_clone().unwrap()), Stdio::from(f))
}

#[test]
fn socket_activation_serves_the_inherited_socket() {
    assert!(
        Path::new(ACTIVATOR).exists(),
        "{ACTIVATOR} is missing (Debian package systemd)"
    );
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("activated.sock");
    let root = dir.path().join("root");
    let log = dir.path().join("engine.log");
    let net = TestNetwork::pick();
    let (out, err) = log_file(&log);
    let mut activator = Command::new(ACTIVATOR)
        .arg("-l")
        .arg(&socket)
        .arg(BERTH)
        .args(["engine", "--log-level", "debug", "--data-root"])
        .arg(&root)
        .args(net.args())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    let pid = activator.id();
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        eventually(Duration::from_secs(5), || socket.exists().then_some(())).is_some(),
        "the activator did not create the socket; log:\n{}",
        read_log()
    );
    let mode_before = std::fs::metadata(&socket).unwrap().permissions().mode();

    // Nothing runs the engine until the first connection.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        cmdline(pid).contains("systemd-socket-activate"),
        "{}",
        cmdline(pid)
    );
    assert!(!root.join("engine.pid").exists());

    let r = http::request(&socket, "GET", "/_ping", None).expect("first connection");
    assert_eq!(r.status, 200, "{}\nlog:\n{}", r.text(), read_log());
    // The activator exec'd the engine in place: same pid.
    assert!(cmdline(pid).contains(" engine "), "{}", cmdline(pid));
    assert_eq!(
        read_pid_file(&root),
        Some((pid, socket.display().to_string()))
    );
    let launch = http::request(&socket, "GET", "/berth/v1/engine", None)
        .unwrap()
        .json();
    assert_eq!(launch["SocketActivated"], true, "{launch}");
    assert_eq!(launch["Pid"], pid);
    assert_eq!(launch["Socket"], socket.display().to_string());
    let status = berth_on(&socket, &["engine", "status"]);
    assert!(
        stdout(&status).contains("socket activation"),
        "{}",
        stdout(&status)
    );
    // The socket is the activator's: neither replaced nor chmod-ed.
    let mode_after = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode_after, mode_before);

    // The listening socket and the activation variables stay with the engine: neither the
    // shim nor the container inherits them.
    let listener = std::fs::read_link(format!("/proc/{pid}/fd/3"))
        .unwrap()
        .display()
        .to_string();
    assert!(listener.starts_with("socket:"), "{listener}");
    import_busybox(&socket);
    let (id, container_pid) = run_sleeper(&socket);
    let shim = ppid(container_pid);
    assert_ne!(shim, pid, "the container's parent is its shim");
    for p in [shim, container_pid] {
        assert!(
            !fd_targets(p).contains(&listener),
            "pid {p} ({}) holds the engine's listening socket {listener}",
            cmdline(p)
        );
    }
    let shim_env = environ(shim);
    assert!(!shim_env.contains("LISTEN_FDS="), "{shim_env}");
    assert!(!shim_env.contains("LISTEN_PID="), "{shim_env}");
    remove_container(&socket, &id);

    let status = sigterm_and_wait(&mut activator);
    assert!(status.success(), "{status:?}\nlog:\n{}", read_log());
    // Not removed: the engine did not create it.
    assert!(socket.exists(), "the inherited socket file was removed");
    assert!(!root.join("engine.pid").exists());
    net.cleanup(&root);
}

#[test]
fn readiness_and_stopping_are_notified() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("berth.sock");
    let root = dir.path().join("root");
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let net = TestNetwork::pick();
    let (out, err) = log_file(&dir.path().join("engine.log"));
    let mut engine = Command::new(BERTH)
        .args(["engine", "--socket"])
        .arg(&socket)
        .arg("--data-root")
        .arg(&root)
        .args(net.args())
        .env("NOTIFY_SOCKET", &notify_path)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();

    let mut buf = [0u8; 4096];
    let n = notify.recv(&mut buf).expect("READY=1 within 20s");
    let ready = String::from_utf8_lossy(&buf[..n]).into_owned();
    // At this point the API answers, without retrying.
    let ping = http::request(&socket, "GET", "/_ping", None).expect("ping right after READY=1");
    assert_eq!(ping.status, 200);
    let lines: Vec<&str> = ready.lines().collect();
    assert!(lines.contains(&"READY=1"), "{ready}");
    assert!(
        lines.contains(&format!("MAINPID={}", engine.id()).as_str()),
        "{ready}"
    );
    assert!(lines.iter().any(|l| l.starts_with("STATUS=")), "{ready}");
    let launch = http::request(&socket, "GET", "/berth/v1/engine", None)
        .unwrap()
        .json();
    assert_eq!(launch["Notify"], true);
    assert_eq!(launch["SocketActivated"], false);

    unsafe { libc::kill(engine.id() as i32, libc::SIGTERM) };
    let n = notify.recv(&mut buf).expect("STOPPING=1 within 20s");
    let stopping = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping}");
    assert!(engine.wait().unwrap().success());
    // The engine bound this socket itself, so it removes it.
    assert!(!socket.exists());
    net.cleanup(&root);
}

#[test]
fn pid_file_names_the_engine_while_it_runs() {
    let mut e = TestEngine::start();
    let (pid, socket) = read_pid_file(&e.data_root).expect("engine.pid");
    assert_eq!(socket, e.socket.display().to_string());
    assert!(
        cmdline(pid).contains(&e.data_root.display().to_string()),
        "pid {pid} is not the engine: {}",
        cmdline(pid)
    );
    e.terminate();
    assert!(!e.data_root.join("engine.pid").exists());
}

#[test]
fn status_reports_a_running_engine_and_fails_when_nothing_answers() {
    let e = TestEngine::with_busybox();
    let o = e.berth(&["run", "-d", "busybox", "sleep", "600"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (pid, _) = read_pid_file(&e.data_root).unwrap();

    let o = berth_on(&e.socket, &["engine", "status"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("berth engine is running\n"), "{text}");
    for expected in [
        format!(" PID:         {pid}\n"),
        format!(" Version:     {} (API 1.44", env!("CARGO_PKG_VERSION")),
        format!(" Socket:      {}\n", e.socket.display()),
        format!(" Data root:   {}\n", e.data_root.display()),
        " Containers:  1 running, 1 total\n".to_owned(),
        " Uptime:      ".to_owned(),
        " Started by:  ".to_owned(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }

    let o = berth_on(&e.socket, &["engine", "status", "--format", "json"]);
    assert!(o.status.success());
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["Running"], true);
    assert_eq!(json["Pid"], pid);
    assert_eq!(json["ContainersRunning"], 1);
    assert_eq!(json["DataRoot"], e.data_root.display().to_string());

    // A user who may not connect gets told so, not "not running".
    let o = Command::new(BERTH)
        .arg("--host")
        .arg(e.host())
        .args(["engine", "status"])
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("permission denied"), "{}", stderr(&o));

    // Nothing answers: one line, exit 3, and no engine is started (no --no-autostart here).
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("run/none.sock");
    let root = dir.path().join("root");
    let net = TestNetwork::pick();
    let o = Command::new(BERTH)
        .arg("--host")
        .arg(format!("unix://{}", socket.display()))
        .args(["engine", "status"])
        .env("BERTH_DATA_ROOT", &root)
        .envs(net.env())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "berth engine is not running (no answer on {})\n",
            socket.display()
        )
    );
    assert!(stdout(&o).is_empty());
    assert!(!socket.exists() && !root.exists(), "an engine was started");
}

#[test]
fn stop_leaves_containers_running_and_releases_the_lock() {
    let mut e = TestEngine::with_busybox();
    let (id, container_pid) = run_sleeper(&e.socket);
    let (engine_pid, _) = read_pid_file(&e.data_root).unwrap();

    let o = berth_on(&e.socket, &["engine", "stop"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("berth engine stopped (pid {engine_pid}); 1 container keeps running\n")
    );
    assert!(process_gone(engine_pid));
    assert!(
        !process_gone(container_pid),
        "the container died with the engine"
    );
    assert!(!e.data_root.join("engine.pid").exists());

    // Stopped already: a clear message and status 1.
    let o = Command::new(BERTH)
        .arg("--host")
        .arg(e.host())
        .args(["engine", "stop", "--data-root"])
        .arg(&e.data_root)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("berth engine is not running (no answer on "),
        "{}",
        stderr(&o)
    );

    // The lock is free: a new engine starts on the data root and finds the container running.
    e.spawn();
    let state = e.api_json("GET", &format!("/containers/{id}/json"), None)["State"].clone();
    assert_eq!(state["Running"], true, "{state}");
    assert_eq!(state["Pid"], container_pid);
    remove_container(&e.socket, &id);

    // Without an answering socket the pid file under --data-root (or BERTH_DATA_ROOT) names it.
    let (engine_pid, _) = read_pid_file(&e.data_root).unwrap();
    let elsewhere = e.dir.path().join("elsewhere.sock");
    let o = Command::new(BERTH)
        .arg("--host")
        .arg(format!("unix://{}", elsewhere.display()))
        .args(["engine", "stop", "--timeout", "20"])
        .env("BERTH_DATA_ROOT", &e.data_root)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("berth engine stopped (pid {engine_pid}); containers keep running\n")
    );
    assert!(process_gone(engine_pid));
}

#[test]
fn install_writes_units_and_uninstall_removes_them() {
    let dir = tempfile::tempdir().unwrap();
    let units = dir.path().join("units");
    let berth = std::fs::canonicalize(BERTH).unwrap();
    let o = Command::new(BERTH)
        .args(["engine", "install", "--no-enable", "--unit-dir"])
        .arg(&units)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let service = std::fs::read_to_string(units.join("berth.service")).unwrap();
    let socket = std::fs::read_to_string(units.join("berth.socket")).unwrap();
    let exec = format!("ExecStart={} engine", berth.display());
    assert!(service.lines().any(|l| l == exec), "{service}");
    for line in [
        "Type=notify",
        "KillMode=process",
        "Delegate=yes",
        "Requires=berth.socket",
    ] {
        assert!(service.lines().any(|l| l == line), "{line} in {service}");
    }
    assert!(socket
        .lines()
        .any(|l| l == "ListenStream=/run/berth/berth.sock"));
    assert!(stdout(&o).contains("not enabled"), "{}", stdout(&o));

    // systemd's own parser, where it works without systemd as PID 1.
    if let Ok(v) = Command::new("systemd-analyze")
        .arg("verify")
        .arg(units.join("berth.socket"))
        .arg(units.join("berth.service"))
        .output()
    {
        let complaints: Vec<String> = stderr(&v)
            .lines()
            .filter(|l| l.contains("berth."))
            .map(str::to_owned)
            .collect();
        assert!(
            v.status.success() && complaints.is_empty(),
            "systemd-analyze verify: {:?}\n{}",
            v.status,
            stderr(&v)
        );
    }

    // Without systemd as init the units are written, not enabled (never run this part on a
    // systemd host: it would enable units on it).
    if !Path::new("/run/systemd/system").exists() {
        let o = Command::new(BERTH)
            .args(["engine", "install", "--unit-dir"])
            .arg(&units)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stdout(&o).contains("systemd is not running"),
            "{}",
            stdout(&o)
        );
    }

    let o = Command::new(BERTH)
        .args(["engine", "uninstall", "--unit-dir"])
        .arg(&units)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!units.join("berth.service").exists());
    assert!(!units.join("berth.socket").exists());
    assert!(stdout(&o).contains("removed"), "{}", stdout(&o));
    let leftovers: Vec<PathBuf> = std::fs::read_dir(&units)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn env_points_docker_at_berth() {
    let o = Command::new(BERTH)
        .args(["--host", "unix:///tmp/some where/b.sock", "engine", "env"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "export DOCKER_HOST='unix:///tmp/some where/b.sock'\n"
    );
    let o = Command::new(BERTH)
        .args(["engine", "env"])
        .env_remove("BERTH_HOST")
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o),
        "export DOCKER_HOST=unix:///run/berth/berth.sock\n"
    );

    // The stock docker CLI follows it.
    let e = TestEngine::start();
    let script = format!(
        "eval \"$('{BERTH}' --host '{}' engine env)\" && docker version --format '{{{{.Server.Version}}}}'",
        e.host()
    );
    let o = Command::new("sh")
        .args(["-c", &script])
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), env!("CARGO_PKG_VERSION"));
}

/// Start an engine with stderr on `log` and `JOURNAL_STREAM` from `journal_stream(log)`, wait
/// until it serves, stop it; returns its pid.
fn run_engine_briefly(log: &Path, journal_stream: impl Fn(&Path) -> String) -> u32 {
    let dir = log.parent().unwrap();
    let socket = dir.join("j.sock");
    let root = dir.join("root");
    let net = TestNetwork::pick();
    let (out, err) = log_file(log);
    let mut engine = Command::new(BERTH)
        .args(["engine", "--socket"])
        .arg(&socket)
        .arg("--data-root")
        .arg(&root)
        .args(net.args())
        .env("JOURNAL_STREAM", journal_stream(log))
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    let served = eventually(Duration::from_secs(10), || {
        http::request(&socket, "GET", "/_ping", None)
            .ok()
            .filter(|r| r.status == 200)
    });
    assert!(
        served.is_some(),
        "{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    let pid = engine.id();
    assert!(sigterm_and_wait(&mut engine).success());
    net.cleanup(&root);
    pid
}

#[test]
fn journal_stream_on_stderr_selects_journald() {
    use std::os::unix::fs::MetadataExt;
    let journal_socket = Path::new("/run/systemd/journal/socket");

    // JOURNAL_STREAM names stderr itself: the engine logs to journald, or says it cannot.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("engine.log");
    let pid = run_engine_briefly(&log, |log| {
        let m = std::fs::metadata(log).unwrap();
        format!("{}:{}", m.dev(), m.ino())
    });
    let text = std::fs::read_to_string(&log).unwrap();
    if journal_socket.exists() {
        assert!(!text.contains("berth engine serving"), "{text}");
        let in_journal = eventually(Duration::from_secs(5), || {
            let o = Command::new("journalctl")
                .args(["-o", "cat", &format!("_PID={pid}")])
                .output()
                .ok()?;
            stdout(&o).contains("berth engine serving").then_some(())
        });
        assert!(in_journal.is_some(), "not in the journal");
    } else {
        assert!(
            text.contains("cannot open the journal socket")
                && text.contains("berth engine serving"),
            "{text}"
        );
    }

    // Inherited from a parent whose stderr was the journal, but stderr is elsewhere: unchanged.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("engine.log");
    run_engine_briefly(&log, |_| "1:1".into());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("journal"), "{text}");
    assert!(text.contains("berth engine serving"), "{text}");
}
