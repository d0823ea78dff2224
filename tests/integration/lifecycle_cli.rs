//! Client behaviour around the engine: autostart of the bundled engine, signal forwarding by an
//! attached `run`, and hostile image archives through the API.

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{eventually, stderr, stdout, TestEngine, BERTH};

/// Find the engine process serving `socket` (its argv names the socket).
fn engine_pids(socket: &std::path::Path) -> Vec<i32> {
    let needle = socket.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    let c = String::from_utf8_lossy(&c).replace('\0', " ");
                    c.contains(" engine ") && c.contains(&needle)
                })
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn client_autostarts_the_bundled_engine() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("run/berth.sock");
    let root = dir.path().join("root");
    let host = format!("unix://{}", socket.display());
    // The autostarted engine reads its networking names from the environment: unique ones, so
    // it neither clashes with other test engines nor leaves the default bridge behind.
    let net = common::TestNetwork::pick();
    let o = Command::new(BERTH)
        .args(["--host", &host, "--headless", "ps", "-a"])
        .envs(net.env())
        .env("BERTH_DATA_ROOT", &root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("CONTAINER ID"), "{}", stdout(&o));
    let pids = engine_pids(&socket);
    assert_eq!(pids.len(), 1, "one engine started");
    assert!(root.join("engine.log").exists());
    // A second command reuses it.
    let o = Command::new(BERTH)
        .args(["--host", &host, "--headless", "version"])
        .env("BERTH_DATA_ROOT", &root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(engine_pids(&socket), pids);
    for pid in pids {
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    assert!(eventually(Duration::from_secs(5), || engine_pids(&socket)
        .is_empty()
        .then_some(()))
    .is_some());
    // With --no-autostart nothing is started and the error is one line.
    let o = Command::new(BERTH)
        .args(["--host", &host, "--no-autostart", "--headless", "ps"])
        .env("BERTH_DATA_ROOT", &root)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    assert!(engine_pids(&socket).is_empty());
    net.cleanup(&root);
}

#[test]
fn attached_run_forwards_sigterm_to_the_container() {
    let e = TestEngine::with_busybox();
    let child = e
        .berth_command(&["run", "--name", "sig", "busybox", "sh", "-c"])
        .arg("trap 'echo got-term; exit 42' TERM; echo ready; while true; do sleep 0.1; done")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    eventually(Duration::from_secs(10), || {
        let o = e.berth(&["logs", "sig"]);
        stdout(&o).contains("ready").then_some(())
    })
    .expect("container started");
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(42), "{}", stderr(&o));
    assert!(stdout(&o).contains("got-term"), "{}", stdout(&o));
}

fn tar_entry(
    b: &mut tar::Builder<Vec<u8>>,
    name: &[u8],
    kind: tar::EntryType,
    link: Option<&[u8]>,
    data: &[u8],
) {
    // Raw headers: the tar crate's safe setters refuse these names, the attacks are the point.
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    if let Some(l) = link {
        h.as_old_mut().linkname[..l.len()].copy_from_slice(l);
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

#[test]
fn hostile_archives_import_without_writing_outside_the_store() {
    let e = TestEngine::start();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("pwned");
    let cases: Vec<Vec<u8>> = vec![
        {
            let mut b = tar::Builder::new(Vec::new());
            tar_entry(
                &mut b,
                format!("../../../../../../..{}", target.display()).as_bytes(),
                tar::EntryType::Regular,
                None,
                b"x",
            );
            b.into_inner().unwrap()
        },
        {
            let mut b = tar::Builder::new(Vec::new());
            tar_entry(
                &mut b,
                b"evil",
                tar::EntryType::Symlink,
                Some(outside.path().to_str().unwrap().as_bytes()),
                b"",
            );
            tar_entry(&mut b, b"evil/pwned", tar::EntryType::Regular, None, b"x");
            b.into_inner().unwrap()
        },
        {
            let mut b = tar::Builder::new(Vec::new());
            tar_entry(
                &mut b,
                b"up",
                tar::EntryType::Symlink,
                Some(b"../../../../../../../../.."),
                b"",
            );
            let path = format!("up{}", target.display());
            tar_entry(&mut b, path.as_bytes(), tar::EntryType::Regular, None, b"x");
            b.into_inner().unwrap()
        },
    ];
    for (i, tar) in cases.iter().enumerate() {
        let r = common::http::request(
            &e.socket,
            "POST",
            &format!("/images/create?fromSrc=-&repo=evil{i}"),
            Some(tar),
        )
        .unwrap();
        // Either refused, or neutralised inside the layer; never written outside.
        let text = r.text();
        assert!(
            r.status == 200 || r.status == 400,
            "case {i}: {} {text}",
            r.status
        );
        assert!(!target.exists(), "case {i} wrote outside the store: {text}");
        assert_eq!(
            std::fs::read_dir(outside.path()).unwrap().count(),
            0,
            "case {i}"
        );
    }
}
