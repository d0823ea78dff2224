//! `berth login` and the stock `docker login` through berth's `POST /auth` against a real
//! htpasswd-protected registry (Debian's docker-registry): success stores the credentials where
//! the docker CLI keeps them; a wrong password stores nothing.

use crate::common;

use std::path::Path;
use std::process::Output;

use base64::Engine as _;
use common::registry::{Auth, Registry, PASSWORD, USER};
use common::{stderr, stdout, with_stdin, TestEngine};

fn docker(e: &TestEngine, cfg: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut c = e.docker_command(args);
    c.env("DOCKER_CONFIG", cfg);
    with_stdin(c, input)
}

fn stored_auth(cfg: &Path, server: &str) -> Option<String> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cfg.join("config.json")).ok()?).ok()?;
    v["auths"][server]["auth"].as_str().map(str::to_owned)
}

#[test]
fn berth_login_stores_credentials_only_when_right_and_logout_removes_them() {
    let reg = Registry::start_with(Auth::Basic);
    let e = TestEngine::start();
    let cfg = e.dir.path().join("cfg-berth");
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));

    let o = e.berth_with_config(
        &cfg,
        &["login", "-u", USER, "--password-stdin", &reg.addr],
        b"wrong-password\n",
    );
    assert!(!o.status.success(), "{}", stdout(&o));
    assert_eq!(stored_auth(&cfg, &reg.addr), None);

    let input = format!("{PASSWORD}\n");
    let o = e.berth_with_config(
        &cfg,
        &["login", "-u", USER, "--password-stdin", &reg.addr],
        input.as_bytes(),
    );
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "Login Succeeded\n");
    assert!(stderr(&o).contains("stored unencrypted"), "{}", stderr(&o));
    assert_eq!(stored_auth(&cfg, &reg.addr), Some(expected.clone()));

    let out = e.berth_with_config(&cfg, &["logout", &reg.addr], b"");
    assert_eq!(
        stdout(&out),
        format!("Removing login credentials for {}\n", reg.addr)
    );
    assert_eq!(stored_auth(&cfg, &reg.addr), None);
}

#[test]
fn docker_cli_login_goes_through_berth_and_stores_the_same_entry() {
    let reg = Registry::start_with(Auth::Basic);
    let e = TestEngine::start();
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));

    // The stock docker CLI logs in through berth's POST /auth and stores the same entry.
    let dcfg = e.dir.path().join("cfg-docker");
    let input = format!("{PASSWORD}\n");
    let o = docker(
        &e,
        &dcfg,
        &["login", "-u", USER, "--password-stdin", &reg.addr],
        input.as_bytes(),
    );
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("Login Succeeded"), "{}", stdout(&o));
    assert_eq!(stored_auth(&dcfg, &reg.addr), Some(expected));
    let o = docker(
        &e,
        &dcfg,
        &["login", "-u", USER, "--password-stdin", &reg.addr],
        b"nope\n",
    );
    assert!(!o.status.success());
}

/// A pulled multi-layer image (gzip and plain layers): history maps each layer to its size, the
/// docker CLI shows it, and `system check` verifies the gzip blobs and finds a corrupted one.
#[test]
fn registry_pulled_image_history_and_check() {
    use common::image;
    use common::registry::{host_arch, Compression, Layer, OciImage};
    let reg = Registry::start();
    let e = TestEngine::start();
    let img = OciImage::new(host_arch())
        .raw_layer(image::busybox_rootfs_tar(), Compression::Gzip)
        .layer(Layer::new(Compression::None).file("payload", &[b'x'; 5000]));
    let dir = tempfile::tempdir().unwrap();
    let w = img.write_layout(dir.path(), "v1");
    reg.push_layout(dir.path(), "hist:v1");
    let name = format!("{}/hist:v1", reg.addr);
    let o = e.berth(&["pull", &name]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));

    let v = e.api_json("GET", &format!("/images/{name}/history"), None);
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 2, "{v}");
    assert_eq!(items[0]["Size"], 5000, "{v}");
    assert_eq!(items[0]["Tags"], serde_json::json!([name]), "{v}");
    assert_eq!(items[1]["Id"], "<missing>");
    assert!(items[1]["Size"].as_i64().unwrap() > 100_000, "{v}");
    assert_eq!(items[1]["Created"], 1_704_067_200);
    let o = e.docker(&[
        "history",
        "--format",
        "{{.ID}} {{.Size}} {{.CreatedBy}}",
        &name,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].ends_with(" 5kB test"), "{lines:?}");
    assert!(lines[1].starts_with("<missing> "), "{lines:?}");

    let r = e.api_json("POST", "/berth/v1/system/check", None);
    assert_eq!(r["BrokenImages"], serde_json::json!([]), "{r}");
    assert_eq!(r["CorruptBlobs"], serde_json::json!([]), "{r}");
    // Flip a byte of the stored gzip layer blob: the check notices, repair removes the image.
    let gz = e.data_path(&format!(
        "image/blobs/sha256/{}",
        w.layer_digests[0].trim_start_matches("sha256:")
    ));
    let mut data = std::fs::read(&gz).unwrap();
    let mid = data.len() / 2;
    data[mid] ^= 0x55;
    std::fs::write(&gz, data).unwrap();
    let o = e.berth(&["system", "check"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("Corrupt blob: {}", w.layer_digests[0])),
        "{}",
        stdout(&o)
    );
    let o = e.berth(&["system", "check", "--repair"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(&format!("Removed tag: {name}")),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        e.api_json("GET", "/images/json", None),
        serde_json::json!([])
    );
    // The next pull brings it back whole.
    let o = e.berth(&["pull", &name]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let o = e.docker(&["run", "--rm", &name, "cat", "/payload"]);
    assert!(
        o.status.success() && stdout(&o).len() == 5000,
        "{}",
        stderr(&o)
    );
}
