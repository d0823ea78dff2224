//! The logs view: one container's logs or a merged stream of several (a compose project, the
//! marked rows), each line prefixed with its container in a stable colour. Lines live in a
//! bounded ring; following keeps the newest line at the bottom.
//!
//! Positions are the buffer's sequence numbers (not indexes), so a scrolled view stays on the
//! same line while new lines arrive and old ones are dropped from the front. The search is
//! smart-case (case-insensitive unless it has a capital letter), plain text or a regex; the
//! lines matching it are kept in a sorted list as they arrive, so counting and `n`/`N` never
//! rescan the buffer.

use std::collections::VecDeque;
use std::time::Instant;

use chrono::{DateTime, Utc};
use crossterm::event::{MouseEvent, MouseEventKind};
use hyper::Method;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use regex::{Regex, RegexBuilder};
use unicode_width::UnicodeWidthChar;

use super::{Cmd, Cx, DrawCx, LogTarget, View, ViewId};
use crate::client::seg;
use crate::dashboard::dialogs::prompt::Prompt;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, Framing, StreamItem, StreamKey, StreamRequest};
use crate::dashboard::store::logs::{LogBuffer, LogLine};
use crate::dashboard::store::Store;
use crate::dashboard::theme::Theme;
use crate::dashboard::widgets::ellipsize;

/// Lines asked for when a stream opens without a `since`.
pub const TAIL: usize = 1000;

/// Timestamps and file names use the local zone; the tests use UTC so that snapshots do not
/// depend on the machine's zone.
#[cfg(not(test))]
const ZONE: chrono::Local = chrono::Local;
#[cfg(test)]
const ZONE: chrono::Utc = chrono::Utc;

/// Prefix colours for merged streams, chosen by the container's position (stable while open).
const PALETTE: [Color; 6] = [
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::Green,
    Color::Blue,
    Color::LightRed,
];

/// Lines a mouse wheel notch scrolls.
const WHEEL: usize = 3;

/// How far back the streams start (`S` cycles through these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Since {
    /// The last `TAIL` lines.
    #[default]
    All,
    Minute,
    TenMinutes,
    Hour,
    Day,
}

impl Since {
    fn next(self) -> Since {
        match self {
            Since::All => Since::Minute,
            Since::Minute => Since::TenMinutes,
            Since::TenMinutes => Since::Hour,
            Since::Hour => Since::Day,
            Since::Day => Since::All,
        }
    }

    fn secs(self) -> Option<i64> {
        match self {
            Since::All => None,
            Since::Minute => Some(60),
            Since::TenMinutes => Some(600),
            Since::Hour => Some(3600),
            Since::Day => Some(86_400),
        }
    }

    fn label(self) -> String {
        match self {
            Since::All => format!("last {TAIL}"),
            Since::Minute => "since 1m".into(),
            Since::TenMinutes => "since 10m".into(),
            Since::Hour => "since 1h".into(),
            Since::Day => "since 1d".into(),
        }
    }
}

/// The search, compiled.
#[derive(Debug, Clone, Default)]
enum Matcher {
    /// No search.
    #[default]
    None,
    Re(Regex),
    /// A regex that does not compile: its error, and no line matches.
    Bad(String),
}

impl Matcher {
    fn new(search: &str, regex: bool) -> Matcher {
        if search.is_empty() {
            return Matcher::None;
        }
        let pattern = if regex {
            search.to_string()
        } else {
            regex::escape(search)
        };
        let smart_case = !search.chars().any(char::is_uppercase);
        match RegexBuilder::new(&pattern)
            .case_insensitive(smart_case)
            // A pathological pattern is refused rather than built into a huge automaton.
            .size_limit(1 << 20)
            .build()
        {
            Ok(re) => Matcher::Re(re),
            // The crate's message draws the pattern with a caret over several lines; the last
            // line says what is wrong, which is what fits in a header.
            Err(e) => {
                let text = e.to_string();
                let last = text
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("invalid regex")
                    .trim();
                Matcher::Bad(last.trim_start_matches("error: ").to_string())
            }
        }
    }

    fn is_match(&self, text: &str) -> bool {
        match self {
            Matcher::Re(re) => re.is_match(text),
            _ => false,
        }
    }
}

/// Which lines are on screen.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shown {
    All,
    /// Only the lines in `matches`.
    Matches,
    /// Only matching lines of a search that matches nothing (a bad regex).
    Nothing,
}

#[derive(Debug, Clone)]
struct Source {
    id: String,
    name: String,
    tty: bool,
    /// `None` while streaming; `Some(None)` when it ended (the container stopped);
    /// `Some(Some(message))` when it failed.
    ended: Option<Option<String>>,
}

