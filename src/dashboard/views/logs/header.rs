//! The header line (target, stream state, `since`, match count, flags, lines held, dropped by
//! priority when narrow) and what the body says when no line is shown.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::matcher::Matcher;
use super::render::columns;
use super::scroll::Shown;
use super::{DrawCx, LogsView};
use crate::dashboard::store::Store;
use crate::dashboard::widgets::ellipsize;

impl LogsView {
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

    pub(super) fn draw_header(&self, f: &mut Frame, area: Rect, cx: &DrawCx) {
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
    pub(super) fn empty_text(&self) -> (String, bool) {
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
