//! End-to-end tests of the shim: the real berth binary in shim mode, a busybox rootfs, driven
//! through `ShimHandle` as the engine does. Needs root (namespaces, mounts, cgroups).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use berth_engine::error::EngineError;
use berth_engine::runtime::defaults;
use berth_engine::runtime::selfexe::ShimExecutable;
use berth_engine::runtime::shim_client::{read_exit_record, ShimEvent, ShimHandle};
use berth_engine::runtime::spec::{
    files, CgroupSpec, ExitRecord, LogSpec, NetworkNamespace, ProcessSpec, RootfsSpec, RuntimeSpec,
};
use bytes::Bytes;
use tokio::sync::mpsc::UnboundedReceiver;

const APPLETS: &[&str] = &[
    "sh", "echo", "cat", "sleep", "true", "false", "yes", "head", "stty", "ls",
];

struct Fixture {
    _tmp: tempfile::TempDir,
    rootfs: PathBuf,
    dir: PathBuf,
    id: String,
}

fn fixture() -> Fixture {
    static N: AtomicU32 = AtomicU32::new(0);
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("layer");
    let bin = rootfs.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    for a in APPLETS {
        std::os::unix::fs::symlink("busybox", bin.join(a)).unwrap();
    }
    for d in ["proc", "sys", "dev", "tmp", "etc", "root"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(rootfs.join("etc/group"), "root:x:0:\n").unwrap();
    let dir = tmp.path().join("c");
    for d in [files::UPPER, files::WORK, files::ROOTFS] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let n = N.fetch_add(1, Ordering::SeqCst);
    let id = format!("{:032x}{:024x}{:08x}", 0xb3e7u32, std::process::id(), n);
    Fixture {
        _tmp: tmp,
        rootfs,
        dir,
        id,
    }
}

impl Fixture {
    fn spec(&self, args: &[&str]) -> RuntimeSpec {
        RuntimeSpec {
            id: self.id.clone(),
            dir: self.dir.clone(),
            rootfs: RootfsSpec {
                lower_dirs: vec![self.rootfs.clone()],
                upper_dir: self.dir.join(files::UPPER),
                work_dir: self.dir.join(files::WORK),
                mount_point: self.dir.join(files::ROOTFS),
                readonly: false,
            },
            process: ProcessSpec {
                args: args.iter().map(|s| s.to_string()).collect(),
                env: vec!["PATH=/bin".into(), "HOME=/root".into()],
                cwd: "/".into(),
                user: String::new(),
                group_add: Vec::new(),
                tty: false,
                open_stdin: false,
                capabilities: defaults::DEFAULT_CAPABILITIES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                no_new_privileges: false,
                console_size: None,
            },
            hostname: "shimtest".into(),
            network: NetworkNamespace::Isolated,
            masked_paths: defaults::MASKED_PATHS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            readonly_paths: defaults::READONLY_PATHS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            seccomp_bpf: None,
            cgroup: CgroupSpec {
                path: format!("berth-shim-test/{}", self.id),
                ..Default::default()
            },
            log: LogSpec {
                path: self.dir.join(files::CONTAINER_LOG),
                max_size: 0,
                max_files: 1,
                disabled: false,
                compress: false,
            },
            init: false,
            mounts: Vec::new(),
            shm_size: None,
            etc_dir: None,
            host_devices: false,
            namespaces: Default::default(),
        }
    }

    fn write(&self, spec: &RuntimeSpec) {
        std::fs::write(
            self.dir.join(files::BUNDLE),
            serde_json::to_vec_pretty(spec).unwrap(),
        )
        .unwrap();
    }

    fn log_entries(&self, path: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn exe() -> ShimExecutable {
    ShimExecutable::from_file(Path::new(env!("CARGO_BIN_EXE_berth"))).unwrap()
}

#[derive(Default, Debug)]
struct Collected {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exit: Option<ExitRecord>,
}

/// Read events until `Exited` (asserting it is last) or until `until` appears on stdout.
async fn collect(events: &mut UnboundedReceiver<ShimEvent>, until: Option<&str>) -> Collected {
    let mut c = Collected::default();
    let fut = async {
        while let Some(ev) = events.recv().await {
            match ev {
                ShimEvent::Stdout(b) => c.stdout.extend_from_slice(&b),
                ShimEvent::Stderr(b) => c.stderr.extend_from_slice(&b),
                ShimEvent::Exited(r) => {
                    c.exit = Some(r);
                    break;
                }
            }
            if let Some(u) = until {
                if String::from_utf8_lossy(&c.stdout).contains(u) {
                    return;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .expect("timed out waiting for shim events");
    if c.exit.is_some() {
        assert!(
            events.recv().await.is_none(),
            "Exited must be the last event"
        );
    }
    c
}

#[tokio::test]
async fn output_exit_code_and_log() {
    let f = fixture();
    f.write(&f.spec(&["sh", "-c", "echo out; echo err >&2; exit 3"]));
    let (_h, start, mut events) = ShimHandle::spawn(&exe(), &f.dir).await.unwrap();
    assert!(start.pid > 0 && start.shim_pid > 0 && start.pid != start.shim_pid);
    let c = collect(&mut events, None).await;
    assert_eq!(String::from_utf8_lossy(&c.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&c.stderr), "err\n");
    let exit = c.exit.unwrap();
    assert_eq!(exit.exit_code, 3);
    assert!(!exit.oom_killed);
    assert_eq!(exit.error, None);
    assert_eq!(read_exit_record(&f.dir), Some(exit));
    let log = f.log_entries(&f.dir.join(files::CONTAINER_LOG));
    let mut pairs: Vec<(String, String)> = log
        .iter()
        .map(|e| {
            (
                e["stream"].as_str().unwrap().to_string(),
                e["log"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        vec![
            ("stderr".to_string(), "err\n".to_string()),
            ("stdout".to_string(), "out\n".to_string())
        ]
    );
    assert!(log[0]["time"].as_str().unwrap().ends_with('Z'));
    eprintln!(
        "shim.log:\n{}",
        std::fs::read_to_string(f.dir.join(files::SHIM_LOG)).unwrap_or_default()
    );
    // The shim cleaned up its socket, so a reconnect finds nothing.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!f.dir.join(files::SHIM_SOCKET).exists());
    assert!(ShimHandle::reconnect(&f.dir).await.unwrap().is_none());
}

#[tokio::test]
async fn start_failure_of_missing_command() {
    let f = fixture();
    f.write(&f.spec(&["nosuchcmd"]));
    let err = ShimHandle::spawn(&exe(), &f.dir).await.unwrap_err();
    match &err {
        EngineError::InvalidArgument(msg) => {
            assert!(msg.contains("nosuchcmd"), "{msg}");
            assert!(msg.contains("executable file not found"), "{msg}");
        }
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    let rec = read_exit_record(&f.dir).expect("exit.json written");
    assert_eq!(rec.exit_code, 127);
    assert_eq!(rec.error.as_deref(), Some(err.to_string().as_str()));
}

#[tokio::test]
async fn stdin_is_forwarded_and_closed() {
    let f = fixture();
    let mut spec = f.spec(&["cat"]);
    spec.process.open_stdin = true;
    f.write(&spec);
    let (h, _start, mut events) = ShimHandle::spawn(&exe(), &f.dir).await.unwrap();
    h.write_stdin(Bytes::from_static(b"hello\n"));
    h.write_stdin(Bytes::from_static(b"world\n"));
    let c = collect(&mut events, Some("world\n")).await;
    assert_eq!(String::from_utf8_lossy(&c.stdout), "hello\nworld\n");
    h.close_stdin();
    let c = collect(&mut events, None).await;
    assert_eq!(c.exit.unwrap().exit_code, 0);
}

#[tokio::test]
async fn signals_reach_the_container() {
    let f = fixture();
    // PID 1 of a PID namespace only receives signals it handles, so trap TERM.
    f.write(&f.spec(&[
        "sh",
        "-c",
        "trap 'exit 42' TERM; echo ready; while true; do sleep 0.1; done",
    ]));
    let (h, _start, mut events) = ShimHandle::spawn(&exe(), &f.dir).await.unwrap();
    collect(&mut events, Some("ready")).await;
    h.signal(15);
    let c = collect(&mut events, None).await;
    assert_eq!(c.exit.unwrap().exit_code, 42);
    // The shim is gone: further commands are dropped silently.
    h.signal(9);
}

#[tokio::test]
async fn sigkill_gives_137() {
    let f = fixture();
    f.write(&f.spec(&["sleep", "1000"]));
    let (h, start, mut events) = ShimHandle::spawn(&exe(), &f.dir).await.unwrap();
    // The shim is daemonized: not our child, leader of its own session, cwd "/".
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", start.shim_pid)).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    assert_ne!(fields[1], std::process::id().to_string(), "ppid");
    assert_eq!(fields[3], start.shim_pid.to_string(), "session id");
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", start.shim_pid)).unwrap();
    assert_eq!(cwd, Path::new("/"));
    // The container's main process is the shim's child.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", start.pid)).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    assert_eq!(fields[1], start.shim_pid.to_string());
    h.signal(9);
    let c = collect(&mut events, None).await;
    assert_eq!(c.exit.unwrap().exit_code, 137);
}

#[tokio::test]
async fn tty_output_and_size() {
    let f = fixture();
    let mut spec = f.spec(&["sh", "-c", "stty size; echo done >&2"]);
    spec.process.tty = true;
    spec.process.console_size = Some((33, 101));
    f.write(&spec);
    let (_h, _start, mut events) = ShimHandle::spawn(&exe(), &f.dir).await.unwrap();
    let c = collect(&mut events, None).await;
    let out = String::from_utf8_lossy(&c.stdout).to_string();
    assert!(out.contains("33 101"), "{out:?}");
    assert!(
        out.contains("done\r\n"),
        "stderr goes to the tty too: {out:?}"
    );
    assert!(c.stderr.is_empty());
    assert_eq!(c.exit.unwrap().exit_code, 0);
    let log = f.log_entries(&f.dir.join(files::CONTAINER_LOG));
    assert!(log.iter().all(|e| e["stream"] == "stdout"));
}

#[tokio::test]
async fn tty_resize() {
    let f = fixture();
    let mut spec = f.spec(&["sh", "-c", "read x; stty size"]);
    spec.process.tty = true;
    spec.process.open_stdin = true;
    spec.process.console_size = Some((24, 80));
    f.write(&spec);
    let (h, _start, mut events) = ShimHandle::spawn(&exe(), &f.dir).await.unwrap();
    h.resize(50, 132);
    h.write_stdin(Bytes::from_static(b"go\n"));
    let c = collect(&mut events, None).await;
    let out = String::from_utf8_lossy(&c.stdout).to_string();
    assert!(out.contains("50 132"), "{out:?}");
}

#[tokio::test]
async fn reconnect_after_dropping_the_handle() {
    let f = fixture();
    let mut spec = f.spec(&["sh", "-c", "echo first; read x; echo got $x; exit 7"]);
    spec.process.open_stdin = true;
    f.write(&spec);
    let (h, start, mut events) = ShimHandle::spawn(&exe(), &f.dir).await.unwrap();
    collect(&mut events, Some("first")).await;
    drop(h);
    drop(events);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let (h2, start2, mut events2) = ShimHandle::reconnect(&f.dir)
        .await
        .unwrap()
        .expect("shim still running");
    assert_eq!(start2, start);
    h2.write_stdin(Bytes::from_static(b"again\n"));
    let c = collect(&mut events2, None).await;
    assert_eq!(String::from_utf8_lossy(&c.stdout), "got again\n");
    assert_eq!(c.exit.unwrap().exit_code, 7);
    // The log holds output from both connections.
    let log = f.log_entries(&f.dir.join(files::CONTAINER_LOG));
    let text: String = log.iter().map(|e| e["log"].as_str().unwrap()).collect();
    assert_eq!(text, "first\ngot again\n");
}

#[tokio::test]
async fn log_rotation() {
    let f = fixture();
    let mut spec = f.spec(&[
        "sh",
        "-c",
        "i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done",
    ]);
    spec.log.max_size = 1000;
    spec.log.max_files = 3;
    f.write(&spec);
    let (_h, _start, mut events) = ShimHandle::spawn(&exe(), &f.dir).await.unwrap();
    let c = collect(&mut events, None).await;
    assert_eq!(c.exit.unwrap().exit_code, 0);
    let path = f.dir.join(files::CONTAINER_LOG);
    let p1 = PathBuf::from(format!("{}.1", path.display()));
    let p2 = PathBuf::from(format!("{}.2", path.display()));
    let p3 = PathBuf::from(format!("{}.3", path.display()));
    assert!(p1.exists() && p2.exists());
    assert!(!p3.exists());
    for p in [&p1, &p2] {
        assert!(std::fs::metadata(p).unwrap().len() >= 1000);
    }
    let text: String = [&p2, &p1, &path]
        .iter()
        .flat_map(|p| f.log_entries(p))
        .map(|e| e["log"].as_str().unwrap().to_string())
        .collect();
    assert!(text.ends_with("line 199\n"));
    assert!(!text.starts_with("line 0\n"), "oldest file was dropped");
}

#[tokio::test]
async fn container_runs_and_exits_without_engine() {
    let f = fixture();
    let mut spec = f.spec(&["sh", "-c", "read x; echo bye; exit 5"]);
    spec.process.open_stdin = true;
    f.write(&spec);
    let (h, _start, events) = ShimHandle::spawn(&exe(), &f.dir).await.unwrap();
    drop(events);
    drop(h);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Closing stdin from a new connection lets it finish; then drop that one too.
    let (h2, _, events2) = ShimHandle::reconnect(&f.dir).await.unwrap().unwrap();
    h2.close_stdin();
    drop(events2);
    drop(h2);
    let rec = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Some(r) = read_exit_record(&f.dir) {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(rec.exit_code, 5);
    let log = std::fs::read_to_string(f.dir.join(files::CONTAINER_LOG)).unwrap();
    assert!(log.contains("bye\\n"));
}

#[tokio::test]
async fn reconnect_with_socket_path_longer_than_sun_path() {
    let mut f = fixture();
    // A data root deep enough that <dir>/shim.sock does not fit in sun_path (108 bytes).
    let deep = f.dir.join("d".repeat(60)).join("e".repeat(60)).join("c");
    for d in [files::UPPER, files::WORK, files::ROOTFS] {
        std::fs::create_dir_all(deep.join(d)).unwrap();
    }
    f.dir = deep;
    assert!(f.dir.join(files::SHIM_SOCKET).as_os_str().len() > 108);
    let mut spec = f.spec(&["sh", "-c", "read x; echo $x"]);
    spec.process.open_stdin = true;
    f.write(&spec);
    let (h, _start, events) = ShimHandle::spawn(&exe(), &f.dir).await.unwrap();
    drop((h, events));
    let (h2, _, mut events2) = ShimHandle::reconnect(&f.dir)
        .await
        .unwrap()
        .expect("shim reachable through the long path");
    h2.write_stdin(Bytes::from_static(b"deep\n"));
    let c = collect(&mut events2, None).await;
    assert_eq!(String::from_utf8_lossy(&c.stdout), "deep\n");
    assert_eq!(c.exit.unwrap().exit_code, 0);
}
