//! What containers see: binds both ways, read-only, files, missing sources, tmpfs options,
//! anonymous and image volumes, and symlinked mount targets kept inside the rootfs.

use super::*;

#[test]
fn named_volume_survives_rm_and_gets_the_image_content_docker_cli() {
    let e = TestEngine::with_busybox();
    let victim = tempfile::tempdir().unwrap();
    import_volume_image(&e, "volimg", victim.path());
    // First mount of an empty volume: the image's /data is copied in (owners, modes, links).
    let out = ok(&e.docker(&[
        "run", "--name", "first", "-v", "appdata:/data", "volimg", "sh", "-c",
        "cat /data/link; stat -c '%u:%g %a' /data/private/seed /data/private; echo persisted > /data/new",
    ]));
    assert_eq!(out, "seed\n1000:1000 640\n1000:1000 700\n");
    let on_disk = e.data_path("volumes/appdata/_data");
    assert_eq!(
        std::fs::read_link(on_disk.join("link")).unwrap(),
        Path::new("private/seed")
    );
    ok(&e.docker(&["rm", "-v", "first"]));
    // Named volumes survive `rm -v`; a new container (another image) sees the data.
    assert!(volume_names(&e).contains(&"appdata".to_string()));
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        "appdata:/srv",
        "busybox",
        "cat",
        "/srv/new",
        "/srv/private/seed",
    ]));
    assert_eq!(out, "persisted\nseed\n");
    // A volume with content is not overwritten by a later copy-up.
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        "appdata:/data",
        "volimg",
        "ls",
        "/data",
    ]));
    assert!(out.contains("new"), "{out}");
    // nocopy: the volume stays empty.
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=empty1,dst=/data,volume-nocopy",
        "volimg",
        "ls",
        "-A",
        "/data",
    ]));
    assert_eq!(out, "");
    // Inspect shows docker's mount shape.
    ok(&e.docker(&[
        "create",
        "--name",
        "insp",
        "-v",
        "appdata:/data:ro",
        "busybox",
        "true",
    ]));
    let v = e.api_json("GET", "/containers/insp/json", None);
    let m = &v["Mounts"][0];
    assert_eq!(m["Type"], "volume");
    assert_eq!(m["Name"], "appdata");
    assert_eq!(m["Destination"], "/data");
    assert_eq!(m["Driver"], "local");
    assert_eq!(m["RW"], false);
    assert_eq!(m["Mode"], "ro");
    assert_eq!(m["Source"], json!(on_disk));
    assert_eq!(v["HostConfig"]["Binds"], json!(["appdata:/data:ro"]));
    let out = ok(&e.docker(&[
        "volume",
        "inspect",
        "-f",
        "{{.Mountpoint}} {{.Driver}}",
        "appdata",
    ]));
    assert_eq!(out.trim(), format!("{} local", on_disk.display()));
}

#[test]
fn a_bind_mount_works_both_ways() {
    let e = TestEngine::with_busybox();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), "hello\n").unwrap();
    let spec = format!("{}:/mnt/h", host.path().display());

    // Both ways: the container reads the host's file and its write appears on the host.
    let out = ok(&e.berth(&[
        "run",
        "--rm",
        "-v",
        &spec,
        "busybox",
        "sh",
        "-c",
        "cat /mnt/h/from-host; echo back > /mnt/h/from-ct",
    ]));
    assert_eq!(out, "hello\n");
    assert_eq!(
        std::fs::read_to_string(host.path().join("from-ct")).unwrap(),
        "back\n"
    );
}

#[test]
fn read_only_binds_and_volumes_refuse_writes() {
    let e = TestEngine::with_busybox();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), "hello\n").unwrap();
    let spec = format!("{}:/mnt/h", host.path().display());

    // :ro makes writes fail, reads still work.
    let ro = format!("{spec}:ro");
    let o = e.docker(&[
        "run",
        "--rm",
        "-v",
        &ro,
        "busybox",
        "sh",
        "-c",
        "cat /mnt/h/from-host; echo x > /mnt/h/nope",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Read-only file system"),
        "{}",
        stderr(&o)
    );
    assert!(!host.path().join("nope").exists());
    let o = e.docker(&[
        "run",
        "--rm",
        "--mount",
        "type=volume,src=rov,dst=/v,readonly",
        "busybox",
        "touch",
        "/v/x",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn a_file_can_be_bind_mounted() {
    let e = TestEngine::with_busybox();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), "hello\n").unwrap();

    // A file bind.
    let file = host.path().join("from-host");
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "--mount",
        &format!("type=bind,src={},dst=/etc/greeting,ro", file.display()),
        "busybox",
        "cat",
        "/etc/greeting",
    ]));
    assert_eq!(out, "hello\n");
}

