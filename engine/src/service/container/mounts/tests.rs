//! Unit tests of bind, mount and tmpfs parsing.

use super::*;

fn host(v: serde_json::Value) -> HostConfig {
    serde_json::from_value(v).unwrap()
}

fn err(r: Result<Vec<Requested>>) -> String {
    match r {
        Err(EngineError::InvalidArgument(m)) => m,
        other => panic!("expected 400, got {other:?}"),
    }
}

#[test]
fn binds_follow_docker_syntax() {
    let v = parse_bind("data:/srv/../data:ro").unwrap();
    assert_eq!(
        v,
        Requested::Volume {
            name: Some("data".into()),
            destination: "/data".into(),
            rw: false,
            mode: "ro".into(),
            nocopy: false,
            labels: HashMap::new(),
            driver_opts: HashMap::new(),
            subpath: String::new(),
        }
    );
    match parse_bind("/host/dir:/x").unwrap() {
        Requested::Bind {
            source,
            rw,
            propagation,
            create_source,
            ..
        } => {
            assert_eq!(source, PathBuf::from("/host/dir"));
            assert!(rw && create_source);
            assert_eq!(propagation, "rprivate");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_bind("v1:/x:nocopy").unwrap(),
        Requested::Volume { nocopy: true, .. }
    ));
    for bad in [
        "",
        ":/x",
        "/a:/b:c:d",
        "/a:/b:bogus",
        "v:rel",
        "/a:/",
        "bad$name:/x",
        "/x:ro",
        "/a:/b:ro,rw",
    ] {
        assert!(parse_bind(bad).is_err(), "{bad:?} should be rejected");
    }
    assert_eq!(
        parse_bind("/a:/b:bogus").unwrap_err().to_string(),
        "invalid mode: bogus"
    );
    assert_eq!(
        parse_bind("/a:/b:c:d").unwrap_err().to_string(),
        "invalid volume specification: '/a:/b:c:d'"
    );
}

#[test]
fn mounts_and_tmpfs() {
    let h = host(serde_json::json!({
        "Mounts": [
            {"Type": "volume", "Source": "vv", "Target": "/v", "VolumeOptions": {"NoCopy": true}},
            {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 448}},
        ],
        "Tmpfs": {"/run": "size=64m,exec"},
    }));
    let got = parse(&ContainerConfig::default(), &h, None).unwrap();
    assert_eq!(got.len(), 3);
    assert!(got.contains(&Requested::Tmpfs {
        destination: "/t".into(),
        data: "size=1048576,mode=700".into(),
        flags: vec!["nosuid".into(), "nodev".into(), "noexec".into()],
    }));
    assert!(got.contains(&Requested::Tmpfs {
        destination: "/run".into(),
        data: format!("size={}", 64 << 20),
        flags: vec!["nosuid".into(), "nodev".into(), "exec".into()],
    }));
    let missing = host(serde_json::json!({
        "Mounts": [{"Type": "bind", "Source": "/definitely/not/here", "Target": "/x"}]
    }));
    assert!(err(parse(&ContainerConfig::default(), &missing, None))
        .contains("bind source path does not exist: /definitely/not/here"));
    for bad in [
        serde_json::json!({"Mounts": [{"Type": "nfs", "Target": "/x"}]}),
        serde_json::json!({"Mounts": [{"Type": "volume", "Source": "v"}]}),
        serde_json::json!({"Mounts": [{"Type": "tmpfs", "Source": "/a", "Target": "/x"}]}),
        serde_json::json!({"Tmpfs": {"/x": "size=lots"}}),
        serde_json::json!({"Tmpfs": {"relative": ""}}),
        serde_json::json!({"Binds": ["/a:/x", "v:/x"]}),
        serde_json::json!({"Binds": ["/a:/proc/sys"]}),
    ] {
        err(parse(&ContainerConfig::default(), &host(bad), None));
    }
}

