//! What every list view shares: the rows' keys in display order, selection that stays on the
//! same object when the list changes, marks, the filter text, the sort column, and list keys
//! and mouse handling. `super::table` draws it and routes keys and clicks to it.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use crate::dashboard::keymap::Action;
use crate::dashboard::widgets::cursor::Cursor;
use crate::dashboard::widgets::table::Geometry;

#[derive(Debug, Clone, Default)]
pub struct ListState {
    pub cursor: Cursor,
    /// Row keys (ids) in display order.
    pub keys: Vec<String>,
    pub marks: BTreeSet<String>,
    pub filter: String,
    /// (column, descending).
    pub sort: (usize, bool),
    /// Number of sortable columns (sort cycles through them).
    pub sortable: usize,
    pub geometry: Geometry,
}

/// What a mouse event meant for the list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Click {
    None,
    /// Selected a row (a second click on the selected row is `Activate`).
    Row,
    Activate,
    /// A click on column `n`'s header (the view decides what it sorts by).
    Header(usize),
    Scrolled,
}

impl ListState {
    pub fn with_sort(column: usize, descending: bool, sortable: usize) -> Self {
        ListState {
            sort: (column, descending),
            sortable,
            ..Default::default()
        }
    }

    /// Replaces the rows, keeping the selection on the same key when it still exists, and
    /// dropping marks of rows that are gone.
    pub fn set_keys(&mut self, keys: Vec<String>) {
        let selected = self.selected_key().map(str::to_string);
        self.marks.retain(|m| keys.contains(m));
        self.keys = keys;
        self.cursor.set_len(self.keys.len());
        if let Some(sel) = selected {
            if let Some(i) = self.keys.iter().position(|k| *k == sel) {
                self.cursor.selected = i;
            }
        }
    }

    /// Keeps the `rows` whose `text` the filter matches, in the sort's order (`order` compares
    /// two rows by a sort field in its natural order; the reverse flag turns it), and makes their
    /// `key`s the list's. Returns the rows in display order.
    pub fn fill<R>(
        &mut self,
        rows: impl IntoIterator<Item = R>,
        text: impl Fn(&R) -> String,
        order: impl Fn(&R, &R, usize) -> Ordering,
        key: impl Fn(&R) -> String,
    ) -> Vec<R> {
        let mut rows: Vec<R> = rows
            .into_iter()
            .filter(|r| self.matches(&text(r)))
            .collect();
        let (field, desc) = self.sort;
        rows.sort_by(|a, b| {
            let ord = order(a, b, field);
            if desc {
                ord.reverse()
            } else {
                ord
            }
        });
        self.set_keys(rows.iter().map(key).collect());
        rows
    }

    pub fn selected_key(&self) -> Option<&str> {
        self.keys.get(self.cursor.selected).map(String::as_str)
    }

    pub fn is_marked(&self, key: &str) -> bool {
        self.marks.contains(key)
    }

    /// The marked keys, or the selected one when nothing is marked (bulk actions).
    pub fn targets(&self) -> Vec<String> {
        if self.marks.is_empty() {
            self.selected_key()
                .map(str::to_string)
                .into_iter()
                .collect()
        } else {
            self.keys
                .iter()
                .filter(|k| self.marks.contains(*k))
                .cloned()
                .collect()
        }
    }

