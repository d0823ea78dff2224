//! Differential test of the image builder: the Dockerfiles of `build_differential/corpus/` are
//! built by berth and by dockerd 20.10's legacy builder (`DOCKER_BUILDKIT=0`, the stock docker CLI
//! against each socket, `--network none` on both) and the results compared: the `Step` lines of
//! the build output, the image config's `config` section, the history (`created_by`, with the
//! content hashes of COPY/ADD normalised, and `empty_layer`), the file list of every layer and the
//! final file tree (mode, owner, size, link target; never mtimes).
//!
//! dockerd is the reference: every difference is berth's to fix, and all of them are reported in
//! one assertion message. The test starts a dockerd of its own (private data root, exec root,
//! socket and pid file; no bridge, no iptables, so the host's networking is untouched) and stops it
//! on every exit, panics included. Without `dockerd` installed it prints a note and passes.
//!
//! A corpus entry is a directory: the `Dockerfile` and its context files, plus optional harness
//! files that are not sent: `ARGS` (extra `docker build` arguments, one per line), `ENV` (`K=V`
//! lines for the CLI's environment, e.g. a `--build-arg NAME` without a value) and `MODES`
//! (`0600 path` lines: git keeps only 644/755, so the modes a case needs are set on a copy).
//! Entries build in name order and are tagged `diff-<name>:latest`, so one can build `FROM` another.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{http, image, TestEngine};

/// The config fields compared (those the Dockerfile instructions set).
const CONFIG_FIELDS: &[&str] = &[
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "ExposedPorts",
    "Labels",
    "Volumes",
    "StopSignal",
    "Healthcheck",
    "OnBuild",
    "Shell",
];

/// How long one docker command may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(180);

/// Files of a corpus entry that steer the harness and are not part of the build context.
const HARNESS_FILES: &[&str] = &["ARGS", "ENV", "MODES"];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/build_differential/corpus")
}

/// `dockerd` on PATH (or in the sbin directories a non-root PATH may lack).
fn find_dockerd() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|d| d.join("dockerd"))
        .find(|p| p.is_file())
}

/// A dockerd of the test's own; stopped (and its containerd and mounts cleaned up) on drop.
struct Dockerd {
    dir: tempfile::TempDir,
    socket: PathBuf,
    child: Option<Child>,
}

