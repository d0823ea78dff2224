//! `--mount` parsing tests: BuildKit's defaults and error messages, the deferred check of values
//! with variables, and the Go value parsers.

use super::*;

fn p(s: &str) -> Result<RunMount, String> {
    let id = |v: &str| Ok(v.to_string());
    parse_mount(s, Some(&id)).map_err(|e| e.message)
}

#[test]
fn cache_mount_with_every_option() {
    assert_eq!(
        p("type=cache,target=/root/.cache,id=pip,sharing=locked,from=base,source=/c,mode=0755,uid=1000,gid=1000,ro"),
        Ok(RunMount::Cache {
            target: "/root/.cache".into(),
            id: Some("pip".into()),
            sharing: Sharing::Locked,
            from: Some("base".into()),
            source: Some("/c".into()),
            mode: Some(0o755),
            uid: Some(1000),
            gid: Some(1000),
            read_only: true,
        })
    );
    assert_eq!(
        p("type=cache,dst=/x"),
        Ok(RunMount::Cache {
            target: "/x".into(),
            id: None,
            sharing: Sharing::Shared,
            from: None,
            source: None,
            mode: None,
            uid: None,
            gid: None,
            read_only: false,
        })
    );
}

#[test]
fn bind_defaults_read_only() {
    assert_eq!(
        p("target=/src"),
        Ok(RunMount::Bind {
            target: "/src".into(),
            source: None,
            from: None,
            read_write: false
        })
    );
    assert_eq!(
        p("type=bind,source=a,destination=/b,from=build,rw"),
        Ok(RunMount::Bind {
            target: "/b".into(),
            source: Some("a".into()),
            from: Some("build".into()),
            read_write: true
        })
    );
    assert_eq!(
        p("type=bind,target=/b,readwrite=true"),
        Ok(RunMount::Bind {
            target: "/b".into(),
            source: None,
            from: None,
            read_write: true
        })
    );
}

#[test]
fn tmpfs_and_secret() {
    assert_eq!(
        p("type=tmpfs,target=/t,size=64m"),
        Ok(RunMount::Tmpfs {
            target: "/t".into(),
            size: Some(64 << 20)
        })
    );
    assert_eq!(
        p("type=secret,id=tok"),
        Ok(RunMount::Secret {
            id: "tok".into(),
            target: None,
            env: None,
            required: false,
            mode: None,
            uid: None,
            gid: None
        })
    );
    assert_eq!(
        p("type=secret,target=/etc/key,required,mode=0400,uid=1"),
        Ok(RunMount::Secret {
            id: "key".into(),
            target: Some("/etc/key".into()),
            env: None,
            required: true,
            mode: Some(0o400),
            uid: Some(1),
            gid: None
        })
    );
    assert_eq!(
        p("type=secret,src=tok,required=false")
            .map(|m| matches!(m, RunMount::Secret { ref id, required: false, .. } if id == "tok")),
        Ok(true)
    );
}

#[test]
fn buildkit_errors() {
    assert_eq!(
        p("type=foo,target=/x").unwrap_err(),
        "unsupported mount type \"foo\""
    );
    assert_eq!(
        p("type=cache,target=/x,sharing=bad").unwrap_err(),
        "unsupported sharing value \"bad\""
    );
    assert_eq!(
        p("type=bind,target=/x,mode=0644").unwrap_err(),
        "mode not allowed for \"bind\" type mounts"
    );
    assert_eq!(
        p("type=bind,target=/x,size=1m").unwrap_err(),
        "unexpected key 'size' for mount type 'bind'"
    );
    assert_eq!(
        p("type=cache,target=/x,required").unwrap_err(),
        "unexpected key 'required' for mount type 'cache'"
    );
    assert_eq!(
        p("type=cache,target").unwrap_err(),
        "invalid field 'target' must be a key=value pair"
    );
    assert_eq!(
        p("type=cache,foo=1").unwrap_err(),
        "unexpected key 'foo' in 'foo=1'"
    );
    assert_eq!(
        p("type=cache,target=/x,ro=maybe").unwrap_err(),
        "invalid value for ro: maybe"
    );
    assert_eq!(
        p("type=cache,target=/x,uid=-1").unwrap_err(),
        "invalid value -1 for uid"
    );
    assert_eq!(
        p("type=secret").unwrap_err(),
        "invalid secret mount. one of source, target required"
    );
    assert_eq!(
        p("type=secret,id=a,src=b").unwrap_err(),
        "both source and id can't be set"
    );
    assert_eq!(
        p("type=secret,id=a,from=x").unwrap_err(),
        "secret mount should not have a from"
    );
    assert_eq!(
        p("type=tmpfs,target=/x,sharing=locked").unwrap_err(),
        "invalid cache sharing set for tmpfs mount"
    );
    assert_eq!(
        p("type=cache,from=$X/y,target=/a").unwrap_err(),
        "'from' doesn't support variable expansion, define alias stage instead"
    );
    assert_eq!(
        p("type=cache").unwrap_err(),
        "mount type cache requires a target"
    );
    assert!(p("type=ssh").unwrap_err().contains("not supported"));
}

#[test]
fn unexpanded_values_are_checked_later() {
    let m = parse_mount("type=cache,target=$HOME/.cache,uid=$UID", None).unwrap();
    assert!(matches!(m, RunMount::Cache { uid: None, .. }));
    assert!(parse_mount("type=cache,target=/x,bogus=$X", None).is_err());
}

#[test]
fn csv_quoting() {
    assert_eq!(csv_fields("a,\"b,c\",d").unwrap(), vec!["a", "b,c", "d"]);
    assert_eq!(csv_fields("\"x\"\"y\"").unwrap(), vec!["x\"y"]);
    assert!(csv_fields("a\"b").is_err());
    assert_eq!(ram_in_bytes("1g"), Some(1 << 30));
    assert_eq!(ram_in_bytes("10MiB"), Some(10 << 20));
    assert_eq!(ram_in_bytes("512"), Some(512));
    assert_eq!(ram_in_bytes("x"), None);
}
