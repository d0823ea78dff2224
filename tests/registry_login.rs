//! `berth login` and the stock `docker login` through berth's `POST /auth` against a real
//! htpasswd-protected registry (Debian's docker-registry): success stores the credentials where
//! the docker CLI keeps them; a wrong password stores nothing.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use common::registry::{Auth, Registry, PASSWORD, USER};
use common::{stderr, stdout, TestEngine};

fn run(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn berth(e: &TestEngine, cfg: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut c = Command::new(common::BERTH);
    c.env("DOCKER_CONFIG", cfg)
        .arg("--host")
        .arg(e.host())
        .arg("--no-autostart")
        .arg("--headless")
        .args(args);
    run(c, input)
}

fn docker(e: &TestEngine, cfg: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut c = Command::new("docker");
    c.env("DOCKER_CONFIG", cfg)
        .env("DOCKER_HOST", e.host())
        .env_remove("DOCKER_CONTEXT")
        .args(args);
    run(c, input)
}

fn stored_auth(cfg: &Path, server: &str) -> Option<String> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cfg.join("config.json")).ok()?).ok()?;
    v["auths"][server]["auth"].as_str().map(str::to_owned)
}

#[test]
fn registry_login_with_berth_and_docker() {
    let reg = Registry::start_with(Auth::Basic);
    let e = TestEngine::start();
    let cfg = e.dir.path().join("cfg-berth");
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));

    let o = berth(
        &e,
        &cfg,
        &["login", "-u", USER, "--password-stdin", &reg.addr],
        b"wrong-password\n",
    );
    assert!(!o.status.success(), "{}", stdout(&o));
    assert_eq!(stored_auth(&cfg, &reg.addr), None);

    let input = format!("{PASSWORD}\n");
    let o = berth(
        &e,
        &cfg,
        &["login", "-u", USER, "--password-stdin", &reg.addr],
        input.as_bytes(),
    );
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "Login Succeeded\n");
    assert!(stderr(&o).contains("stored unencrypted"), "{}", stderr(&o));
    assert_eq!(stored_auth(&cfg, &reg.addr), Some(expected.clone()));

    let out = berth(&e, &cfg, &["logout", &reg.addr], b"");
    assert_eq!(
        stdout(&out),
        format!("Removing login credentials for {}\n", reg.addr)
    );
    assert_eq!(stored_auth(&cfg, &reg.addr), None);

    // The stock docker CLI logs in through berth's POST /auth and stores the same entry.
    let dcfg = e.dir.path().join("cfg-docker");
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
