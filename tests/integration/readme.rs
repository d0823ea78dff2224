//! README.md cannot rot: every shell block a user is told to run is executed here, verbatim and in
//! order, as a new user would, on a fresh data root with a temporary socket (`BERTH_HOST`), and the
//! output the README shows is checked.
//!
//! Blocks, by their fence's info string:
//! - ```` ```sh ````: run as written; every command must succeed (`set -e`).
//! - ```` ```console ````: a transcript. Each `$ ` line (with `\` continuations) is a command that
//!   must exit 0, and the lines after it are its output (stdout and stderr, as a terminal shows
//!   them). In the expected output a line `...` stands for any number of lines and `...` inside a
//!   line for any text.
//! - anything else (toml, text) is not run.
//!
//! An HTML comment on the line before a fence says when a block runs some other way:
//! `<!-- test: dashboard -->` runs it in tmux and waits for the dashboard's first screen, then
//! quits it with `q`; `<!-- test: ci -->` is the test command itself, which `.ci/run` must run
//! verbatim (this test is one of the tests it runs).

use crate::common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{TestNetwork, BERTH};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The README's blocks run `apt-get install`, and dpkg's lock admits one at a time: the tests that
/// run them take turns (they share a process with every other integration test).
static APT_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn apt_turn() -> std::sync::MutexGuard<'static, ()> {
    APT_TURN.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Script,
    Transcript,
    Dashboard,
    Ci,
}

#[derive(Debug, Clone)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    kind: Kind,
    body: Vec<String>,
}

/// The runnable blocks of a markdown text, in order.
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = markdown.lines().enumerate();
    let mut marker: Option<String> = None;
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim();
        if let Some(m) = trimmed
            .strip_prefix("<!-- test:")
            .and_then(|m| m.strip_suffix("-->"))
        {
            marker = Some(m.trim().to_owned());
            continue;
        }
        let Some(info) = trimmed.strip_prefix("```") else {
            if !trimmed.is_empty() {
                marker = None;
            }
            continue;
        };
        let mut body = Vec::new();
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            body.push(l.to_owned());
        }
        let kind = match (marker.take().as_deref(), info.trim()) {
            (Some("dashboard"), _) => Kind::Dashboard,
            (Some("ci"), _) => Kind::Ci,
            (Some(other), _) => panic!("README.md line {}: unknown test marker {other:?}", i),
            (None, "sh") => Kind::Script,
            (None, "console") => Kind::Transcript,
            (None, _) => continue,
        };
        out.push(Block {
            line: i + 1,
            kind,
            body,
        });
    }
    out
}

/// One command of a transcript and the output shown after it.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    command: String,
    expected: Vec<String>,
}

fn transcript_steps(block: &Block) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut continued = false;
    for line in &block.body {
        if continued {
            let step = steps.last_mut().unwrap();
            step.command.push('\n');
            step.command.push_str(line);
            continued = line.ends_with('\\');
        } else if let Some(cmd) = line.strip_prefix("$ ") {
            steps.push(Step {
                command: cmd.to_owned(),
                expected: Vec::new(),
            });
            continued = cmd.ends_with('\\');
        } else {
            let step = steps.last_mut().unwrap_or_else(|| {
                panic!(
                    "README.md line {}: a console block must start with a `$ ` command",
                    block.line
                )
            });
            step.expected.push(line.to_owned());
        }
    }
    steps
}

/// Does `line` match the pattern `pat`, in which `...` stands for any text?
fn line_matches(pat: &str, line: &str) -> bool {
    let parts: Vec<&str> = pat.split("...").collect();
    if parts.len() == 1 {
        return pat == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Do the output lines match the expected ones, where a `...` line stands for any lines?
fn output_matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((pat, rest)) if pat.trim() == "..." => {
            (0..=actual.len()).any(|skip| output_matches(rest, &actual[skip..]))
        }
        Some((pat, rest)) => {
            !actual.is_empty()
                && line_matches(pat.trim_end(), actual[0].trim_end())
                && output_matches(rest, &actual[1..])
        }
    }
}