impl Dockerd {
    fn start(bin: &Path) -> Dockerd {
        let dir = tempfile::Builder::new()
            .prefix("berth-diff-dockerd-")
            .tempdir()
            .expect("tempdir");
        let socket = dir.path().join("docker.sock");
        let log = std::fs::File::create(dir.path().join("dockerd.log")).expect("dockerd log");
        let child = Command::new(bin)
            .arg("--data-root")
            .arg(dir.path().join("root"))
            .arg("--exec-root")
            .arg(dir.path().join("exec"))
            .arg("--pidfile")
            .arg(dir.path().join("dockerd.pid"))
            .arg("--host")
            .arg(format!("unix://{}", socket.display()))
            .args(["--bridge", "none", "--iptables=false", "--ip6tables=false"])
            .args(["--ip-masq=false", "--storage-driver", "overlay2"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dockerd log"))
            .stderr(log)
            .spawn()
            .expect("spawn dockerd");
        let mut d = Dockerd {
            dir,
            socket,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http::request(&d.socket, "GET", "/_ping", None) {
                if r.status == 200 {
                    return d;
                }
            }
            let exited = d
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
                .is_some();
            if exited || Instant::now() > deadline {
                panic!("dockerd did not answer /_ping; log:\n{}", d.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }
}

fn pid_alive(pid: i32) -> bool {
    // Not a zombie either: our containerd grandchild is reaped by init once dockerd is gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z")
        })
        .unwrap_or(false)
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let containerd =
            std::fs::read_to_string(self.dir.path().join("exec/containerd/containerd.pid"))
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok());
        if let Some(mut c) = self.child.take() {
            // SIGTERM: dockerd stops its containers and the containerd it started.
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(30);
            while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(pid) = containerd {
            let deadline = Instant::now() + Duration::from_secs(10);
            while pid_alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if pid_alive(pid) {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        // Whatever a killed dockerd left mounted under its directory, deepest first, so the
        // TempDir removal never crosses into a mount.
        let prefix = format!("{}/", self.dir.path().display());
        let mut mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(4).map(str::to_owned))
            .filter(|m| m.starts_with(&prefix))
            .collect();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            if let Ok(c) = std::ffi::CString::new(m) {
                unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
            }
        }
    }
}

/// One engine as the docker CLI sees it.
struct Side<'a> {
    name: &'static str,
    host: String,
    /// The engine's log, for build failures.
    log: Box<dyn Fn() -> String + 'a>,
}

impl Side<'_> {
    /// `docker -H <this side> ARGS`, killed after `BUILD_TIMEOUT` (a hung build is a difference to
    /// report, not a reason to hang the test).
    fn docker(&self, args: &[&str], env: &[(String, String)]) -> Output {
        let out = tempfile::tempfile().expect("stdout file");
        let err = tempfile::tempfile().expect("stderr file");
        let mut child = Command::new("docker")
            .args(["-H", &self.host])
            .args(args)
            .env("DOCKER_BUILDKIT", "0")
            .env("DOCKER_CLI_HINTS", "false")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_HOST")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("stdout file"))
            .stderr(err.try_clone().expect("stderr file"))
            .spawn()
            .expect("run docker");
        let deadline = Instant::now() + BUILD_TIMEOUT;
        let mut killed = false;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if !killed && Instant::now() > deadline => {
                    killed = true;
                    let _ = child.kill();
                    let _ = writeln!(
                        &err,
                        "\n(killed by the test after {}s: the command hung)",
                        BUILD_TIMEOUT.as_secs()
                    );
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("waiting for docker: {e}");
                }
            }
        };
        let read = |mut f: std::fs::File| {
            let mut v = Vec::new();
            f.seek(SeekFrom::Start(0)).expect("rewind");
            f.read_to_end(&mut v).expect("read output");
            v
        };
        Output {
            status,
            stdout: read(out),
            stderr: read(err),
        }
    }

    fn import_busybox(&self, dir: &Path) {
        let tar = dir.join("busybox.tar");
        std::fs::write(&tar, image::busybox_rootfs_tar()).expect("write busybox tar");
        let o = self.docker(&["import", &tar.to_string_lossy(), "busybox:latest"], &[]);
        assert!(
            o.status.success(),
            "{}: import busybox: {}",
            self.name,
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// What one side produced for one corpus entry.
#[derive(Debug, Default)]
struct Built {
    steps: Vec<String>,
    config: BTreeMap<String, Value>,
    /// The same fields from the stored image config (`docker save`).
    saved_config: BTreeMap<String, Value>,
    history_cli: Vec<String>,
    /// (created_by normalised, empty_layer) from the saved image config.
    history: Vec<(String, bool)>,
    /// Per layer: the entries (kind and path) in tar order.
    layers: Vec<Vec<String>>,
    /// The final file tree: path → "kind mode uid:gid size [-> target]".
    tree: BTreeMap<String, String>,
}

/// Copy a corpus entry into `to` (symlinks kept, harness files left out), modes normalised as a
/// git checkout with umask 022 gives them, then the entry's MODES applied.
fn prepare_context(from: &Path, to: &Path) {
    fn copy(from: &Path, to: &Path, top: bool) {
        std::fs::create_dir_all(to).unwrap();
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut entries: Vec<_> = std::fs::read_dir(from).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name();
            if top && HARNESS_FILES.iter().any(|h| name == *h) {
                continue;
            }
            let (src, dst) = (e.path(), to.join(&name));
            let meta = std::fs::symlink_metadata(&src).unwrap();
            if meta.file_type().is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
            } else if meta.is_dir() {
                copy(&src, &dst, false);
            } else {
                std::fs::copy(&src, &dst).unwrap();
                let mode = if meta.permissions().mode() & 0o111 != 0 {
                    0o755
                } else {
                    0o644
                };
                std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(mode)).unwrap();
            }
        }
    }
    copy(from, to, true);
    if let Ok(modes) = std::fs::read_to_string(from.join("MODES")) {
        for line in modes.lines().filter(|l| !l.trim().is_empty()) {
            let (mode, path) = line.trim().split_once(' ').expect("MODES line: MODE PATH");
            let mode = u32::from_str_radix(mode, 8).expect("octal mode");
            std::fs::set_permissions(to.join(path.trim()), std::fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("MODES {path}: {e}"));
        }
    }
}

