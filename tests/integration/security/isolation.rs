//! What a default container cannot do, and what `--security-opt seccomp=unconfined`,
//! `--cap-add` and `--privileged` lift. The expectations are dockerd 20.10's, recorded on this
//! host with the same probe binary (busybox image, `docker run --rm <mode> probe /probe <call>`):
//!
//! | mode              | keyctl | unshare -U | clone(NEWUSER) | mount | ptrace other | blockdev | Seccomp |
//! |-------------------|--------|------------|----------------|-------|--------------|----------|---------|
//! | default           | EPERM  | EPERM      | EPERM          | EPERM | ESRCH        | EPERM    | 2       |
//! | seccomp=unconfined| ok     | ok         | ok             | EPERM | ESRCH        | EPERM    | 0       |
//! | --cap-add SYS_ADMIN| EPERM | ok         | ok             | ok    | ESRCH        | EPERM    | 2       |
//! | --pid host        | EPERM  | EPERM      | EPERM          | EPERM | ok           | EPERM    | 2       |
//!
//! (blockdev: mknod and open of a host block device; dockerd was probed with the host disk.)
//! dockerd's `--privileged` fails on this host (runc: "unable to apply caps", the host's own
//! bounding set lacks CAP_SYS_RESOURCE); berth's grants what it holds (`privileged.rs`).

use super::{host_block_device, probe, status_lines};
use crate::common::api::{inspect, run_detached};
use crate::common::TestEngine;
use berth_engine::runtime::defaults::{MASKED_PATHS, READONLY_PATHS};
use serde_json::json;

const DENIED: &str = "denied Operation not permitted";

/// Each probe under `opts`, as "<what>: allowed" / "<what>: denied <why>" lines.
fn probes(e: &TestEngine, opts: &[&str], victim_pid: &str) -> Vec<String> {
    let (maj, min) = host_block_device();
    let calls: [&[&str]; 6] = [
        &["keyctl"],
        &["unshare-user"],
        &["clone-user"],
        &["mount"],
        &["ptrace", victim_pid],
        &["blockdev", &maj, &min],
    ];
    calls.iter().map(|c| probe(e, opts, c)).collect()
}

fn expect(results: &[String], expected: [&str; 6], mode: &str) {
    let names = [
        "keyctl",
        "unshare-user",
        "clone-user",
        "mount",
        "ptrace",
        "blockdev",
    ];
    for ((got, want), name) in results.iter().zip(expected).zip(names) {
        assert_eq!(got, &format!("{name}: {want}"), "{mode}: {results:?}");
    }
}

#[test]
fn default_confinement_and_what_each_option_lifts_match_dockerd() {
    let e = TestEngine::with_busybox();
    let victim = run_detached(&e, json!({"Image": "busybox", "Cmd": ["sleep", "600"]}));
    let pid = inspect(&e, &victim)["State"]["Pid"].to_string();
    let ok = "allowed";
    let gone = "denied No such process";

    // The lifted modes first: each probe can succeed, so the denials below are real.
    let unconfined = probes(&e, &["--security-opt", "seccomp=unconfined"], &pid);
    expect(
        &unconfined,
        [ok, ok, ok, DENIED, gone, DENIED],
        "unconfined",
    );
    let sys_admin = probes(&e, &["--cap-add", "SYS_ADMIN"], &pid);
    expect(&sys_admin, [DENIED, ok, ok, ok, gone, DENIED], "SYS_ADMIN");
    let pid_host = probes(&e, &["--pid", "host"], &pid);
    expect(
        &pid_host,
        [DENIED, DENIED, DENIED, DENIED, ok, DENIED],
        "pid host",
    );

    // --privileged: everything above, and the host's devices (dockerd cannot run it on this
    // host, see the module header; these are docker's documented semantics).
    let privileged = probes(&e, &["--privileged"], &pid);
    expect(&privileged, [ok, ok, ok, ok, gone, ok], "privileged");

    let default = probes(&e, &[], &pid);
    expect(
        &default,
        [DENIED, DENIED, DENIED, DENIED, gone, DENIED],
        "default",
    );
}

