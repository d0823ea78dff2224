//! The build's steps, recovered from the legacy builder's text stream: "Step i/n : X" starts
//! step i, " ---> Using cache" marks it cached, " ---> <id>" ends it, anything else is output of
//! the step under way. This is what the live terminal display draws; the engine's stream is
//! docker's, so the same parser follows dockerd.

use std::time::{Duration, Instant};

/// Lines a step keeps; beyond that the oldest go (a build that prints gigabytes of logs must
/// not take the client's memory with it). The failing step's output is shown from here.
const MAX_OUTPUT_LINES: usize = 50_000;

/// What one line of the stream says.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// "Step 3/7 : RUN make"
    StepStart {
        index: usize,
        total: usize,
        text: &'a str,
    },
    /// " ---> Running in 0a1b2c3d4e5f"
    RunningIn(&'a str),
    /// " ---> Using cache"
    UsingCache,
    /// " ---> 9f8e7d6c5b4a": the step's image, the step is over.
    StepImage(&'a str),
    /// "Removing intermediate container …": bookkeeping, not the step's output.
    RemovingContainer,
    /// "Successfully built 9f8e7d6c5b4a"
    Built(&'a str),
    /// "Successfully tagged name:tag"
    Tagged(&'a str),
    /// Anything else: the running command's output, a warning, a pull status.
    Output(&'a str),
}

/// Classify one line (without its newline and terminal escapes).
pub fn classify(line: &str) -> Line<'_> {
    if let Some(rest) = line.strip_prefix("Step ") {
        if let Some((counts, text)) = rest.split_once(" : ") {
            if let Some((i, n)) = counts.split_once('/') {
                if let (Ok(index), Ok(total)) = (i.parse(), n.parse()) {
                    return Line::StepStart { index, total, text };
                }
            }
        }
    }
    if let Some(rest) = line.strip_prefix(" ---> ") {
        let rest = rest.trim_end();
        if rest == "Using cache" {
            return Line::UsingCache;
        }
        if let Some(id) = rest.strip_prefix("Running in ") {
            return Line::RunningIn(id);
        }
        if is_image_id(rest) {
            return Line::StepImage(rest);
        }
    }
    if line.starts_with("Removing intermediate container ") {
        return Line::RemovingContainer;
    }
    if let Some(id) = line.strip_prefix("Successfully built ") {
        return Line::Built(id.trim_end());
    }
    if let Some(t) = line.strip_prefix("Successfully tagged ") {
        return Line::Tagged(t.trim_end());
    }
    Line::Output(line)
}

/// A short or full image id, with or without "sha256:".
fn is_image_id(s: &str) -> bool {
    let hex = s.strip_prefix("sha256:").unwrap_or(s);
    hex.len() >= 12 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Drop terminal escape sequences (the engine colours stderr red) and keep what a terminal
/// would show of a line that `\r` rewrote (progress bars).
pub fn clean_line(line: &str) -> String {
    let shown = line.trim_end_matches('\r');
    let shown = shown.rsplit('\r').next().unwrap_or(shown);
    let mut out = String::with_capacity(shown.len());
    let mut chars = shown.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters… final byte in @..~; other escapes are two characters.
            if chars.peek() == Some(&'[') {
                chars.next();
                for f in chars.by_ref() {
                    if ('@'..='~').contains(&f) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else if c == '\t' {
            out.push_str("    ");
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Running,
    Cached,
    Done,
    Failed,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub index: usize,
    /// The instruction as the engine prints it after "Step i/n : ".
    pub text: String,
    pub state: State,
    pub started: Instant,
    pub ended: Option<Instant>,
    /// The step's output lines, cleaned.
    pub output: Vec<String>,
    /// How many lines were dropped from the front of `output` (beyond MAX_OUTPUT_LINES).
    pub dropped: usize,
}

impl Step {
    pub fn duration(&self, now: Instant) -> Duration {
        self.ended
            .unwrap_or(now)
            .saturating_duration_since(self.started)
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Cached | State::Done | State::Failed)
    }
}

/// The steps seen so far, fed with the stream's text.
#[derive(Debug, Default)]
pub struct Steps {
    /// n of "Step i/n" (0 until the first step).
    pub total: usize,
    /// In the order they started.
    pub steps: Vec<Step>,
    /// Lines outside any step (a pull's status before the first, a warning, "Successfully
    /// built"), each with how many steps had started when it came, so the display puts it where
    /// it belongs.
    pub notes: Vec<(usize, String)>,
    /// The image id of "Successfully built".
    pub built: Option<String>,
    /// The text after the last newline, not a line yet.
    partial: String,
}

impl Steps {
    pub fn new() -> Steps {
        Steps::default()
    }

    /// The step under way, if any.
    fn current_mut(&mut self) -> Option<&mut Step> {
        self.steps.last_mut().filter(|s| s.state == State::Running)
    }

    /// The unfinished last line, cleaned, for showing under the running step.
    pub fn partial(&self) -> Option<String> {
        (!self.partial.is_empty()).then(|| clean_line(&self.partial))
    }

    /// Feed a `stream` text: complete lines are classified, the rest waits for its newline.
    pub fn feed(&mut self, text: &str, now: Instant) {
        self.partial.push_str(text);
        while let Some(pos) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=pos).collect();
            self.line(&clean_line(line.trim_end_matches('\n')), now);
        }
    }

    /// A line that did not come as stream text (a pull's status during FROM).
    pub fn status(&mut self, text: &str, now: Instant) {
        self.line(&clean_line(text), now);
    }

    fn line(&mut self, line: &str, now: Instant) {
        match classify(line) {
            Line::StepStart { index, total, text } => {
                self.end_current(State::Done, now);
                self.total = total.max(self.total);
                self.steps.push(Step {
                    index,
                    text: text.to_string(),
                    state: State::Running,
                    started: now,
                    ended: None,
                    output: Vec::new(),
                    dropped: 0,
                });
            }
            Line::UsingCache => {
                if let Some(s) = self.current_mut() {
                    s.state = State::Cached;
                }
            }
            Line::StepImage(_) => self.end_current(State::Done, now),
            Line::RunningIn(_) | Line::RemovingContainer => {}
            Line::Built(id) => {
                self.end_current(State::Done, now);
                self.built = Some(id.to_string());
                self.note(line);
            }
            Line::Tagged(_) => self.note(line),
            Line::Output(text) => match self.current_mut() {
                Some(s) => {
                    s.output.push(text.to_string());
                    if s.output.len() > MAX_OUTPUT_LINES {
                        let excess = s.output.len() - MAX_OUTPUT_LINES;
                        s.output.drain(..excess);
                        s.dropped += excess;
                    }
                }
                // A cached step's line ended with "Using cache"; what follows before its image
                // line is still its own, but nothing else comes there in docker's stream.
                None if !text.trim().is_empty() => self.note(text),
                None => {}
            },
        }
    }

    fn note(&mut self, line: &str) {
        self.notes.push((self.steps.len(), line.to_string()));
    }

    /// The step under way ends as `state` (a cached step keeps being cached).
    fn end_current(&mut self, state: State, now: Instant) {
        if let Some(s) = self.steps.last_mut() {
            if s.ended.is_none() {
                if s.state == State::Running || state == State::Failed {
                    s.state = state;
                }
                s.ended = Some(now);
            }
        }
    }

    /// The build failed: the step under way failed.
    pub fn fail(&mut self, now: Instant) {
        self.flush_partial(now);
        self.end_current(State::Failed, now);
    }

    /// The stream ended well: the last step is done.
    pub fn finish(&mut self, now: Instant) {
        self.flush_partial(now);
        self.end_current(State::Done, now);
    }

    fn flush_partial(&mut self, now: Instant) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&clean_line(&line), now);
        }
    }

    /// Steps announced by "Step i/n" that have not started yet.
    pub fn waiting(&self) -> usize {
        let seen = self.steps.last().map(|s| s.index).unwrap_or(0);
        self.total.saturating_sub(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_the_legacy_stream() {
        assert_eq!(
            classify("Step 3/7 : RUN make -j4"),
            Line::StepStart {
                index: 3,
                total: 7,
                text: "RUN make -j4"
            }
        );
        assert_eq!(
            classify(" ---> Running in 0a1b2c3d4e5f"),
            Line::RunningIn("0a1b2c3d4e5f")
        );
        assert_eq!(classify(" ---> Using cache"), Line::UsingCache);
        assert_eq!(
            classify(" ---> 9f8e7d6c5b4a"),
            Line::StepImage("9f8e7d6c5b4a")
        );
        assert_eq!(
            classify("Removing intermediate container 0a1b2c3d4e5f"),
            Line::RemovingContainer
        );
        assert_eq!(
            classify("Successfully built 9f8e7d6c5b4a"),
            Line::Built("9f8e7d6c5b4a")
        );
        assert_eq!(classify("Successfully tagged app:1"), Line::Tagged("app:1"));
        // Output that only looks like it stays output.
        assert_eq!(classify("Step one : x"), Line::Output("Step one : x"));
        assert_eq!(
            classify(" ---> [Warning] x"),
            Line::Output(" ---> [Warning] x")
        );
        assert_eq!(classify(" ---> nothex"), Line::Output(" ---> nothex"));
    }

    #[test]
    fn escapes_and_carriage_returns_are_cleaned() {
        assert_eq!(clean_line("\x1b[91mboom\x1b[0m"), "boom");
        assert_eq!(clean_line("10%\r50%\r100%"), "100%");
        assert_eq!(clean_line("a\tb"), "a    b");
    }

    fn feed_all(steps: &mut Steps, texts: &[&str], t: Instant) {
        for s in texts {
            steps.feed(s, t);
        }
    }

    #[test]
    fn states_follow_the_stream() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(2);
        let mut s = Steps::new();
        feed_all(
            &mut s,
            &[
                "Step 1/4 : FROM busybox",
                "\n",
                " ---> 1d2b3c4d5e6f\n",
                "Step 2/4 : COPY . /app",
                "\n",
                " ---> Using cache\n",
                " ---> 2d2b3c4d5e6f\n",
                "Step 3/4 : RUN make",
                "\n",
                " ---> Running in 0a1b2c3d4e5f\n",
                "compiling\n",
                "\x1b[91mwarning: x\n\x1b[0m",
                "half",
            ],
            t0,
        );
        assert_eq!(s.total, 4);
        assert_eq!(s.waiting(), 1);
        let states: Vec<State> = s.steps.iter().map(|x| x.state).collect();
        assert_eq!(states, [State::Done, State::Cached, State::Running]);
        assert_eq!(s.steps[2].output, ["compiling", "warning: x"]);
        assert_eq!(s.partial().as_deref(), Some("half"));
        s.feed(" done\nRemoving intermediate container 0a1b2c3d4e5f\n", t1);
        s.feed(" ---> 3d2b3c4d5e6f\n", t1);
        assert_eq!(s.steps[2].state, State::Done);
        assert_eq!(s.steps[2].output, ["compiling", "warning: x", "half done"]);
        assert_eq!(
            s.steps[2].duration(t1 + Duration::from_secs(9)),
            Duration::from_secs(2)
        );
        feed_all(
            &mut s,
            &[
                "Step 4/4 : CMD [\"sh\"]",
                "\n",
                " ---> Running in 1a1b2c3d4e5f\n",
                " ---> 4d2b3c4d5e6f\n",
                "[Warning] One or more build-args [foo] were not consumed\n",
                "Successfully built 4d2b3c4d5e6f\n",
                "Successfully tagged app:latest\n",
            ],
            t1,
        );
        s.finish(t1);
        assert!(s.steps.iter().all(Step::is_finished));
        assert_eq!(s.built.as_deref(), Some("4d2b3c4d5e6f"));
        assert_eq!(
            s.notes,
            [
                (
                    4,
                    "[Warning] One or more build-args [foo] were not consumed".to_string()
                ),
                (4, "Successfully built 4d2b3c4d5e6f".to_string()),
                (4, "Successfully tagged app:latest".to_string()),
            ]
        );
        assert_eq!(s.waiting(), 0);
    }

    #[test]
    fn a_failure_marks_the_running_step_and_keeps_its_output() {
        let t = Instant::now();
        let mut s = Steps::new();
        feed_all(
            &mut s,
            &["Step 1/3 : FROM busybox\n", " ---> 1d2b3c4d5e6f\n"],
            t,
        );
        feed_all(
            &mut s,
            &[
                "Step 2/3 : RUN false\n",
                " ---> Running in 0a1b2c3d4e5f\n",
                "no newline",
            ],
            t,
        );
        s.fail(t);
        assert_eq!(s.steps[1].state, State::Failed);
        assert_eq!(s.steps[1].output, ["no newline"]);
        assert_eq!(s.steps[0].state, State::Done);
        assert_eq!(s.waiting(), 1);
    }

    #[test]
    fn pull_status_during_from_is_the_steps_output() {
        let t = Instant::now();
        let mut s = Steps::new();
        s.feed("Step 1/1 : FROM alpine\n", t);
        s.status("latest: Pulling from library/alpine", t);
        assert_eq!(s.steps[0].output, ["latest: Pulling from library/alpine"]);
    }

    #[test]
    fn output_is_bounded() {
        let t = Instant::now();
        let mut s = Steps::new();
        s.feed("Step 1/1 : RUN yes\n", t);
        for i in 0..MAX_OUTPUT_LINES + 5 {
            s.feed(&format!("{i}\n"), t);
        }
        assert_eq!(s.steps[0].output.len(), MAX_OUTPUT_LINES);
        assert_eq!(s.steps[0].dropped, 5);
        assert_eq!(s.steps[0].output[0], "5");
    }
}