#[derive(Default)]
pub struct LogsView {
    pub target: Option<LogTarget>,
    pub buffer: LogBuffer,
    sources: Vec<Source>,
    /// Bumped on every (re)open; stream keys carry it (see `StreamKey::Logs`).
    generation: u64,
    pub follow: bool,
    /// First line shown (sequence number) when not following.
    top: u64,
    /// (first, last) lines on screen at the last draw.
    visible: Option<(u64, u64)>,
    search: String,
    regex: bool,
    matcher: Matcher,
    /// Sequence numbers of the lines matching the search, ascending.
    matches: VecDeque<u64>,
    /// The match `n`/`N` went to.
    current: Option<u64>,
    only_matching: bool,
    timestamps: bool,
    wrap: bool,
    /// Columns of the text cut on the left when not wrapping.
    hscroll: usize,
    /// The widest text on screen at the last draw (bounds `hscroll`).
    widest: usize,
    since: Since,
    height: usize,
    width: usize,
    /// The clock at the last draw and when that was: "now" for `since` and file names, which
    /// follows the fixed clock in tests and the real one otherwise.
    clock: Option<(DateTime<Utc>, Instant)>,
}

impl LogsView {
    /// Starts following `target`: one logs stream per container.
    pub fn open(&mut self, target: LogTarget, cx: &mut Cx) {
        self.close(cx);
        self.sources = target
            .containers
            .iter()
            .map(|(id, name)| Source {
                id: id.clone(),
                name: name.clone(),
                tty: cx
                    .store
                    .details
                    .get(id)
                    .and_then(|d| d["Config"]["Tty"].as_bool())
                    .unwrap_or(false),
                ended: None,
            })
            .collect();
        self.search.clear();
        self.matcher = Matcher::None;
        self.only_matching = false;
        self.since = Since::All;
        self.hscroll = 0;
        self.target = Some(target);
        self.start_streams(cx);
    }

    /// Stops the streams (leaving the view).
    pub fn close(&mut self, cx: &mut Cx) {
        if self.target.take().is_some() {
            for s in &self.sources {
                cx.effect(Effect::close(StreamKey::Logs(
                    s.id.clone(),
                    self.generation,
                )));
            }
        }
    }

    /// Opens one stream per source under a new generation, on an empty buffer.
    fn start_streams(&mut self, cx: &mut Cx) {
        self.generation += 1;
        self.buffer.clear();
        self.matches.clear();
        self.current = None;
        self.follow = true;
        self.visible = None;
        let since = self.since.secs().map(|s| self.now().timestamp() - s);
        for s in &mut self.sources {
            s.ended = None;
            let from = match since {
                Some(t) => format!("since={t}"),
                None => format!("tail={TAIL}"),
            };
            cx.push(Cmd::Stream(StreamRequest {
                key: StreamKey::Logs(s.id.clone(), self.generation),
                method: Method::GET,
                path: format!(
                    "/containers/{}/logs?follow=1&stdout=1&stderr=1&timestamps=1&{from}",
                    seg(&s.id)
                ),
                body: None,
                framing: if s.tty {
                    Framing::Raw
                } else {
                    Framing::Multiplexed
                },
                reopen: false,
                auth_for: None,
            }));
        }
    }

    /// The next `since` preset: the streams start over from there.
    fn cycle_since(&mut self, cx: &mut Cx) {
        if self.target.is_none() {
            return;
        }
        for s in &self.sources {
            cx.effect(Effect::close(StreamKey::Logs(
                s.id.clone(),
                self.generation,
            )));
        }
        self.since = self.since.next();
        self.start_streams(cx);
    }

    fn now(&self) -> DateTime<Utc> {
        match self.clock {
            Some((at, when)) => at + chrono::Duration::from_std(when.elapsed()).unwrap_or_default(),
            None => Utc::now(),
        }
    }

    /// The source index of a key of the current generation.
    fn source_of(&self, key: &StreamKey) -> Option<usize> {
        let StreamKey::Logs(id, generation) = key else {
            return None;
        };
        if *generation != self.generation || self.target.is_none() {
            return None;
        }
        self.sources.iter().position(|s| s.id == *id)
    }

    /// A stream of this view ended: `true` when it is one the view shows (the app then reports
    /// an error on the status line too).
    pub fn stream_ended(&mut self, key: &StreamKey, error: Option<&str>) -> bool {
        let Some(i) = self.source_of(key) else {
            return false;
        };
        self.sources[i].ended = Some(error.map(str::to_string));
        true
    }

