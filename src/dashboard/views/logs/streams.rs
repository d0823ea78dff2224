//! The logs streams: one per container, opened under a new generation (so late items of old
//! streams are ignored), closed when leaving the view, reopened when `since` changes, and
//! marked when they end.

use super::super::Cmd;
use super::matcher::Matcher;
use super::since::Since;
use super::{Cx, LogTarget, LogsView, Source, TAIL};
use crate::client::api::containers::{self, LogsFrom};
use crate::dashboard::msg::{Effect, Framing, StreamKey, StreamRequest};
use crate::dashboard::store::Connection;

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
        let from = match since {
            Some(t) => LogsFrom::Since(t.to_string()),
            None => LogsFrom::Tail(TAIL),
        };
        for i in 0..self.sources.len() {
            self.sources[i].ended = None;
            cx.push(Cmd::Stream(self.request(i, &from)));
        }
    }

    /// The logs request of source `i`, starting `from` (the last lines or a time).
    fn request(&self, i: usize, from: &LogsFrom) -> StreamRequest {
        let s = &self.sources[i];
        let logs = containers::logs_follow(&s.id, from);
        StreamRequest {
            key: StreamKey::Logs(s.id.clone(), self.generation),
            method: logs.method,
            path: logs.path,
            body: logs.body,
            framing: if s.tty {
                Framing::Raw
            } else {
                Framing::Multiplexed
            },
            // Reopened here instead, from the last line received (see `resume_ended`).
            reopen: false,
            auth_for: None,
            upload: None,
        }
    }

    /// Streams that ended while their container runs (it was restarted, or the engine came
    /// back after a loss) pick up right after the last line each delivered, in the same
    /// buffer: nothing shown twice, nothing lost that the engine kept.
    pub(super) fn resume_ended(&mut self, cx: &mut Cx) {
        if self.target.is_none() || cx.store.connection != Connection::Connected {
            return;
        }
        for i in 0..self.sources.len() {
            let s = &self.sources[i];
            let running = cx
                .store
                .container(&s.id)
                .is_some_and(|c| c.is_running() || c.is_paused());
            if s.ended.is_none() || !running {
                continue;
            }
            let last = self
                .buffer
                .lines()
                .iter()
                .rev()
                .find(|l| l.source == i)
                .and_then(|l| l.timestamp.as_deref())
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .and_then(|t| t.timestamp_nanos_opt());
            let from = match last {
                Some(ns) => {
                    let next = ns + 1;
                    LogsFrom::Since(format!(
                        "{}.{:09}",
                        next.div_euclid(1_000_000_000),
                        next.rem_euclid(1_000_000_000)
                    ))
                }
                None => LogsFrom::Tail(TAIL),
            };
            self.sources[i].ended = None;
            cx.push(Cmd::Stream(self.request(i, &from)));
        }
    }

    /// The next `since` preset: the streams start over from there.
    pub(super) fn cycle_since(&mut self, cx: &mut Cx) {
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

    /// The source index of a key of the current generation.
    pub(super) fn source_of(&self, key: &StreamKey) -> Option<usize> {
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
}
