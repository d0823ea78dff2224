//! The client transport and headless commands against a tiny in-test HTTP server on a unix
//! socket that answers like dockerd (no engine needed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use berth::client::demux::{encode_frame, Demuxer, StreamKind};
use berth::client::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    body: Vec<u8>,
}

type Log = Arc<Mutex<Vec<Req>>>;

/// Serve `routes(req) -> raw response bytes` on a socket in a temp dir, one task per connection.
fn serve(rt: &tokio::runtime::Runtime, dir: &Path, routes: fn(&Req) -> Vec<u8>) -> (PathBuf, Log) {
    let sock = dir.join("berth.sock");
    let listener = rt.block_on(async { UnixListener::bind(&sock) }).unwrap();
    let log: Log = Arc::default();
    let log2 = log.clone();
    rt.spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let log = log2.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let n = s.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut parts = head.split_whitespace();
                let method = parts.next().unwrap().to_string();
                let path = parts.next().unwrap().to_string();
                let len = head
                    .lines()
                    .find_map(|l| {
                        l.to_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                let mut body = buf[head_end..].to_vec();
                while body.len() < len {
                    let n = s.read(&mut chunk).await.unwrap();
                    body.extend_from_slice(&chunk[..n]);
                }
                let req = Req { method, path, body };
                log.lock().unwrap().push(req.clone());
                let resp = routes(&req);
                let _ = s.write_all(&resp).await;
                let _ = s.shutdown().await;
            });
        }
    });
    (sock, log)
}

fn json(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn routes(req: &Req) -> Vec<u8> {
    let p = req.path.as_str();
    match (req.method.as_str(), p) {
        (_, "/_ping") => json("200 OK", ""),
        ("GET", "/v1.41/version") => json("200 OK", r#"{"Version":"9.9","ApiVersion":"1.41"}"#),
        ("GET", p) if p.starts_with("/v1.41/containers/json") => json(
            "200 OK",
            r#"[{"Id":"0123456789abcdef0123","Names":["/web"],"Image":"busybox","Command":"sleep 100","Created":0,"Ports":[],"Labels":{},"State":"running","Status":"Up 2 hours"}]"#,
        ),
        ("POST", p) if p.starts_with("/v1.41/containers/create") => {
            if req.body.windows(7).any(|w| w == b"missing") {
                json(
                    "404 Not Found",
                    r#"{"message":"No such image: missing:latest"}"#,
                )
            } else {
                json("201 Created", r#"{"Id":"c0ffee","Warnings":[]}"#)
            }
        }
        // The pull that `run` tries after create's 404 (what a registry without the repository
        // makes the engine answer).
        ("POST", p) if p.starts_with("/v1.41/images/create?fromImage=missing") => json(
            "404 Not Found",
            r#"{"message":"pull access denied for missing, repository does not exist or may require 'docker login'"}"#,
        ),
        ("POST", p) if p.starts_with("/v1.41/containers/c0ffee/attach") => {
            let mut r = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".to_vec();
            r.extend(encode_frame(1, b"hello out\n"));
            r.extend(encode_frame(2, b"hello err\n"));
            r
        }
        ("POST", p) if p.starts_with("/v1.41/containers/c0ffee/wait") => {
            json("200 OK", r#"{"StatusCode":3}"#)
        }
        ("POST", "/v1.41/containers/c0ffee/start") => {
            b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_vec()
        }
        _ => json("404 Not Found", r#"{"message":"page not found"}"#),
    }
}

fn berth(sock: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--host")
        .arg(format!("unix://{}", sock.display()))
        .arg("--no-autostart")
        .arg("--headless")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn negotiates_version_and_reports_daemon_errors() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sock, log) = serve(&rt, dir.path(), routes);
    rt.block_on(async {
        let c = Client::connect(&sock).await.unwrap();
        assert_eq!(c.api_version(), "1.41");
        let v: serde_json::Value = c.get("/version").await.unwrap();
        assert_eq!(v["Version"], "9.9");
        let e = c.get::<serde_json::Value>("/nope").await.unwrap_err();
        assert_eq!(e.to_string(), "Error response from daemon: page not found");
    });
    let paths: Vec<String> = log.lock().unwrap().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, vec!["/_ping", "/v1.41/version", "/v1.41/nope"]);
}

#[test]
fn hijacked_attach_is_demuxed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sock, _) = serve(&rt, dir.path(), routes);
    rt.block_on(async {
        let c = Client::connect(&sock).await.unwrap();
        let mut io = c
            .hijack("/containers/c0ffee/attach?stream=1&stdout=1&stderr=1")
            .await
            .unwrap();
        let mut raw = Vec::new();
        io.read_to_end(&mut raw).await.unwrap();
        let mut d = Demuxer::new();
        d.push(&raw);
        assert_eq!(d.next_frame().unwrap().unwrap().0, StreamKind::Stdout);
        let (k, data) = d.next_frame().unwrap().unwrap();
        assert_eq!((k, &data[..]), (StreamKind::Stderr, &b"hello err\n"[..]));
    });
}

#[test]
fn ps_and_version_through_the_binary() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sock, log) = serve(&rt, dir.path(), routes);
    let o = berth(&sock, &["ps", "--format", "{{.ID}} {{.Names}} {{.Status}}"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "0123456789ab web Up 2 hours\n"
    );
    assert!(o.status.success());
    let o = berth(&sock, &["ps", "-a", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["Command"], "\"sleep 100\"");
    assert!(log
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.path == "/v1.41/containers/json?all=1"));
    let o = berth(&sock, &["version"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("  Version:          9.9"));
}

#[test]
fn attached_run_streams_output_and_exits_with_the_container_status() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sock, log) = serve(&rt, dir.path(), routes);
    let o = berth(
        &sock,
        &["run", "--rm", "-e", "A=1", "busybox", "echo", "hi"],
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hello out\n");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "hello err\n");
    assert_eq!(o.status.code(), Some(3));
    let log = log.lock().unwrap();
    let create = log
        .iter()
        .find(|r| r.path.starts_with("/v1.41/containers/create"))
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&create.body).unwrap();
    assert_eq!(body["Cmd"], serde_json::json!(["echo", "hi"]));
    assert_eq!(body["HostConfig"]["AutoRemove"], true);
    assert!(log
        .iter()
        .any(|r| r.path == "/v1.41/containers/c0ffee/wait?condition=removed"));
}

#[test]
fn missing_image_and_flag_errors_exit_125() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (sock, _) = serve(&rt, dir.path(), routes);
    let o = berth(&sock, &["run", "missing"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "Unable to find image 'missing:latest' locally\nError response from daemon: pull access denied for missing, repository does not exist or may require 'docker login'\n"
    );
    let o = berth(&sock, &["run", "-m", "12x", "busybox"]);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "berth run: invalid argument \"12x\" for \"-m, --memory\" flag: invalid size: '12x'\n"
    );
}

#[test]
fn no_engine_without_autostart_is_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = berth(&dir.path().join("none.sock"), &["ps"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("Cannot connect to the berth engine"));
}