    fn push_line(&mut self, source: usize, raw: &str, stderr: bool) {
        self.buffer.push_raw(source, raw, stderr);
        let seq = self.buffer.end_seq() - 1;
        if let Some(line) = self.buffer.get(seq) {
            if self.matcher.is_match(&line.text) {
                self.matches.push_back(seq);
            }
        }
        let first = self.buffer.first_seq();
        while self.matches.front().is_some_and(|&m| m < first) {
            self.matches.pop_front();
        }
        if self.current.is_some_and(|c| c < first) {
            self.current = None;
        }
    }

    fn set_search(&mut self, search: &str) {
        self.search = search.to_string();
        self.rematch();
    }

    fn rematch(&mut self) {
        self.matcher = Matcher::new(&self.search, self.regex);
        self.matches = match &self.matcher {
            Matcher::Re(re) => self
                .buffer
                .iter_from(0)
                .filter(|(_, l)| re.is_match(&l.text))
                .map(|(s, _)| s)
                .collect(),
            _ => VecDeque::new(),
        };
        self.current = None;
    }

    fn shown_mode(&self) -> Shown {
        match (&self.matcher, self.only_matching) {
            (Matcher::Re(_), true) => Shown::Matches,
            (Matcher::Bad(_), true) => Shown::Nothing,
            _ => Shown::All,
        }
    }

