//! Containers' output as docker compose prints it (its `formatter/logs.go` and `colors.go`):
//! each line behind a `web-1  | ` prefix padded to the longest name seen so far, each name in
//! its own colour taken in docker compose's order, and status lines (`web-1 exited with code
//! 0`). `logs` and attached `up` share it: [`LogPrinter`] prints, [`follow_container`] streams
//! one container's logs into it, TTY or not.
//!
//! Like docker compose, a name is registered when its first line arrives, so colours go in
//! the order containers first speak and the prefix widens when a longer name appears; callers
//! that know every name up front may [`LogPrinter::register`] them for a steady layout.

use std::io::Write;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use chrono::{DateTime, Local};
use http_body_util::BodyExt;

use super::observed::Container;
use super::{labels, observed};
use crate::client::api::containers::{self, LogsOptions};
use crate::client::demux::Demuxer;
use crate::client::{Client, DaemonError};
use crate::format::units;

/// docker compose's rainbow: basic cyan, yellow, green, magenta, blue, then their intense
/// (bold) variants, handed out in turn.
const RAINBOW: [&str; 10] = [
    "36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1",
];

/// `\x1b[{code}m{s}\x1b[0m`, docker compose's `ansiColor`.
pub fn ansi_color(code: &str, s: &str) -> String {
    format!("\x1b[{code}m{s}\x1b[0m")
}

/// How lines are decorated.
#[derive(Debug, Clone, Copy)]
pub struct PrinterOptions {
    /// Colour the prefixes (docker compose: not `--no-color` and stdout is a terminal).
    pub color: bool,
    /// `service-N  | ` before each line (off with `--no-log-prefix`).
    pub prefix: bool,
    /// The time each line is printed, after the prefix (`up --timestamps`; `logs -t` asks the
    /// engine for its timestamps instead).
    pub timestamps: bool,
}

impl Default for PrinterOptions {
    fn default() -> Self {
        PrinterOptions {
            color: false,
            prefix: true,
            timestamps: false,
        }
    }
}

struct Presenter {
    name: String,
    color: Option<String>,
    prefix: String,
}

impl Presenter {
    fn paint(&self, s: &str) -> String {
        match &self.color {
            Some(code) => ansi_color(code, s),
            None => s.to_string(),
        }
    }
}

struct State {
    options: PrinterOptions,
    presenters: Vec<Presenter>,
    next_color: usize,
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
}

impl State {
    fn index(&mut self, name: &str) -> usize {
        if let Some(i) = self.presenters.iter().position(|p| p.name == name) {
            return i;
        }
        // A name with a space ("web-1 hook") speaks for its container: same colour and prefix.
        let color = match name.split_once(' ') {
            Some((root, _)) => {
                let i = self.index(root);
                self.presenters[i].color.clone()
            }
            None if !self.options.color || name.is_empty() => None,
            None => {
                let c = RAINBOW[self.next_color % RAINBOW.len()];
                self.next_color += 1;
                Some(c.to_string())
            }
        };
        self.presenters.push(Presenter {
            name: name.to_string(),
            color,
            prefix: String::new(),
        });
        if self.options.prefix {
            // Go's len(): bytes, plus the space before the bar. Every prefix is redone, the
            // widest name setting the width.
            let width = self
                .presenters
                .iter()
                .map(|p| p.name.len())
                .max()
                .unwrap_or(0)
                + 1;
            for p in self.presenters.iter_mut() {
                p.prefix = p.paint(&format!("{:<width$} | ", p.name));
            }
        }
        self.presenters.len() - 1
    }

    fn write(&mut self, to_err: bool, name: &str, message: &str) {
        let i = self.index(name);
        let prefix = self.presenters[i].prefix.clone();
        let stamp = self
            .options
            .timestamps
            .then(|| rfc3339_nano_fixed(&Local::now()));
        let mut text = String::new();
        for line in message.split('\n') {
            text.push_str(&prefix);
            if let Some(t) = &stamp {
                text.push_str(t);
                text.push(' ');
            }
            text.push_str(line);
            text.push('\n');
        }
        let w = if to_err { &mut self.err } else { &mut self.out };
        let _ = w.write_all(text.as_bytes());
        let _ = w.flush();
    }
}

