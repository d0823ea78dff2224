//! The real dashboard binary in a private tmux server (its own `-L` socket, never the user's),
//! driven with `send-keys` and read with `capture-pane`, against a real test engine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{TestEngine, BERTH};

pub struct Dashboard {
    server: String,
    pub config: PathBuf,
    _dir: tempfile::TempDir,
}

fn tmux(server: &str, args: &[&str]) -> Output {
    Command::new("tmux")
        .arg("-L")
        .arg(server)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("tmux")
}

impl Dashboard {
    /// Starts `berth --host <engine>` in a detached `cols`×`rows` tmux pane.
    pub fn start(engine: &TestEngine, cols: u16, rows: u16) -> Dashboard {
        Self::start_with(engine, cols, rows, None)
    }

    /// Same, with a config file's text (`None`: the dashboard writes its defaults).
    pub fn start_with(
        engine: &TestEngine,
        cols: u16,
        rows: u16,
        config: Option<&str>,
    ) -> Dashboard {
        Self::start_args(engine, cols, rows, config, &[])
    }

    /// Same, with more arguments for `berth` (`--compose-file FILE`).
    pub fn start_args(
        engine: &TestEngine,
        cols: u16,
        rows: u16,
        config: Option<&str>,
        args: &[&str],
    ) -> Dashboard {
        use std::sync::atomic::{AtomicU32, Ordering};
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let server = format!(
            "berth-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("config.toml");
        if let Some(text) = config {
            std::fs::write(&config_path, text).unwrap();
        }
        // No status line (the pane is the whole window), no escape delay (Esc then a key must
        // not read as alt-key), and the pane stays after berth exits so its last words can be read.
        let conf = dir.path().join("tmux.conf");
        std::fs::write(
            &conf,
            "set -g status off\nset -g escape-time 0\nset -g remain-on-exit on\nset -g default-terminal screen-256color\n",
        )
        .unwrap();
        let mut cmd = format!(
            "env BERTH_CONFIG={} {} --host {} --no-autostart",
            config_path.display(),
            BERTH,
            engine.host()
        );
        for a in args {
            cmd.push(' ');
            cmd.push_str(a);
        }
        let out = tmux(
            &server,
            &[
                "-f",
                conf.to_str().unwrap(),
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
                &cmd,
            ],
        );
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Dashboard {
            server,
            config: config_path,
            _dir: dir,
        }
    }

    /// Sends keys in tmux `send-keys` syntax, one call per key so each is its own read.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let out = tmux(&self.server, &["send-keys", "-t", "t", k]);
            assert!(out.status.success());
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Types text literally.
    pub fn type_text(&self, text: &str) {
        let out = tmux(&self.server, &["send-keys", "-t", "t", "-l", text]);
        assert!(out.status.success());
        std::thread::sleep(Duration::from_millis(30));
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&tmux(&self.server, &["capture-pane", "-p", "-t", "t"]).stdout)
            .into_owned()
    }

    pub fn dead(&self) -> bool {
        String::from_utf8_lossy(
            &tmux(
                &self.server,
                &["display-message", "-p", "-t", "t", "#{pane_dead}"],
            )
            .stdout,
        )
        .trim()
            == "1"
    }

    /// Waits until `pred` holds for the screen; panics with the last screen otherwise.
    pub fn wait(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() >= deadline {
                panic!("dashboard: timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        self.wait(&format!("{text:?}"), timeout, |s| s.contains(text))
    }

    /// The line of the screen that contains `text`.
    pub fn line_with(&self, text: &str) -> Option<String> {
        self.screen()
            .lines()
            .find(|l| l.contains(text))
            .map(str::to_string)
    }

    pub fn config_path(&self) -> &Path {
        &self.config
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = tmux(&self.server, &["kill-server"]);
    }
}