    /// Shown lines from `from` on, oldest first.
    fn shown_from(&self, from: u64) -> Box<dyn Iterator<Item = u64> + '_> {
        match self.shown_mode() {
            Shown::All => Box::new(self.buffer.iter_from(from).map(|(s, _)| s)),
            Shown::Matches => {
                let i = self.matches.partition_point(|&m| m < from);
                Box::new(self.matches.range(i..).copied())
            }
            Shown::Nothing => Box::new(std::iter::empty()),
        }
    }

    /// Shown lines before `before`, newest first.
    fn shown_before(&self, before: u64) -> Box<dyn Iterator<Item = u64> + '_> {
        match self.shown_mode() {
            Shown::All => {
                let first = self.buffer.first_seq();
                let end = before.min(self.buffer.end_seq()).max(first);
                Box::new((first..end).rev())
            }
            Shown::Matches => {
                let i = self.matches.partition_point(|&m| m < before);
                Box::new(self.matches.range(..i).rev().copied())
            }
            Shown::Nothing => Box::new(std::iter::empty()),
        }
    }

    fn merged(&self) -> bool {
        self.sources.len() > 1
    }

    /// Columns of the container-name prefix of merged streams (0 for one container).
    fn prefix_width(&self) -> usize {
        if !self.merged() {
            return 0;
        }
        let longest = self.sources.iter().map(|s| s.name.len()).max().unwrap_or(0);
        longest.min((self.width / 4).clamp(4, 24))
    }

    /// The screen rows of one line: one when not wrapping (cut, scrolled sideways), as many as
    /// it needs when wrapping.
    fn rows_of(&self, seq: u64, line: &LogLine, theme: &Theme) -> Vec<Line<'static>> {
        let mut fixed: Vec<Span<'static>> = Vec::new();
        let pw = self.prefix_width();
        if pw > 0 {
            let name = self
                .sources
                .get(line.source)
                .map_or("", |s| s.name.as_str());
            fixed.push(Span::styled(
                format!("{:<pw$} | ", ellipsize(name, pw)),
                Style::default().fg(PALETTE[line.source % PALETTE.len()]),
            ));
        }
        if self.timestamps {
            fixed.push(Span::styled(
                format!("{:<12} ", short_time(line.timestamp.as_deref())),
                theme.muted(),
            ));
        }
        let mut base = if line.stderr {
            theme.fg(theme.warning)
        } else {
            Style::default()
        };
        if self.current == Some(seq) {
            base = base.patch(theme.selected());
        }
        let mut text = Vec::new();
        let mut at = 0;
        if let Matcher::Re(re) = &self.matcher {
            for m in re.find_iter(&line.text).filter(|m| !m.is_empty()) {
                if m.start() > at {
                    text.push(Span::styled(line.text[at..m.start()].to_string(), base));
                }
                text.push(Span::styled(
                    m.as_str().to_string(),
                    theme.highlight().add_modifier(Modifier::BOLD),
                ));
                at = m.end();
            }
        }
        if at < line.text.len() || text.is_empty() {
            text.push(Span::styled(line.text[at..].to_string(), base));
        }
        let width = self.width.max(1);
        if self.wrap {
            // Continuation rows are indented under the text (a hanging indent), so prefixes
            // and timestamps stay a clean column; too narrow for that, everything wraps.
            let fixed_w: usize = fixed.iter().map(|s| columns(&s.content)).sum();
            if fixed_w + 8 > width {
                fixed.extend(text);
                return wrap_columns(fixed, width)
                    .into_iter()
                    .map(Line::from)
                    .collect();
            }
            wrap_columns(text, width - fixed_w)
                .into_iter()
                .enumerate()
                .map(|(i, row)| {
                    let mut spans = if i == 0 {
                        fixed.clone()
                    } else {
                        vec![Span::raw(" ".repeat(fixed_w))]
                    };
                    spans.extend(row);
                    Line::from(spans)
                })
                .collect()
        } else {
            fixed.extend(skip_columns(text, self.hscroll));
            vec![Line::from(fixed)]
        }
    }

    /// The first line of the last screenful (what following shows at the top), when any line
    /// is shown.
    fn bottom_top(&self, theme: &Theme) -> Option<u64> {
        let mut rows = 0;
        let mut top = None;
        for seq in self.shown_before(u64::MAX) {
            let line = self.buffer.get(seq)?;
            rows += self.rows_of(seq, line, theme).len();
            if rows > self.height.max(1) && top.is_some() {
                break;
            }
            top = Some(seq);
        }
        top
    }

    fn first_shown(&self) -> Option<u64> {
        self.shown_from(0).next()
    }

    /// Stops following, keeping the screen where it is.
    fn unfollow(&mut self, theme: &Theme) {
        if self.follow {
            self.follow = false;
            self.top = self
                .visible
                .map(|(first, _)| first)
                .or_else(|| self.bottom_top(theme))
                .unwrap_or(0);
        }
    }

    fn scroll_up(&mut self, n: usize, theme: &Theme) {
        self.unfollow(theme);
        if let Some(seq) = self.shown_before(self.top).take(n).last() {
            self.top = seq;
        }
    }

    fn scroll_down(&mut self, n: usize, theme: &Theme) {
        if self.follow {
            return;
        }
        if let Some(seq) = self.shown_from(self.top + 1).take(n).last() {
            self.top = seq;
        }
        if let Some(bottom) = self.bottom_top(theme) {
            self.top = self.top.min(bottom);
        }
    }

    /// `n` / `N`: the next or previous matching line, wrapping around; scrolls there when it
    /// is off screen and stops following.
    fn jump(&mut self, forward: bool, cx: &mut Cx) {
        match &self.matcher {
            Matcher::None => {
                let key = cx.config.keymap.label(Action::Filter);
                cx.info(format!("no search: {key} to search"));
                return;
            }
            Matcher::Bad(e) => {
                cx.error(format!("regex error: {e}"));
                return;
            }
            Matcher::Re(_) => {}
        }
        if self.matches.is_empty() {
            cx.info(format!("no line matches \"{}\"", self.search));
            return;
        }
        let base = self.current.unwrap_or_else(|| {
            if self.follow {
                // From the bottom: `N` finds the newest match, `n` wraps to the oldest.
                self.buffer.end_seq()
            } else {
                self.top.saturating_sub(1)
            }
        });
        let i = self.matches.partition_point(|&m| m <= base);
        let target = if forward {
            self.matches.get(i).or(self.matches.front())
        } else {
            let j = self.matches.partition_point(|&m| m < base);
            j.checked_sub(1)
                .and_then(|j| self.matches.get(j))
                .or(self.matches.back())
        };
        let Some(&target) = target else { return };
        let theme = &cx.config.theme;
        self.unfollow(theme);
        self.current = Some(target);
        let on_screen = self
            .visible
            .is_some_and(|(a, b)| (a..=b).contains(&target) && !self.follow);
        if !on_screen {
            // A third of a screen of context above the match.
            let context = self.height / 3;
            self.top = self
                .shown_before(target)
                .take(context)
                .last()
                .unwrap_or(target);
            if let Some(bottom) = self.bottom_top(theme) {
                self.top = self.top.min(bottom);
            }
        }
    }

    /// Every buffered line as saved: container prefix (merged), full timestamp, text.
    fn save_text(&self) -> String {
        let mut out = String::new();
        for (_, l) in self.buffer.iter_from(0) {
            if self.merged() {
                let name = self.sources.get(l.source).map_or("", |s| s.name.as_str());
                out.push_str(name);
                out.push_str(" | ");
            }
            if let Some(ts) = &l.timestamp {
                out.push_str(ts);
                out.push(' ');
            }
            out.push_str(&l.text);
            out.push('\n');
        }
        out
    }

    fn save(&mut self, cx: &mut Cx) {
        let Some(target) = &self.target else { return };
        if self.buffer.is_empty() {
            cx.error("no log lines to save");
            return;
        }
        let stamp = self.now().with_timezone(&ZONE).format("%Y%m%d-%H%M%S");
        let default = format!("./{}-{stamp}.log", file_safe(&target.title));
        let contents = self.save_text();
        let n = self.buffer.len();
        cx.dialog(Prompt::new(
            "save logs",
            format!("save {n} line{} to", if n == 1 { "" } else { "s" }),
            &default,
            move |path| {
                let path = path.trim();
                if path.is_empty() {
                    return Err("a file name is needed".into());
                }
                Ok(vec![Cmd::Effect(Effect::WriteFile {
                    path: path.to_string(),
                    contents: contents.clone(),
                })])
            },
        ));
    }

    /// What the streams are doing, for the header; the bool says it is an error.
    fn state(&self, store: &Store) -> (String, bool) {
        if let Some((s, e)) = self
            .sources
            .iter()
            .find_map(|s| s.ended.as_ref()?.as_ref().map(|e| (s, e)))
        {
            let who = if self.merged() {
                format!("{}: ", s.name)
            } else {
                String::new()
            };
            return (format!("{who}error: {e}"), true);
        }
        let ended = self.sources.iter().filter(|s| s.ended.is_some()).count();
        let follow = if self.follow {
            "following"
        } else {
            "follow off"
        };
        if ended == 0 || self.sources.is_empty() {
            return (follow.into(), false);
        }
        if ended < self.sources.len() {
            return (
                format!("{follow} ({ended}/{} stopped)", self.sources.len()),
                false,
            );
        }
        let running = self
            .sources
            .iter()
            .any(|s| store.container(&s.id).is_some_and(|c| c.state == "running"));
        let text = if running {
            "log stream ended"
        } else if self.merged() {
            "containers stopped — showing their last logs"
        } else {
            "container stopped — showing its last logs"
        };
        (text.into(), false)
    }

    fn draw_header(&self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let Some(target) = &self.target else { return };
        // (text, style, priority): the highest priorities go first when the line is narrow.
        let mut parts: Vec<(String, Style, u8)> = vec![(target.title.clone(), theme.title(), 0)];
        let (state, error) = self.state(cx.store);
        let state_style = if error {
            theme.error()
        } else if self.follow && !state.contains("stopped") && !state.contains("ended") {
            theme.fg(theme.running)
        } else {
            theme.fg(theme.warning)
        };
        parts.push((state, state_style, 0));
        parts.push((self.since.label(), theme.fg(theme.accent), 2));
        match &self.matcher {
            Matcher::None => {}
            Matcher::Bad(e) => parts.push((format!("regex error: {e}"), theme.error(), 1)),
            Matcher::Re(_) => {
                let n = self.matches.len();
                let text = match self
                    .current
                    .and_then(|c| self.matches.binary_search(&c).ok())
                {
                    _ if n == 0 => "no matches".to_string(),
                    Some(i) => format!("{}/{n} matches", i + 1),
                    None => format!("{n} match{}", if n == 1 { "" } else { "es" }),
                };
                parts.push((text, theme.fg(theme.highlight_bg), 1));
            }
        }
        let mut flags = Vec::new();
        if self.only_matching {
            flags.push("only matching".to_string());
        }
        if self.regex {
            flags.push("regex".into());
        }
        if self.wrap {
            flags.push("wrap".into());
        }
        if self.timestamps {
            flags.push("timestamps".into());
        }
        if self.hscroll > 0 && !self.wrap {
            flags.push(format!("→{}", self.hscroll));
        }
        for flag in flags {
            parts.push((flag, theme.fg(theme.accent), 3));
        }
        let mut held = format!(
            "{} line{}",
            self.buffer.len(),
            if self.buffer.len() == 1 { "" } else { "s" }
        );
        if self.buffer.dropped > 0 {
            held.push_str(&format!(", {} dropped", self.buffer.dropped));
        }
        parts.push((held, theme.muted(), 4));

        let width = area.width as usize;
        let sep = " · ";
        let sep_w = columns(sep);
        let total = |parts: &[(String, Style, u8)]| -> usize {
            parts.iter().map(|(t, _, _)| columns(t)).sum::<usize>()
                + sep_w * parts.len().saturating_sub(1)
        };
        while total(&parts) > width {
            let Some(lowest) = parts
                .iter()
                .enumerate()
                .filter(|(_, p)| p.2 > 0)
                .max_by_key(|(i, p)| (p.2, *i))
                .map(|(i, _)| i)
            else {
                break;
            };
            parts.remove(lowest);
        }
        let mut spans = Vec::new();
        let mut used = 0;
        for (i, (text, style, _)) in parts.into_iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(sep, theme.muted()));
                used += sep_w;
            }
            let room = width.saturating_sub(used);
            let text = ellipsize(&text, room);
            used += columns(&text);
            spans.push(Span::styled(text, style));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    /// What the body says when no line is shown.
    fn empty_text(&self) -> (String, bool) {
        if let Some(e) = self.sources.iter().find_map(|s| s.ended.as_ref()?.as_ref()) {
            if self.buffer.is_empty() {
                return (e.clone(), true);
            }
        }
        match self.shown_mode() {
            Shown::Nothing => {
                if let Matcher::Bad(e) = &self.matcher {
                    return (format!("regex error: {e}"), true);
                }
            }
            Shown::Matches if !self.buffer.is_empty() => {
                return (format!("no line matches \"{}\"", self.search), false);
            }
            _ => {}
        }
        let all_ended = !self.sources.is_empty() && self.sources.iter().all(|s| s.ended.is_some());
        if all_ended {
            return (
                "no log lines: the container stopped without writing any".into(),
                false,
            );
        }
        (
            match self.since.secs() {
                Some(_) => format!("no log lines {} yet", self.since.label()),
                None => "no log lines yet".into(),
            },
            false,
        )
    }
}

