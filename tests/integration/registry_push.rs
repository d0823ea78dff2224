//! Push to a real registry (Debian's docker-registry on a free loopback port): by berth and by the
//! stock docker CLI through berth; skopeo reads and copies what was pushed and the copy unpacks;
//! a second push only finds existing layers; cross-repository mounts; basic auth with and without
//! credentials; missing images and bad names; RepoDigests; zstd.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::registry::{Auth, Registry, PASSWORD, USER};
use common::{ok, stderr, stdout, unix_now, TestEngine};

/// `berth push` with a docker config directory (credentials) of our choosing.
fn berth_push(e: &TestEngine, config_dir: &Path, args: &[&str]) -> Output {
    e.berth_command(&[&["push"], args].concat())
        .env("DOCKER_CONFIG", config_dir)
        .stdin(Stdio::null())
        .output()
        .expect("run berth")
}

fn docker_config(dir: &Path, server: &str, user: &str, pass: &str) -> PathBuf {
    use base64::Engine as _;
    let d = dir.join("docker-config");
    std::fs::create_dir_all(&d).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    std::fs::write(
        d.join("config.json"),
        serde_json::json!({ "auths": { server: { "auth": auth } } }).to_string(),
    )
    .unwrap();
    d
}

fn inspect(e: &TestEngine, name: &str) -> serde_json::Value {
    e.api_json("GET", &format!("/images/{name}/json"), None)
}

#[test]
fn push_by_berth_is_readable_by_skopeo_and_second_push_finds_layers() {
    let reg = Registry::start();
    let e = TestEngine::start();
    let name = format!("{}/test/busybox", reg.addr);
    let id = e.import_busybox(&format!("{name}:1"));
    let empty = e.dir.path().join("no-config");

    let out = ok(&berth_push(&e, &empty, &[&format!("{name}:1")]));
    assert!(
        out.contains(&format!("The push refers to repository [{name}]")),
        "{out}"
    );
    assert!(out.contains(": Pushed"), "{out}");
    let digest = out
        .lines()
        .find_map(|l| l.strip_prefix("1: digest: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no digest line: {out}"))
        .to_string();
    assert!(digest.starts_with("sha256:"), "{digest}");

    // RepoDigests records the pushed manifest.
    let img = inspect(&e, &format!("{name}:1"));
    assert_eq!(img["Id"], id.as_str());
    let repo_digests: Vec<String> =
        serde_json::from_value(img["RepoDigests"].clone()).unwrap_or_default();
    assert!(
        repo_digests.contains(&format!("{name}@{digest}")),
        "{repo_digests:?}"
    );

    // skopeo sees the same manifest digest and a gzip layer.
    let v: serde_json::Value = serde_json::from_str(&ok(&reg.skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{name}:1"),
    ])))
    .unwrap();
    assert_eq!(v["Digest"], digest.as_str(), "{v}");
    let raw: serde_json::Value = serde_json::from_str(&ok(&reg.skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{name}:1"),
    ])))
    .unwrap();
    assert_eq!(raw["config"]["digest"], id.as_str(), "{raw}");
    let layer = &raw["layers"][0];
    assert!(
        layer["mediaType"].as_str().unwrap().ends_with("gzip"),
        "{raw}"
    );

    // skopeo copies it into an OCI layout; the layer unpacks and holds busybox.
    let oci = e.dir.path().join("oci");
    ok(&reg.skopeo(&[
        "copy",
        "-q",
        "--src-tls-verify=false",
        &format!("docker://{name}:1"),
        &format!("oci:{}:copy", oci.display()),
    ]));
    let hex = layer["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:");
    let unpack = e.dir.path().join("unpack");
    std::fs::create_dir_all(&unpack).unwrap();
    let o = Command::new("tar")
        .arg("-xzf")
        .arg(oci.join("blobs/sha256").join(hex))
        .arg("-C")
        .arg(&unpack)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(unpack.join("bin/busybox").exists());

    // Second push: nothing to upload, same digest.
    let out = ok(&berth_push(&e, &empty, &[&format!("{name}:1")]));
    assert!(out.contains(": Layer already exists"), "{out}");
    assert!(!out.contains(": Pushed"), "{out}");
    assert!(out.contains(&format!("1: digest: {digest}")), "{out}");

    // -q prints only the reference.
    let out = ok(&berth_push(&e, &empty, &["-q", &format!("{name}:1")]));
    assert_eq!(out.trim(), format!("{name}:1"));
}

