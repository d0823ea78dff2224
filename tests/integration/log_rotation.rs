//! Log rotation through the stock docker CLI and the API: `--log-opt max-size/max-file` rotate
//! the json-file log into `LogPath.1`, `.2`, …; `compress=true` (and the `local` driver, by
//! default) gzips the rotated files; `docker logs` (plain, `--tail`, `-f`) reads across them in
//! order; dockerd's refusals of options that cannot work.

use crate::common;

use std::path::{Path, PathBuf};

use common::api::inspect;
use common::{ok, stderr, TestEngine};

/// Print `line-1` … `line-N` and exit (`pace`: busybox usleep microseconds between lines).
fn printer(n: u32, pace: u32) -> String {
    format!("i=1; while [ $i -le {n} ]; do echo line-$i; usleep {pace}; i=$((i+1)); done")
}

fn run_to_exit(e: &TestEngine, name: &str, opts: &[&str], script: &str) {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(opts);
    args.extend_from_slice(&["busybox", "sh", "-c", script]);
    ok(&e.docker(&args));
    assert_eq!(ok(&e.docker(&["wait", name])), "0\n");
}

/// The numbers of `line-N` lines, checking nothing else is there.
fn numbers(text: &str) -> Vec<u32> {
    text.lines()
        .map(|l| {
            l.strip_prefix("line-")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unexpected log line {l:?}"))
        })
        .collect()
}

fn assert_contiguous_tail(nums: &[u32], last: u32) {
    assert!(!nums.is_empty(), "no lines at all");
    assert_eq!(*nums.last().unwrap(), last, "{nums:?}");
    assert!(
        nums.windows(2).all(|w| w[1] == w[0] + 1),
        "lines out of order or missing: {nums:?}"
    );
}

/// The container's directory (where `local` keeps its log, which inspect does not show).
fn container_dir(e: &TestEngine, name: &str) -> PathBuf {
    let c = inspect(e, name);
    let upper = c["GraphDriver"]["Data"]["UpperDir"].as_str().unwrap();
    Path::new(upper).parent().unwrap().to_owned()
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", p.display()))
}

#[test]
fn json_file_rotates_and_docker_logs_reads_across_the_files() {
    let e = TestEngine::with_busybox();
    let opts = ["--log-opt", "max-size=1k", "--log-opt", "max-file=3"];
    run_to_exit(&e, "rot", &opts, &printer(300, 0));
    let log = PathBuf::from(inspect(&e, "rot")["LogPath"].as_str().unwrap());
    for f in [
        log.clone(),
        with_suffix(&log, ".1"),
        with_suffix(&log, ".2"),
    ] {
        let size = std::fs::metadata(&f)
            .unwrap_or_else(|_| panic!("{} exists", f.display()))
            .len();
        assert!(size <= 1024 + 128, "{} is {size} bytes", f.display());
    }
    assert!(
        !with_suffix(&log, ".3").exists(),
        "max-file=3 keeps 3 files"
    );

    let all = numbers(&ok(&e.docker(&["logs", "rot"])));
    assert_contiguous_tail(&all, 300);
    assert!(all[0] > 1, "the oldest lines were rotated out: {all:?}");
    // Every file contributes: more lines than one 1k file holds.
    let in_current = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(all.len() > 2 * in_current, "{} vs {in_current}", all.len());

    // --tail across files.
    let tail = numbers(&ok(&e.docker(&["logs", "--tail", "20", "rot"])));
    assert_eq!(tail, (281..=300).collect::<Vec<_>>());
}

