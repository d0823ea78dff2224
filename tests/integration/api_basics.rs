//! The API surface without running containers: negotiation headers, version prefixes, error
//! statuses and bodies for bad input.

use crate::common;

use common::TestEngine;

#[test]
fn ping_advertises_version_headers() {
    let e = TestEngine::start();
    let r = e.api("HEAD", "/_ping", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Api-Version"), Some("1.44"));
    assert_eq!(r.header("Ostype"), Some("linux"));
    assert_eq!(r.header("Builder-Version"), Some("1"));
    assert!(r.body.is_empty());
    let r = e.api("GET", "/_ping", None);
    assert_eq!(r.text(), "OK");
    let r = e.api("GET", "/v1.44/version", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ApiVersion"], "1.44");
    assert_eq!(r.json()["MinAPIVersion"], "1.24");
    assert!(r.header("Server").unwrap_or_default().starts_with("berth/"));
}

#[test]
fn version_prefixes_outside_the_range_are_rejected() {
    let e = TestEngine::start();
    assert_eq!(e.api("GET", "/v1.24/info", None).status, 200);
    let r = e.api("GET", "/v1.45/info", None);
    assert_eq!(r.status, 400);
    assert!(r.message().contains("too new"), "{}", r.message());
    let r = e.api("GET", "/v1.19/info", None);
    assert_eq!(r.status, 400);
    assert!(r.message().contains("too old"), "{}", r.message());
}

#[test]
fn unknown_things_are_clean_404s() {
    let e = TestEngine::start();
    let r = e.api("GET", "/v1.44/nope", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "page not found");
    let r = e.api("GET", "/v1.44/containers/doesnotexist/json", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "No such container: doesnotexist");
    let r = e.api("GET", "/v1.44/images/nosuchimage/json", None);
    assert_eq!(r.status, 404);
    assert!(r.message().contains("No such image"), "{}", r.message());
    let r = e.api(
        "POST",
        "/v1.44/containers/create",
        Some(r#"{"Image":"nosuchimage"}"#),
    );
    assert_eq!(r.status, 404);
    assert!(
        r.message().contains("No such image: nosuchimage"),
        "{}",
        r.message()
    );
}

#[test]
fn malformed_requests_are_400s() {
    let e = TestEngine::with_busybox();
    let r = e.api("POST", "/v1.44/containers/create", Some("{not json"));
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.message().contains("invalid JSON"), "{}", r.message());
    let r = e.api(
        "POST",
        "/v1.44/containers/create",
        Some(r#"{"Image":"busybox","HostConfig":{"Memory":1000}}"#),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.message().contains("Minimum memory limit"),
        "{}",
        r.message()
    );
    let r = e.api(
        "POST",
        "/v1.44/containers/create?name=bad%20name",
        Some(r#"{"Image":"busybox","Cmd":["true"]}"#),
    );
    assert_eq!(r.status, 400);
    let r = e.api("GET", "/v1.44/containers/json?filters=%7Bbad", None);
    assert_eq!(r.status, 400);
    let r = e.api("GET", "/v1.44/containers/json?all=maybe", None);
    assert_eq!(r.status, 400);
}

#[test]
fn duplicate_names_conflict_and_survive_restart() {
    let mut e = TestEngine::with_busybox();
    let body = r#"{"Image":"busybox","Cmd":["true"]}"#;
    let r = e.api("POST", "/containers/create?name=web", Some(body));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["Id"].as_str().unwrap().to_owned();
    let r = e.api("POST", "/containers/create?name=web", Some(body));
    assert_eq!(r.status, 409);
    assert!(r.message().contains("is already in use"), "{}", r.message());
    e.terminate();
    e.spawn();
    let v = e.api_json("GET", "/containers/web/json", None);
    assert_eq!(v["Id"], id.as_str());
    assert_eq!(v["State"]["Status"], "created");
    assert_eq!(
        e.api("POST", "/containers/create?name=web", Some(body))
            .status,
        409
    );
}

#[test]
fn cve_2021_41091_data_root_0700_and_socket_0660() {
    use std::os::unix::fs::PermissionsExt;
    let e = TestEngine::start();
    let mode = std::fs::metadata(&e.data_root)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);
    let mode = std::fs::metadata(&e.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
}

#[test]
fn a_second_engine_on_the_same_data_root_is_refused() {
    let e = TestEngine::start();
    let out = std::process::Command::new(common::BERTH)
        .args(["engine", "--socket"])
        .arg(e.dir.path().join("other.sock"))
        .arg("--data-root")
        .arg(&e.data_root)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(err.contains("another berth engine"), "{err}");
}