#[test]
fn push_by_docker_cli_mounts_across_repositories_and_pushes_all_tags() {
    let reg = Registry::start();
    let e = TestEngine::start();
    let first = format!("{}/one/busybox", reg.addr);
    let second = format!("{}/two/busybox", reg.addr);
    e.import_busybox(&format!("{first}:latest"));

    let o = e.docker(&["push", &first]);
    let out = ok(&o);
    assert!(out.contains("latest: digest: sha256:"), "{out}");

    ok(&e.docker(&["tag", &first, &format!("{second}:a")]));
    ok(&e.docker(&["tag", &first, &format!("{second}:b")]));
    // All tags of the repository; the layer comes from the other repository.
    let out = ok(&e.docker(&["push", "--all-tags", &second]));
    assert!(out.contains("Mounted from one/busybox"), "{out}");
    assert!(out.contains("a: digest: sha256:"), "{out}");
    assert!(out.contains("b: digest: sha256:"), "{out}");
    let tags = ok(&Command::new("skopeo")
        .args(["list-tags", "--tls-verify=false"])
        .arg(format!("docker://{second}"))
        .output()
        .unwrap());
    assert!(tags.contains("\"a\"") && tags.contains("\"b\""), "{tags}");

    // The raw API streams the aux object docker's CLI reads.
    let r = e.api("POST", &format!("/images/{second}/push?tag=a"), None);
    assert_eq!(r.status, 200);
    let text = r.text();
    assert!(text.contains("\"aux\":{"), "{text}");
    assert!(text.contains("\"Tag\":\"a\""), "{text}");
}

