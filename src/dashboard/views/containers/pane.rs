//! The detail pane below the table (`super::super::detail`): opening and closing it, keeping
//! it on the selected container, the keys it takes first, and how it shares the height.

use ratatui::layout::{Constraint, Layout, Rect};

use super::ContainersView;
use crate::dashboard::keymap::Action;
use crate::dashboard::views::{Cx, View};

impl ContainersView {
    /// Opens or closes the detail pane on the selected container.
    pub(super) fn toggle_detail(&mut self, cx: &mut Cx) {
        if self.detail_open {
            self.detail_open = false;
            self.detail.close(cx);
            return;
        }
        let Some(id) = self.selected_container(cx.store).map(|c| c.id.clone()) else {
            return;
        };
        self.detail_open = true;
        self.detail.id = None;
        self.detail.follow(&id, cx);
    }

    /// Moves the open pane to the selected container (a group row keeps the last one).
    pub(super) fn sync_detail(&mut self, cx: &mut Cx) {
        if !self.detail_open {
            return;
        }
        if let Some(id) = self.selected_container(cx.store).map(|c| c.id.clone()) {
            self.detail.follow(&id, cx);
        }
    }

    /// The pane's own actions; `false` when the pane is closed or the action is not its own.
    pub(super) fn detail_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        if !self.detail_open {
            return false;
        }
        let half = self.detail.half_page();
        match action {
            Action::NextTab => self.detail.next_tab(true, cx),
            Action::PrevTab => self.detail.next_tab(false, cx),
            Action::DetailScrollDown => self.detail.scroll_by(half),
            Action::DetailScrollUp => self.detail.scroll_by(-half),
            Action::DetailNextMatch if self.detail.searching() => self.detail.jump(true),
            Action::DetailPrevMatch if self.detail.searching() => self.detail.jump(false),
            Action::Back if self.list.marks.is_empty() && self.filter().is_empty() => {
                self.detail_open = false;
                self.detail.close(cx);
            }
            _ => return false,
        }
        true
    }

    /// Whether the `/` line searches the pane's Inspect tab instead of filtering the table.
    pub(super) fn searching_detail(&self) -> bool {
        self.detail_open && self.detail.searching()
    }
}

/// Splits the body between the table and the detail pane below it: the table gets its rows
/// (plus the header) up to half the height, keeping at least a few rows; the pane the rest.
pub(super) fn split(area: Rect, rows: usize) -> (Rect, Rect) {
    let h = area.height as usize;
    let half = h / 2;
    let table = (rows + 1).clamp(3.min(half), half.max(1)).min(h);
    let [t, p] =
        Layout::vertical([Constraint::Length(table as u16), Constraint::Min(0)]).areas(area);
    (t, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pane_gets_at_least_half_and_the_table_its_rows() {
        let area = Rect::new(0, 0, 80, 21);
        // Many rows: the table keeps the upper half.
        let (t, p) = split(area, 30);
        assert_eq!((t.height, p.height), (10, 11));
        // Few rows: the table shrinks to them, the pane takes the rest.
        let (t, p) = split(area, 2);
        assert_eq!((t.height, p.height), (3, 18));
        // Tiny: both still fit, nothing overflows.
        for h in 0..6 {
            let (t, p) = split(Rect::new(0, 0, 20, h), 5);
            assert_eq!(t.height + p.height, h);
        }
    }
}
