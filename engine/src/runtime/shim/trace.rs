//! The shim's `tracing` subscriber: lines in tracing-subscriber's default format
//! (`2026-01-01T00:00:00.000000Z  INFO message key=value`) to stderr, which is `shim.log`.
//!
//! tracing-subscriber's fmt subscriber is built on its span `Registry`, whose slab allocates (and
//! zeroes) a 32 KiB shard table up front: private memory in every shim, one per running
//! container, for spans the shim never opens. This subscriber keeps no state at all.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// The level fmt's subscriber logs at by default.
const MAX_LEVEL: Level = Level::INFO;

pub struct ShimLog {
    /// Where lines go: stderr, or a buffer in tests.
    sink: Option<Arc<Mutex<Vec<u8>>>>,
}

impl ShimLog {
    pub fn stderr() -> Self {
        ShimLog { sink: None }
    }

    #[cfg(test)]
    fn buffer(sink: Arc<Mutex<Vec<u8>>>) -> Self {
        ShimLog { sink: Some(sink) }
    }
}

/// Message first, then ` name=value` for the other fields (values in Debug form), as fmt does.
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

/// fmt's level column: five characters, right-aligned.
fn level_str(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        Level::ERROR => "ERROR",
    }
}

impl Subscriber for ShimLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= MAX_LEVEL
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::from_level(MAX_LEVEL))
    }

    // The shim opens no spans; ids only have to be non-zero.
    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields {
            message: String::new(),
            rest: String::new(),
        };
        event.record(&mut fields);
        let time = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ");
        let level = level_str(event.metadata().level());
        fields.message.push_str(&fields.rest);
        let line = format!("{time} {level} {}\n", fields.message.trim_start());
        match &self.sink {
            Some(buf) => buf
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(line.as_bytes()),
            // One write per line; a failing log write must not disturb the shim.
            None => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_look_like_fmt_output() {
        let buf = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(ShimLog::buffer(buf.clone()), || {
            tracing::info!("container {} running", "abc");
            tracing::warn!(code = 3, path = "x", "exited");
            tracing::error!(n = 1);
            // Below the default level: dropped.
            tracing::debug!("hidden");
        });
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        // "YYYY-MM-DDTHH:MM:SS.ffffffZ" then the level column.
        let (time, rest) = lines[0].split_at(27);
        assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{time}");
        assert_eq!(rest, "  INFO container abc running");
        assert_eq!(&lines[1][27..], "  WARN exited code=3 path=\"x\"");
        assert_eq!(&lines[2][27..], " ERROR n=1");
    }
}
