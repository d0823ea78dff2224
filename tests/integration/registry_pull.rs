//! Registry pulls against Debian's docker-registry: through the API, `berth pull` and the stock
//! docker CLI; multi-layer images with whiteouts in gzip, zstd and plain layers; multi-platform
//! indexes; pulls by digest; basic and token auth; digest mismatches; concurrent pulls; kill -9
//! of the engine mid-pull.

use crate::common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::registry::{
    host_arch, registry_auth, write_multiarch_layout, Auth, Compression, Layer, OciImage, Registry,
    PASSWORD, USER,
};
use common::{http, image, ok, stderr, stdout, TestEngine};

/// busybox (gzip) + a zstd layer adding /data/{a,b} + a plain layer deleting /data/a.
fn multilayer(arch: &str) -> OciImage {
    OciImage::new(arch)
        .raw_layer(image::busybox_rootfs_tar(), Compression::Gzip)
        .layer(
            Layer::new(Compression::Zstd)
                .dir("data")
                .file("data/a", b"first\n")
                .file("data/b", b"second\n")
                .file("arch", arch.as_bytes()),
        )
        .layer(Layer::new(Compression::None).whiteout("data/a"))
}

fn push(reg: &Registry, img: &OciImage, repo_tag: &str) -> common::registry::Written {
    let dir = tempfile::tempdir().unwrap();
    let tag = repo_tag.rsplit_once(':').unwrap().1;
    let w = img.write_layout(dir.path(), tag);
    reg.push_layout(dir.path(), repo_tag);
    w
}

fn pull_api(e: &TestEngine, query: &str, auth: Option<&str>) -> http::Response {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("X-Registry-Auth", a)).into_iter().collect();
    http::request_with_headers(
        &e.socket,
        "POST",
        &format!("/images/create?{query}"),
        &headers,
        None,
    )
    .unwrap()
}

