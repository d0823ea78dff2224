//! A list's selection and scroll position, independent of what the rows are.

/// Selected row and first visible row of a list of `len` rows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cursor {
    pub selected: usize,
    pub offset: usize,
    pub len: usize,
}

impl Cursor {
    pub fn set_len(&mut self, len: usize) {
        self.len = len;
        if self.selected >= len {
            self.selected = len.saturating_sub(1);
        }
    }

    pub fn up(&mut self, n: usize) {
        self.selected = self.selected.saturating_sub(n);
    }

    pub fn down(&mut self, n: usize) {
        if self.len > 0 {
            self.selected = (self.selected + n).min(self.len - 1);
        }
    }

    pub fn top(&mut self) {
        self.selected = 0;
    }

    pub fn bottom(&mut self) {
        self.selected = self.len.saturating_sub(1);
    }

    pub fn select(&mut self, row: usize) {
        if row < self.len {
            self.selected = row;
        }
    }

    /// Scrolls so the selection is inside a window of `height` rows; returns the visible range.
    pub fn window(&mut self, height: usize) -> std::ops::Range<usize> {
        if height == 0 {
            return 0..0;
        }
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        // Never leave empty rows at the bottom while rows are hidden above.
        let max_offset = self.len.saturating_sub(height);
        self.offset = self.offset.min(max_offset);
        self.offset..(self.offset + height).min(self.len)
    }

    /// The row under screen line `y` of a list drawn from `top` (after `window`).
    pub fn row_at(&self, top: u16, y: u16) -> Option<usize> {
        let row = self.offset + y.checked_sub(top)? as usize;
        (row < self.len).then_some(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolls_to_keep_the_selection_visible() {
        let mut c = Cursor::default();
        c.set_len(100);
        c.down(30);
        assert_eq!(c.window(10), 21..31);
        c.up(25);
        assert_eq!(c.window(10), 5..15);
        c.bottom();
        assert_eq!(c.window(10), 90..100);
        assert_eq!(c.row_at(3, 5), Some(92));
        c.set_len(4);
        assert_eq!(c.selected, 3);
        assert_eq!(c.window(10), 0..4);
        assert_eq!(c.row_at(0, 7), None);
    }
}
