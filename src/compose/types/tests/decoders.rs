//! Each lenient decoder against the forms compose-go accepts and the errors it gives.

use serde_json::{json, Value};

use super::super::{
    shell_split, Dec, Decode, Duration, FileMode, HostsList, MappingWithEquals, NanoCPUs, Project,
    UlimitsConfig, UnitBytes,
};

fn dec<T: Decode>(v: Value) -> Result<T, String> {
    serde_json::from_value::<Dec<T>>(v)
        .map(|d| d.0)
        .map_err(|e| e.to_string())
}

#[test]
fn durations() {
    let ns = |v: Value| dec::<Duration>(v).map(|d| d.0);
    assert_eq!(ns(json!("1m30s")), Ok(90_000_000_000));
    assert_eq!(ns(json!("10s")), Ok(10_000_000_000));
    assert_eq!(ns(json!("1h")), Ok(3_600_000_000_000));
    assert_eq!(ns(json!("1.5s")), Ok(1_500_000_000));
    assert_eq!(ns(json!("500ms")), Ok(500_000_000));
    assert_eq!(ns(json!("2d")), Ok(172_800_000_000_000));
    assert_eq!(ns(json!("1w")), Ok(604_800_000_000_000));
    assert_eq!(ns(json!("-5s")), Ok(-5_000_000_000));
    assert_eq!(ns(json!(0)), Ok(0));
    // A bare number has no unit: compose-go formats it and fails to parse it.
    assert_eq!(
        ns(json!(10)),
        Err("time: missing unit in duration \"10\"".into())
    );
    assert_eq!(
        ns(json!("5x")),
        Err("time: unknown unit \"x\" in duration \"5x\"".into())
    );
    assert!(ns(json!("")).is_err());
    assert!(ns(json!("s")).is_err());
    for (d, s) in [
        (90_000_000_000, "1m30s"),
        (3_723_000_000_000, "1h2m3s"),
        (3_600_000_000_000, "1h0m0s"),
        (500_000_000, "500ms"),
        (1_500, "1.5µs"),
        (1_001_000, "1.001ms"),
        (1_500_000_000, "1.5s"),
        (0, "0s"),
        (-1_000_000_000, "-1s"),
    ] {
        assert_eq!(super::super::durations::format(d), s);
    }
}

#[test]
fn byte_sizes() {
    let b = |v: Value| dec::<UnitBytes>(v).map(|u| u.0);
    assert_eq!(b(json!("1g")), Ok(1 << 30));
    assert_eq!(b(json!("512m")), Ok(512 << 20));
    assert_eq!(b(json!("512M")), Ok(512 << 20));
    assert_eq!(b(json!("12mb")), Ok(12 << 20));
    assert_eq!(b(json!("1073741824")), Ok(1 << 30));
    assert_eq!(b(json!(2048)), Ok(2048));
    assert!(b(json!("1x")).is_err());
}

#[test]
fn cpus_from_strings_and_numbers() {
    let c = |v: Value| dec::<NanoCPUs>(v).map(|n| n.0);
    assert_eq!(c(json!("0.5")), Ok(0.5));
    assert_eq!(c(json!(1.5)), Ok(1.5));
    assert_eq!(c(json!(2)), Ok(2.0));
    assert!(c(json!("half")).is_err());
}

