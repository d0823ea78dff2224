//! Test harness: a real `berth engine` on a temporary socket and data root, a tiny HTTP client for
//! the raw API, and a busybox image built from Debian's busybox-static.

#![allow(dead_code)]

pub mod api;
pub mod http;
pub mod image;
pub mod oci_layout;
pub mod procfs;
pub mod registry;
pub mod tls;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");

pub struct TestEngine {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub data_root: PathBuf,
    /// Networking names and ranges unique to this engine: tests run engines side by side.
    pub net: TestNetwork,
    child: Option<Child>,
    /// Extra `berth engine` flags (e.g. `--insecure-registry`), kept across restarts.
    pub extra_args: Vec<String>,
    /// Extra environment of the engine process, kept across restarts: given to the child, never
    /// set in this process (the tests share it).
    pub extra_env: Vec<(String, String)>,
    /// A command the engine is started under (e.g. `capsh --drop=... --`), its last word
    /// followed by the engine's own command line; empty: the engine is started directly.
    pub launcher: Vec<String>,
}

/// Bridge name, subnets and nft table of one test engine.
#[derive(Debug, Clone)]
pub struct TestNetwork {
    pub bridge: String,
    /// e.g. "10.77.12.0/24"
    pub bridge_subnet: String,
    /// A /20 for user networks.
    pub pool: String,
    pub nft_table: String,
}

impl TestNetwork {
    /// `berth engine` flags for these names.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--bridge-name".into(),
            self.bridge.clone(),
            "--bridge-subnet".into(),
            self.bridge_subnet.clone(),
            "--network-pool".into(),
            self.pool.clone(),
            "--nft-table".into(),
            self.nft_table.clone(),
        ]
    }

    /// The same as environment variables, for engines the client autostarts.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("BERTH_BRIDGE_NAME", self.bridge.clone()),
            ("BERTH_BRIDGE_SUBNET", self.bridge_subnet.clone()),
            ("BERTH_NETWORK_POOL", self.pool.clone()),
            ("BERTH_NFT_TABLE", self.nft_table.clone()),
        ]
    }

    /// Remove the bridges, namespaces and nft table of a stopped engine on `data_root`.
    pub fn cleanup(&self, data_root: &Path) {
        let _ = Command::new(BERTH)
            .args(["engine", "--cleanup-networking", "--data-root"])
            .arg(data_root)
            .args(self.args())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    pub fn pick() -> TestNetwork {
        use std::sync::atomic::{AtomicU32, Ordering};
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        // Random-ish but spread: pid and sequence mixed with the clock, then checked against
        // the host's routes (other engines' bridges show up there).
        let seed = pid
            .wrapping_mul(2654435761)
            .wrapping_add(seq.wrapping_mul(40503))
            .wrapping_add(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0),
            );
        let routes = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
        let used = |a: u32, b: u32| {
            // /proc/net/route prints addresses little-endian: 10.a.b.0 → "00bbaa0A"-ish prefix.
            let needle = format!("{:02X}{:02X}0A", b, a);
            routes.lines().any(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|d| d.ends_with(&needle))
            })
        };
        let mut n = seed;
        let (a, b) = loop {
            let a = 64 + (n % 64);
            let b = (n >> 8) % 256;
            if !used(a, b) {
                break (a, b);
            }
            n = n.wrapping_mul(1103515245).wrapping_add(12345);
        };
        let pa = 128 + ((seed >> 4) % 64);
        let pb = ((seed >> 12) % 16) * 16;
        TestNetwork {
            bridge: format!("bt{:08x}", seed),
            bridge_subnet: format!("10.{a}.{b}.0/24"),
            pool: format!("10.{pa}.{pb}.0/20"),
            nft_table: format!("bt_{pid}_{seq}"),
        }
    }
}

impl TestEngine {
    pub fn start() -> TestEngine {
        Self::start_with_args(&[])
    }

    /// Start and import the busybox test image as `busybox:latest`.
    pub fn with_busybox() -> TestEngine {
        let e = TestEngine::start();
        e.import_busybox("busybox:latest");
        e
    }

    /// Start with extra `berth engine` flags.
    pub fn start_with_args(args: &[&str]) -> TestEngine {
        Self::start_with(args, &[])
    }

