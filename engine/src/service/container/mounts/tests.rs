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