#[test]
fn a_missing_bind_source_is_created_by_v_and_refused_by_mount() {
    let e = TestEngine::with_busybox();
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), "hello\n").unwrap();

    // -v with a missing source creates it as a directory; --mount refuses.
    let missing = host.path().join("made/by/engine");
    ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/m", missing.display()),
        "busybox",
        "touch",
        "/m/f",
    ]));
    assert!(missing.join("f").is_file());
    let gone = host.path().join("gone");
    let o = e.docker(&[
        "run",
        "--rm",
        "--mount",
        &format!("type=bind,src={},dst=/m", gone.display()),
        "busybox",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("bind source path does not exist"),
        "{}",
        stderr(&o)
    );
    assert!(!gone.exists());
    let o = e.berth(&[
        "run",
        "--rm",
        "--mount",
        &format!("type=bind,src={},dst=/m", gone.display()),
        "busybox",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
    assert!(
        stderr(&o).contains("bind source path does not exist"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn tmpfs_mounts_honour_size_and_mode() {
    let e = TestEngine::with_busybox();
    let out = ok(&e.docker(&[
        "run", "--rm", "--tmpfs", "/scratch:size=1m,mode=1777", "busybox", "sh", "-c",
        "grep ' /scratch ' /proc/mounts; stat -c %a /scratch; dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>/dev/null; echo rc=$?; du -k /scratch/big",
    ]));
    assert!(
        out.starts_with("tmpfs /scratch tmpfs rw,nosuid,nodev,noexec"),
        "{out}"
    );
    assert!(out.contains("size=1024k"), "{out}");
    assert!(out.contains("\n1777\n"), "{out}");
    // The write beyond the size fails and what is stored stays within it.
    assert!(out.contains("rc=1"), "{out}");
    let kb: u64 = out
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(kb <= 1024, "{out}");
    let out = ok(&e.berth(&[
        "run",
        "--rm",
        "--mount",
        "type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=700",
        "busybox",
        "sh",
        "-c",
        "grep ' /t ' /proc/mounts; stat -c %a /t",
    ]));
    assert!(out.contains("size=2048k"), "{out}");
    assert!(out.ends_with("700\n"), "{out}");
}

#[test]
fn anonymous_volumes_image_volume_and_rm_v() {
    let e = TestEngine::with_busybox();
    let victim = tempfile::tempdir().unwrap();
    import_volume_image(&e, "volimg", victim.path());
    ok(&e.docker(&["volume", "create", "keepme"]));
    // Image VOLUME /data and -v /cache both get anonymous volumes; a named one is shared.
    ok(&e.docker(&[
        "create",
        "--name",
        "c1",
        "-v",
        "/cache",
        "-v",
        "keepme:/keep",
        "volimg",
        "true",
    ]));
    let v = e.api_json("GET", "/containers/c1/json", None);
    let mounts = v["Mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 3, "{mounts:?}");
    let anon: Vec<String> = mounts
        .iter()
        .filter(|m| m["Name"] != "keepme")
        .map(|m| m["Name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(anon.len(), 2);
    for a in &anon {
        assert_eq!(a.len(), 64);
        let vol = e.api_json("GET", &format!("/volumes/{a}"), None);
        assert!(vol["Labels"]
            .as_object()
            .unwrap()
            .contains_key("com.docker.volume.anonymous"));
    }
    ok(&e.docker(&["start", "-a", "c1"]));
    // The image's content was copied into the anonymous /data volume at start.
    let data = mounts.iter().find(|m| m["Destination"] == "/data").unwrap();
    assert!(Path::new(data["Source"].as_str().unwrap())
        .join("private/seed")
        .is_file());
    ok(&e.docker(&["rm", "-v", "c1"]));
    let names = volume_names(&e);
    assert_eq!(names, vec!["keepme".to_string()]);
    // `rm` without -v keeps anonymous volumes; `run --rm` removes them.
    ok(&e.berth(&["create", "--name", "c2", "-v", "/x", "busybox", "true"]));
    let anon2 = e.api_json("GET", "/containers/c2/json", None)["Mounts"][0]["Name"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(&e.berth(&["rm", "c2"]));
    assert!(volume_names(&e).contains(&anon2));
    ok(&e.docker(&["run", "--rm", "-v", "/y", "busybox", "true"]));
    let names = volume_names(&e);
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn cve_2021_30465_symlinked_mount_targets_stay_inside_the_rootfs() {
    let e = TestEngine::with_busybox();
    let victim_root = tempfile::tempdir().unwrap();
    let victim = victim_root.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    import_volume_image(&e, "evil", &victim);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("payload"), "payload\n").unwrap();
    let bind = |t: &str| format!("{}:{t}", src.path().display());
    // /target → /etc: the bind lands on the container's /etc/x, not the host's.
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        &bind("/target/x"),
        "-v",
        &bind("/escape/sub"),
        "--tmpfs",
        "/escape/t",
        "evil",
        "sh",
        "-c",
        "cat /etc/x/payload; readlink /escape; ls -d /escape/sub/payload /escape/t",
    ]));
    assert!(out.starts_with("payload\n"), "{out}");
    assert!(!Path::new("/etc/x").exists(), "the host's /etc was touched");
    // /escape climbs out with ../ to a real host directory: it was created inside the rootfs.
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "host path touched"
    );
    // And a bind straight onto the dangling link itself.
    ok(&e.docker(&[
        "run",
        "--rm",
        "-v",
        &bind("/escape"),
        "evil",
        "cat",
        "/escape/payload",
    ]));
    assert_eq!(
        std::fs::read_dir(&victim).unwrap().count(),
        0,
        "host path touched"
    );
    // Destinations in /proc are refused.
    let o = e.docker(&[
        "run",
        "--rm",
        "-v",
        &bind("/proc/sys/kernel"),
        "busybox",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125));
}