#[test]
fn push_of_an_unknown_image_fails_in_the_stream_and_a_bad_name_before() {
    let reg = Registry::start_with(Auth::Basic);
    let e = TestEngine::start();
    let name = format!("{}/private/busybox", reg.addr);
    e.import_busybox(&format!("{name}:latest"));

    // Unknown image: dockerd's 200 stream naming the repository, then the error; bad name: 400.
    let r = e.api("POST", "/images/nosuch/thing/push?tag=latest", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(
        text.contains("The push refers to repository [docker.io/nosuch/thing]")
            && text.contains("\"errorDetail\":{\"message\":\"An image does not exist locally"),
        "{text}"
    );
    let r = e.api("POST", "/images/Bad%20Name/push", None);
    assert_eq!(r.status, 400, "{}", r.text());
    let o = e.berth(&["push", "nosuch/thing"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("An image does not exist locally"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn push_without_or_with_wrong_credentials_fails_and_with_right_ones_succeeds() {
    let reg = Registry::start_with(Auth::Basic);
    let e = TestEngine::start();
    let name = format!("{}/private/busybox", reg.addr);
    e.import_busybox(&format!("{name}:latest"));

    // No credentials: the registry's refusal comes back as the command's error.
    let none = e.dir.path().join("no-config");
    let o = berth_push(&e, &none, &[&name]);
    assert!(!o.status.success(), "{}", stdout(&o));
    let err = stderr(&o).to_lowercase();
    assert!(
        err.contains("unauthorized") || err.contains("authentication required"),
        "{err}"
    );

    // Wrong then right credentials.
    let bad = docker_config(&e.dir.path().join("bad"), &reg.addr, USER, "nope");
    let o = berth_push(&e, &bad, &[&name]);
    assert!(!o.status.success(), "{}", stdout(&o));
    let good = docker_config(e.dir.path(), &reg.addr, USER, PASSWORD);
    let out = ok(&berth_push(&e, &good, &[&name]));
    assert!(out.contains("latest: digest: sha256:"), "{out}");
}

#[test]
fn push_zstd_and_reuse_of_compressed_layers() {
    let reg = Registry::start();
    let e = TestEngine::start();
    let name = format!("{}/z/busybox", reg.addr);
    e.import_busybox(&format!("{name}:z"));
    let empty = e.dir.path().join("no-config");
    let out = ok(&berth_push(
        &e,
        &empty,
        &["--compression", "zstd", &format!("{name}:z")],
    ));
    assert!(out.contains("z: digest: sha256:"), "{out}");
    let raw: serde_json::Value = serde_json::from_str(&ok(&Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{name}:z"))
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(
        raw["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar+zstd",
        "{raw}"
    );
    // The compressed blobs are kept: one zstd made above, one gzip made now, each once.
    ok(&berth_push(&e, &empty, &[&format!("{name}:z")]));
    let compressed = std::fs::read_dir(e.data_path("image/compressed"))
        .unwrap()
        .count();
    assert_eq!(compressed, 1, "one record for the one layer");
    let r = e.api("POST", "/images/x/push?compression=brotli", None);
    assert_eq!(r.status, 400, "{}", r.text());
    // Removing the image takes its compressed copies with it, at once (not at the next start).
    ok(&e.berth(&["rmi", &format!("{name}:z")]));
    let left: Vec<_> = std::fs::read_dir(e.data_path("image/blobs/sha256"))
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "blobs left after rmi: {left:?}");
    assert_eq!(
        std::fs::read_dir(e.data_path("image/compressed"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn push_chunked_upload_and_push_event() {
    let reg = Registry::start();
    // The engine reads the chunk size from its environment: small chunks force PATCH uploads.
    let e = TestEngine::start_with(&[], &[("BERTH_PUSH_CHUNK_SIZE", "65536")]);
    let name = format!("{}/chunked/busybox", reg.addr);
    let id = e.import_busybox(&format!("{name}:c"));
    let since = unix_now();
    let empty = e.dir.path().join("no-config");
    let out = ok(&berth_push(&e, &empty, &[&format!("{name}:c")]));
    assert!(out.contains(": Pushed"), "{out}");
    assert!(e.log().contains("chunked upload done"), "not chunked");
    // skopeo can read every blob back (digests verified by skopeo).
    let oci = e.dir.path().join("oci");
    ok(&Command::new("skopeo")
        .args(["copy", "-q", "--src-tls-verify=false"])
        .arg(format!("docker://{name}:c"))
        .arg(format!("oci:{}:c", oci.display()))
        .output()
        .unwrap());
    let ev = e.api(
        "GET",
        &format!(
            "/events?since={since}&until={}&filters=%7B%22type%22%3A%5B%22image%22%5D%7D",
            unix_now() + 1
        ),
        None,
    );
    let text = ev.text();
    assert!(
        text.lines()
            .any(|l| l.contains("\"Action\":\"push\"") && l.contains(&id)),
        "{text}"
    );
}

#[test]
fn push_then_pull_roundtrip_and_repush_of_pulled_image() {
    let reg = Registry::start();
    let a = TestEngine::start();
    let name = format!("{}/round/busybox", reg.addr);
    let id = a.import_busybox(&format!("{name}:1"));
    let out = ok(&a.docker(&["push", &format!("{name}:1")]));
    let digest = out
        .lines()
        .find_map(|l| l.strip_prefix("1: digest: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();

    // Another engine pulls it: same image id, and it runs.
    let b = TestEngine::start();
    ok(&b.docker(&["pull", &format!("{name}:1")]));
    let img = inspect(&b, &format!("{name}:1"));
    assert_eq!(img["Id"], id.as_str());
    let run = ok(&b.docker(&[
        "run",
        "--rm",
        "--network",
        "none",
        &format!("{name}:1"),
        "echo",
        "roundtrip",
    ]));
    assert_eq!(run.trim(), "roundtrip");

    // The pulled image's layers go as stored, under its own manifest: the same digest, and the
    // layer is mounted from the repository it came from.
    let other = format!("{}/copy/busybox", reg.addr);
    ok(&b.docker(&["tag", &format!("{name}:1"), &format!("{other}:1")]));
    let out = ok(&b.docker(&["push", &format!("{other}:1")]));
    assert!(out.contains("Mounted from round/busybox"), "{out}");
    assert!(out.contains(&format!("1: digest: {digest}")), "{out}");
}

/// Pushing an imported image, untagging it and pulling it back (the image is still here under
/// another tag) stores the registry's manifest as one of the image's RepoDigests: the store
/// check must count that manifest as the image's, not as an orphan, and repair must keep it.
#[test]
fn pull_back_of_a_pushed_image_leaves_the_store_healthy() {
    let reg = Registry::start();
    let e = TestEngine::with_busybox();
    let name = format!("{}/tools/busybox:1", reg.addr);
    ok(&e.berth(&["tag", "busybox", &name]));
    ok(&berth_push(&e, &e.dir.path().join("no-config"), &[&name]));
    ok(&e.berth(&["rmi", &name]));
    ok(&e.berth(&["pull", "-q", &name]));
    let out = ok(&e.berth(&["system", "check"]));
    assert!(out.contains("The image store is healthy"), "{out}");
    ok(&e.berth(&["system", "check", "--repair"]));
    let img = inspect(&e, &name);
    let digests = img["RepoDigests"].to_string();
    assert!(digests.contains("/tools/busybox@sha256:"), "{img}");
    let out = ok(&e.berth(&["system", "check"]));
    assert!(out.contains("The image store is healthy"), "{out}");
}
