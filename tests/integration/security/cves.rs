//! One test per item of the security checklist (notes §4) that has a CVE, named after it. Those
//! that already lived with their area are renamed there, not duplicated:
//! `containers::isolation::cve_2024_21626_only_stdio_is_open_in_the_containers_first_process`,
//! `containers::isolation::cve_2022_24769_default_capabilities_inheritable_and_ambient_empty`,
//! `volumes::mounts::cve_2021_30465_symlinked_mount_targets_stay_inside_the_rootfs`,
//! `archive::copy::cve_2018_15664_cp_symlink_escapes_stay_inside`,
//! `api_basics::cve_2021_41091_data_root_0700_and_socket_0660`,
//! `networks::dns::cve_2024_29018_embedded_dns_forwards_from_open_networks_only`,
//! `hostile_layers::hostile_layers_are_rejected_and_nothing_escapes` (layer extraction).
//! Each asserts the legitimate case first, then that the attack fails.

use std::os::unix::fs::OpenOptionsExt;

use crate::common::api::{inspect, run_detached, sh};
use crate::common::{ok, procfs, stderr, stdout, TestEngine};
use serde_json::json;

/// runc's CVE-2019-5736: a container process that reaches the runtime's /proc/PID/exe must not
/// be able to overwrite the host binary. The shim (the container init's parent, and what the
/// init is until its execve) runs from a sealed memfd copy.
#[test]
fn cve_2019_5736_the_shim_runs_from_a_sealed_copy_not_the_host_binary() {
    let e = TestEngine::with_busybox();
    let id = run_detached(&e, sh("exec sleep 600"));
    let pid = inspect(&e, &id)["State"]["Pid"].as_u64().unwrap() as u32;
    let shim = procfs::ppid(pid);
    let exe = format!("/proc/{shim}/exe");
    // Reachable and readable (the positive case)...
    assert!(std::fs::File::open(&exe).is_ok());
    let target = std::fs::read_link(&exe).unwrap();
    assert!(
        target.to_string_lossy().starts_with("/memfd:berth-shim"),
        "{target:?}"
    );
    // ...but not writable, even by root.
    let w = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&exe);
    assert!(w.is_err(), "the shim's executable opened for writing");
}

/// runc's CVE-2024-21626: a working directory given as a leaked fd (`-w /proc/self/fd/N`) must
/// not leave the container's root.
#[test]
fn cve_2024_21626_a_workdir_through_a_leaked_fd_stays_inside() {
    let e = TestEngine::with_busybox();
    let o = e.docker(&[
        "run",
        "--rm",
        "-w",
        "/tmp",
        "busybox",
        "readlink",
        "/proc/self/cwd",
    ]);
    assert_eq!(stdout(&o), "/tmp\n");
    for fd in 3..=9 {
        let w = format!("/proc/self/fd/{fd}");
        let o = e.docker(&[
            "run",
            "--rm",
            "-w",
            &w,
            "busybox",
            "readlink",
            "/proc/self/cwd",
        ]);
        let cwd = stdout(&o);
        assert!(
            !o.status.success() || (!cwd.contains("unreachable") && cwd.starts_with('/')),
            "fd {fd}: {cwd} {}",
            stderr(&o)
        );
        assert!(!cwd.contains("unreachable"), "fd {fd} escaped: {cwd}");
    }
}

/// containerd's CVE-2022-23648: image VOLUME paths are cleaned and joined inside the rootfs. A
/// volume on a symlink that climbs to a host directory gets an empty volume inside the
/// container, never the host directory's content; a `..` path is refused.
#[test]
fn cve_2022_23648_image_volume_paths_stay_inside_the_rootfs() {
    let e = TestEngine::with_busybox();
    let victim = tempfile::tempdir().unwrap();
    std::fs::write(victim.path().join("host-secret"), "secret\n").unwrap();
    let tar = e.dir.path().join("volimg.tar");
    std::fs::write(&tar, crate::volumes::image_tar(victim.path())).unwrap();
    let tar = tar.display().to_string();
    let import = |tag: &str, volume: &str| {
        ok(&e.docker(&["import", "--change", &format!("VOLUME {volume}"), &tar, tag]));
    };
    // The legitimate volume gets the image's content (docker's copy-up).
    import("vol:data", "/data");
    let seed = ok(&e.docker(&["run", "--rm", "vol:data", "cat", "/data/private/seed"]));
    assert_eq!(seed, "seed\n");
    // /escape -> ../../../<victim>: the volume lands inside the rootfs, empty.
    import("vol:escape", "/escape");
    let o = e.docker(&[
        "run",
        "--rm",
        "vol:escape",
        "sh",
        "-c",
        "cat /escape/host-secret; ls -A /escape/",
    ]);
    assert!(!stdout(&o).contains("secret"), "{}", stdout(&o));
    let climb = format!("/../../../../../../..{}", victim.path().display());
    import("vol:climb", &climb);
    let o = e.docker(&[
        "run",
        "--rm",
        "vol:climb",
        "cat",
        &format!("{climb}/host-secret"),
    ]);
    assert!(!stdout(&o).contains("secret"), "{}", stdout(&o));
    let names: Vec<_> = std::fs::read_dir(victim.path())
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    assert_eq!(names, ["host-secret"], "the host directory was touched");
}

