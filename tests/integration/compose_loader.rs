//! The loader's differential corpus: every case under tests/fixtures/compose/loader (several
//! files merged, `!reset`/`!override`, anchors, extends, include, interpolation, `.env` and
//! `--env-file`, `COMPOSE_*`, profiles, names, file discovery, stdin, services named on the
//! command line, and ~40 inputs docker compose refuses) is run through the built
//! `berth compose … config` exactly as record.sh ran docker compose v2.40.3, and compared with
//! what docker compose printed.
//!
//! The binary is run rather than the library called, so that everything between argv and the
//! output is under test: flag parsing, the process environment, the current directory, stdin,
//! the warnings and the error printing.
//!
//! Compared, with the case directory written `@DIR@` in both:
//! - the exit status;
//! - stdout of `config --format json`, of `config` (YAML) and of `config --hash '*'` (the
//!   config hashes, which docker compose takes of the whole project whatever services are
//!   named): byte for byte;
//! - the warnings, as a multiset: docker compose logs one per unset variable met while walking
//!   Go maps, whose order Go randomises, so only the sorted lists can be compared;
//! - for a refused input, berth's error must contain docker compose's message verbatim; berth
//!   may put `FILE:LINE:COLUMN: ` before it, and a case's `at FILE:LINE:COLUMN` directive
//!   pins that position (checked by hand to be the offending value).
//!
//! The cases run where record.sh ran them, /tmp/berth-loader-corpus/<case>: the config hashes
//! cover absolute paths (bind mounts, build contexts, env files), which no placeholder can
//! stand for inside a hash. A lock on that directory keeps record.sh and other checkouts'
//! runs of this test out meanwhile.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::BERTH;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/compose/loader");

/// record.sh's `ROOT`, and its lock (taken with flock(1) there).
const ROOT: &str = "/tmp/berth-loader-corpus";
const LOCK: &str = "/tmp/berth-loader-corpus.lock";

/// One case's `cmd` file.
#[derive(Debug, Default)]
struct Case {
    name: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<String>,
    stdin: Option<String>,
    /// Where berth must place the error (`compose.yaml:4:13`, relative to the case).
    at: Option<String>,
}

fn read_case(name: &str) -> Case {
    let text = std::fs::read_to_string(Path::new(CORPUS).join(name).join("cmd")).unwrap();
    let mut case = Case {
        name: name.to_string(),
        ..Case::default()
    };
    for line in text.lines() {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        match kind {
            "args" => case.args = shlex::split(rest).expect("args: shell words"),
            "env" => {
                let (k, v) = rest.split_once('=').expect("env NAME=VALUE");
                case.env.push((k.to_string(), v.to_string()));
            }
            "cwd" => case.cwd = Some(rest.to_string()),
            "stdin" => case.stdin = Some(rest.to_string()),
            "at" => case.at = Some(rest.to_string()),
            "" => {}
            k if k.starts_with('#') => {}
            other => panic!("{name}/cmd: unknown directive {other}"),
        }
    }
    case
}

fn case_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(CORPUS)
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            e.path()
                .join("cmd")
                .is_file()
                .then(|| e.file_name().into_string().ok())
                .flatten()
        })
        .collect();
    names.sort();
    names
}

/// Copy a case (without its `cmd` and recordings) as record.sh does.
fn copy_case(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).unwrap();
    }
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if from.join("cmd") == e.path() || name == "recorded" {
            continue;
        }
        copy_tree(&e.path(), &to.join(&name));
    }
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

fn run(case: &Case, dir: &Path, extra: &[&str]) -> Run {
    let cwd = match &case.cwd {
        Some(c) => dir.join(c),
        None => dir.to_path_buf(),
    };
    let stdin = match &case.stdin {
        Some(f) => {
            Stdio::from(std::fs::File::open(Path::new(CORPUS).join(&case.name).join(f)).unwrap())
        }
        None => Stdio::null(),
    };
    let out = Command::new(BERTH)
        .arg("compose")
        .args(&case.args)
        .args(extra)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/nonexistent")
        .envs(case.env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .stdin(stdin)
        .output()
        .unwrap();
    let placeholder = |b: Vec<u8>| {
        String::from_utf8(b)
            .unwrap()
            .replace(&dir.display().to_string(), "@DIR@")
    };
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: placeholder(out.stdout),
        stderr: placeholder(out.stderr),
    }
}

/// Undo Go's `%q` of a logrus `msg="…"` field.
fn go_unquote(s: &str) -> String {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s);
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