    /// The filter matches when every word is in `text` (case-insensitive).
    pub fn matches(&self, text: &str) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let hay = text.to_lowercase();
        self.filter
            .to_lowercase()
            .split_whitespace()
            .all(|w| hay.contains(w))
    }

    /// Whether the header arrow of the sorted column points down (▼: largest, newest or last
    /// first). `largest_first` says the field's natural order is already that way (created,
    /// size, CPU), so it shows ▼ until reversed — `sort.1` means "reversed", not "descending".
    pub fn arrow_descending(&self, largest_first: bool) -> bool {
        self.sort.1 != largest_first
    }

    /// Sorts by `field`; the same field again reverses the order.
    pub fn sort_by(&mut self, field: usize) {
        if self.sort.0 == field {
            self.sort.1 = !self.sort.1;
        } else {
            self.sort = (field, false);
        }
    }

    /// Handles list navigation, marks and sorting; `false` for other actions.
    pub fn on_action(&mut self, action: Action, page: usize) -> bool {
        let page = page.max(1);
        match action {
            Action::Up => self.cursor.up(1),
            Action::Down => self.cursor.down(1),
            Action::Top => self.cursor.top(),
            Action::Bottom => self.cursor.bottom(),
            Action::PageUp => self.cursor.up(page),
            Action::PageDown => self.cursor.down(page),
            Action::Mark => {
                if let Some(k) = self.selected_key().map(str::to_string) {
                    if !self.marks.remove(&k) {
                        self.marks.insert(k);
                    }
                    self.cursor.down(1);
                }
            }
            Action::MarkAll => {
                if self.marks.len() == self.keys.len() {
                    self.marks.clear();
                } else {
                    self.marks = self.keys.iter().cloned().collect();
                }
            }
            Action::Sort if self.sortable > 0 => {
                self.sort = ((self.sort.0 + 1) % self.sortable, self.sort.1);
            }
            Action::SortReverse => self.sort.1 = !self.sort.1,
            _ => return false,
        }
        true
    }

    /// Clicks on rows select (a second click activates), clicks on headers sort, the wheel
    /// scrolls.
    pub fn on_mouse(&mut self, ev: &MouseEvent) -> Click {
        if !self.geometry.contains(ev.column, ev.row) {
            return Click::None;
        }
        match ev.kind {
            MouseEventKind::ScrollDown => {
                self.cursor.down(3);
                Click::Scrolled
            }
            MouseEventKind::ScrollUp => {
                self.cursor.up(3);
                Click::Scrolled
            }
            MouseEventKind::Down(MouseButton::Left) => {
                if ev.row == self.geometry.header_y {
                    match self.geometry.column_at(ev.column) {
                        Some(c) => Click::Header(c),
                        None => Click::None,
                    }
                } else {
                    match self.cursor.row_at(self.geometry.first_row_y, ev.row) {
                        Some(r) if r == self.cursor.selected => Click::Activate,
                        Some(r) => {
                            self.cursor.select(r);
                            Click::Row
                        }
                        None => Click::None,
                    }
                }
            }
            _ => Click::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// The arrow says which way the rows run, whatever the field's natural order: created
    /// (newest first) shows ▼ until reversed; a name (A to Z) shows ▲.
    #[test]
    fn arrow_follows_the_rows_not_the_reverse_flag() {
        let mut l = ListState::with_sort(1, false, 3);
        assert!(l.arrow_descending(true));
        assert!(!l.arrow_descending(false));
        l.sort_by(1);
        assert!(!l.arrow_descending(true));
        l.sort_by(0);
        assert!(!l.arrow_descending(false));
    }

    #[test]
    fn selection_follows_the_object_and_marks_drop_with_it() {
        let mut l = ListState::with_sort(0, false, 3);
        l.set_keys(keys(&["a", "b", "c"]));
        l.on_action(Action::Down, 10);
        l.on_action(Action::Mark, 10);
        assert_eq!(l.selected_key(), Some("c"));
        assert_eq!(l.targets(), vec!["b"]);
        l.set_keys(keys(&["x", "c", "a"]));
        assert_eq!(l.selected_key(), Some("c"));
        assert!(l.marks.is_empty());
        assert_eq!(l.targets(), vec!["c"]);
        l.on_action(Action::MarkAll, 10);
        assert_eq!(l.targets().len(), 3);
        l.on_action(Action::Sort, 10);
        l.on_action(Action::SortReverse, 10);
        assert_eq!(l.sort, (1, true));
    }

    #[test]
    fn filter_words_all_match() {
        let l = ListState {
            filter: "web RUN".into(),
            ..Default::default()
        };
        assert!(l.matches("shop-web-1 running"));
        assert!(!l.matches("shop-db-1 running"));
    }
}
