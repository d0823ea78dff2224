//! `--pid`, `--ipc` and `--uts`: the namespaces are really shared (another container's
//! processes in `ps`, its SysV shared memory and /dev/shm, the host's processes and hostname), with
//! dockerd 20.10's refusals (messages and statuses read from it on this host).

use std::time::Duration;

use super::{probe, run_in};
use crate::common::api::{create, inspect, named, run_detached, sh};
use crate::common::{eventually, ok, stderr, TestEngine};
use serde_json::json;

#[test]
fn pid_container_mode_sees_the_targets_processes_and_host_mode_the_hosts() {
    let e = TestEngine::with_busybox();
    let target = run_detached(&e, named("pidtarget", sh("exec sleep 600")));
    // Positive: the target's own namespace has its sleep as PID 1.
    let own = ok(&e.docker(&["exec", "pidtarget", "ps", "-o", "pid,args"]));
    assert!(own.contains("1 sleep 600"), "{own}");
    let joined = run_in(
        &e,
        &["--pid", "container:pidtarget"],
        &["ps", "-o", "pid,args"],
    );
    assert!(joined.contains("1 sleep 600"), "{joined}");
    let alone = run_in(&e, &[], &["ps", "-o", "pid,args"]);
    assert!(!alone.contains("sleep 600"), "{alone}");
    // Stored by id, as dockerd stores it.
    let side = create(
        &e,
        json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"PidMode": "container:pidtarget"}}),
    );
    assert_eq!(
        inspect(&e, &side)["HostConfig"]["PidMode"],
        format!("container:{target}")
    );

    // --pid host: the test process itself is visible by its host pid.
    let me = std::process::id().to_string();
    let host = run_in(
        &e,
        &["--pid", "host"],
        &["sh", "-c", &format!("test -d /proc/{me} && echo visible")],
    );
    assert_eq!(host.trim(), "visible", "{host}");
    let private = run_in(
        &e,
        &[],
        &[
            "sh",
            "-c",
            &format!("test -d /proc/{me} && echo visible || echo hidden"),
        ],
    );
    assert_eq!(private.trim(), "hidden");
}

#[test]
fn pid_mode_refusals_match_dockerd() {
    let e = TestEngine::with_busybox();
    let body = |mode: &str| {
        json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"PidMode": mode}}).to_string()
    };
    let r = e.api("POST", "/containers/create", Some(&body("container:nope")));
    assert_eq!(
        (r.status, r.message()),
        (400, "No such container: nope".into())
    );
    let target = run_detached(&e, named("stopped", sh("exec sleep 600")));
    let side = create(
        &e,
        json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"PidMode": "container:stopped"}}),
    );
    ok(&e.docker(&["stop", "-t", "0", "stopped"]));
    let r = e.api("POST", &format!("/containers/{side}/start"), None);
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.message(), format!("container {target} is not running"));
    // A run --rm refused at start is removed, as dockerd removes it (the CLI waits for that).
    let run = e.docker(&[
        "run",
        "--rm",
        "--pid",
        "container:stopped",
        "busybox",
        "true",
    ]);
    assert_eq!(run.status.code(), Some(125), "{}", stderr(&run));
    let left = ok(&e.docker(&["ps", "-aq", "--filter", "status=created"]));
    assert_eq!(left.trim(), &side[..12], "only the API-created one stays");
}

#[test]
fn stopping_a_container_in_a_shared_pid_namespace_ends_all_its_processes() {
    let e = TestEngine::with_busybox();
    // In the host's PID namespace the container's init is not a namespace's PID 1: its
    // background child would outlive it without the cgroup kill.
    let id = run_detached(
        &e,
        json!({"Image": "busybox", "Cmd": ["sh", "-c", "sleep 601 & echo $!; exec sleep 602"],
               "HostConfig": {"PidMode": "host"}}),
    );
    let child: u32 = eventually(Duration::from_secs(10), || {
        let logs = e.docker(&["logs", &id]);
        crate::common::stdout(&logs).trim().parse().ok()
    })
    .expect("the background pid");
    assert!(std::path::Path::new(&format!("/proc/{child}")).exists());
    assert!(crate::common::procfs::cmdline(child).contains("601"));
    ok(&e.docker(&["stop", "-t", "1", &id]));
    let gone = eventually(Duration::from_secs(10), || {
        crate::common::procfs::process_gone(child).then_some(())
    });
    assert!(gone.is_some(), "pid {child} survived the stop");
}