/// The environment of a new user's shell pointed at a test engine: the berth under test first
/// on PATH, a temporary socket and data root, and this engine's own bridge and nft names.
struct Sandbox {
    dir: tempfile::TempDir,
    net: TestNetwork,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("berth-readme-")
                .tempdir()
                .unwrap(),
            net: TestNetwork::pick(),
        }
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("berth.sock")
    }

    fn data_root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn work(&self) -> PathBuf {
        let w = self.dir.path().join("work");
        std::fs::create_dir_all(&w).unwrap();
        w
    }

    fn command(&self, program: &str) -> Command {
        let bin = Path::new(BERTH).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c = Command::new(program);
        c.env("PATH", path)
            .env("BERTH_HOST", format!("unix://{}", self.socket().display()))
            .env("BERTH_DATA_ROOT", self.data_root())
            .env("DOCKER_CLI_HINTS", "false")
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .envs(self.net.env())
            .stdin(Stdio::null());
        c
    }

    fn berth(&self, args: &[&str]) -> std::process::Output {
        self.command(BERTH).args(args).output().unwrap()
    }
}

impl Drop for Sandbox {
    /// Whatever the README left running goes: containers, the engine, its networking.
    fn drop(&mut self) {
        if self.socket().exists() {
            let ps = self.berth(&["--no-autostart", "ps", "-aq"]);
            for id in String::from_utf8_lossy(&ps.stdout).split_whitespace() {
                self.berth(&["--no-autostart", "rm", "-f", id]);
            }
            self.berth(&["engine", "stop"]);
        }
        self.net.cleanup(&self.data_root());
    }
}

/// A bash script that runs the blocks in order and records, for each transcript step, its
/// output and exit status in `out/N` and `rc/N`; `current` names the block or step running.
fn script(blocks: &[Block], state: &Path) -> (String, Vec<(usize, Step)>) {
    let mut sh = String::from("set -e\n");
    let mut steps = Vec::new();
    let st = state.display();
    for b in blocks {
        match b.kind {
            Kind::Script => {
                let file = state.join(format!("block-{}.sh", b.line));
                std::fs::write(&file, b.body.join("\n") + "\n").unwrap();
                sh += &format!("echo 'block at line {}' > {st}/current\n", b.line);
                sh += &format!(". {}\n", file.display());
            }
            Kind::Transcript => {
                for step in transcript_steps(b) {
                    let n = steps.len();
                    let file = state.join(format!("step-{n}.sh"));
                    std::fs::write(&file, format!("{}\n", step.command)).unwrap();
                    sh += &format!(
                        "echo 'block at line {}: {}' > {st}/current\n",
                        b.line,
                        step.command.replace('\'', "'\\''")
                    );
                    sh += &format!(
                        "set +e; . {} > {st}/out-{n} 2>&1 < /dev/null; echo $? > {st}/rc-{n}; set -e\n",
                        file.display()
                    );
                    sh += &format!("[ \"$(cat {st}/rc-{n})\" = 0 ]\n");
                    steps.push((b.line, step));
                }
            }
            Kind::Dashboard | Kind::Ci => {}
        }
    }
    (sh, steps)
}

