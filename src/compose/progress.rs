//! Progress lines as docker compose prints them on stderr (` ✔ Container demo-web-1  Started`):
//! one line per resource and step, `✔` when done, `!` for a warning, `✘` for an error. The
//! dashboard passes its own sink to see the same events.

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

    /// docker compose's plain progress on stderr: only finished steps get a mark.
    pub fn stderr() -> Progress {
        let lock = Arc::new(Mutex::new(()));
        Progress::new(move |e| {
            let _guard = lock.lock();
            let mark = match e.status {
                Status::Working => " ",
                Status::Done => "✔",
                Status::Warning => "!",
                Status::Error => "✘",
            };
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, " {mark} {}  {}", e.id, e.text);
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

/// docker compose's name for a container in progress lines.
pub fn container_id(name: &str) -> String {
    format!("Container {name}")
}
