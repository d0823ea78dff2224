//! One engine as the docker CLI sees it: a corpus entry's context prepared, built with the stock
//! CLI, and everything compared read back (`docker save`, history, output).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::layers::{config_fields, normalise_created_by, read_saved};
use super::{BUILD_TIMEOUT, HARNESS_FILES};
use crate::common::image;

/// One engine as the docker CLI sees it.
pub(super) struct Side<'a> {
    pub(super) name: &'static str,
    pub(super) host: String,
    /// The engine's log, for build failures.
    pub(super) log: Box<dyn Fn() -> String + 'a>,
}

impl Side<'_> {
    /// `docker -H <this side> ARGS`, killed after `BUILD_TIMEOUT` (a hung build is a difference to
    /// report, not a reason to hang the test).
    pub(super) fn docker(&self, args: &[&str], env: &[(String, String)]) -> Output {
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

    pub(super) fn import_busybox(&self, dir: &Path) {
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
pub(super) struct Built {
    pub(super) steps: Vec<String>,
    pub(super) config: BTreeMap<String, Value>,
    /// The same fields from the stored image config (`docker save`).
    pub(super) saved_config: BTreeMap<String, Value>,
    pub(super) history_cli: Vec<String>,
    /// (created_by normalised, empty_layer) from the saved image config.
    pub(super) history: Vec<(String, bool)>,
    /// Per layer: the entries (kind and path) in tar order.
    pub(super) layers: Vec<Vec<String>>,
    /// The final file tree: path → "kind mode uid:gid size [-> target]".
    pub(super) tree: BTreeMap<String, String>,
}

/// Copy a corpus entry into `to` (symlinks kept, harness files left out), modes normalised as a
/// git checkout with umask 022 gives them, then the entry's MODES applied.
pub(super) fn prepare_context(from: &Path, to: &Path) {
    pub(super) fn copy(from: &Path, to: &Path, top: bool) {
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

pub(super) fn harness_lines(dir: &Path, file: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(file))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Build one corpus entry on one side and read back everything compared. Err: the build (or a
/// read-back) failed, with the output.
pub(super) fn build_on(
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
pub(super) fn tail(s: &str, n: usize) -> String {
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