impl View for LogsView {
    fn id(&self) -> ViewId {
        ViewId::Logs
    }

    fn tab_title(&self, _store: &Store) -> String {
        match &self.target {
            Some(t) => format!("Logs: {}", t.title),
            None => "Logs".into(),
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        self.clock = Some((cx.now, Instant::now()));
        let theme = &cx.config.theme;
        if area.height == 0 || area.width == 0 {
            return;
        }
        if self.target.is_none() {
            f.render_widget(
                Paragraph::new(Line::styled("no container selected", theme.muted())),
                area,
            );
            return;
        }
        let header = Rect { height: 1, ..area };
        let body = Rect {
            y: area.y + 1,
            height: area.height - 1,
            ..area
        };
        self.width = body.width as usize;
        self.height = body.height as usize;
        self.draw_header(f, header, cx);
        if body.height == 0 {
            return;
        }

        let mut rows: Vec<Line<'static>> = Vec::new();
        let mut first = None;
        let mut last = None;
        if self.follow {
            // From the newest line back until the screen is full; the oldest line shown may be
            // cut at the top.
            let mut per_line = Vec::new();
            let mut count = 0;
            for seq in self.shown_before(u64::MAX) {
                let Some(line) = self.buffer.get(seq) else {
                    break;
                };
                let r = self.rows_of(seq, line, theme);
                count += r.len();
                per_line.push(r);
                first = Some(seq);
                last = last.or(Some(seq));
                if count >= self.height {
                    break;
                }
            }
            rows = per_line.into_iter().rev().flatten().collect();
            let extra = rows.len().saturating_sub(self.height);
            rows.drain(..extra);
        } else {
            let oldest = self.first_shown().unwrap_or(0);
            let bottom = self.bottom_top(theme).unwrap_or(0);
            self.top = self.top.clamp(oldest, bottom.max(oldest));
            for seq in self.shown_from(self.top) {
                let Some(line) = self.buffer.get(seq) else {
                    break;
                };
                rows.extend(self.rows_of(seq, line, theme));
                first = first.or(Some(seq));
                last = Some(seq);
                if rows.len() >= self.height {
                    break;
                }
            }
            rows.truncate(self.height);
        }
        self.visible = first.zip(last);
        // The widest text on screen bounds the sideways scroll (no scrolling into emptiness).
        if !self.wrap {
            let text_w = self
                .width
                .saturating_sub(self.prefix_width() + 3 * usize::from(self.merged()))
                .saturating_sub(13 * usize::from(self.timestamps));
            self.widest = match self.visible {
                Some((a, b)) => self
                    .buffer
                    .iter_from(a)
                    .take_while(|(s, _)| *s <= b)
                    .map(|(_, l)| columns(&l.text))
                    .max()
                    .unwrap_or(0)
                    .saturating_sub(text_w),
                None => 0,
            };
            if self.hscroll > self.widest {
                self.hscroll = self.widest;
                // Redrawn next frame with the bounded scroll; this one is at most one step off.
            }
        }
        if rows.is_empty() {
            let (text, error) = self.empty_text();
            let style = if error { theme.error() } else { theme.muted() };
            f.render_widget(Paragraph::new(Line::styled(text, style)), body);
        } else {
            f.render_widget(Paragraph::new(rows), body);
        }
    }

    fn commands(&self, _store: &Store) -> Vec<Action> {
        let mut c = vec![Action::Follow, Action::Filter];
        if !matches!(self.matcher, Matcher::None) {
            c.extend([Action::NextMatch, Action::PrevMatch, Action::OnlyMatching]);
        }
        c.extend([
            Action::Timestamps,
            Action::Wrap,
            Action::Since,
            Action::SaveLogs,
            Action::Regex,
            Action::Back,
        ]);
        c
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        let theme = &cx.config.theme;
        let page = self.height.saturating_sub(1).max(1);
        match action {
            Action::Follow => {
                if self.follow {
                    self.unfollow(theme);
                } else {
                    self.follow = true;
                }
            }
            Action::Up => self.scroll_up(1, theme),
            Action::PageUp => self.scroll_up(page, theme),
            Action::Down => self.scroll_down(1, theme),
            Action::PageDown => self.scroll_down(page, theme),
            Action::Top => {
                self.follow = false;
                self.top = self.first_shown().unwrap_or(0);
            }
            Action::Bottom => self.follow = true,
            Action::NextMatch => self.jump(true, cx),
            Action::PrevMatch => self.jump(false, cx),
            Action::OnlyMatching => self.only_matching = !self.only_matching,
            Action::Regex => {
                self.regex = !self.regex;
                self.rematch();
            }
            Action::Timestamps => self.timestamps = !self.timestamps,
            Action::Wrap => {
                self.wrap = !self.wrap;
                self.hscroll = 0;
            }
            Action::NextTab | Action::PrevTab if !self.wrap => {
                let step = (self.width / 2).max(4);
                self.hscroll = if action == Action::NextTab {
                    (self.hscroll + step).min(self.widest)
                } else {
                    self.hscroll.saturating_sub(step)
                };
            }
            Action::Since => self.cycle_since(cx),
            Action::SaveLogs => self.save(cx),
            // Esc clears the search first, then leaves the view (the app's meaning).
            Action::Back if !self.search.is_empty() => self.set_search(""),
            _ => return false,
        }
        true
    }

    fn on_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        let theme = &cx.config.theme;
        match ev.kind {
            MouseEventKind::ScrollUp => self.scroll_up(WHEEL, theme),
            MouseEventKind::ScrollDown => self.scroll_down(WHEEL, theme),
            _ => return false,
        }
        true
    }

