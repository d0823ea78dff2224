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

mod compare;
mod dockerd;
mod layers;
mod side;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::TestEngine;
use compare::compare;
use dockerd::{find_dockerd, Dockerd};
use side::{build_on, prepare_context, Side};

/// The config fields compared (those the Dockerfile instructions set).
pub(super) const CONFIG_FIELDS: &[&str] = &[
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
pub(super) const BUILD_TIMEOUT: Duration = Duration::from_secs(180);

/// Files of a corpus entry that steer the harness and are not part of the build context.
pub(super) const HARNESS_FILES: &[&str] = &["ARGS", "ENV", "MODES"];

pub(super) fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/build_differential/corpus")
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
