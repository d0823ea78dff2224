//! Tests of the credential store: server keys, config.json round trips, helpers.

use super::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn store() -> (tempfile::TempDir, CredStore) {
    let d = tempfile::tempdir().unwrap();
    let s = CredStore::at(d.path().join("docker"));
    (d, s)
}

#[test]
fn credentials_server_keys() {
    assert_eq!(server_key(None), INDEX_SERVER);
    assert_eq!(server_key(Some("docker.io")), INDEX_SERVER);
    assert_eq!(
        server_key(Some("https://index.docker.io/v1/")),
        INDEX_SERVER
    );
    assert_eq!(server_key(Some("http://127.0.0.1:5000/")), "127.0.0.1:5000");
    assert_eq!(server_key(Some("ghcr.io")), "ghcr.io");
    assert_eq!(key_for_image("busybox").unwrap(), INDEX_SERVER);
    assert_eq!(key_for_image("user/app:1").unwrap(), INDEX_SERVER);
    assert_eq!(
        key_for_image("127.0.0.1:5000/a/b:tag").unwrap(),
        "127.0.0.1:5000"
    );
    assert!(key_for_image("UPPER/case").is_err());
}

#[test]
fn credentials_file_roundtrip_keeps_other_fields_and_mode() {
    let (_d, s) = store();
    std::fs::create_dir_all(s.path().parent().unwrap()).unwrap();
    std::fs::write(
        s.path(),
        r#"{"proxies":{"default":{"httpProxy":"http://p:3128"}},"auths":{"https://old.example.com/v1/":{"auth":"b2xkOnNlY3JldA=="}}}"#,
    )
    .unwrap();
    assert_eq!(s.get("127.0.0.1:5000").unwrap(), None);
    // Legacy URL keys match by hostname.
    let old = s.get("old.example.com").unwrap().unwrap();
    assert_eq!(
        (old.username.as_str(), old.password.as_str()),
        ("old", "secret")
    );

    let a = AuthConfig {
        username: "me".into(),
        password: "p:ss".into(),
        ..Default::default()
    };
    s.store("127.0.0.1:5000", &a).unwrap();
    let mode = std::fs::metadata(s.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let raw: Value = serde_json::from_slice(&std::fs::read(s.path()).unwrap()).unwrap();
    assert_eq!(raw["proxies"]["default"]["httpProxy"], "http://p:3128");
    assert_eq!(raw["auths"]["127.0.0.1:5000"]["auth"], "bWU6cDpzcw==");
    let got = s.get("127.0.0.1:5000").unwrap().unwrap();
    assert_eq!(got.username, "me");
    assert_eq!(got.password, "p:ss");
    assert_eq!(got.serveraddress, "127.0.0.1:5000");

    s.store(
        INDEX_SERVER,
        &AuthConfig {
            identitytoken: "tok".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.get(INDEX_SERVER).unwrap().unwrap().identitytoken, "tok");

    assert!(s.erase("127.0.0.1:5000").unwrap());
    assert!(!s.erase("127.0.0.1:5000").unwrap());
    assert_eq!(s.get("127.0.0.1:5000").unwrap(), None);
    assert!(known_servers(&s).unwrap().contains_key(INDEX_SERVER));
    // No temp files left behind.
    let names: Vec<_> = std::fs::read_dir(s.path().parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn credentials_bad_file_is_an_error() {
    let (_d, s) = store();
    std::fs::create_dir_all(s.path().parent().unwrap()).unwrap();
    std::fs::write(s.path(), "{not json").unwrap();
    assert!(s.get("x").is_err());
    std::fs::write(s.path(), r#"{"auths":{"x":{"auth":"!!!"}}}"#).unwrap();
    assert!(s.get("x").is_err());
}

#[test]
fn credentials_header_is_base64url_json() {
    let a = AuthConfig {
        username: "u".into(),
        password: "??>>".into(),
        serveraddress: "h:1".into(),
        ..Default::default()
    };
    let h = encode_auth_header(&a).unwrap();
    assert!(!h.contains('+') && !h.contains('/'), "{h}");
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(&h)
        .unwrap();
    let v: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"username": "u", "password": "??>>", "serveraddress": "h:1"})
    );
}

/// A fake credential helper: a shell script keeping one JSON file per server in a dir.
fn fake_helper(dir: &Path, name: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let db = dir.join("helper-db");
    std::fs::create_dir_all(&db).unwrap();
    let script = format!(
        r#"#!/bin/sh
set -e
db={db}
case "$1" in
  store)
input=$(cat)
server=$(printf '%s' "$input" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
key=$(printf '%s' "$server" | tr '/:' '__')
printf '%s' "$input" > "$db/$key" ;;
  get)
server=$(cat)
key=$(printf '%s' "$server" | tr '/:' '__')
if [ -f "$db/$key" ]; then cat "$db/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase)
server=$(cat)
key=$(printf '%s' "$server" | tr '/:' '__')
if [ -f "$db/$key" ]; then rm "$db/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) echo "unknown action $1" >&2; exit 2 ;;
esac
"#,
        db = db.display()
    );
    let p = bin.join(format!("docker-credential-{name}"));
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn credentials_helpers_store_get_erase() {
    let (d, s) = store();
    let bin = fake_helper(d.path(), "berthtest");
    // PATH is process-wide: this is the only test in the crate that changes it, and it only
    // prepends a directory, so concurrent tests still find their programs.
    let old = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.clone()];
    paths.extend(std::env::split_paths(&old));
    std::env::set_var("PATH", std::env::join_paths(paths).unwrap());

    std::fs::create_dir_all(s.path().parent().unwrap()).unwrap();
    std::fs::write(
        s.path(),
        r#"{"credsStore":"berthtest","credHelpers":{"other.example":"missinghelper"}}"#,
    )
    .unwrap();
    assert_eq!(
        s.helper_name("127.0.0.1:5000").unwrap().as_deref(),
        Some("berthtest")
    );
    assert_eq!(s.get("127.0.0.1:5000").unwrap(), None);
    let a = AuthConfig {
        username: "alice".into(),
        password: "s3cret".into(),
        ..Default::default()
    };
    s.store("127.0.0.1:5000", &a).unwrap();
    // The secret is in the helper, not in the file.
    let text = std::fs::read_to_string(s.path()).unwrap();
    assert!(
        !text.contains("s3cret") && !text.contains("YWxpY2U"),
        "{text}"
    );
    let raw: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(raw["auths"]["127.0.0.1:5000"], serde_json::json!({}));
    let got = s.get("127.0.0.1:5000").unwrap().unwrap();
    assert_eq!(
        (got.username.as_str(), got.password.as_str()),
        ("alice", "s3cret")
    );

    // Identity tokens go through the helper as username "<token>".
    s.store(
        INDEX_SERVER,
        &AuthConfig {
            username: "bob".into(),
            identitytoken: "idtok".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let got = s.get(INDEX_SERVER).unwrap().unwrap();
    assert_eq!(got.identitytoken, "idtok");
    assert!(got.password.is_empty());

    assert!(s.erase("127.0.0.1:5000").unwrap());
    assert_eq!(s.get("127.0.0.1:5000").unwrap(), None);
    let raw: Value = serde_json::from_slice(&std::fs::read(s.path()).unwrap()).unwrap();
    assert!(raw["auths"].get("127.0.0.1:5000").is_none());

    // A per-registry helper that does not exist is a clear error.
    let err = s.get("other.example").unwrap_err().to_string();
    assert!(err.contains("docker-credential-missinghelper"), "{err}");
    std::env::set_var("PATH", old);
}
