//! The real docker compose brings a project up on a berth engine, then docker compose and
//! berth compose answer the same questions about it: their outputs must be the same, byte for
//! byte, except where docker compose's own order is random (Go map order: `images --format
//! json`, which is compared sorted). Skipped, with a notice, where docker compose is not
//! installed at /opt/composev2/bin/docker-compose (CI installs it).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{eventually, free_port, stderr, stdout, TestEngine};

const DOCKER_COMPOSE: &str = "/opt/composev2/bin/docker-compose";

struct Pair<'a> {
    e: &'a TestEngine,
    dir: &'a Path,
}

impl Pair<'_> {
    fn docker_compose(&self, args: &[&str]) -> Output {
        Command::new(DOCKER_COMPOSE)
            .args(args)
            .current_dir(self.dir)
            .env("DOCKER_HOST", self.e.host())
            .env_remove("DOCKER_CONTEXT")
            .env_remove("COMPOSE_PROJECT_NAME")
            .env_remove("COMPOSE_FILE")
            .stdin(Stdio::null())
            .output()
            .expect("run docker compose")
    }

    fn berth(&self, args: &[&str]) -> Output {
        let mut all = vec!["compose"];
        all.extend_from_slice(args);
        self.e
            .berth_command(&all)
            .current_dir(self.dir)
            .env_remove("COMPOSE_PROJECT_NAME")
            .env_remove("COMPOSE_FILE")
            .stdin(Stdio::null())
            .output()
            .expect("run berth")
    }

    /// Both tools' stdout for `args`, asserted equal; the text. Relative times ("Up 3
    /// seconds", each container's ticking at its own moment) may change between the two
    /// runs: the pair is asked again, up to ten times, until both answer within one tick.
    fn same(&self, args: &[&str]) -> String {
        let mut attempt = 0;
        loop {
            let ours = self.berth(args);
            let theirs = self.docker_compose(args);
            attempt += 1;
            if stdout(&ours) == stdout(&theirs) || attempt == 10 {
                assert_eq!(
                    stdout(&ours),
                    stdout(&theirs),
                    "`compose {}`: berth (left) and docker compose (right) differ\nberth stderr: {}\ndocker compose stderr: {}",
                    args.join(" "),
                    stderr(&ours),
                    stderr(&theirs)
                );
                return stdout(&ours);
            }
        }
    }

    /// Both tools' stdout and stderr for `args`, each as sorted lines (what concurrent output
    /// can reorder), asserted equal. Log prefixes are compared without their padding, which
    /// grows as containers first speak, in whatever order they do.
    fn same_lines(&self, args: &[&str]) {
        let unpadded = |l: &str| match l.split_once(" | ") {
            Some((name, rest)) => format!("{} | {rest}", name.trim_end()),
            None => l.to_string(),
        };
        let sorted = |o: &Output| {
            let mut v: Vec<String> = stdout(o).lines().map(unpadded).collect();
            v.extend(stderr(o).lines().map(String::from));
            v.sort();
            v
        };
        let (theirs, ours) = (self.docker_compose(args), self.berth(args));
        assert_eq!(
            sorted(&ours),
            sorted(&theirs),
            "`compose {}`",
            args.join(" ")
        );
    }
}

#[test]
fn outputs_match_docker_compose() {
    if !Path::new(DOCKER_COMPOSE).exists() {
        eprintln!("skipped: {DOCKER_COMPOSE} is not installed");
        return;
    }
    let e = TestEngine::with_busybox();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            r#"name: diffp
services:
  web:
    image: busybox
    command: sh -c 'echo hello web; echo to stderr >&2; sleep 300'
    ports:
      - "{port}:80"
    expose:
      - "5000"
      - "5001"
  db:
    image: busybox:latest
    command: ["sh", "-c", "echo db up; sleep 300"]
    deploy:
      replicas: 2
  job:
    image: busybox
    command: sh -c 'echo done; exit 2'
"#
        ),
    )
    .unwrap();
    let pair = Pair {
        e: &e,
        dir: dir.path(),
    };
    let up = pair.docker_compose(&["up", "-d"]);
    assert!(up.status.success(), "docker compose up: {}", stderr(&up));
    let settled = eventually(Duration::from_secs(20), || {
        let o = pair.berth(&["ps", "-a", "--format", "{{.Service}} {{.State}}"]);
        let text = stdout(&o);
        (text.contains("job exited") && text.matches("running").count() == 3).then_some(())
    });
    assert!(
        settled.is_some(),
        "the project never settled; docker compose up said:\n{}{}",
        stdout(&up),
        stderr(&up)
    );
    // Let each container's first lines reach its log.
    std::thread::sleep(Duration::from_millis(500));

    pair.same(&["ps"]);
    pair.same(&["ps", "-a", "--no-trunc"]);
    pair.same(&["ps", "-q"]);
    pair.same(&["ps", "--services"]);
    pair.same(&["ps", "-a", "--status", "exited"]);
    pair.same(&[
        "ps",
        "--format",
        "{{.Name}}|{{.Command}}|{{.Ports}}|{{.ExitCode}}|{{.Health}}",
    ]);
    pair.same(&["-p", "diffp", "ps", "-a"]);
    pair.same(&["ls"]);
    pair.same(&["ls", "-a", "--format", "json"]);
    pair.same(&["port", "web", "80"]);
    pair.same(&["port", "--index", "2", "db", "80"]);
    pair.same(&["top", "db"]);
    pair.same(&["images"]);
    pair.same(&["images", "-q"]);
    pair.same(&["logs", "--no-log-prefix", "web"]);
    pair.same(&["logs", "--tail", "1", "--index", "2", "db"]);
    pair.same(&["-p", "diffp", "logs", "job"]);
    pair.same_lines(&["logs"]);
    pair.same_lines(&["ps", "nosuch"]);
    pair.same_lines(&["port", "web", "81"]);

    let json = |o: Output| {
        let mut v: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
        v.sort_by_key(|i| i["ContainerName"].as_str().unwrap_or_default().to_string());
        v
    };
    let args = ["images", "--format", "json"];
    assert_eq!(json(pair.berth(&args)), json(pair.docker_compose(&args)));
}
