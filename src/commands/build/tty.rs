//! The live display on a terminal: one line per step with its state, duration and a spinner,
//! the running step's last output lines under it, and a failed step's whole output kept.
//!
//! Finished steps are printed once and never touched again (they scroll like any output); only
//! the live region under them (the running step, its tail, the count of steps still waiting)
//! is redrawn in place, and it is kept shorter than the window so the redraw never has to
//! reach a line that scrolled away.

use std::io::Write;
use std::time::{Duration, Instant};

use unicode_width::UnicodeWidthChar;

use super::steps::{State, Step, Steps};
use crate::format::ellipsize as truncate;

/// Output lines of the running step shown under it.
const TAIL_LINES: usize = 6;

/// Output arriving faster than this is drawn at this pace (a step printing thousands of lines
/// must not cost thousands of redraws); a step starting or ending is drawn at once.
const MIN_REDRAW: Duration = Duration::from_millis(50);

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

pub struct Tty<W: Write> {
    w: W,
    pub steps: Steps,
    /// Steps printed for good.
    committed_steps: usize,
    /// Notes printed for good.
    committed_notes: usize,
    /// Lines of the live region on screen now (what the next redraw replaces).
    live: usize,
    /// Frames drawn, for the spinner.
    frame: usize,
    /// Colours (off for tests).
    color: bool,
    /// The window's size (columns, rows).
    size: fn() -> (u16, u16),
    /// When the last frame was drawn, and the steps (started, finished) it showed.
    drawn_at: Option<Instant>,
    drawn_steps: (usize, usize),
}

fn window_size() -> (u16, u16) {
    crossterm::terminal::size().unwrap_or((80, 24))
}

impl<W: Write> Tty<W> {
    pub fn new(w: W) -> Tty<W> {
        Tty {
            w,
            steps: Steps::new(),
            committed_steps: 0,
            committed_notes: 0,
            live: 0,
            frame: 0,
            color: true,
            size: window_size,
            drawn_at: None,
            drawn_steps: (0, 0),
        }
    }

    #[cfg(test)]
    fn for_test(w: W, size: fn() -> (u16, u16)) -> Tty<W> {
        Tty {
            color: false,
            size,
            ..Tty::new(w)
        }
    }

    /// A line printed for good above the live region (the context upload's size).
    pub fn print(&mut self, line: &str, now: Instant) -> std::io::Result<()> {
        let mut out = self.clear_live();
        out.push_str(line);
        out.push('\n');
        self.live = 0;
        self.draw(out, now, false)
    }

    /// A `stream` text from the engine.
    pub fn stream(&mut self, text: &str, now: Instant) -> std::io::Result<()> {
        self.steps.feed(text, now);
        self.redraw_soon(now)
    }

    /// A status line (a pull's progress during FROM).
    pub fn status(&mut self, text: &str, now: Instant) -> std::io::Result<()> {
        self.steps.status(text.trim_end_matches('\n'), now);
        self.redraw_soon(now)
    }

    /// Redraw now if a step started or ended, or the last frame is old enough; otherwise the
    /// next tick draws it.
    fn redraw_soon(&mut self, now: Instant) -> std::io::Result<()> {
        let steps = self.step_counts();
        let stale = self
            .drawn_at
            .is_none_or(|t| now.saturating_duration_since(t) >= MIN_REDRAW);
        if steps != self.drawn_steps || stale {
            self.redraw(now)
        } else {
            Ok(())
        }
    }

    fn step_counts(&self) -> (usize, usize) {
        let s = &self.steps.steps;
        (s.len(), s.iter().filter(|x| x.is_finished()).count())
    }

    /// The timer: spinner and durations move.
    pub fn tick(&mut self, now: Instant) -> std::io::Result<()> {
        self.frame = self.frame.wrapping_add(1);
        self.redraw(now)
    }

    /// The build failed: the failing step and its whole output stay on screen.
    pub fn failed(&mut self, now: Instant) -> std::io::Result<()> {
        self.steps.fail(now);
        let out = self.clear_live();
        self.draw(out, now, true)
    }

    /// The build ended well: every step and the closing lines stay on screen.
    pub fn finished(&mut self, now: Instant) -> std::io::Result<()> {
        self.steps.finish(now);
        let out = self.clear_live();
        self.draw(out, now, true)
    }

    fn redraw(&mut self, now: Instant) -> std::io::Result<()> {
        let out = self.clear_live();
        self.draw(out, now, false)
    }