#[test]
fn pull_multilayer_image_through_api_and_run_it() {
    let reg = Registry::start();
    let e = TestEngine::start();
    let w = push(&reg, &multilayer(host_arch()), "multi:v1");
    let name = format!("{}/multi", reg.addr);

    let r = pull_api(&e, &format!("fromImage={name}&tag=v1"), None);
    assert_eq!(r.status, 200);
    let text = r.text();
    assert!(!text.contains("errorDetail"), "{text}\n{}", e.log());
    assert!(
        text.contains(r#"{"id":"v1","status":"Pulling from multi"}"#),
        "{text}"
    );
    assert!(text.contains("Pulling fs layer"), "{text}");
    assert!(text.contains(r#""status":"Downloading""#), "{text}");
    assert!(text.contains(r#""progress":"["#), "{text}");
    assert!(text.contains("Pull complete"), "{text}");
    assert!(
        text.contains(&format!("Digest: {}", w.manifest_digest)),
        "{text}"
    );
    assert!(
        text.contains(&format!("Status: Downloaded newer image for {name}:v1")),
        "{text}"
    );

    let inspect = e.api_json("GET", &format!("/images/{name}:v1/json"), None);
    assert_eq!(inspect["Id"], w.config_digest.as_str());
    assert_eq!(inspect["RootFS"]["Layers"].as_array().unwrap().len(), 3);
    assert_eq!(
        inspect["RepoDigests"][0],
        format!("{name}@{}", w.manifest_digest).as_str()
    );

    // Whiteouts applied, zstd and plain layers unpacked: the image runs.
    let out = ok(&e.berth(&[
        "run",
        "--rm",
        &format!("{name}:v1"),
        "sh",
        "-c",
        "cat /data/b /arch; test -e /data/a && echo a-present || echo a-gone",
    ]));
    assert_eq!(out, format!("second\n{}a-gone\n", host_arch()));

    // Again: nothing to download.
    let again = pull_api(&e, &format!("fromImage={name}&tag=v1"), None).text();
    assert!(again.contains("Already exists"), "{again}");
    assert!(!again.contains("Downloading"), "{again}");
    assert!(
        again.contains(&format!("Status: Image is up to date for {name}:v1")),
        "{again}"
    );
}

#[test]
fn pull_multiarch_index_chooses_platform_and_pulls_by_digest() {
    let reg = Registry::start();
    let e = TestEngine::start();
    let other = if host_arch() == "arm64" {
        "amd64"
    } else {
        "arm64"
    };
    let dir = tempfile::tempdir().unwrap();
    let (index_digest, written) = write_multiarch_layout(
        dir.path(),
        "v1",
        &[multilayer(host_arch()), multilayer(other)],
    );
    reg.push_layout(dir.path(), "multiarch:v1");
    let name = format!("{}/multiarch", reg.addr);

    let text = pull_api(&e, &format!("fromImage={name}&tag=v1"), None).text();
    assert!(!text.contains("errorDetail"), "{text}");
    assert!(text.contains(&format!("Digest: {index_digest}")), "{text}");
    let i = e.api_json("GET", &format!("/images/{name}:v1/json"), None);
    assert_eq!(i["Id"], written[0].config_digest.as_str());
    assert_eq!(i["Architecture"], host_arch());
    assert_eq!(
        i["RepoDigests"][0],
        format!("{name}@{index_digest}").as_str(),
        "RepoDigests name the index, as docker's do"
    );

    // Another platform on request.
    let text = pull_api(
        &e,
        &format!("fromImage={name}&tag=v1&platform=linux/{other}"),
        None,
    )
    .text();
    assert!(!text.contains("errorDetail"), "{text}");
    let i = e.api_json("GET", &format!("/images/{name}:v1/json"), None);
    assert_eq!(i["Architecture"], other);
    assert_eq!(i["Id"], written[1].config_digest.as_str());

    // A platform the index lacks: a plain 404 before any progress.
    let r = pull_api(
        &e,
        &format!("fromImage={name}&tag=v1&platform=linux/s390x"),
        None,
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(
        r.message().contains("no matching manifest for linux/s390x"),
        "{}",
        r.text()
    );

    // By digest of a platform manifest: no tag, RepoDigests only.
    let by_digest = pull_api(
        &e,
        &format!("fromImage={name}&tag={}", written[0].manifest_digest),
        None,
    )
    .text();
    assert!(!by_digest.contains("errorDetail"), "{by_digest}");
    let i = e.api_json(
        "GET",
        &format!("/images/{name}@{}/json", written[0].manifest_digest),
        None,
    );
    assert_eq!(i["Id"], written[0].config_digest.as_str());
}

#[test]
fn pull_errors_are_docker_shaped() {
    let reg = Registry::start();
    let e = TestEngine::start();
    push(&reg, &multilayer(host_arch()), "there:v1");

    let r = pull_api(&e, "fromImage=Bad/Name&tag=x", None);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.message().contains("must be lowercase"), "{}", r.text());

    let r = pull_api(&e, &format!("fromImage={}/there&tag=nope", reg.addr), None);
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        r.message(),
        format!(
            "manifest for {}/there:nope not found: manifest unknown: manifest unknown",
            reg.addr
        )
    );

    // distribution 2.8 answers MANIFEST_UNKNOWN for unknown repositories too; docker then
    // prints the same "manifest ... not found" line.
    let r = pull_api(&e, &format!("fromImage={}/missing&tag=v1", reg.addr), None);
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(
        r.message()
            .starts_with(&format!("manifest for {}/missing:v1 not found", reg.addr)),
        "{}",
        r.text()
    );
    assert!(e
        .api_json("GET", "/images/json", None)
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn berth_pull_and_docker_cli_pull_and_run_missing_images() {
    let reg = Registry::start();
    let e = TestEngine::start();
    push(&reg, &multilayer(host_arch()), "cli:v1");
    push(&reg, &multilayer(host_arch()), "cli:v2");
    let name = format!("{}/cli", reg.addr);

    let o = e.berth(&["pull", &format!("{name}:v1")]);
    let out = ok(&o);
    assert!(out.contains("v1: Pulling from cli"), "{out}");
    assert!(out.contains("Pull complete"), "{out}");
    assert!(
        !out.contains("Downloading"),
        "no byte counts without a terminal: {out}"
    );
    assert!(out.ends_with(&format!("{name}:v1\n")), "{out}");

    let o = e.berth(&["pull", "-q", &format!("{name}:v1")]);
    assert_eq!(ok(&o), format!("{name}:v1\n"));

    // -a: every tag.
    let o = e.berth(&["pull", "-a", &name]);
    let out = ok(&o);
    assert!(out.contains("v2: Pulling from cli"), "{out}");
    let tags: Vec<String> = e.api_json("GET", "/images/json", None).as_array().unwrap()[0]
        ["RepoTags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    assert!(tags.contains(&format!("{name}:v2")), "{tags:?}");

    // The stock docker CLI.
    let o = e.docker(&["pull", &format!("{name}:v1")]);
    let out = ok(&o);
    assert!(out.contains("Status: Image is up to date"), "{out}");
    ok(&e.docker(&["rmi", &format!("{name}:v1"), &format!("{name}:v2")]));

    // `docker run` of a missing image pulls it (create's 404 → pull → retry).
    let o = e.docker(&["run", "--rm", &format!("{name}:v1"), "cat", "/data/b"]);
    assert_eq!(ok(&o), "second\n");
    assert!(
        stderr(&o).contains("Unable to find image"),
        "{}",
        stderr(&o)
    );

    // `berth run` too; --pull=never refuses.
    ok(&e.docker(&["rmi", &format!("{name}:v1")]));
    let o = e.berth(&[
        "run",
        "--rm",
        "--pull",
        "never",
        &format!("{name}:v1"),
        "true",
    ]);
    assert!(!o.status.success());
    let o = e.berth(&["run", "--rm", &format!("{name}:v1"), "cat", "/data/b"]);
    assert_eq!(ok(&o), "second\n");
    assert!(stderr(&o).contains("Pull complete"), "{}", stderr(&o));
}

#[test]
fn digest_mismatch_fails_and_keeps_nothing() {
    let reg = Registry::start();
    let e = TestEngine::start();
    // Plain layers: a changed byte inside a file keeps the tar valid, so only the digest check
    // can notice.
    let img = OciImage::new(host_arch())
        .raw_layer(image::busybox_rootfs_tar(), Compression::None)
        .layer(Layer::new(Compression::None).file("payload", &[b'x'; 4096]));
    let w = push(&reg, &img, "bad:v1");
    let path = reg.blob_data_path(&w.layer_digests[1]);
    let mut data = std::fs::read(&path).unwrap();
    let pos = data.windows(4).position(|win| win == b"xxxx").unwrap();
    data[pos] = b'y';
    std::fs::write(&path, data).unwrap();

    let text = pull_api(&e, &format!("fromImage={}/bad&tag=v1", reg.addr), None).text();
    assert!(text.contains("errorDetail"), "{text}");
    assert!(text.contains("mismatch"), "{text}");
    assert!(e
        .api_json("GET", "/images/json", None)
        .as_array()
        .unwrap()
        .is_empty());
    let blob = e.data_path(&format!(
        "image/blobs/sha256/{}",
        w.layer_digests[1].trim_start_matches("sha256:")
    ));
    assert!(!blob.exists(), "the bad blob must not be kept");
}

#[test]
fn basic_auth_registry() {
    let reg = Registry::start_with(Auth::Basic);
    let e = TestEngine::start();
    push(&reg, &multilayer(host_arch()), "private:v1");
    let q = format!("fromImage={}/private&tag=v1", reg.addr);

    let r = pull_api(&e, &q, None);
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.message().contains("pull access denied"), "{}", r.text());

    let bad = registry_auth(&reg.addr, USER, "wrong");
    let r = pull_api(&e, &q, Some(&bad));
    assert_eq!(r.status, 404, "{}", r.text());

    let good = registry_auth(&reg.addr, USER, PASSWORD);
    let text = pull_api(&e, &q, Some(&good)).text();
    assert!(text.contains("Downloaded newer image"), "{text}");

    // `berth pull` sends the credentials the docker CLI stored (config.json auths).
    {
        use base64::Engine;
        let cfg = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
        std::fs::write(
            cfg.path().join("config.json"),
            serde_json::json!({"auths": {reg.addr.clone(): {"auth": auth}}}).to_string(),
        )
        .unwrap();
        ok(&e.docker(&["rmi", &format!("{}/private:v1", reg.addr)]));
        let o = e
            .berth_command(&["pull", "-q", &format!("{}/private:v1", reg.addr)])
            .env("DOCKER_CONFIG", cfg.path())
            .output()
            .unwrap();
        assert_eq!(ok(&o), format!("{}/private:v1\n", reg.addr));
    }

    // POST /auth.
    let body = |p: &str| {
        serde_json::json!({"username": USER, "password": p, "serveraddress": reg.addr}).to_string()
    };
    let r = e.api("POST", "/auth", Some(&body(PASSWORD)));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["Status"], "Login Succeeded");
    let r = e.api("POST", "/auth", Some(&body("wrong")));
    assert_eq!(r.status, 401, "{}", r.text());
}

#[test]
fn token_auth_registry_with_and_without_credentials() {
    let reg = Registry::start_with(Auth::Token);
    let e = TestEngine::start();
    push(&reg, &multilayer(host_arch()), "tok:v1");
    let q = format!("fromImage={}/tok&tag=v1", reg.addr);

    let r = pull_api(&e, &q, None);
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.message().contains("pull access denied"), "{}", r.text());

    let before = reg.token_requests().len();
    let good = registry_auth(&reg.addr, USER, PASSWORD);
    let text = pull_api(&e, &q, Some(&good)).text();
    assert!(
        text.contains("Downloaded newer image"),
        "{text}\n{}",
        e.log()
    );
    let reqs = reg.token_requests();
    let new: Vec<_> = reqs[before..].to_vec();
    assert!(
        new.iter().all(|(authed, _)| *authed),
        "credentials go to the token realm: {new:?}"
    );
    assert_eq!(
        new.len(),
        1,
        "one token serves the manifest, config and every layer: {new:?}"
    );
    assert!(new[0].1.contains("repository:tok:pull"), "{new:?}");

    // docker login (POST /auth) + docker pull through the stock CLI.
    let cfg = tempfile::tempdir().unwrap();
    let docker = |args: &[&str]| {
        std::process::Command::new("docker")
            .env("DOCKER_HOST", e.host())
            .env("DOCKER_CONFIG", cfg.path())
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let o = docker(&["login", "-u", USER, "-p", "wrong", &reg.addr]);
    assert!(!o.status.success(), "bad password must fail");
    let o = docker(&["login", "-u", USER, "-p", PASSWORD, &reg.addr]);
    assert!(
        stdout(&o).contains("Login Succeeded"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    ok(&docker(&["rmi", &format!("{}/tok:v1", reg.addr)]));
    let o = docker(&["pull", &format!("{}/tok:v1", reg.addr)]);
    assert!(
        stdout(&o).contains("Downloaded newer image"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
}

#[test]
fn concurrent_pulls_of_one_image_share_the_work() {
    let reg = Registry::start();
    let e = TestEngine::start();
    let w = push(&reg, &multilayer(host_arch()), "conc:v1");
    let q = format!("fromImage={}/conc&tag=v1", reg.addr);
    let texts: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..3)
            .map(|_| s.spawn(|| pull_api(&e, &q, None).text()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for t in &texts {
        assert!(!t.contains("errorDetail"), "{t}");
        assert!(t.contains(&format!("Digest: {}", w.manifest_digest)), "{t}");
    }
    let downloads: usize = texts
        .iter()
        .map(|t| t.matches("Pull complete").count())
        .sum();
    assert_eq!(downloads, 3, "each layer downloaded once: {texts:#?}");
    let list = e.api_json("GET", "/images/json", None);
    assert_eq!(list.as_array().unwrap().len(), 1);
}

/// Stream a pull until `marker` appears in the progress, then return (leaving it running).
fn pull_until(e: &TestEngine, query: &str, marker: &str) -> UnixStream {
    let mut s = UnixStream::connect(&e.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /images/create?{query} HTTP/1.1\r\nHost: berth\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(marker) {
        let n = s.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "stream ended before {marker:?}: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    s
}

#[test]
fn kill9_mid_pull_leaves_no_image_and_the_next_pull_resumes() {
    let reg = Registry::start();
    let mut e = TestEngine::start();
    // A big incompressible top layer keeps the pull busy after the small base layer is in.
    let mut big = vec![0u8; 48 << 20];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for chunk in big.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let img = OciImage::new(host_arch())
        .raw_layer(image::busybox_rootfs_tar(), Compression::Gzip)
        .layer(Layer::new(Compression::None).file("big", &big));
    push(&reg, &img, "big:v1");
    let q = format!("fromImage={}/big&tag=v1", reg.addr);

    let _s = pull_until(&e, &q, "Pull complete");
    e.kill9();
    e.spawn();
    assert!(
        e.api_json("GET", "/images/json", None)
            .as_array()
            .unwrap()
            .is_empty(),
        "an interrupted pull lists no image"
    );
    let text = pull_api(&e, &q, None).text();
    assert!(!text.contains("errorDetail"), "{text}\n{}", e.log());
    assert!(
        text.contains("Already exists"),
        "the verified base layer is reused: {text}"
    );
    let o = e.berth(&[
        "run",
        "--rm",
        &format!("{}/big:v1", reg.addr),
        "wc",
        "-c",
        "/big",
    ]);
    assert!(ok(&o).starts_with(&format!("{} ", 48 << 20)));
}

#[test]
fn registry_mirror_serves_docker_io_names() {
    // A mirror serves docker.io names (library/ prefix); registry-1.docker.io is unreachable
    // here, so success proves the mirror was used.
    let mirror = Registry::start();
    push(&mirror, &multilayer(host_arch()), "library/mirrored:v1");
    let e = TestEngine::start_with_args(&["--registry-mirror", &format!("http://{}", mirror.addr)]);
    let text = pull_api(&e, "fromImage=mirrored&tag=v1", None).text();
    assert!(
        text.contains("Status: Downloaded newer image for mirrored:v1"),
        "{text}\n{}",
        e.log()
    );
    let i = e.api_json("GET", "/images/mirrored:v1/json", None);
    assert_eq!(i["RepoTags"][0], "mirrored:v1");
}

#[test]
fn a_plain_http_registry_off_loopback_needs_insecure_registry_and_the_error_says_so() {
    let ip = common::host_ipv4().expect("a non-loopback IPv4 address");
    let insecure = Registry::start_at(Auth::None, &ip);
    push(&insecure, &multilayer(host_arch()), "plain:v1");

    // Without --insecure-registry a non-loopback registry is HTTPS only: the pull fails.
    let e = TestEngine::start();
    let r = pull_api(
        &e,
        &format!("fromImage={}/plain&tag=v1", insecure.addr),
        None,
    );
    assert_ne!(r.status, 200, "{}", r.text());
    // HTTPS to a plain-HTTP registry: the message says so and names the flag that fixes it.
    let m = r.message();
    assert!(
        m.starts_with(&format!(
            "cannot reach registry {}: TLS handshake failed",
            insecure.addr
        )),
        "{m}"
    );
    assert!(
        m.contains(&format!("--insecure-registry {}", insecure.addr)),
        "{m}"
    );
    drop(e);

    let e = TestEngine::start_with_args(&["--insecure-registry", &insecure.addr]);
    let text = pull_api(
        &e,
        &format!("fromImage={}/plain&tag=v1", insecure.addr),
        None,
    )
    .text();
    assert!(
        text.contains("Downloaded newer image"),
        "{text}\n{}",
        e.log()
    );
}
