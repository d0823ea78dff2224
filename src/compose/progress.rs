//! Progress lines as docker compose prints them on stderr (` ✔ Container demo-web-1  Started`):
//! one line per resource and step, `✔` when done, `!` for a warning, `✘` for an error; without
//! a terminal, docker compose's plain lines (no mark). The dashboard passes its own sink to see
//! the same events.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Where a step of a resource stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Working,
    Done,
    Warning,
    Error,
}

/// One progress event: `Container demo-web-1` is `Started`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub status: Status,
    pub text: String,
}

impl Event {
    pub fn new(id: impl Into<String>, status: Status, text: impl Into<String>) -> Event {
        Event {
            id: id.into(),
            status,
            text: text.into(),
        }
    }
    pub fn working(id: impl Into<String>, text: &str) -> Event {
        Event::new(id, Status::Working, text)
    }
    pub fn done(id: impl Into<String>, text: &str) -> Event {
        Event::new(id, Status::Done, text)
    }
}

/// Receives progress events; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Progress(Arc<dyn Fn(&Event) + Send + Sync>);

impl Progress {
    pub fn new(f: impl Fn(&Event) + Send + Sync + 'static) -> Progress {
        Progress(Arc::new(f))
    }

    /// Events dropped (`-q`, or a caller that reports on its own).
    pub fn silent() -> Progress {
        Progress::new(|_| {})
    }

    /// docker compose's progress on stderr. On a terminal, a line per event with a mark for
    /// finished steps (docker compose redraws one line per resource there); otherwise its
    /// plain writer's lines, ` Container demo-web-1  Started`, which scripts read.
    pub fn stderr() -> Progress {
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let lock = Arc::new(Mutex::new(()));
        Progress::new(move |e| {
            let _guard = lock.lock();
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(line(e, terminal).as_bytes());
        })
    }

    /// Events collected into a list (tests, the dashboard's task log).
    pub fn collect(into: Arc<Mutex<Vec<Event>>>) -> Progress {
        Progress::new(move |e| {
            if let Ok(mut v) = into.lock() {
                v.push(e.clone());
            }
        })
    }

    pub fn event(&self, e: Event) {
        (self.0)(&e)
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// One event as a line: with its mark for a terminal, else as docker compose's plain writer
/// prints it (`fmt.Fprintln("", id, text, status)`: no mark, the empty text's two spaces).
pub fn line(e: &Event, terminal: bool) -> String {
    if !terminal {
        return format!(" {}  {}\n", e.id, e.text);
    }
    let mark = match e.status {
        Status::Working => " ",
        Status::Done => "✔",
        Status::Warning => "!",
        Status::Error => "✘",
    };
    format!(" {mark} {}  {}\n", e.id, e.text)
}

/// docker compose's name for a container in progress lines.
pub fn container_id(name: &str) -> String {
    format!("Container {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docker compose v2.40.3's plain lines (stderr not a terminal), e.g. `compose pause`.
    #[test]
    fn plain_lines_as_docker_compose_prints_them() {
        let e = Event::done(container_id("demo-web-1"), "Paused");
        assert_eq!(line(&e, false), " Container demo-web-1  Paused\n");
        assert_eq!(line(&e, true), " ✔ Container demo-web-1  Paused\n");
        let w = Event::working(container_id("demo-db-1"), "Killing");
        assert_eq!(line(&w, false), " Container demo-db-1  Killing\n");
    }
}
