//! Isolation proven from inside real containers, and one test per item of the security
//! checklist (notes §4), named after its CVE. The probes are one static C program (`probe.c`,
//! built with `gcc -static` once per test run and bound into busybox at /probe), the same binary
//! that was run under dockerd 20.10 on this host to record what docker allows: each module says
//! which of its expectations come from dockerd.
//!
//! Every denial is asserted after the same probe was shown to succeed where docker lets it (a
//! lifted mode, another container, the host), so no test passes because the probe is broken.

mod cves;
mod isolation;
mod namespaces;
mod privileged;
mod propagation;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::{stderr, stdout, TestEngine};

/// The probe binary, compiled once (static, so it runs in busybox).
pub(super) fn probe_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("berth-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("probe");
        let src = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/integration/security/probe.c"
        );
        let built = Command::new("gcc")
            .args(["-static", "-O1", "-o"])
            .arg(&out)
            .arg(src)
            .output()
            .expect("gcc is required for the isolation probes");
        assert!(built.status.success(), "gcc: {}", stderr(&built));
        out
    })
}

/// `docker run --rm <opts> -v probe:/probe:ro busybox <cmd>`: stdout and stderr together.
pub(super) fn run_in(e: &TestEngine, opts: &[&str], cmd: &[&str]) -> String {
    let bind = format!("{}:/probe:ro", probe_binary().display());
    let mut args = vec!["run", "--rm", "-v", &bind];
    args.extend_from_slice(opts);
    args.push("busybox");
    args.extend_from_slice(cmd);
    let o = e.docker(&args);
    format!("{}{}", stdout(&o), stderr(&o))
}

/// The probe's one line for `what` under `opts`: "<what>: allowed" or "<what>: denied <why>".
pub(super) fn probe(e: &TestEngine, opts: &[&str], what: &[&str]) -> String {
    let mut cmd = vec!["/probe"];
    cmd.extend_from_slice(what);
    run_in(e, opts, &cmd).trim().to_owned()
}

/// The `major minor` of a host block device this (root) test process can open: a disk when the
/// host allows it (a sandboxed host may refuse its own disk even to root), else a loop device.
/// A container must not open it by default; a privileged one may.
pub(super) fn host_block_device() -> (String, String) {
    let mut names: Vec<String> = std::fs::read_dir("/sys/block")
        .unwrap()
        .flatten()
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort_by_key(|n| (n.starts_with("loop"), n.clone()));
    let name = names
        .iter()
        .find(|n| std::fs::File::open(format!("/dev/{n}")).is_ok())
        .expect("a block device the host can open");
    let dev = std::fs::read_to_string(format!("/sys/block/{name}/dev")).unwrap();
    let (maj, min) = dev.trim().split_once(':').unwrap();
    (maj.to_owned(), min.to_owned())
}

/// The `Cap*` and `Seccomp` lines of a container's /proc/self/status.
pub(super) fn status_lines(e: &TestEngine, opts: &[&str]) -> String {
    run_in(
        e,
        opts,
        &["grep", "-E", "^(Cap|Seccomp:)", "/proc/self/status"],
    )
}