#[test]
fn shell_split_like_go_shellwords() {
    let s = |l: &str| shell_split(l);
    let v = |a: &[&str]| Ok(a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(s("echo hello"), v(&["echo", "hello"]));
    assert_eq!(
        s(r#"sh -c "echo 'a b' && x""#),
        v(&["sh", "-c", "echo 'a b' && x"])
    );
    assert_eq!(s(r#"a\ b 'c\d' "e\"f""#), v(&["a b", r"c\d", "e\"f"]));
    assert_eq!(s("''"), v(&[""]));
    assert_eq!(s(""), v(&[]));
    assert_eq!(s("  a\t b\n"), v(&["a", "b"]));
    // Unquoted operators end the parse; the rest of the line is dropped.
    assert_eq!(s("echo a && echo b"), v(&["echo", "a"]));
    assert_eq!(s("echo a; b"), v(&["echo", "a"]));
    assert_eq!(s("echo 2>err x"), v(&["echo"]));
    assert_eq!(s("echo a>err"), v(&["echo", "a"]));
    // Grouping without execution.
    assert_eq!(
        s("echo $(date +%s) `x y`"),
        v(&["echo", "$(date +%s)", "`x y`"])
    );
    assert!(s("echo 'open").is_err());
    assert!(s("echo \"open").is_err());
    assert!(s("trailing\\").is_err());
    assert!(s("a (b)").is_err());
}

#[test]
fn ulimits_both_forms() {
    let u = |v: Value| dec::<UlimitsConfig>(v);
    assert_eq!(
        u(json!(65535)).map(|u| (u.single, u.soft, u.hard)),
        Ok((65535, 0, 0))
    );
    assert_eq!(
        u(json!({"soft": 1024, "hard": "2048"})).map(|u| (u.single, u.soft, u.hard)),
        Ok((0, 1024, 2048))
    );
    // mapstructure drops a key the struct lacks.
    assert_eq!(
        u(json!({"sfot": 1})).map(|u| (u.single, u.soft, u.hard)),
        Ok((0, 0, 0))
    );
}

#[test]
fn file_modes() {
    let m = |v: Value| dec::<FileMode>(v).map(|m| m.0);
    assert_eq!(m(json!("0440")), Ok(0o440));
    assert_eq!(m(json!("644")), Ok(0o644));
    assert_eq!(m(json!(288)), Ok(288));
    assert!(m(json!("0o644")).is_err());
    assert!(m(json!("9")).is_err());
    use super::super::{Format, GoMarshal, Node};
    assert_eq!(
        FileMode(0o440).marshal(Format::Json),
        Node::Str("0440".into())
    );
}

#[test]
fn booleans_and_integers_from_strings() {
    assert_eq!(dec::<bool>(json!("true")), Ok(true));
    assert_eq!(dec::<bool>(json!("FALSE")), Ok(false));
    assert_eq!(dec::<bool>(json!("yes")), Ok(true));
    assert_eq!(dec::<bool>(json!("off")), Ok(false));
    assert_eq!(
        dec::<bool>(json!("maybe")),
        Err("invalid boolean: maybe".into())
    );
    assert_eq!(dec::<i64>(json!("42")), Ok(42));
    assert_eq!(dec::<i64>(json!(-3)), Ok(-3));
    assert_eq!(dec::<u16>(json!("300")), Ok(300));
    assert!(dec::<i64>(json!("4x")).is_err());
    assert_eq!(dec::<String>(json!(8080)), Ok("8080".into()));
    assert_eq!(dec::<f32>(json!("0.25")), Ok(0.25));
}

#[test]
fn environment_list_and_map() {
    let m = dec::<MappingWithEquals>(json!(["A=1", "B", "C=", "D=x=y"])).unwrap();
    assert_eq!(m["A"], Some("1".into()));
    assert_eq!(m["B"], None);
    assert_eq!(m["C"], Some(String::new()));
    assert_eq!(m["D"], Some("x=y".into()));
    let m = dec::<MappingWithEquals>(json!({"N": 3, "F": 1.5, "T": true, "Z": null})).unwrap();
    assert_eq!(m["N"], Some("3".into()));
    assert_eq!(m["F"], Some("1.5".into()));
    assert_eq!(m["T"], Some("true".into()));
    assert_eq!(m["Z"], None);
    assert!(dec::<MappingWithEquals>(json!(["A =1"])).is_err());
}

#[test]
fn extra_hosts_list_and_map() {
    let h = dec::<HostsList>(json!([
        "a:1.2.3.4",
        "b=::1",
        "c=[::2]",
        "d=1.1.1.1,2.2.2.2"
    ]))
    .unwrap();
    assert_eq!(
        h.as_list("="),
        ["a=1.2.3.4", "b=::1", "c=::2", "d=1.1.1.1", "d=2.2.2.2"]
    );
    let h = dec::<HostsList>(json!({"x": "10.0.0.1", "y": ["::1", "10.0.0.2"]})).unwrap();
    assert_eq!(h.as_list(":"), ["x:10.0.0.1", "y:10.0.0.2", "y:::1"]);
    assert!(dec::<HostsList>(json!(["nohost"])).is_err());
}

#[test]
fn unknown_keys_are_dropped_and_errors_have_their_path() {
    // The schema refuses unknown keys before; mapstructure drops what the types lack.
    let p = Project::from_canonical(json!({
        "services": {"web": {"image": "x", "imgae": "y"}}
    }))
    .unwrap();
    assert_eq!(p.services["web"].image, "x");
    let err = Project::from_canonical(json!({
        "services": {"web": {"stop_grace_period": "5x"}}
    }))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "services.web.stop_grace_period: time: unknown unit \"x\" in duration \"5x\""
    );
    let err = Project::from_canonical(json!({
        "services": {"web": {"ports": [{"target": "eighty"}]}}
    }))
    .unwrap_err();
    assert_eq!(err.path, "services.web.ports[0].target");
}

#[test]
fn extensions_are_kept_apart() {
    let p = Project::from_canonical(json!({
        "name": "p",
        "version": "3.8",
        "x-top": 1,
        "services": {"web": {"image": "x", "x-svc": {"a": true}, "#extensions": {"x-more": 2}}}
    }))
    .unwrap();
    assert_eq!(p.extensions["x-top"], json!(1));
    let web = &p.services["web"];
    assert_eq!(web.extensions["x-svc"], json!({"a": true}));
    assert_eq!(web.extensions["x-more"], json!(2));
    assert_eq!(web.name, "web");
}

#[test]
fn volume_hash_defaults_the_driver_to_local() {
    use super::super::{network_hash, volume_hash, NetworkConfig, VolumeConfig};
    let bare = VolumeConfig {
        name: "p_data".into(),
        ..VolumeConfig::default()
    };
    let local = VolumeConfig {
        driver: "local".into(),
        ..bare.clone()
    };
    assert_eq!(volume_hash(&bare), volume_hash(&local));
    assert_ne!(volume_hash(&bare), volume_hash(&VolumeConfig::default()));
    // A network hashes its JSON as is (`"ipam":{}` included, as encoding/json writes it).
    let n = NetworkConfig::default();
    assert_eq!(super::super::to_go_json(&n), r#"{"ipam":{}}"#);
    assert_eq!(network_hash(&n).len(), 64);
}