#[test]
fn compressed_rotation_and_the_local_driver() {
    let e = TestEngine::with_busybox();
    let opts = [
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
        "--log-opt",
        "compress=true",
    ];
    run_to_exit(&e, "gz", &opts, &printer(300, 0));
    let log = PathBuf::from(inspect(&e, "gz")["LogPath"].as_str().unwrap());
    for n in [1, 2] {
        let gz = with_suffix(&log, &format!(".{n}.gz"));
        let head = std::fs::read(&gz).unwrap_or_else(|_| panic!("{} exists", gz.display()));
        assert_eq!(&head[..2], b"\x1f\x8b", "{} is gzip", gz.display());
        assert!(!with_suffix(&log, &format!(".{n}")).exists());
    }
    let all = numbers(&ok(&e.docker(&["logs", "gz"])));
    assert_contiguous_tail(&all, 300);
    assert!(all[0] > 1);

    // `local` compresses by default; its log is not shown as LogPath (as in dockerd).
    let opts = ["--log-driver", "local", "--log-opt", "max-size=1k"];
    run_to_exit(&e, "loc", &opts, &printer(300, 0));
    assert_eq!(inspect(&e, "loc")["LogPath"], "");
    let dir = container_dir(&e, "loc");
    let gzipped: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|d| d.ok())
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".gz"))
        .collect();
    assert!(!gzipped.is_empty(), "local gzips rotated files");
    let all = numbers(&ok(&e.docker(&["logs", "loc"])));
    assert_contiguous_tail(&all, 300);
}

#[test]
fn follow_reads_through_rotations() {
    let e = TestEngine::with_busybox();
    let opts = ["--log-opt", "max-size=1k", "--log-opt", "max-file=50"];
    let mut args = vec!["run", "-d", "--name", "fol"];
    args.extend_from_slice(&opts);
    let script = format!("sleep 0.5; {}", printer(200, 5000));
    args.extend_from_slice(&["busybox", "sh", "-c", &script]);
    ok(&e.docker(&args));
    // -f from the start: returns when the container exits, with every line.
    let followed = numbers(&ok(&e.docker(&["logs", "-f", "fol"])));
    assert_eq!(followed, (1..=200).collect::<Vec<_>>());
    let log = PathBuf::from(inspect(&e, "fol")["LogPath"].as_str().unwrap());
    assert!(
        with_suffix(&log, ".5").exists(),
        "it did rotate, many times"
    );
}

#[test]
fn options_dockerd_refuses() {
    let e = TestEngine::with_busybox();
    let refused = |opts: &[&str], msg: &str| {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(opts);
        args.extend_from_slice(&["busybox", "true"]);
        let o = e.docker(&args);
        assert!(!o.status.success(), "{opts:?} ran");
        assert!(stderr(&o).contains(msg), "{opts:?}: {}", stderr(&o));
    };
    // Positive first: the same options with what they need are fine.
    ok(&e.docker(&[
        "run",
        "--rm",
        "--log-opt",
        "compress=true",
        "--log-opt",
        "max-size=1m",
        "--log-opt",
        "max-file=2",
        "busybox",
        "true",
    ]));
    let msg = "compress cannot be true when max-file is less than 2 or max-size is not set";
    refused(&["--log-opt", "compress=true"], msg);
    refused(
        &["--log-opt", "compress=true", "--log-opt", "max-size=1m"],
        msg,
    );
    refused(
        &["--log-opt", "compress=yes", "--log-opt", "max-size=1m"],
        "invalid syntax",
    );
    refused(
        &["--log-driver", "local", "--log-opt", "max-file=1"],
        "compression cannot be enabled when max file count is 1",
    );
    refused(
        &["--log-opt", "max-size=lots"],
        "failed to initialize logging driver: invalid size: 'lots'",
    );
    refused(
        &["--log-opt", "max-file=0"],
        "max-file cannot be less than 1",
    );
    // A refused start leaves the container Created with dockerd's exit code and error, and
    // `--rm` removes it (the runs above left nothing behind).
    let o = e.docker(&[
        "run",
        "--name",
        "kept",
        "--log-opt",
        "compress=1",
        "busybox",
        "true",
    ]);
    assert!(!o.status.success());
    let c = inspect(&e, "kept");
    assert_eq!(c["State"]["Status"], "created");
    assert_eq!(c["State"]["ExitCode"], 128);
    assert_eq!(
        c["State"]["Error"],
        "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set"
    );
    let o = e.docker(&["ps", "-aq"]);
    assert_eq!(
        ok(&o).lines().count(),
        1,
        "only the container run without --rm is left"
    );
}
