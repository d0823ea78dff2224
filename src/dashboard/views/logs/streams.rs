//! The logs streams: one per container, opened under a new generation (so late items of old
//! streams are ignored), closed when leaving the view, reopened when `since` changes, and
//! marked when they end.

use hyper::Method;

use super::super::Cmd;
use super::matcher::Matcher;
use super::since::Since;
use super::{Cx, LogTarget, LogsView, Source, TAIL};
use crate::client::seg;
use crate::dashboard::msg::{Effect, Framing, StreamKey, StreamRequest};

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
