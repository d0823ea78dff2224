//! Test harness: a real `berth engine` on a temporary socket and data root, a tiny HTTP client for
//! the raw API, and a busybox image built from Debian's busybox-static.

#![allow(dead_code)]

pub mod http;
pub mod image;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");

pub struct TestEngine {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub data_root: PathBuf,
    child: Option<Child>,
}

impl TestEngine {
    pub fn start() -> TestEngine {
        let dir = tempfile::Builder::new()
            .prefix("berth-test-")
            .tempdir()
            .expect("tempdir");
        let socket = dir.path().join("berth.sock");
        let data_root = dir.path().join("root");
        let mut engine = TestEngine {
            dir,
            socket,
            data_root,
            child: None,
        };
        engine.spawn();
        engine
    }

    /// (Re)start the engine process on the same socket and data root.
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("engine.log"))
            .expect("engine log");
        let child = Command::new(BERTH)
            .args(["engine", "--log-level", "debug", "--socket"])
            .arg(&self.socket)
            .arg("--data-root")
            .arg(&self.data_root)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn berth engine");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(r) = http::request(&self.socket, "GET", "/_ping", None) {
                if r.status == 200 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("engine did not answer /_ping; log:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("engine.log")).unwrap_or_default()
    }

    /// kill -9 the engine (containers keep running under their shims).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait, as a clean shutdown.
    pub fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let _ = c.wait();
        }
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn api(&self, method: &str, path: &str, body: Option<&str>) -> http::Response {
        http::request(&self.socket, method, path, body.map(str::as_bytes))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\nengine log:\n{}", self.log()))
    }

    pub fn api_json(&self, method: &str, path: &str, body: Option<&str>) -> serde_json::Value {
        let r = self.api(method, path, body);
        assert!(
            r.status < 300,
            "{method} {path} -> {} {}",
            r.status,
            r.text()
        );
        r.json()
    }

    /// `berth --headless ARGS` against this engine.
    pub fn berth(&self, args: &[&str]) -> Output {
        Command::new(BERTH)
            .arg("--host")
            .arg(self.host())
            .arg("--no-autostart")
            .arg("--headless")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run berth")
    }

    /// The stock docker CLI against this engine.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CLI_HINTS", "false")
            .env_remove("DOCKER_CONTEXT")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run docker")
    }

    /// Import the busybox test image as `name` (e.g. "busybox:latest").
    pub fn import_busybox(&self, name: &str) -> String {
        let tar = image::busybox_rootfs_tar();
        let (repo, tag) = name.rsplit_once(':').unwrap_or((name, "latest"));
        let r = http::request(
            &self.socket,
            "POST",
            &format!("/images/create?fromSrc=-&repo={repo}&tag={tag}"),
            Some(&tar),
        )
        .expect("import");
        assert_eq!(r.status, 200, "import: {}", r.text());
        let text = r.text();
        assert!(!text.contains("errorDetail"), "import failed: {text}");
        let line = text.lines().last().unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(line).expect("import status line");
        v["status"].as_str().unwrap_or_default().to_owned()
    }

    pub fn data_path(&self, rel: &str) -> PathBuf {
        self.data_root.join(rel)
    }
}

impl Drop for TestEngine {
    fn drop(&mut self) {
        if self.child.is_some() {
            // Containers outlive the engine by design: remove them so tests leave nothing running.
            if let Ok(r) = http::request(&self.socket, "GET", "/containers/json?all=1", None) {
                if let Ok(list) = serde_json::from_slice::<Vec<serde_json::Value>>(&r.body) {
                    for c in list {
                        if let Some(id) = c["Id"].as_str() {
                            let _ = http::request(
                                &self.socket,
                                "DELETE",
                                &format!("/containers/{id}?force=1"),
                                None,
                            );
                        }
                    }
                }
            }
            self.terminate();
        }
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Poll `f` until it returns Some or the timeout passes.
pub fn eventually<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

pub fn path_exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}