/// Prints containers' lines with docker compose's prefixes; clones share one output and one
/// set of names, so tasks streaming different containers can each hold one.
#[derive(Clone)]
pub struct LogPrinter {
    state: Arc<Mutex<State>>,
}

impl LogPrinter {
    /// Lines to stdout (and [`LogPrinter::err`] to stderr).
    pub fn new(options: PrinterOptions) -> LogPrinter {
        LogPrinter::with_writers(
            options,
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }

    /// Lines to the given writers (tests, the dashboard).
    pub fn with_writers(
        options: PrinterOptions,
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
    ) -> LogPrinter {
        LogPrinter {
            state: Arc::new(Mutex::new(State {
                options,
                presenters: Vec::new(),
                next_color: 0,
                out,
                err,
            })),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A panic while printing leaves nothing half-updated worth refusing to print after.
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Give `name` its colour and widen the prefixes now rather than at its first line.
    pub fn register(&self, name: &str) {
        self.with(|s| {
            s.index(name);
        });
    }

    /// The prefix `name`'s lines get now (colour codes included).
    pub fn prefix(&self, name: &str) -> String {
        self.with(|s| {
            let i = s.index(name);
            s.presenters[i].prefix.clone()
        })
    }

    /// Print `message` (one line, or several separated by `\n`) for container `name`.
    pub fn log(&self, name: &str, message: &str) {
        self.with(|s| s.write(false, name, message));
    }

    /// The same on stderr (docker compose's `Err`, for lines compose itself reports).
    pub fn err(&self, name: &str, message: &str) {
        self.with(|s| s.write(true, name, message));
    }

    /// A status line in the container's colour: `web-1 exited with code 0`, after clearing the
    /// terminal line as docker compose does.
    pub fn status(&self, name: &str, message: &str) {
        self.with(|s| {
            let i = s.index(name);
            let text = s.presenters[i].paint(&format!("\r\x1b[K{name} {message}\n"));
            let _ = s.out.write_all(text.as_bytes());
            let _ = s.out.flush();
        });
    }
}

/// Go's `RFC3339NanoFixed` (`2006-01-02T15:04:05.000000000Z07:00`).
pub fn rfc3339_nano_fixed(t: &DateTime<Local>) -> String {
    let base = t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
    let offset = t.format("%:z").to_string();
    if offset == "+00:00" {
        format!("{base}Z")
    } else {
        format!("{base}{offset}")
    }
}

/// Bytes in, complete lines out (docker compose's `splitWriter`): a line is cut at `\n`, which
/// is not part of it; what follows the last `\n` waits for more.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
}

impl LineSplitter {
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(chunk);
        let mut lines = Vec::new();
        while let Some(nl) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=nl).collect();
            lines.push(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
        }
        lines
    }

    /// What is left once the stream ended, if anything.
    pub fn finish(&mut self) -> Option<String> {
        (!self.buf.is_empty())
            .then(|| String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned())
    }
}

/// A container's output stream cut into lines: raw bytes with a TTY, docker's multiplexed
/// frames without (stdout and stderr then share one splitter, as docker compose copies both
/// streams into one line writer).
struct Feed {
    tty: bool,
    demux: Demuxer,
    lines: LineSplitter,
}

impl Feed {
    fn new(tty: bool) -> Feed {
        Feed {
            tty,
            demux: Demuxer::new(),
            lines: LineSplitter::default(),
        }
    }

    fn push(&mut self, data: &[u8]) -> Result<Vec<String>> {
        if self.tty {
            return Ok(self.lines.push(data));
        }
        self.demux.push(data);
        let mut out = Vec::new();
        while let Some((_, payload)) = self.demux.next_frame().map_err(anyhow::Error::msg)? {
            out.extend(self.lines.push(&payload));
        }
        Ok(out)
    }

