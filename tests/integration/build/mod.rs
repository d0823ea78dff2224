//! The image builder against a real engine: `docker build` through the stock docker CLI on its
//! legacy path (`DOCKER_BUILDKIT=0`, as the issue asks clients to work unmodified) and `POST
//! /build` through the raw API. One file per area; the expectations are dockerd 20.10's legacy
//! builder's (checked side by side while writing them). Every test starts its own engine with the
//! busybox test image and keeps its Dockerfiles small, so the whole module stays quick.

mod api;
mod cache;
mod copy;
mod instructions;
mod kill;
mod multistage;
mod run;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{self, http, TestEngine};

/// A build context on disk: a temporary directory the test fills with files.
pub struct Ctx {
    pub dir: tempfile::TempDir,
}

impl Ctx {
    /// A context holding only `Dockerfile` with `dockerfile`.
    pub fn new(dockerfile: &str) -> Ctx {
        let c = Ctx {
            dir: tempfile::Builder::new()
                .prefix("berth-build-ctx-")
                .tempdir()
                .expect("tempdir"),
        };
        c.file("Dockerfile", dockerfile);
        c
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn arg(&self) -> &str {
        self.dir.path().to_str().expect("utf-8 temp path")
    }

    /// Write `rel` (parents created) with `content`.
    pub fn file(&self, rel: &str, content: &str) -> PathBuf {
        self.bytes(rel, content.as_bytes())
    }

    pub fn bytes(&self, rel: &str, content: &[u8]) -> PathBuf {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, content).expect("write context file");
        p
    }

    /// The context as a plain tar (uid/gid 0, as the docker CLI sends it), symlinks kept.
    pub fn tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        b.follow_symlinks(false);
        b.mode(tar::HeaderMode::Deterministic);
        b.append_dir_all(".", self.dir.path()).expect("tar context");
        b.into_inner().expect("tar")
    }
}

/// `docker build ARGS` (legacy builder) against `e`.
pub fn docker_build(e: &TestEngine, args: &[&str]) -> Output {
    let mut full = vec!["build"];
    full.extend_from_slice(args);
    docker(e, &full)
}

/// The stock docker CLI with `DOCKER_BUILDKIT=0` (no buildx here: the legacy path either way).
/// A command that outlives [`DOCKER_TIMEOUT`] is killed and fails the test with what it printed,
/// so a build that never ends cannot hang the suite.
pub fn docker(e: &TestEngine, args: &[&str]) -> Output {
    let mut c: Command = e.docker_command(args);
    c.env("DOCKER_BUILDKIT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("run docker");
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + DOCKER_TIMEOUT;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait docker") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "docker {args:?} still running after {DOCKER_TIMEOUT:?}\nstdout:\n{}\nstderr:\n{}\nengine log tail:\n{}",
                String::from_utf8_lossy(&out.join().unwrap_or_default()),
                String::from_utf8_lossy(&err.join().unwrap_or_default()),
                tail(&e.log(), 30)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

pub const DOCKER_TIMEOUT: Duration = Duration::from_secs(120);

/// Build `ctx` tagged `tag` with extra CLI `args`; asserts success; (stdout, full image id).
pub fn build_ok(e: &TestEngine, ctx: &Ctx, tag: &str, args: &[&str]) -> (String, String) {
    let iid = ctx.path().with_extension("iid");
    let iid_s = iid.to_str().expect("utf-8").to_owned();
    let mut full = vec!["-t", tag, "--iidfile", &iid_s];
    full.extend_from_slice(args);
    full.push(ctx.arg());
    let o = docker_build(e, &full);
    let out = common::stdout(&o);
    assert!(
        o.status.success(),
        "docker build failed: {:?}\nstdout:\n{out}\nstderr:\n{}\nengine log tail:\n{}",
        o.status,
        common::stderr(&o),
        tail(&e.log(), 40)
    );
    let id = std::fs::read_to_string(&iid).expect("iidfile");
    let _ = std::fs::remove_file(&iid);
    assert!(id.starts_with("sha256:") && id.len() == 71, "iid {id}");
    (out, id)
}

/// Build expecting failure; (exit code, stdout, stderr).
pub fn build_err(e: &TestEngine, ctx: &Ctx, args: &[&str]) -> (Option<i32>, String, String) {
    let mut full: Vec<&str> = args.to_vec();
    full.push(ctx.arg());
    let o = docker_build(e, &full);
    assert!(
        !o.status.success(),
        "build unexpectedly succeeded:\n{}",
        common::stdout(&o)
    );
    (o.status.code(), common::stdout(&o), common::stderr(&o))
}

pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `GET /images/{name}/json`.
pub fn image(e: &TestEngine, name: &str) -> Value {
    e.api_json("GET", &format!("/images/{name}/json"), None)
}

/// The image's `Config`.
pub fn config(e: &TestEngine, name: &str) -> Value {
    image(e, name)["Config"].clone()
}

/// `docker history --no-trunc` CreatedBy column, newest first.
pub fn history(e: &TestEngine, name: &str) -> Vec<String> {
    let o = docker(
        e,
        &["history", "--no-trunc", "--format", "{{.CreatedBy}}", name],
    );
    common::ok(&o).lines().map(str::to_owned).collect()
}

/// `docker run --rm IMAGE sh -c CMD`; stdout (asserts success).
pub fn run_sh(e: &TestEngine, image: &str, cmd: &str) -> String {
    let o = docker(e, &["run", "--rm", image, "sh", "-c", cmd]);
    common::ok(&o)
}

/// `POST /build?QUERY` with `body` (a context tar or a Dockerfile) and extra headers.
pub fn api_build(
    e: &TestEngine,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::Response {
    let path = if query.is_empty() {
        "/build".to_string()
    } else {
        format!("/build?{query}")
    };
    http::request_with_headers(&e.socket, "POST", &path, headers, Some(body))
        .unwrap_or_else(|err| panic!("POST {path}: {err}\nengine log:\n{}", tail(&e.log(), 40)))
}

/// The NDJSON messages of a build response.
pub fn messages(r: &http::Response) -> Vec<Value> {
    r.text()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|err| panic!("not JSON ({err}): {l}")))
        .collect()
}

/// The concatenated `stream` texts of a build response.
pub fn stream_text(msgs: &[Value]) -> String {
    msgs.iter()
        .filter_map(|m| m["stream"].as_str())
        .collect::<String>()
}

/// The `aux.ID` of a build response.
pub fn aux_id(msgs: &[Value]) -> Option<String> {
    msgs.iter()
        .find_map(|m| m["aux"]["ID"].as_str().map(str::to_owned))
}

/// The number of ` ---> Using cache` lines.
pub fn cache_hits(out: &str) -> usize {
    out.lines()
        .filter(|l| l.trim() == "---> Using cache")
        .count()
}

/// The number of ` ---> Running in` lines (RUN steps that ran a container).
pub fn ran(out: &str) -> usize {
    out.lines()
        .filter(|l| l.trim_start().starts_with("---> Running in"))
        .count()
}