#[test]
fn readme_commands_work_as_documented() {
    let _turn = apt_turn();
    let readme = std::fs::read_to_string(Path::new(REPO).join("README.md")).unwrap();
    let blocks = blocks(&readme);
    assert!(
        blocks.iter().filter(|b| b.kind == Kind::Transcript).count() >= 3,
        "README.md has no transcripts to check"
    );
    let sandbox = Sandbox::new();
    let state = sandbox.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let (text, steps) = script(&blocks, &state);
    let mut child = sandbox
        .command("bash")
        .arg("-c")
        .arg(&text)
        // Its own process group, so what the README starts in the background (a registry)
        // goes with it. The engine is a session of its own and is stopped by the sandbox.
        .process_group(0)
        .current_dir(sandbox.work())
        // A file, not a pipe: what the README starts in the background (a registry) keeps its
        // inherited descriptors open after the script ends.
        .stdout(std::fs::File::create(state.join("log")).unwrap())
        .stderr(std::fs::File::create(state.join("log-err")).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // SAFETY: kill(2) of the script's own process group.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGTERM) };
    let log = format!(
        "{}{}",
        std::fs::read_to_string(state.join("log")).unwrap_or_default(),
        std::fs::read_to_string(state.join("log-err")).unwrap_or_default()
    );
    let current = std::fs::read_to_string(state.join("current")).unwrap_or_default();

    for (n, (line, step)) in steps.iter().enumerate() {
        let Ok(actual) = std::fs::read_to_string(state.join(format!("out-{n}"))) else {
            break;
        };
        let rc = std::fs::read_to_string(state.join(format!("rc-{n}"))).unwrap_or_default();
        let lines: Vec<&str> = actual.lines().collect();
        assert!(
            rc.trim() == "0" && output_matches(&step.expected, &lines),
            "README.md block at line {line}: `{}` exited {} and printed\n{actual}\nexpected:\n{}",
            step.command,
            rc.trim(),
            step.expected.join("\n")
        );
    }
    assert!(
        status.success(),
        "README.md stopped at the {}: exit {status}\n{log}",
        current.trim()
    );
}

/// The quick start's test command is what CI runs, word for word.
#[test]
fn readme_test_command_is_what_ci_runs() {
    let readme = std::fs::read_to_string(Path::new(REPO).join("README.md")).unwrap();
    let ci = std::fs::read_to_string(Path::new(REPO).join(".ci/run")).unwrap();
    let tests: Vec<Block> = blocks(&readme)
        .into_iter()
        .filter(|b| b.kind == Kind::Ci)
        .collect();
    assert_eq!(tests.len(), 1, "README.md must name one test command");
    for line in tests[0].body.iter().filter(|l| !l.trim().is_empty()) {
        assert!(
            ci.lines().any(|l| l.trim() == line.trim()),
            ".ci/run does not run the README's `{line}`"
        );
    }
}

/// The quick start's main command, verbatim in a terminal: it builds berth, starts the bundled
/// engine (none is running on the sandbox's socket) and shows the dashboard; `q` quits.
#[test]
fn readme_main_command_opens_the_dashboard() {
    let _turn = apt_turn();
    let readme = std::fs::read_to_string(Path::new(REPO).join("README.md")).unwrap();
    let mains: Vec<Block> = blocks(&readme)
        .into_iter()
        .filter(|b| b.kind == Kind::Dashboard)
        .collect();
    assert_eq!(mains.len(), 1, "README.md must name one main command");
    let sandbox = Sandbox::new();
    let server = format!("berth-readme-{}", std::process::id());
    let tmux = |args: &[&str]| {
        sandbox
            .command("tmux")
            .arg("-L")
            .arg(&server)
            .args(args)
            .output()
            .unwrap()
    };
    let script = sandbox.dir.path().join("main.sh");
    std::fs::write(&script, mains[0].body.join("\n") + "\n").unwrap();
    let launch = format!("cd {REPO} && bash {}", script.display());
    let o = tmux(&[
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "36",
        "-e",
        "TERM=screen-256color",
        &launch,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    tmux(&["set", "-g", "remain-on-exit", "on"]);
    // A release build from scratch takes minutes on two cores.
    let deadline = Instant::now() + Duration::from_secs(1500);
    let mut screen = String::new();
    while Instant::now() < deadline {
        let o = tmux(&["capture-pane", "-p"]);
        screen = String::from_utf8_lossy(&o.stdout).into_owned();
        if screen.contains("Containers") && screen.contains("Images") {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let opened = screen.contains("Containers") && screen.contains("Images");
    tmux(&["send-keys", "q"]);
    std::thread::sleep(Duration::from_millis(500));
    tmux(&["kill-server"]);
    assert!(opened, "the dashboard did not open:\n{screen}");
    let status = sandbox.berth(&["engine", "status"]);
    assert!(
        status.status.success(),
        "the dashboard did not start the bundled engine: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn transcripts_parse_and_match() {
    let md = "intro\n```console\n$ echo a \\\n  b\na b\n$ true\n```\n<!-- test: ci -->\n```sh\ncargo test\n```\n```toml\nx = 1\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 2);
    assert_eq!(b[1].kind, Kind::Ci);
    let steps = transcript_steps(&b[0]);
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].command, "echo a \\\n  b");
    assert_eq!(steps[0].expected, vec!["a b"]);
    assert!(steps[1].expected.is_empty());

    let pat = |s: &str| s.lines().map(str::to_owned).collect::<Vec<_>>();
    assert!(output_matches(&pat("a\n...\nz"), &["a", "b", "c", "z"]));
    assert!(output_matches(&pat("a\n...\nz"), &["a", "z"]));
    assert!(!output_matches(&pat("a\n...\nz"), &["a", "b"]));
    assert!(output_matches(
        &pat("web ... Up ..."),
        &["web   busybox  Up 2 seconds"]
    ));
    assert!(!output_matches(
        &pat("web ... Up ..."),
        &["web   Exited (0)"]
    ));
    assert!(!output_matches(&pat("hello"), &["hello", "extra"]));
    assert!(line_matches("sha256:...", "sha256:abc"));
    assert!(!line_matches("a...a", "a"));
}