#[test]
fn anonymous_volumes_from_config_and_image() {
    let cfg = ContainerConfig {
        volumes: Some(HashMap::from([(
            "/data".to_string(),
            serde_json::json!({}),
        )])),
        ..Default::default()
    };
    let img = HashMap::from([
        ("/data".to_string(), serde_json::json!({})),
        ("/cache/".to_string(), serde_json::json!({})),
    ]);
    let h = host(serde_json::json!({"Binds": ["named:/cache"]}));
    let got = parse(&cfg, &h, Some(&img)).unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.iter().any(
        |r| matches!(r, Requested::Volume { name: None, destination, .. } if destination == "/data")
    ));
    assert!(got
        .iter()
        .any(|r| matches!(r, Requested::Volume { name: Some(n), .. } if n == "named")));
    let evil = HashMap::from([("/../../etc".to_string(), serde_json::json!({}))]);
    err(parse(
        &ContainerConfig::default(),
        &HostConfig::default(),
        Some(&evil),
    ));
}

#[test]
fn clean_destination_never_climbs() {
    assert_eq!(clean_destination("/a/./b/../c/").unwrap(), "/a/c");
    assert_eq!(clean_destination("/../../x").unwrap(), "/x");
    assert!(clean_destination("rel").is_none());
    assert!(valid_volume_name("my-vol.1"));
    assert!(!valid_volume_name("a"));
    assert!(!valid_volume_name("-a"));
    assert!(!valid_volume_name("a/b"));
}

#[test]
fn a_volume_subpath_must_stay_inside_the_volume() {
    let with = |subpath: &str| {
        host(
            serde_json::json!({"Mounts": [{"Type": "volume", "Source": "vv", "Target": "/v",
            "VolumeOptions": {"Subpath": subpath}}]}),
        )
    };
    for good in ["a", "a/b", "a/../b", "./a/", "a/b/../../c"] {
        let got = parse(&ContainerConfig::default(), &with(good), None).unwrap();
        assert!(
            matches!(&got[0], Requested::Volume { subpath, .. } if subpath == good),
            "{got:?}"
        );
    }
    for bad in ["..", "../a", "/a", "a/../../b"] {
        assert_eq!(
            err(parse(&ContainerConfig::default(), &with(bad), None)),
            "invalid mount config for type \"volume\": subpath must be a relative path within the volume",
            "{bad}"
        );
    }
}

#[test]
fn a_volume_subpath_is_resolved_beneath_the_volume_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("_data");
    std::fs::create_dir_all(vol.join("sub/dir")).unwrap();
    std::os::unix::fs::symlink("/etc", vol.join("abs")).unwrap();
    std::os::unix::fs::symlink("..", vol.join("sub/up")).unwrap();
    let point = |subpath: &str| MountPoint {
        kind: MountType::Volume,
        name: "vv".into(),
        source: vol.clone(),
        destination: "/v".into(),
        mode: String::new(),
        rw: true,
        propagation: String::new(),
        copy_data: false,
        anonymous: false,
        tmpfs_data: String::new(),
        tmpfs_flags: Vec::new(),
        subpath: subpath.into(),
    };
    let specs = runtime_mounts(&[point("sub/dir"), point("sub/up/sub")]).unwrap();
    let real = std::fs::canonicalize(&vol).unwrap();
    assert_eq!(specs[0].source, real.join("sub/dir"));
    assert_eq!(specs[1].source, real.join("sub"));
    match runtime_mounts(&[point("nosuch")]) {
        Err(EngineError::NotFound(m)) => {
            assert_eq!(m, "cannot access path nosuch: no such file or directory")
        }
        other => panic!("{other:?}"),
    }
    for escape in ["abs", "sub/up/.."] {
        assert!(
            matches!(
                runtime_mounts(&[point(escape)]),
                Err(EngineError::InvalidArgument(_))
            ),
            "{escape}"
        );
    }
}