    /// Move up over the live region and clear it.
    fn clear_live(&self) -> String {
        if self.live == 0 {
            "\r\x1b[J".to_string()
        } else {
            format!("\x1b[{}A\r\x1b[J", self.live)
        }
    }

    /// Append what became final, then (unless `last`) the live region, and write it at once.
    fn draw(&mut self, mut out: String, now: Instant, last: bool) -> std::io::Result<()> {
        let (cols, rows) = (self.size)();
        let width = usize::from(cols.max(20));
        for line in self.commit(now, width, last) {
            out.push_str(&line);
            out.push('\n');
        }
        let live = if last {
            Vec::new()
        } else {
            self.live_region(now, width, usize::from(rows.max(4)))
        };
        for line in &live {
            out.push_str(line);
            out.push('\n');
        }
        self.live = live.len();
        self.drawn_at = Some(now);
        self.drawn_steps = self.step_counts();
        self.w.write_all(out.as_bytes())?;
        self.w.flush()
    }

    /// The lines that are final now: finished steps in order (a failed one with its output)
    /// and the notes that came before the next unfinished step; at the end, everything.
    fn commit(&mut self, now: Instant, width: usize, all: bool) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            while let Some((at, note)) = self.steps.notes.get(self.committed_notes) {
                // A note comes after the steps that had started when it arrived.
                if *at > self.committed_steps {
                    break;
                }
                lines.push(note.clone());
                self.committed_notes += 1;
            }
            let Some(step) = self.steps.steps.get(self.committed_steps) else {
                break;
            };
            if !step.is_finished() && !all {
                break;
            }
            lines.push(self.step_line(step, now, width));
            if step.state == State::Failed {
                if step.dropped > 0 {
                    lines.push(self.dim(&format!("    ({} earlier lines not kept)", step.dropped)));
                }
                for l in &step.output {
                    lines.push(format!("{} {l}", self.dim("    │")));
                }
            }
            self.committed_steps += 1;
        }
        if all {
            while let Some((_, note)) = self.steps.notes.get(self.committed_notes) {
                lines.push(note.clone());
                self.committed_notes += 1;
            }
        }
        lines
    }

    /// The running step, its last output lines and the count of steps still waiting, within
    /// `rows - 1` lines.
    fn live_region(&self, now: Instant, width: usize, rows: usize) -> Vec<String> {
        let mut lines = Vec::new();
        let waiting = self.steps.waiting();
        let budget = rows - 1 - usize::from(waiting > 0);
        if let Some(step) = self.steps.steps.get(self.committed_steps) {
            lines.push(self.step_line(step, now, width));
            let mut tail: Vec<String> = step.output.clone();
            if step.state == State::Running {
                if let Some(p) = self.steps.partial() {
                    tail.push(p);
                }
            }
            let room = TAIL_LINES.min(budget.saturating_sub(1));
            let start = tail.len().saturating_sub(room);
            for l in &tail[start..] {
                let text = truncate(l, width.saturating_sub(6));
                lines.push(format!("{} {}", self.dim("    │"), self.dim(&text)));
            }
        }
        if waiting > 0 {
            let plural = if waiting == 1 { "" } else { "s" };
            lines.push(self.dim(&format!("  … {waiting} more step{plural} waiting")));
        }
        lines
    }

    /// "✔ [2/5] COPY . /app          CACHED 0.0s", fitted to the width.
    fn step_line(&self, step: &Step, now: Instant, width: usize) -> String {
        let (symbol, tag, color) = match step.state {
            State::Running => (SPINNER[self.frame % SPINNER.len()], "", "36"),
            State::Done => ('✔', "", "32"),
            State::Cached => ('✔', "CACHED ", "34"),
            State::Failed => ('✖', "ERROR ", "31"),
        };
        let total = self.steps.total.max(step.index);
        let right = format!("{tag}{}", duration(step.duration(now)));
        let left = format!("{symbol} [{}/{total}] {}", step.index, step.text);
        let room = width.saturating_sub(right.len() + 2);
        let left = truncate(&left, room);
        let pad = width
            .saturating_sub(display_width(&left) + right.len() + 1)
            .max(1);
        let line = format!("{left}{}{right}", " ".repeat(pad));
        if self.color {
            format!("\x1b[{color}m{line}\x1b[0m")
        } else {
            line
        }
    }

    fn dim(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[2m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// "0.3s", "12.5s", "2m05s".
fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let s = d.as_secs();
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

fn display_width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

#[cfg(test)]
mod tests;
