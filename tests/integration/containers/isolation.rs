//! What a container may do: environment, workdir, user and groups, capabilities, masked
//! paths, inherited fds, seccomp, its own network namespace, cgroup limits, read-only rootfs.

use super::*;

#[test]
fn environment_workdir_user_and_groups() {
    let e = TestEngine::with_busybox();
    let (_, out, _) = run(
        &e,
        serde_json::json!({
            "Image": "busybox",
            "Cmd": ["sh", "-c", "echo $FOO; echo $PATH; echo $HOSTNAME; echo $HOME; pwd; id"],
            "Env": ["FOO=bar"],
            "WorkingDir": "/tmp/work",
            "Hostname": "myhost",
        }),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "bar");
    assert_eq!(
        lines[1],
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    );
    assert_eq!(lines[2], "myhost");
    assert_eq!(lines[3], "/root");
    assert_eq!(lines[4], "/tmp/work");
    assert!(
        lines[5].starts_with("uid=0(root) gid=0(root)"),
        "{}",
        lines[5]
    );

    let (_, out, _) = run(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["sh", "-c", "id; echo $HOME"], "User": "app"}),
    );
    assert!(
        out.starts_with("uid=1000(app) gid=1000(app) groups=29(audio),50(staff),1000(app)"),
        "{out}"
    );
    assert!(out.ends_with("/home/app\n"), "{out}");
    let (_, out, _) = run(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["id"], "User": "1234:50"}),
    );
    assert!(out.starts_with("uid=1234 gid=50(staff)"), "{out}");
    let id = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["id"], "User": "nosuchuser"}),
    );
    let r = e.api("POST", &format!("/containers/{id}/start"), None);
    assert!(r.status >= 400);
    assert!(r.message().contains("nosuchuser"), "{}", r.message());
}

#[test]
fn cve_2022_24769_default_capabilities_inheritable_and_ambient_empty() {
    let e = TestEngine::with_busybox();

    let (_, out, _) = run(
        &e,
        sh("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status"),
    );
    assert!(out.contains("CapEff:\t00000000a80425fb"), "{out}");
    assert!(out.contains("CapBnd:\t00000000a80425fb"), "{out}");
    assert!(out.contains("CapInh:\t0000000000000000"), "{out}");
    assert!(out.contains("CapAmb:\t0000000000000000"), "{out}");
}

#[test]
fn masked_and_read_only_kernel_paths() {
    let e = TestEngine::with_busybox();

    // Masked: /proc/interrupts and /proc/timer_list read as empty, /sys/firmware is an empty dir; /proc/sys read-only.
    let (_, out, err) = run(
        &e,
        sh("wc -c < /proc/interrupts; wc -c < /proc/timer_list; echo 1 > /proc/sys/kernel/domainname && echo writable || echo readonly; \
            if [ -e /sys/firmware ]; then ls -A /sys/firmware | wc -l; else echo 0; fi"),
    );
    assert_eq!(out, "0\n0\nreadonly\n0\n", "{out} {err}");
}

#[test]
fn cve_2024_21626_only_stdio_is_open_in_the_containers_first_process() {
    let e = TestEngine::with_busybox();

    // Only 0, 1, 2 are open in the container's first process (the shell; ls is its child).
    let (_, out, _) = run(&e, sh("ls /proc/1/fd; true"));
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["0", "1", "2"],
        "{out}"
    );
}

#[test]
fn seccomp_refuses_new_namespaces_without_cap_sys_admin() {
    let e = TestEngine::with_busybox();

    // Seccomp: namespaces cannot be created without CAP_SYS_ADMIN.
    let (code, _, _) = run(&e, sh("unshare -U true"));
    assert_ne!(code, 0);
}

#[test]
fn a_container_has_its_own_network_namespace() {
    let e = TestEngine::with_busybox();

    // The container's own network namespace: loopback and its bridge endpoint only.
    let (_, out, _) = run(&e, sh("ls /sys/class/net"));
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["eth0", "lo"],
        "{out}"
    );
}

#[test]
fn memory_limit_oom_kills_with_137() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        serde_json::json!({
            "Image": "busybox",
            "Cmd": ["tail", "/dev/zero"],
            "HostConfig": {"Memory": 16 * 1024 * 1024, "MemorySwap": 16 * 1024 * 1024}
        }),
    );
    start(&e, &id);
    assert_eq!(wait(&e, &id), 137);
    let v = inspect(&e, &id);
    assert_eq!(v["State"]["OOMKilled"], true);
}

#[test]
fn pids_limit_is_enforced() {
    let e = TestEngine::with_busybox();
    let (_, out, err) = run(
        &e,
        serde_json::json!({
            "Image": "busybox",
            "Cmd": ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done; wait; echo done"],
            "HostConfig": {"PidsLimit": 4}
        }),
    );
    assert!(
        err.contains("can't fork") || err.contains("Resource temporarily unavailable"),
        "out={out} err={err}"
    );
}

#[test]
fn cpu_limits_reach_the_cgroup() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        serde_json::json!({
            "Image": "busybox",
            "Cmd": ["sleep", "300"],
            "HostConfig": {"NanoCpus": 500_000_000i64, "CpuShares": 512}
        }),
    );
    start(&e, &id);
    let (quota, shares) = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        let max = std::fs::read_to_string(format!("/sys/fs/cgroup/berth/{id}/cpu.max")).unwrap();
        (
            max.split_whitespace().next().unwrap().to_owned(),
            String::new(),
        )
    } else {
        let quota =
            std::fs::read_to_string(format!("/sys/fs/cgroup/cpu/berth/{id}/cpu.cfs_quota_us"))
                .unwrap();
        let shares =
            std::fs::read_to_string(format!("/sys/fs/cgroup/cpu/berth/{id}/cpu.shares")).unwrap();
        (quota.trim().to_owned(), shares.trim().to_owned())
    };
    assert_eq!(quota, "50000");
    if !shares.is_empty() {
        assert_eq!(shares, "512");
    }
    e.api("DELETE", &format!("/containers/{id}?force=1"), None);
}

#[test]
fn a_read_only_rootfs_refuses_writes() {
    let e = TestEngine::with_busybox();

    let (code, _, err) = run(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["touch", "/x"], "HostConfig": {"ReadonlyRootfs": true}}),
    );
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");
}

#[test]
fn host_network_shows_the_hosts_interfaces() {
    let e = TestEngine::with_busybox();

    let (_, out, _) = run(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["ls", "/sys/class/net"], "HostConfig": {"NetworkMode": "host"}}),
    );
    assert!(
        out.split_whitespace().count() > 1,
        "host network shows host interfaces: {out}"
    );
}