    /// Start with extra `berth engine` flags and environment variables.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> TestEngine {
        Self::start_under(&[], args, env)
    }

    /// Start as `launcher... berth engine ...` (a wrapper that changes the engine's process
    /// attributes and then execs it, so the engine keeps the child's pid).
    pub fn start_under(launcher: &[&str], args: &[&str], env: &[(&str, &str)]) -> TestEngine {
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
            net: TestNetwork::pick(),
            child: None,
            extra_args: args.iter().map(|a| a.to_string()).collect(),
            extra_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            launcher: launcher.iter().map(|a| a.to_string()).collect(),
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
        let mut cmd = match self.launcher.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(BERTH);
                c
            }
            None => Command::new(BERTH),
        };
        let child = cmd
            .args(["engine", "--log-level", "debug", "--socket"])
            .arg(&self.socket)
            .arg("--data-root")
            .arg(&self.data_root)
            .args(self.net_args())
            .args(&self.extra_args)
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)))
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

    fn net_args(&self) -> Vec<String> {
        self.net.args()
    }

    /// Remove this engine's bridges, namespaces and nft table (the engine must be stopped).
    pub fn cleanup_networking(&self) {
        self.net.cleanup(&self.data_root);
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

    /// `berth --headless ARGS` against this engine, to adjust (stdin, environment) and run.
    pub fn berth_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BERTH);
        c.arg("--host")
            .arg(self.host())
            .arg("--no-autostart")
            .arg("--headless")
            .args(args);
        c
    }

    /// `berth --headless ARGS` against this engine, run with no stdin.
    pub fn berth(&self, args: &[&str]) -> Output {
        self.berth_command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run berth")
    }

    /// `berth --headless ARGS` with the docker config directory `config` (credentials) and
    /// `input` on stdin.
    pub fn berth_with_config(&self, config: &Path, args: &[&str], input: &[u8]) -> Output {
        let mut c = self.berth_command(args);
        c.env("DOCKER_CONFIG", config);
        with_stdin(c, input)
    }

    /// The stock docker CLI against this engine, to adjust and run.
    pub fn docker_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("docker");
        c.env("DOCKER_HOST", self.host())
            .env("DOCKER_CLI_HINTS", "false")
            .env_remove("DOCKER_CONTEXT")
            .args(args);
        c
    }

    /// The stock docker CLI against this engine, run with no stdin.
    pub fn docker(&self, args: &[&str]) -> Output {
        self.docker_command(args)
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
        self.cleanup_networking();
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert that a command succeeded; its stdout.
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

/// Run `cmd` with `input` on its stdin (written from a thread, so a command that answers before
/// reading everything cannot deadlock us), stdout and stderr captured.
pub fn with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// Seconds since the epoch (the API's `since`/`until`).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Now as `seconds.nanoseconds`, the API's precise `since`/`until`.
pub fn now_ts() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// Percent-encode everything but unreserved characters, for query values (filters are JSON).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
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

/// A TCP port free on every host address (bound, then released). Ports handed out before in this
/// process are never handed out again: the tests share it and start listeners side by side.
pub fn free_port() -> u16 {
    use std::sync::Mutex;
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = std::net::TcpListener::bind("0.0.0.0:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// The host's address on its default route, else its first global IPv4 address that is not on
/// a bridge of a test engine (or docker's), if any. Bridges come and go with their engines.
pub fn host_ipv4() -> Option<String> {
    let route = Command::new("ip")
        .args(["-4", "-o", "route", "get", "192.0.2.123"])
        .output()
        .ok()?;
    let route = String::from_utf8_lossy(&route.stdout);
    let mut words = route.split_whitespace();
    if words.any(|w| w == "src") {
        if let Some(src) = words.next() {
            return Some(src.to_owned());
        }
    }
    let out = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "scope", "global"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            let dev = l.split_whitespace().nth(1).unwrap_or("");
            !dev.starts_with("bt") && !dev.starts_with("br-") && !dev.starts_with("docker")
        })
        .find_map(|l| {
            let addr = l.split_whitespace().nth(3)?;
            Some(addr.split('/').next()?.to_owned())
        })
}

/// `sha256:<hex>` of `data`.
pub fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

pub fn path_exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}