    /// docker compose never flushes its splitter, losing a last line without `\n`; berth
    /// prints it, as `docker logs` does.
    fn finish(&mut self) -> Option<String> {
        self.lines.finish()
    }
}

/// What to ask the engine for (docker compose's `LogOptions`); times as the user wrote them
/// (`10m`, RFC 3339, unix seconds), converted as the docker client converts them.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub follow: bool,
    /// `all` or a number of lines.
    pub tail: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub timestamps: bool,
}

/// The name docker compose shows for a container: `web-1` for `demo-web-1`, a custom
/// `container_name` as it is.
pub fn display_name(c: &Container) -> String {
    let project = c.label(labels::PROJECT).unwrap_or_default();
    let default = format!(
        "{project}-{}-{}",
        c.label(labels::SERVICE).unwrap_or_default(),
        c.label(labels::CONTAINER_NUMBER).unwrap_or_default()
    );
    if c.name == default {
        c.name[project.len() + 1..].to_string()
    } else {
        c.name.clone()
    }
}

/// Stream one container's logs into `printer` until they end (at once, or when the container
/// stops with `follow`), under its [`display_name`]. Its TTY setting, read from the engine,
/// says whether the stream is raw or multiplexed.
pub async fn follow_container(
    client: &Client,
    container: &observed::Container,
    printer: &LogPrinter,
    options: &LogOptions,
) -> Result<()> {
    let info = client.container_inspect(&container.id).await?;
    let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
    stream_logs(
        client,
        &container.id,
        &display_name(container),
        tty,
        printer,
        options,
    )
    .await
}

/// [`follow_container`] for a container known by id, shown as `name`.
pub async fn stream_logs(
    client: &Client,
    id: &str,
    name: &str,
    tty: bool,
    printer: &LogPrinter,
    options: &LogOptions,
) -> Result<()> {
    let now = chrono::Utc::now();
    let time = |v: &Option<String>| -> Result<Option<String>> {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| units::parse_timestamp(v, now).map_err(anyhow::Error::msg))
            .transpose()
    };
    let query = LogsOptions {
        follow: options.follow,
        timestamps: options.timestamps,
        tail: options.tail.clone(),
        since: time(&options.since)?,
        until: time(&options.until)?,
    };
    let resp = match client.open(containers::logs(id, &query), &[]).await {
        Ok(r) => r,
        Err(e) => {
            // A log driver that keeps nothing to read: docker compose warns and goes on.
            if let Some(d) = e.downcast_ref::<DaemonError>() {
                if d.status == 501 {
                    eprintln!("WARN[0000] Can't retrieve logs for {name:?}: {}", d.message);
                    return Ok(());
                }
            }
            return Err(e);
        }
    };
    let mut body = resp.into_body();
    let mut feed = Feed::new(tty);
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Some(data) = frame.data_ref() {
            for l in feed.push(data)? {
                printer.log(name, &l);
            }
        }
    }
    if let Some(rest) = feed.finish() {
        printer.log(name, &rest);
    }
    Ok(())
}

/// Print what `reader` carries (an attach stream: raw with a TTY, multiplexed without) as
/// `name`'s lines until it ends, as docker compose prints the containers `up` attaches to.
pub async fn copy_lines<R>(mut reader: R, tty: bool, name: &str, printer: &LogPrinter) -> Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::AsyncReadExt;
    let mut feed = Feed::new(tty);
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        // A reset connection ends the stream like EOF: the container is gone.
        let n = reader.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        for l in feed.push(&buf[..n])? {
            printer.log(name, &l);
        }
    }
    if let Some(rest) = feed.finish() {
        printer.log(name, &rest);
    }
    Ok(())
}

#[cfg(test)]
#[path = "logprinter_tests.rs"]
mod tests;