/// runc's CVE-2022-36109: supplementary groups come from the image's /etc/group, never from
/// the engine's own (root's) groups.
#[test]
fn cve_2022_36109_supplementary_groups_come_from_the_image() {
    let e = TestEngine::with_busybox();
    // The image's /etc/group puts `app` in staff (50) and audio (29).
    let member = ok(&e.docker(&["run", "--rm", "-u", "app", "busybox", "id", "-G"]));
    let mut groups: Vec<&str> = member.split_whitespace().collect();
    groups.sort();
    assert_eq!(groups, ["1000", "29", "50"], "{member}");
    // A uid the image does not know gets its gid alone, not the engine's groups.
    let stranger = ok(&e.docker(&["run", "--rm", "-u", "4321:4321", "busybox", "id", "-G"]));
    assert_eq!(stranger, "4321\n");
    let status = ok(&e.docker(&[
        "run",
        "--rm",
        "-u",
        "4321:4321",
        "busybox",
        "grep",
        "^Groups:",
        "/proc/self/status",
    ]));
    // dockerd 20.10 shows the same: the primary gid only.
    assert_eq!(
        status.split_whitespace().collect::<Vec<_>>(),
        ["Groups:", "4321"],
        "{status}"
    );
}

/// CVE-2022-24769 and docker's default capability set for an exec'd process too: inheritable
/// and ambient stay empty, and a non-root user holds nothing effective.
#[test]
fn cve_2022_24769_exec_and_non_root_users_get_no_inheritable_or_ambient_capabilities() {
    let e = TestEngine::with_busybox();
    run_detached(
        &e,
        json!({"Image": "busybox", "name": "capexec", "Cmd": ["sleep", "600"]}),
    );
    let root = ok(&e.docker(&["exec", "capexec", "grep", "^Cap", "/proc/self/status"]));
    assert!(root.contains("CapEff:\t00000000a80425fb"), "{root}");
    assert!(root.contains("CapInh:\t0000000000000000"), "{root}");
    assert!(root.contains("CapAmb:\t0000000000000000"), "{root}");
    let user = ok(&e.docker(&[
        "exec",
        "-u",
        "1000",
        "capexec",
        "grep",
        "^Cap",
        "/proc/self/status",
    ]));
    for line in [
        "CapInh:\t0000000000000000",
        "CapPrm:\t0000000000000000",
        "CapEff:\t0000000000000000",
        "CapAmb:\t0000000000000000",
    ] {
        assert!(user.contains(line), "{line} in {user}");
    }
}

/// runc's 2025 mount-target CVEs (CVE-2025-52881 and its kin: writes redirected into /proc
/// through a mount destination): a bind whose destination is, or resolves through an image
/// symlink into, /proc is refused before anything is mounted.
#[test]
fn cve_2025_52881_mount_destinations_resolving_into_proc_are_refused() {
    let e = TestEngine::with_busybox();
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("f"), "payload\n").unwrap();
    let file = format!("{}/f", src.path().display());
    // The legitimate bind works.
    let bind = format!("{file}:/mnt/f");
    assert_eq!(
        ok(&e.docker(&["run", "--rm", "-v", &bind, "busybox", "cat", "/mnt/f"])),
        "payload\n"
    );
    let direct = format!("{file}:/proc/sys/kernel/core_pattern");
    let o = e.docker(&["run", "--rm", "-v", &direct, "busybox", "true"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("inside /proc"), "{}", stderr(&o));
    // Through a symlink the image carries.
    ok(&e.docker(&[
        "run",
        "--name",
        "linker",
        "busybox",
        "ln",
        "-s",
        "/proc/sys/kernel",
        "/evil",
    ]));
    ok(&e.docker(&["commit", "linker", "evil"]));
    let via_link = format!("{file}:/evil/core_pattern");
    let o = e.docker(&["run", "--rm", "-v", &via_link, "evil", "true"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("resolves into /proc"), "{}", stderr(&o));
    let host = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap();
    assert!(!host.contains("payload"));
}
