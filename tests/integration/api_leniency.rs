//! Requests podman's API test suite and docker-py send that a strict server gets wrong, each
//! answered as dockerd 20.10 answers it: raw characters in a request target, bad archives and
//! unreachable registries reported inside a 200 stream, an empty import, create's `platform`,
//! connecting a container to a network twice.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use serde_json::Value;

use crate::common::{self, ok, TestEngine};

/// The `errorDetail.message` of an NDJSON stream, if it has one.
fn stream_error(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| v["errorDetail"]["message"].as_str().map(str::to_owned))
}

#[test]
fn raw_quotes_and_brackets_in_a_query_are_taken_as_go_takes_them() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&[
        "create", "--name", "lenient", "--label", "x", "busybox", "true",
    ]));
    // curl --globoff sends the JSON unencoded; the `http` crate alone would refuse the `"`.
    let r = e.api(
        "GET",
        r#"/containers/json?all=1&filters={"label":["x"]}"#,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().as_array().unwrap().len(), 1, "{}", r.text());
    // `#` is data in a request URI (no fragment), `<`, `>` and a backtick too.
    let r = e.api(
        "GET",
        r#"/images/json?filters={"reference":["<b#`>"]}"#,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // Keep-alive: a body that looks like a request line is left alone and the next request on
    // the connection is rewritten too.
    let mut s = UnixStream::connect(&e.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = br#"{"Image":"busybox","Cmd":["GET /x?"]}"#;
    let mut req = format!(
        "POST /containers/create?name=ka HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req.extend_from_slice(
        b"GET /containers/json?all=1&filters={\"name\":[\"ka\"]} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    s.write_all(&req).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert_eq!(raw.matches("HTTP/1.1 201").count(), 1, "{raw}");
    assert_eq!(raw.matches("HTTP/1.1 200").count(), 1, "{raw}");
    assert!(raw.contains("\"/ka\""), "{raw}");
}

#[test]
fn a_bad_archive_on_load_is_an_error_in_a_200_stream() {
    let e = TestEngine::start();
    for body in [&b""[..], b"garbagegarbage"] {
        let r = common::http::request(&e.socket, "POST", "/images/load", Some(body)).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let text = r.text();
        let v: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert!(v["error"].is_string(), "{text}");
        assert_eq!(v["error"], v["errorDetail"]["message"], "{text}");
    }
}

#[test]
fn an_empty_import_is_an_empty_image() {
    let e = TestEngine::start();
    let r = common::http::request(
        &e.socket,
        "POST",
        "/images/create?fromSrc=-&repo=empty&tag=t1",
        Some(b""),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    let id = v["status"].as_str().unwrap();
    assert!(id.starts_with("sha256:"), "{text}");
    let img = e.api_json("GET", "/images/empty:t1/json", None);
    assert_eq!(img["Id"], id);
    assert_eq!(img["Size"], 0);
    // The digest of no bytes, as dockerd records it.
    assert_eq!(
        img["RootFS"]["Layers"],
        serde_json::json!([
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ])
    );
    // Its zero-byte layer survives save and load; a load without `quiet` is quiet, as dockerd's
    // default is.
    let saved = e.api("GET", "/images/empty:t1/get", None);
    assert_eq!(saved.status, 200);
    ok(&e.docker(&["rmi", "empty:t1"]));
    let r = common::http::request(&e.socket, "POST", "/images/load", Some(&saved.body)).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text().trim(), r#"{"stream":"Loaded image: empty:t1\n"}"#);
}

#[test]
fn unreachable_registries_answer_as_dockerd() {
    let e = TestEngine::with_busybox();
    // A pull of every tag fails before any progress: a plain 500, as for a single tag.
    let r = e.api("POST", "/images/create?fromImage=localhost:1/x", None);
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(r.message().contains("localhost:1"), "{}", r.message());

    let auth = [("X-Registry-Auth", "e30=")];
    // Nothing local: the repository line, then the error, in a 200 stream.
    let r = common::http::request_with_headers(
        &e.socket,
        "POST",
        "/images/localhost:1/x/push",
        &auth,
        None,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("The push refers to repository [localhost:1/x]"),
        "{text}"
    );
    assert_eq!(
        stream_error(&text).as_deref(),
        Some("An image does not exist locally with the tag: localhost:1/x")
    );
    // Something to push, nobody to take it: the error ends the 200 stream.
    ok(&e.docker(&["tag", "busybox", "localhost:1/y"]));
    let r = common::http::request_with_headers(
        &e.socket,
        "POST",
        "/images/localhost:1/y/push?tag=latest",
        &auth,
        None,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(stream_error(&r.text()).is_some(), "{}", r.text());
}

#[test]
fn create_with_another_platform_is_a_404() {
    let e = TestEngine::with_busybox();
    let other = if cfg!(target_arch = "aarch64") {
        "amd64"
    } else {
        "arm64"
    };
    let host = if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "amd64"
    };
    let body = r#"{"Image":"busybox","Cmd":["true"]}"#;
    let r = e.api(
        "POST",
        &format!("/containers/create?platform=linux/{other}"),
        Some(body),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        r.message(),
        format!(
            "image with reference busybox was found but does not match the specified platform: wanted linux/{other}, actual: linux/{host}"
        )
    );
    let r = e.api(
        "POST",
        &format!("/containers/create?platform=linux/{host}"),
        Some(body),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn connecting_a_container_to_a_network_it_is_on() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&["network", "create", "lenient-net"]));
    ok(&e.docker(&[
        "run",
        "-d",
        "--name",
        "on-net",
        "--network",
        "lenient-net",
        "busybox",
        "/bin/busybox",
        "sleep",
        "300",
    ]));
    ok(&e.docker(&[
        "create",
        "--name",
        "off-net",
        "--network",
        "lenient-net",
        "busybox",
        "true",
    ]));
    // Running: libnetwork's endpoint name clash, a 403.
    let r = e.api(
        "POST",
        "/networks/lenient-net/connect",
        Some(r#"{"Container":"on-net"}"#),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        r.message(),
        "endpoint with name on-net already exists in network lenient-net"
    );
    // Stopped: the endpoint settings are replaced.
    let r = e.api(
        "POST",
        "/networks/lenient-net/connect",
        Some(r#"{"Container":"off-net","EndpointConfig":{"Aliases":["again"]}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let c = e.api_json("GET", "/containers/off-net/json", None);
    let nets = c["NetworkSettings"]["Networks"].as_object().unwrap();
    assert_eq!(nets.len(), 1, "{c}");
    assert_eq!(nets["lenient-net"]["Aliases"], serde_json::json!(["again"]));
    ok(&e.docker(&["rm", "-f", "on-net"]));
}

/// Create a container from a JSON body; its id.
fn create(e: &TestEngine, body: &str) -> String {
    let r = e.api("POST", "/containers/create", Some(body));
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["Id"].as_str().unwrap().to_owned()
}

#[test]
fn a_volume_subpath_mounts_only_that_directory_of_the_volume() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&[
        "run", "--rm", "-v", "subvol:/v", "busybox", "/bin/busybox", "sh", "-c",
        "/bin/busybox mkdir -p /v/sub/dir && /bin/busybox ln -s /etc /v/abs && /bin/busybox ln -s .. /v/sub/up",
    ]));
    let mount = |subpath: &str| {
        format!(
            r#"{{"Image":"busybox","Cmd":["/bin/busybox","ls","/m"],"HostConfig":{{"Mounts":[{{"Type":"volume","Source":"subvol","Target":"/m","VolumeOptions":{{"Subpath":"{subpath}"}}}}]}}}}"#
        )
    };
    let id = create(&e, &mount("sub"));
    let out = ok(&e.docker(&["start", "-a", &id]));
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["dir", "up"],
        "{out}"
    );

    // Lexically outside: refused at create, in moby's words.
    for bad in ["../x", "/abs", "sub/../../x"] {
        let r = e.api("POST", "/containers/create", Some(&mount(bad)));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert_eq!(
            r.message(),
            "invalid mount config for type \"volume\": subpath must be a relative path within the volume"
        );
    }
    // Missing, or leaving the volume through a symlink: refused at start.
    let id = create(&e, &mount("nosuch"));
    let r = e.api("POST", &format!("/containers/{id}/start"), None);
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        r.message(),
        "cannot access path nosuch: no such file or directory"
    );
    for escape in ["abs", "sub/up/.."] {
        let id = create(&e, &mount(escape));
        let r = e.api("POST", &format!("/containers/{id}/start"), None);
        assert_eq!(r.status, 400, "{escape}: {}", r.text());
        assert!(
            r.message()
                .starts_with("path concatenation escapes the base directory"),
            "{}",
            r.message()
        );
    }
}

#[test]
fn shared_bind_propagation_needs_a_shared_source_mount() {
    let e = TestEngine::with_busybox();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().to_str().unwrap().to_owned();
    let propagation = std::process::Command::new("findmnt")
        .args(["-no", "PROPAGATION", "-T", &src])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    for (mode, needs) in [
        ("rshared", "a shared mount"),
        ("rslave", "a shared or slave mount"),
    ] {
        let id = create(
            &e,
            &format!(
                r#"{{"Image":"busybox","Cmd":["/bin/busybox","true"],"HostConfig":{{"Binds":["{src}:/x:{mode}"]}}}}"#
            ),
        );
        let r = e.api("POST", &format!("/containers/{id}/start"), None);
        let provided = match mode {
            "rshared" => propagation.contains("shared"),
            _ => propagation.contains("shared") || propagation.contains("slave"),
        };
        if provided {
            assert_eq!(r.status, 204, "{}", r.text());
            continue;
        }
        assert_eq!(r.status, 500, "{}", r.text());
        let msg = r.message();
        assert!(
            msg.starts_with(&format!("path {src} is mounted on "))
                && msg.ends_with(&format!("but it is not {needs}")),
            "{msg}"
        );
    }
}