fn harness_lines(dir: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// `file:<hex>`, `dir:<hex>` and `multi:<hex>` in a history line → `<kind>:<hash>`: the content
/// hashes of COPY/ADD differ by design.
fn normalise_created_by(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'outer: while !rest.is_empty() {
        for kind in ["file:", "dir:", "multi:"] {
            if let Some(after) = rest.strip_prefix(kind) {
                let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
                if hex > 0 {
                    out.push_str(kind);
                    out.push_str("<hash>");
                    rest = &after[hex..];
                    continue 'outer;
                }
            }
        }
        let ch = rest.chars().next().unwrap_or_default();
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

fn entry_kind(t: tar::EntryType) -> char {
    match t {
        tar::EntryType::Regular | tar::EntryType::Continuous => 'f',
        tar::EntryType::Directory => 'd',
        tar::EntryType::Symlink => 'l',
        tar::EntryType::Link => 'h',
        tar::EntryType::Char => 'c',
        tar::EntryType::Block => 'b',
        tar::EntryType::Fifo => 'p',
        _ => '?',
    }
}

/// A numeric header field as Go's archive/tar writes them: octal, base-256 (high bit set), or left
/// all NUL for zero (which the tar crate's accessors refuse).
fn tar_number(field: &[u8]) -> u64 {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        return field[1..]
            .iter()
            .fold(u64::from(field[0] & 0x7f), |n, b| (n << 8) | u64::from(*b));
    }
    let digits = String::from_utf8_lossy(field);
    let digits = digits.trim_matches(|c: char| c == '\0' || c == ' ');
    u64::from_str_radix(digits, 8).unwrap_or(0)
}

fn clean_path(p: &str) -> String {
    let p = p.trim_start_matches("./").trim_end_matches('/');
    p.trim_start_matches('/').to_owned()
}

/// Apply one layer tar to `tree` (whiteouts and opaque dirs as the overlay driver reads them);
/// the layer's entry list.
fn apply_layer(data: &[u8], tree: &mut BTreeMap<String, String>) -> Result<Vec<String>, String> {
    let mut list = Vec::new();
    let mut archive = tar::Archive::new(data);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let h = entry.header();
        let path = clean_path(&entry.path().map_err(|e| e.to_string())?.to_string_lossy());
        let kind = entry_kind(h.entry_type());
        list.push(format!("{kind} {path}"));
        let (dir, base) = match path.rsplit_once('/') {
            Some((d, b)) => (d.to_owned(), b.to_owned()),
            None => (String::new(), path.clone()),
        };
        let under = |p: &str, d: &str| {
            if d.is_empty() {
                !p.is_empty()
            } else {
                p.starts_with(&format!("{d}/"))
            }
        };
        if base == ".wh..wh..opq" {
            tree.retain(|p, _| !under(p, &dir));
            continue;
        }
        if let Some(gone) = base.strip_prefix(".wh.") {
            let gone = if dir.is_empty() {
                gone.to_owned()
            } else {
                format!("{dir}/{gone}")
            };
            tree.retain(|p, _| *p != gone && !under(p, &gone));
            continue;
        }
        if path.is_empty() {
            continue;
        }
        let old = h.as_old();
        let mode = tar_number(&old.mode) & 0o7777;
        let (uid, gid) = (tar_number(&old.uid), tar_number(&old.gid));
        let size = if kind == 'f' { entry.size() } else { 0 };
        let mut desc = format!("{kind} {mode:04o} {uid}:{gid} {size}");
        if matches!(kind, 'l' | 'h') {
            let target = entry
                .link_name()
                .map_err(|e| e.to_string())?
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default();
            let target = if kind == 'h' {
                clean_path(&target)
            } else {
                target
            };
            desc.push_str(&format!(" -> {target}"));
        }
        // A non-directory replaces whatever was there, a directory's old children included.
        if kind != 'd' {
            tree.retain(|p, _| !under(p, &path));
        }
        tree.insert(path, desc);
    }
    Ok(list)
}