#[test]
fn seccomp_filter_is_on_by_default_and_off_when_unconfined_or_privileged() {
    let e = TestEngine::with_busybox();
    let field = |opts: &[&str]| {
        let s = status_lines(&e, opts);
        s.lines()
            .find_map(|l| l.strip_prefix("Seccomp:"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("{s}"))
    };
    assert_eq!(field(&["--security-opt", "seccomp=unconfined"]), "0");
    assert_eq!(field(&["--privileged"]), "0");
    assert_eq!(field(&[]), "2");
    assert_eq!(field(&["--cap-add", "ALL"]), "2");
}

#[test]
fn capability_sets_are_dockers_default_fourteen_with_inheritable_and_ambient_empty() {
    let e = TestEngine::with_busybox();
    let caps = |opts: &[&str]| status_lines(&e, opts);
    // --cap-add moves exactly the bit asked for (CAP_SYS_ADMIN is bit 21), as on dockerd.
    let added = caps(&["--cap-add", "SYS_ADMIN"]);
    assert!(added.contains("CapEff:\t00000000a82425fb"), "{added}");
    let dropped = caps(&["--cap-drop", "NET_RAW"]);
    assert!(dropped.contains("CapEff:\t00000000a80405fb"), "{dropped}");
    let out = caps(&[]);
    for line in [
        "CapInh:\t0000000000000000",
        "CapPrm:\t00000000a80425fb",
        "CapEff:\t00000000a80425fb",
        "CapBnd:\t00000000a80425fb",
        "CapAmb:\t0000000000000000",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
}

/// notes §4's masked and read-only paths, from /proc/self/mountinfo inside the container.
#[test]
fn masked_and_read_only_paths_and_a_read_only_sys() {
    let e = TestEngine::with_busybox();
    // The engine's lists are notes §4's (docker's `oci.DefaultSpec`), checked here path by path.
    let (masked, readonly) = (MASKED_PATHS, READONLY_PATHS);
    assert_eq!((masked.len(), readonly.len()), (12, 5));
    let mounts = |opts: &[&str]| {
        let info = super::run_in(&e, opts, &["cat", "/proc/self/mountinfo"]);
        info.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                let sep = f.iter().position(|x| *x == "-")?;
                Some((f[4].to_owned(), f[5].to_owned(), f[sep + 1].to_owned()))
            })
            .collect::<Vec<_>>()
    };
    let over = |m: &[(String, String, String)], p: &str| {
        m.iter()
            .rev()
            .find(|(mp, _, _)| mp == p)
            .map(|(_, opts, fs)| (opts.clone(), fs.clone()))
    };
    // Privileged: nothing masked (and /proc/interrupts has content), /sys writable.
    let privileged = mounts(&["--privileged"]);
    for p in masked.iter().chain(readonly) {
        assert!(
            over(&privileged, p).is_none(),
            "{p} is covered when privileged"
        );
    }
    let interrupts = super::run_in(&e, &["--privileged"], &["wc", "-c", "/proc/interrupts"]);
    assert_ne!(
        interrupts.split_whitespace().next(),
        Some("0"),
        "{interrupts}"
    );

    let default = mounts(&[]);
    for p in masked.iter().copied() {
        if !std::path::Path::new(p).exists() {
            continue;
        }
        let (opts, fs) = over(&default, p).unwrap_or_else(|| panic!("{p} not masked"));
        // Files get /dev/null bound over them (its devtmpfs/tmpfs), dirs an empty ro tmpfs.
        assert!(
            fs == "tmpfs" || fs == "devtmpfs" || opts.starts_with("ro"),
            "{p}: {opts} {fs}"
        );
    }
    for p in readonly.iter().copied() {
        if !std::path::Path::new(p).exists() {
            continue;
        }
        let (opts, _) = over(&default, p).unwrap_or_else(|| panic!("{p} not read-only"));
        assert!(opts.starts_with("ro"), "{p}: {opts}");
    }
    let (sys, fs) = over(&default, "/sys").expect("/sys mounted");
    assert!(sys.starts_with("ro") && fs == "sysfs", "/sys {sys} {fs}");
    let read = super::run_in(
        &e,
        &[],
        &[
            "sh",
            "-c",
            "wc -c < /proc/interrupts; wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l",
        ],
    );
    assert_eq!(read, "0\n0\n0\n", "masked paths read empty");
}