/// docker compose's stderr: the warnings (sorted) and the rest (its error message).
fn split_docker_stderr(text: &str) -> (Vec<String>, String) {
    let mut warnings = Vec::new();
    let mut rest = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("level=warning msg=") {
            Some(q) => warnings.push(go_unquote(q)),
            None => rest.push(line),
        }
    }
    warnings.sort();
    (warnings, rest.join("\n"))
}

/// berth's stderr: the warnings (sorted) and the error (after `Error: `).
fn split_berth_stderr(text: &str) -> (Vec<String>, String) {
    let mut warnings = Vec::new();
    let mut rest = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("WARN[0000] ") {
            Some(w) => warnings.push(w.to_string()),
            None => rest.push(line),
        }
    }
    warnings.sort();
    let rest = rest.join("\n");
    let rest = rest.strip_prefix("Error: ").unwrap_or(&rest).to_string();
    (warnings, rest)
}

fn recorded(case: &str, file: &str) -> String {
    std::fs::read_to_string(Path::new(CORPUS).join(case).join("recorded").join(file))
        .unwrap_or_default()
}

/// Where two texts first differ, for a readable failure.
fn first_diff(ours: &str, real: &str) -> String {
    let line = ours
        .lines()
        .zip(real.lines())
        .position(|(x, y)| x != y)
        .unwrap_or(ours.lines().count().min(real.lines().count()));
    format!(
        "line {}:\n    berth:  {:?}\n    docker: {:?}",
        line + 1,
        ours.lines().nth(line),
        real.lines().nth(line)
    )
}

/// The differences of one case, empty when it matches.
fn check(case: &Case, root: &Path) -> Vec<String> {
    let dir: PathBuf = root.join(&case.name);
    copy_case(&Path::new(CORPUS).join(&case.name), &dir);
    let mut problems = Vec::new();
    let want_status: i32 = recorded(&case.name, "exit")
        .trim()
        .parse()
        .expect("recorded exit");
    let hash = run(case, &dir, &["--hash", "*"]);
    let want_hash = recorded(&case.name, "stdout.hash");
    if hash.stdout != want_hash {
        problems.push(format!("hash {}", first_diff(&hash.stdout, &want_hash)));
    }
    let json = run(case, &dir, &["--format", "json"]);
    if json.status != want_status {
        problems.push(format!(
            "exit {} (docker: {want_status}); stderr: {}",
            json.status, json.stderr
        ));
    }
    let (want_warnings, want_error) = split_docker_stderr(&recorded(&case.name, "stderr"));
    let (warnings, error) = split_berth_stderr(&json.stderr);
    if warnings != want_warnings {
        problems.push(format!(
            "warnings:\n    berth:  {warnings:?}\n    docker: {want_warnings:?}"
        ));
    }
    if want_status != 0 {
        if !error.contains(&want_error) {
            problems.push(format!(
                "error:\n    berth:  {error:?}\n    docker: {want_error:?}"
            ));
        }
        if let Some(at) = &case.at {
            // stdin is the file "-" in compose-go's (and so berth's) messages.
            let prefix = if at.starts_with("-:") {
                format!("{at}: ")
            } else {
                format!("@DIR@/{at}: ")
            };
            if !error.starts_with(&prefix) {
                problems.push(format!("error not placed at {at}: {error:?}"));
            }
        }
        return problems;
    }
    let want_json = recorded(&case.name, "stdout.json");
    if json.stdout != want_json {
        problems.push(format!("JSON {}", first_diff(&json.stdout, &want_json)));
    }
    let yaml = run(case, &dir, &[]);
    let want_yaml = recorded(&case.name, "stdout.yaml");
    if yaml.stdout != want_yaml {
        problems.push(format!("YAML {}", first_diff(&yaml.stdout, &want_yaml)));
    }
    problems
}

#[test]
fn berth_config_matches_docker_compose() {
    let names = case_names();
    assert!(names.len() >= 70, "corpus missing: {names:?}");
    let lock = std::fs::File::create(LOCK).unwrap();
    let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .unwrap();
    let root = Path::new(ROOT);
    std::fs::create_dir_all(root).unwrap();
    let only = std::env::var("BERTH_LOADER_CASE").ok();
    let mut failed = Vec::new();
    let mut checked = 0;
    for name in &names {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        checked += 1;
        let case = read_case(name);
        let problems = check(&case, root);
        if !problems.is_empty() {
            failed.push(format!("{name}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {checked} cases differ from docker compose:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
