//! Progress as docker compose reports it (pkg/progress/event.go): an event names a resource
//! (`Network demo_default`, `Container demo-web-1`) and says where its action stands
//! (`Creating`, `Created`, `Error`…). The caller renders them; docker compose's plain output
//! is ` ✔ Network demo_default  Created`.

/// docker compose's `EventStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Working,
    Done,
    Warning,
    Error,
}

/// One progress event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The resource: `Network demo_default`, `Volume demo_data`, `Container demo-web-1`.
    pub id: String,
    pub status: Status,
    /// What happens to it: `Creating`, `Created`, `Removed`, `Error`, or an error's text.
    pub text: String,
}

/// Where events go. `Send + Sync` so that the futures taking one can run on any task.
pub type Progress<'a> = &'a (dyn Fn(Event) + Send + Sync);

impl Event {
    pub fn new(id: impl Into<String>, status: Status, text: impl Into<String>) -> Event {
        Event {
            id: id.into(),
            status,
            text: text.into(),
        }
    }

    /// `progress.CreatingEvent`.
    pub fn creating(id: &str) -> Event {
        Event::new(id, Status::Working, "Creating")
    }

    /// `progress.CreatedEvent`.
    pub fn created(id: &str) -> Event {
        Event::new(id, Status::Done, "Created")
    }

    /// `progress.ErrorEvent`.
    pub fn error(id: &str) -> Event {
        Event::new(id, Status::Error, "Error")
    }

    /// `progress.RemovedEvent`.
    pub fn removed(id: &str) -> Event {
        Event::new(id, Status::Done, "Removed")
    }

    /// `progress.StoppingEvent`, `StoppedEvent`, `RemovingEvent` (diverged resources).
    pub fn stopping(id: &str) -> Event {
        Event::new(id, Status::Working, "Stopping")
    }

    pub fn stopped(id: &str) -> Event {
        Event::new(id, Status::Done, "Stopped")
    }

    pub fn removing(id: &str) -> Event {
        Event::new(id, Status::Working, "Removing")
    }

    /// A warning, as docker compose logs it (`logrus.Warn`) beside the progress.
    pub fn warning(id: &str, text: impl Into<String>) -> Event {
        Event::new(id, Status::Warning, text)
    }

    /// docker compose's plain line for a finished event: ` ✔ Network demo_default  Created`.
    pub fn line(&self) -> String {
        let mark = match self.status {
            Status::Done => "✔",
            Status::Error => "✘",
            Status::Warning => "!",
            Status::Working => " ",
        };
        format!(" {mark} {}  {}", self.id, self.text)
    }
}