    fn set_filter(&mut self, text: &str, _store: &Store) {
        self.set_search(text);
    }

    fn filter(&self) -> &str {
        &self.search
    }

    fn on_stream(&mut self, key: &StreamKey, item: Option<&StreamItem>, _cx: &mut Cx) {
        let Some(source) = self.source_of(key) else {
            return;
        };
        if let Some(StreamItem::Text { line, stderr }) = item {
            self.push_line(source, line, *stderr);
        }
    }
}

/// "HH:MM:SS.mmm" in the local zone from the engine's RFC 3339 timestamp.
fn short_time(ts: Option<&str>) -> String {
    let Some(ts) = ts else {
        return String::new();
    };
    match DateTime::parse_from_rfc3339(ts) {
        Ok(t) => t.with_timezone(&ZONE).format("%H:%M:%S%.3f").to_string(),
        Err(_) => ts.chars().take(12).collect(),
    }
}

fn columns(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// A title made safe for a file name: "project shop" → "project-shop".
fn file_safe(title: &str) -> String {
    let s: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches(|c| c == '-' || c == '.').to_string();
    if s.is_empty() {
        "logs".into()
    } else {
        s
    }
}

/// Drops the first `skip` columns of `spans` (sideways scrolling).
fn skip_columns(spans: Vec<Span<'static>>, skip: usize) -> Vec<Span<'static>> {
    if skip == 0 {
        return spans;
    }
    let mut left = skip;
    let mut out = Vec::new();
    for span in spans {
        if left == 0 {
            out.push(span);
            continue;
        }
        let mut rest = String::new();
        for c in span.content.chars() {
            if left > 0 {
                left = left.saturating_sub(c.width().unwrap_or(0));
            } else {
                rest.push(c);
            }
        }
        if !rest.is_empty() {
            out.push(Span::styled(rest, span.style));
        }
    }
    out
}

/// Cuts `spans` into rows of `width` columns, breaking after the last space of a row when it
/// has one (words stay whole) and anywhere otherwise; a wide character that does not fit moves
/// to the next row.
fn wrap_columns(spans: Vec<Span<'static>>, width: usize) -> Vec<Vec<Span<'static>>> {
    let width = width.max(1);
    let chars: Vec<(char, usize)> = spans
        .iter()
        .flat_map(|s| s.content.chars())
        .map(|c| (c, c.width().unwrap_or(0)))
        .collect();
    // Char indexes where a new row starts.
    let mut breaks = Vec::new();
    let mut row_start = 0;
    let mut col = 0;
    let mut last_space: Option<usize> = None;
    for (j, &(c, w)) in chars.iter().enumerate() {
        if col + w > width && col > 0 {
            // After the row's last space (so nothing after it is a space: the new row starts
            // without one), or here when the row is one long word.
            let at = match last_space {
                Some(sp) if sp >= row_start => sp + 1,
                _ => j,
            };
            breaks.push(at);
            row_start = at;
            col = chars[at..j].iter().map(|&(_, w)| w).sum();
            last_space = None;
            // The carried word and a wide character may still not fit together.
            if col + w > width && col > 0 {
                breaks.push(j);
                row_start = j;
                col = 0;
            }
        }
        col += w;
        if c == ' ' {
            last_space = Some(j);
        }
    }
    let mut rows = vec![Vec::new()];
    let mut next_break = breaks.iter().copied().peekable();
    let mut i = 0;
    for span in spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            if next_break.peek() == Some(&i) {
                next_break.next();
                if !piece.is_empty() {
                    rows.last_mut()
                        .expect("rows starts non-empty")
                        .push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(Vec::new());
            }
            piece.push(c);
            i += 1;
        }
        if !piece.is_empty() {
            rows.last_mut()
                .expect("rows starts non-empty")
                .push(Span::styled(piece, span.style));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(rows: &[Vec<Span<'static>>]) -> Vec<String> {
        rows.iter()
            .map(|r| r.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn wrapping_counts_columns_and_keeps_styles() {
        let spans = vec![
            Span::raw("abc"),
            Span::styled("defgh", Style::default().fg(Color::Red)),
        ];
        let rows = wrap_columns(spans, 3);
        assert_eq!(text(&rows), vec!["abc", "def", "gh"]);
        assert_eq!(rows[1][0].style.fg, Some(Color::Red));
        // Words stay whole when the row has a space; a word longer than a row is cut.
        let rows = wrap_columns(vec![Span::raw("one two three fourfivesix")], 9);
        assert_eq!(text(&rows), vec!["one two ", "three ", "fourfives", "ix"]);
        let rows = wrap_columns(vec![Span::raw("a bcd日")], 5);
        assert_eq!(text(&rows), vec!["a ", "bcd日"]);
        let rows = wrap_columns(vec![Span::raw("a bcde日")], 5);
        assert_eq!(text(&rows), vec!["a ", "bcde", "日"]);
        // A wide character never splits; it moves to the next row.
        let rows = wrap_columns(vec![Span::raw("ab日本")], 3);
        assert_eq!(text(&rows), vec!["ab", "日", "本"]);
        // Width 1 with wide characters still ends.
        assert_eq!(wrap_columns(vec![Span::raw("日本")], 1).len(), 2);
        assert_eq!(text(&wrap_columns(vec![Span::raw("")], 5)), vec![""]);
    }

    #[test]
    fn skipping_columns() {
        let spans = vec![Span::raw("abc"), Span::raw("def")];
        let rows = skip_columns(spans.clone(), 4);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].content, "ef");
        assert!(skip_columns(spans, 10).is_empty());
    }

    #[test]
    fn matchers_are_smart_case_and_bad_regexes_say_why() {
        let m = Matcher::new("error", false);
        assert!(m.is_match("An ERROR here"));
        let m = Matcher::new("Error", false);
        assert!(!m.is_match("an error here") && m.is_match("an Error"));
        // Plain text is literal; as a regex the same text means something else.
        assert!(
            Matcher::new("a.c", false).is_match("a.c")
                && !Matcher::new("a.c", false).is_match("abc")
        );
        assert!(Matcher::new("a.c", true).is_match("abc"));
        match Matcher::new("(unclosed", true) {
            Matcher::Bad(e) => assert_eq!(e, "unclosed group"),
            other => panic!("{other:?}"),
        }
        assert!(!Matcher::new("(unclosed", true).is_match("(unclosed"));
        assert!(matches!(Matcher::new("", true), Matcher::None));
    }

    #[test]
    fn short_times_and_file_names() {
        assert_eq!(
            short_time(Some("2026-11-23T11:59:58.123456789Z")),
            "11:59:58.123"
        );
        assert_eq!(short_time(None), "");
        assert_eq!(short_time(Some("garbage-timestamp-x")), "garbage-time");
        assert_eq!(file_safe("project shop"), "project-shop");
        assert_eq!(file_safe("../etc/passwd"), "etc-passwd");
        assert_eq!(file_safe("///"), "logs");
    }
}
