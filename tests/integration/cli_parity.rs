//! berth's CLI against the stock docker CLI: the same commands, through both clients, against the
//! same berth engine. Whatever docker's CLI treats as success (a 304 for a container already in
//! the state asked for) berth treats as success, and the common failures end with docker's exit
//! status, stdout and engine message.

use crate::common;

use std::process::Output;

use common::{stderr, stdout, TestEngine};

/// One row of the table: `args` run by both clients, each time after `before` and followed by
/// `after` (docker commands that set the state up and put it back), and the exit status both
/// must end with.
struct Case {
    args: &'static [&'static str],
    code: i32,
    before: &'static [&'static [&'static str]],
    after: &'static [&'static [&'static str]],
}

const fn case(args: &'static [&'static str], code: i32) -> Case {
    Case {
        args,
        code,
        before: &[],
        after: &[],
    }
}

const CASES: &[Case] = &[
    // 304: already in the state asked for — the name, exit 0.
    case(&["stop", "stopped"], 0),
    case(&["start", "web"], 0),
    case(&["container", "stop", "stopped"], 0),
    // Containers that do not exist.
    case(&["stop", "nosuch"], 1),
    case(&["start", "nosuch"], 1),
    case(&["restart", "nosuch"], 1),
    case(&["kill", "nosuch"], 1),
    case(&["rm", "nosuch"], 1),
    case(&["logs", "nosuch"], 1),
    case(&["inspect", "nosuch"], 1),
    case(&["container", "inspect", "nosuch"], 1),
    case(&["port", "nosuch"], 1),
    // Containers in the wrong state.
    case(&["rm", "web"], 1),
    case(&["kill", "stopped"], 1),
    case(&["top", "stopped"], 1),
    case(&["exec", "stopped", "true"], 1),
    case(&["unpause", "web"], 1),
    case(&["unpause", "stopped"], 1),
    Case {
        args: &["pause", "web"],
        code: 0,
        before: &[],
        after: &[&["unpause", "web"]],
    },
    Case {
        args: &["pause", "web"],
        code: 1,
        before: &[&["pause", "web"]],
        after: &[&["unpause", "web"]],
    },
    Case {
        args: &["unpause", "web"],
        code: 0,
        before: &[&["pause", "web"]],
        after: &[],
    },
    // Names.
    case(&["create", "--name", "web", "busybox"], 1),
    case(&["rename", "stopped", "web"], 1),
    // Images, volumes, networks.
    case(&["rmi", "nosuch"], 1),
    case(&["rmi", "library/nosuch:v1"], 1),
    case(&["rmi", "busybox"], 1),
    case(&["image", "inspect", "nosuch"], 1),
    case(&["volume", "inspect", "nosuch"], 1),
    case(&["volume", "rm", "nosuch"], 1),
    case(&["network", "inspect", "nosuch"], 1),
    // Exit statuses of run and exec.
    case(&["run", "--rm", "busybox", "sh", "-c", "exit 3"], 3),
    case(&["run", "--rm", "busybox", "nosuchcmd"], 127),
    case(&["run", "--rm", "busybox", "/etc"], 126),
    case(&["run", "--rm", "127.0.0.1:1/nosuch"], 125),
    case(&["run", "--rm", "busybox", "echo", "hi"], 0),
    case(&["exec", "web", "sh", "-c", "exit 4"], 4),
    case(&["exec", "web", "echo", "in", "web"], 0),
    case(&["wait", "stopped"], 0),
    // Usage errors: too few arguments and unknown commands exit 1, bad flags 125.
    case(&["stop"], 1),
    case(&["rename", "web"], 1),
    case(&["nosuchcommand"], 1),
    case(&["ps", "--nosuch"], 125),
    case(&["run", "--nosuch", "busybox"], 125),
    case(&["ps", "-n", "x"], 125),
    // Listings.
    case(
        &["ps", "-a", "--format", "{{.Names}} {{.State}} {{.Image}}"],
        0,
    ),
    case(
        &["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
        0,
    ),
    case(&["port", "web"], 0),
];

/// What both clients are compared on.
#[derive(Debug, PartialEq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    /// The engine's message, whatever the client puts before it ("docker: ").
    daemon_error: Option<String>,
}

fn outcome(o: &Output) -> Outcome {
    let err = stderr(o);
    Outcome {
        code: o.status.code(),
        stdout: stdout(o),
        daemon_error: err.lines().find_map(|l| {
            l.find("Error response from daemon:")
                .map(|i| l[i..].to_owned())
        }),
    }
}

#[test]
fn berth_and_docker_agree_on_exit_codes_and_output() {
    let e = TestEngine::with_busybox();
    for args in [
        &["run", "-d", "--name", "web", "busybox", "sleep", "300"][..],
        &["create", "--name", "stopped", "busybox", "true"],
    ] {
        let o = e.docker(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }

    let mut differences = Vec::new();
    for c in CASES {
        let run = |client: &str| {
            for step in c.before {
                e.docker(step);
            }
            let o = match client {
                "docker" => e.docker(c.args),
                _ => e.berth(c.args),
            };
            for step in c.after {
                e.docker(step);
            }
            (outcome(&o), stderr(&o))
        };
        let (docker, docker_err) = run("docker");
        let (berth, berth_err) = run("berth");
        if docker != berth || berth.code != Some(c.code) {
            differences.push(format!(
                "{:?} (want exit {}):\n  docker: {docker:?}\n          stderr {docker_err:?}\n  berth:  {berth:?}\n          stderr {berth_err:?}",
                c.args, c.code
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} commands differ:\n{}",
        differences.len(),
        CASES.len(),
        differences.join("\n")
    );
}

/// The README's first-container recipe ended in `stop web && rm web`: a 304 must not break it.
#[test]
fn stop_of_a_stopped_container_prints_its_name_and_chains() {
    let e = TestEngine::with_busybox();
    let o = e.berth(&["run", "--name", "once", "busybox", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = e.berth(&["stop", "once", "once"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "once\nonce\n");
    assert_eq!(stderr(&o), "");
    let o = e.berth(&["rm", "once"]);
    assert_eq!(stdout(&o), "once\n", "{}", stderr(&o));
}
