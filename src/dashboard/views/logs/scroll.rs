//! Which lines are shown (all, or only the matching ones) and moving through them: scrolling,
//! following and `n`/`N` jumps between matches.

use super::matcher::Matcher;
use super::{Cx, LogsView};
use crate::dashboard::keymap::Action;
use crate::dashboard::theme::Theme;

/// Which lines are on screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Shown {
    All,
    /// Only the lines in `matches`.
    Matches,
    /// Only matching lines of a search that matches nothing (a bad regex).
    Nothing,
}

impl LogsView {
    pub(super) fn shown_mode(&self) -> Shown {
        match (&self.matcher, self.only_matching) {
            (Matcher::Re(_), true) => Shown::Matches,
            (Matcher::Bad(_), true) => Shown::Nothing,
            _ => Shown::All,
        }
    }

    /// Shown lines from `from` on, oldest first.
    pub(super) fn shown_from(&self, from: u64) -> Box<dyn Iterator<Item = u64> + '_> {
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
    pub(super) fn shown_before(&self, before: u64) -> Box<dyn Iterator<Item = u64> + '_> {
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

    /// The first line of the last screenful (what following shows at the top), when any line
    /// is shown.
    pub(super) fn bottom_top(&self, theme: &Theme) -> Option<u64> {
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

    pub(super) fn first_shown(&self) -> Option<u64> {
        self.shown_from(0).next()
    }

    /// Stops following, keeping the screen where it is.
    pub(super) fn unfollow(&mut self, theme: &Theme) {
        if self.follow {
            self.follow = false;
            self.top = self
                .visible
                .map(|(first, _)| first)
                .or_else(|| self.bottom_top(theme))
                .unwrap_or(0);
        }
    }

    pub(super) fn scroll_up(&mut self, n: usize, theme: &Theme) {
        self.unfollow(theme);
        if let Some(seq) = self.shown_before(self.top).take(n).last() {
            self.top = seq;
        }
    }

    pub(super) fn scroll_down(&mut self, n: usize, theme: &Theme) {
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
    pub(super) fn jump(&mut self, forward: bool, cx: &mut Cx) {
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
}