/// The compared fields of an image config's `config` section; absent reads as null.
fn config_fields(config: &Value) -> BTreeMap<String, Value> {
    CONFIG_FIELDS
        .iter()
        .map(|f| {
            (
                f.to_string(),
                config.get(*f).cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// Read the image saved by `docker save` (docker's legacy archive layout: manifest.json naming the
/// config file and the layer tars, in the outer tar).
fn read_saved(archive: &[u8]) -> Result<Built, String> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut outer = tar::Archive::new(archive);
    for entry in outer.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = clean_path(&entry.path().map_err(|e| e.to_string())?.to_string_lossy());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|e| e.to_string())?;
        files.insert(path, data);
    }
    let manifest: Value = serde_json::from_slice(
        files
            .get("manifest.json")
            .ok_or("saved archive has no manifest.json")?,
    )
    .map_err(|e| format!("manifest.json: {e}"))?;
    let m = &manifest[0];
    let config_name = m["Config"].as_str().ok_or("manifest.json has no Config")?;
    let config: Value = serde_json::from_slice(
        files
            .get(&clean_path(config_name))
            .ok_or_else(|| format!("config {config_name} missing from the archive"))?,
    )
    .map_err(|e| format!("config: {e}"))?;
    let mut built = Built {
        saved_config: config_fields(&config["config"]),
        history: config["history"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|h| {
                (
                    normalise_created_by(h["created_by"].as_str().unwrap_or_default()),
                    h["empty_layer"].as_bool().unwrap_or(false),
                )
            })
            .collect(),
        ..Built::default()
    };
    for layer in m["Layers"].as_array().cloned().unwrap_or_default() {
        let name = clean_path(layer.as_str().unwrap_or_default());
        let data = files
            .get(&name)
            .ok_or_else(|| format!("layer {name} missing from the archive"))?;
        let mut plain = Vec::new();
        let data: &[u8] = if data.starts_with(&[0x1f, 0x8b]) {
            flate2::read::GzDecoder::new(&data[..])
                .read_to_end(&mut plain)
                .map_err(|e| format!("layer {name}: {e}"))?;
            &plain
        } else {
            data
        };
        let list = apply_layer(data, &mut built.tree).map_err(|e| format!("layer {name}: {e}"))?;
        built.layers.push(list);
    }
    Ok(built)
}

/// Build one corpus entry on one side and read back everything compared. Err: the build (or a
/// read-back) failed, with the output.
fn build_on(
    side: &Side,
    name: &str,
    ctx: &Path,
    case_dir: &Path,
    scratch: &Path,
) -> Result<Built, String> {
    let tag = format!("diff-{name}:latest");
    let mut args: Vec<String> = vec![
        "build".into(),
        "--network".into(),
        "none".into(),
        "-t".into(),
        tag.clone(),
    ];
    args.extend(harness_lines(case_dir, "ARGS"));
    args.push(ctx.to_string_lossy().into_owned());
    let env: Vec<(String, String)> = harness_lines(case_dir, "ENV")
        .iter()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = side.docker(&argv, &env);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    if !o.status.success() {
        return Err(format!(
            "build failed ({:?})\nstdout:\n{out}\nstderr:\n{}\nengine log (tail):\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr),
            tail(&(side.log)(), 8)
        ));
    }
    let mut built = Built::default();
    // By step number: stages that build in parallel may interleave their output.
    let mut steps: Vec<(usize, String)> = out
        .lines()
        .filter(|l| l.starts_with("Step ") || l.contains("[Warning]"))
        .map(|l| {
            let n = l
                .strip_prefix("Step ")
                .and_then(|r| r.split('/').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            (n, l.to_owned())
        })
        .collect();
    steps.sort();
    let steps = steps.into_iter().map(|(_, l)| l).collect();

    let o = side.docker(&["image", "inspect", &tag], &[]);
    if !o.status.success() {
        return Err(format!(
            "image inspect: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    let inspect: Value = serde_json::from_slice(&o.stdout).map_err(|e| format!("inspect: {e}"))?;
    let config = config_fields(&inspect[0]["Config"]);

    let o = side.docker(
        &["history", "--no-trunc", "--format", "{{.CreatedBy}}", &tag],
        &[],
    );
    if !o.status.success() {
        return Err(format!("history: {}", String::from_utf8_lossy(&o.stderr)));
    }
    let history_cli = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(normalise_created_by)
        .collect();

    let saved = scratch.join(format!("{name}-{}.tar", side.name));
    let o = side.docker(&["save", "-o", &saved.to_string_lossy(), &tag], &[]);
    if !o.status.success() {
        return Err(format!("save: {}", String::from_utf8_lossy(&o.stderr)));
    }
    let archive = std::fs::read(&saved).map_err(|e| format!("read saved image: {e}"))?;
    let _ = std::fs::remove_file(&saved);
    let saved = read_saved(&archive).map_err(|e| format!("saved image: {e}"))?;
    built.steps = steps;
    built.config = config;
    built.history_cli = history_cli;
    built.saved_config = saved.saved_config;
    built.history = saved.history;
    built.layers = saved.layers;
    built.tree = saved.tree;
    Ok(built)
}

/// The last `n` lines of an engine log, without terminal colours.
fn tail(s: &str, n: usize) -> String {
    let mut plain = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let lines: Vec<&str> = plain.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Every difference between dockerd's (`want`) and berth's (`got`) result, one per line.
fn compare(want: &Built, got: &Built) -> Vec<String> {
    let mut diffs = Vec::new();
    compare_lists(
        "build output Step/[Warning] lines",
        &want.steps,
        &got.steps,
        &mut diffs,
    );
    for (field, w) in &want.config {
        let g = got.config.get(field).unwrap_or(&Value::Null);
        if w != g {
            diffs.push(format!(
                "inspect Config.{field}:\n    dockerd: {w}\n    berth:   {g}"
            ));
        }
    }
    for (field, w) in &want.saved_config {
        let g = got.saved_config.get(field).unwrap_or(&Value::Null);
        if w != g {
            diffs.push(format!(
                "saved image config config.{field}:\n    dockerd: {w}\n    berth:   {g}"
            ));
        }
    }
    compare_lists(
        "docker history --no-trunc CreatedBy",
        &want.history_cli,
        &got.history_cli,
        &mut diffs,
    );
    let fmt = |h: &[(String, bool)]| -> Vec<String> {
        h.iter()
            .map(|(c, e)| format!("{}{c}", if *e { "[empty_layer] " } else { "" }))
            .collect()
    };
    compare_lists(
        "image config history (created_by, empty_layer)",
        &fmt(&want.history),
        &fmt(&got.history),
        &mut diffs,
    );
    if want.layers.len() != got.layers.len() {
        diffs.push(format!(
            "layer count: dockerd {} berth {}",
            want.layers.len(),
            got.layers.len()
        ));
    } else {
        for (i, (w, g)) in want.layers.iter().zip(&got.layers).enumerate() {
            let mut ws = w.clone();
            let mut gs = g.clone();
            ws.sort();
            gs.sort();
            compare_lists(&format!("layer {i} entries"), &ws, &gs, &mut diffs);
        }
    }
    let mut tree = Vec::new();
    for (path, w) in &want.tree {
        match got.tree.get(path) {
            None => tree.push(format!("    only in dockerd: /{path}  {w}")),
            Some(g) if g != w => tree.push(format!(
                "    /{path}\n      dockerd: {w}\n      berth:   {g}"
            )),
            _ => {}
        }
    }
    for (path, g) in &got.tree {
        if !want.tree.contains_key(path) {
            tree.push(format!("    only in berth:   /{path}  {g}"));
        }
    }
    if !tree.is_empty() {
        diffs.push(format!(
            "file tree (kind mode uid:gid size [-> target]):\n{}",
            tree.join("\n")
        ));
    }
    diffs
}

/// A list difference: both lists in full when they differ (they are short), the first differing
/// index named.
fn compare_lists(what: &str, want: &[String], got: &[String], diffs: &mut Vec<String>) {
    if want == got {
        return;
    }
    let first = want
        .iter()
        .zip(got)
        .position(|(w, g)| w != g)
        .unwrap_or(want.len().min(got.len()));
    let show = |l: &[String]| {
        l.iter()
            .enumerate()
            .map(|(i, s)| format!("      {}{i}: {s}", if i == first { ">" } else { " " }))
            .collect::<Vec<_>>()
            .join("\n")
    };
    diffs.push(format!(
        "{what} (first difference at {first}):\n    dockerd:\n{}\n    berth:\n{}",
        show(want),
        show(got)
    ));
}

#[test]
fn berth_builds_the_corpus_as_dockerd_does() {
    let Some(dockerd_bin) = find_dockerd() else {
        eprintln!("note: dockerd is not installed; the build differential test is skipped");
        return;
    };
    let dockerd = Dockerd::start(&dockerd_bin);
    let berth = TestEngine::start();
    let scratch = tempfile::Builder::new()
        .prefix("berth-diff-")
        .tempdir()
        .expect("tempdir");
    let sides = [
        Side {
            name: "dockerd",
            host: dockerd.host(),
            log: Box::new(|| dockerd.log()),
        },
        Side {
            name: "berth",
            host: berth.host(),
            log: Box::new(|| berth.log()),
        },
    ];
    for side in &sides {
        side.import_busybox(scratch.path());
    }

    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "corpus has {} entries", cases.len());

    let mut report = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let ctx = scratch.path().join("ctx").join(&name);
        prepare_context(case, &ctx);
        let want = build_on(&sides[0], &name, &ctx, case, scratch.path())
            .unwrap_or_else(|e| panic!("corpus entry {name} does not build on dockerd: {e}"));
        let diffs = match build_on(&sides[1], &name, &ctx, case, scratch.path()) {
            Ok(got) => compare(&want, &got),
            Err(e) => vec![format!("berth: {e}")],
        };
        if diffs.is_empty() {
            eprintln!("build_differential: {name}: same as dockerd");
        } else {
            eprintln!("build_differential: {name}: {} difference(s)", diffs.len());
            report.push(format!("=== {name} ===\n{}", diffs.join("\n")));
        }
    }
    assert!(
        report.is_empty(),
        "berth's builds differ from dockerd's legacy builder in {} of {} corpus entries:\n\n{}",
        report.len(),
        cases.len(),
        report.join("\n\n")
    );
}