#[test]
fn ipc_container_mode_shares_sysv_shm_with_a_shareable_donor() {
    let e = TestEngine::with_busybox();
    let bind = format!("{}:/probe:ro", super::probe_binary().display());
    let donor = run_detached(
        &e,
        json!({"Image": "busybox", "name": "donor",
               "Cmd": ["sh", "-c", "/probe shm-create 0x4242 && echo posix > /dev/shm/donor-file && exec sleep 600"],
               "HostConfig": {"IpcMode": "shareable", "Binds": [bind]}}),
    );
    // Positive: the segment exists in the donor's namespace.
    let found = ok(&e.docker(&["exec", "donor", "/probe", "shm-find", "0x4242"]));
    assert_eq!(found.trim(), "shm-find: allowed");
    let joined = probe(&e, &["--ipc", "container:donor"], &["shm-find", "0x4242"]);
    assert_eq!(joined, "shm-find: allowed");
    let private = probe(&e, &[], &["shm-find", "0x4242"]);
    assert_eq!(private, "shm-find: denied No such file or directory");
    // POSIX shared memory too: the donor's /dev/shm is the joiner's (as on dockerd).
    let posix = |opts: &[&str]| run_in(&e, opts, &["sh", "-c", "cat /dev/shm/donor-file || true"]);
    assert_eq!(posix(&["--ipc", "container:donor"]), "posix\n");
    assert!(!posix(&[]).contains("posix"));

    // dockerd's refusals: a private donor, a stopped one, a bogus mode; a missing one at create.
    run_detached(&e, named("private", sh("exec sleep 600")));
    let side = create(
        &e,
        json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"IpcMode": "container:private"}}),
    );
    let r = e.api("POST", &format!("/containers/{side}/start"), None);
    assert_eq!(r.status, 500);
    assert!(
        r.message()
            .ends_with(": non-shareable IPC (hint: use IpcMode:shareable for the donor container)"),
        "{}",
        r.message()
    );
    let bogus = create(
        &e,
        json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"IpcMode": "bogus"}}),
    );
    let r = e.api("POST", &format!("/containers/{bogus}/start"), None);
    assert_eq!(
        (r.status, r.message()),
        (500, "Invalid IPC mode: bogus".into())
    );
    let r = e.api(
        "POST",
        "/containers/create",
        Some(&json!({"Image": "busybox", "HostConfig": {"IpcMode": "container:nope"}}).to_string()),
    );
    assert_eq!(
        (r.status, r.message()),
        (400, "No such container: nope".into())
    );
    ok(&e.docker(&["stop", "-t", "0", "donor"]));
    let r = e.api("POST", &format!("/containers/{side}/start"), None);
    assert_eq!(r.status, 500);
    let _ = donor;
}

#[test]
fn ipc_host_sees_the_hosts_shm_and_none_has_no_dev_shm() {
    let e = TestEngine::with_busybox();
    // A segment made by this (host) process, removed when the test ends.
    let key = 0x5000 + (std::process::id() as i32 & 0xfff);
    // SAFETY: plain SysV calls on a segment this test owns.
    let shm = unsafe { libc::shmget(key, 4096, libc::IPC_CREAT | 0o600) };
    assert!(shm >= 0);
    let hex = format!("{key:#x}");
    let host = probe(&e, &["--ipc", "host"], &["shm-find", &hex]);
    let private = probe(&e, &[], &["shm-find", &hex]);
    // SAFETY: as above.
    unsafe { libc::shmctl(shm, libc::IPC_RMID, std::ptr::null_mut()) };
    assert_eq!(host, "shm-find: allowed");
    assert_eq!(private, "shm-find: denied No such file or directory");

    let dev_shm = |opts: &[&str]| {
        run_in(&e, opts, &["sh", "-c", "grep ' /dev/shm ' /proc/self/mountinfo | wc -l; test -d /dev/shm && echo dir || echo absent"])
    };
    assert_eq!(dev_shm(&[]), "1\ndir\n");
    assert_eq!(dev_shm(&["--ipc", "none"]), "0\nabsent\n");
}

#[test]
fn uts_host_keeps_the_hosts_hostname_and_refuses_a_hostname() {
    let e = TestEngine::with_busybox();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let host = host.trim();
    let own = run_in(&e, &[], &["hostname"]);
    assert_ne!(own.trim(), host, "a container names itself");
    let shared = run_in(&e, &["--uts", "host"], &["hostname"]);
    assert_eq!(shared.trim(), host);
    let r = e.api(
        "POST",
        "/containers/create",
        Some(
            &json!({"Image": "busybox", "Hostname": "foo", "HostConfig": {"UTSMode": "host"}})
                .to_string(),
        ),
    );
    assert_eq!(
        (r.status, r.message()),
        (400, "conflicting options: hostname and the UTS mode".into())
    );
}

#[test]
fn a_policy_restart_waits_for_the_pid_namespace_it_joins() {
    let e = TestEngine::with_busybox();
    let always = json!({"Name": "always"});
    run_detached(
        &e,
        json!({"Image": "busybox", "name": "flaky", "Cmd": ["sh", "-c", "sleep 3; exit 1"],
               "HostConfig": {"RestartPolicy": always}}),
    );
    run_detached(
        &e,
        json!({"Image": "busybox", "name": "rider", "Cmd": ["sleep", "600"],
               "HostConfig": {"PidMode": "container:flaky", "RestartPolicy": always}}),
    );
    // The target's exit ends the rider's process too (its namespace's init is gone); the
    // rider's policy start waits for the target's instead of failing against a dead one.
    let back = eventually(Duration::from_secs(30), || {
        let r = inspect(&e, "rider");
        if r["RestartCount"].as_i64()? < 1 || r["State"]["Running"] != true {
            return None;
        }
        // In the target's namespace (raced with the target's next exit: retried).
        let ps = e.docker(&["exec", "rider", "ps", "-o", "args"]);
        crate::common::stdout(&ps).contains("sleep 3").then_some(r)
    });
    assert!(back.is_some(), "{}", inspect(&e, "rider"));
}
