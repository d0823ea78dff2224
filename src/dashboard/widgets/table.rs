//! The table every list view draws: a header with the sort column marked, only the visible rows
//! built (a list of thousands costs what the screen shows), the selection highlighted, and the
//! geometry kept for mouse clicks on rows and headers.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::cursor::Cursor;
use crate::dashboard::theme::Theme;

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub title: &'static str,
    pub width: Constraint,
}

pub const fn col(title: &'static str, width: Constraint) -> Column {
    Column { title, width }
}

/// Where things landed on screen, for mouse hit-testing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Geometry {
    pub area: Rect,
    pub header_y: u16,
    pub first_row_y: u16,
    /// Column x ranges, in column order.
    pub columns: Vec<(u16, u16)>,
}

impl Geometry {
    pub fn column_at(&self, x: u16) -> Option<usize> {
        self.columns.iter().position(|&(a, b)| x >= a && x < b)
    }

    pub fn contains(&self, x: u16, y: u16) -> bool {
        self.area.contains(ratatui::layout::Position { x, y })
    }
}

/// Draws `len` rows (built by `row` for the visible ones only). `sort` is (column, descending:
/// the arrow points down, ▼, when the rows run largest, newest or last first).
/// An empty list shows `empty` instead.
#[allow(clippy::too_many_arguments)]
pub fn draw<'a>(
    f: &mut Frame,
    area: Rect,
    columns: &[Column],
    cursor: &mut Cursor,
    sort: Option<(usize, bool)>,
    theme: &Theme,
    empty: &str,
    mut row: impl FnMut(usize, bool) -> Row<'a>,
) -> Geometry {
    let widths: Vec<Constraint> = columns.iter().map(|c| c.width).collect();
    let rects = Layout::horizontal(widths.clone())
        .flex(Flex::Start)
        .spacing(1)
        .split(area);
    let geometry = Geometry {
        area,
        header_y: area.y,
        first_row_y: area.y + 1,
        columns: rects.iter().map(|r| (r.x, r.right())).collect(),
    };
    let header = Row::new(columns.iter().enumerate().map(|(i, c)| {
        let mark = match sort {
            Some((s, desc)) if s == i => {
                if desc {
                    " ▼"
                } else {
                    " ▲"
                }
            }
            _ => "",
        };
        Cell::from(format!("{}{mark}", c.title))
    }))
    .style(theme.title().add_modifier(Modifier::UNDERLINED));
    let body_height = area.height.saturating_sub(1) as usize;
    cursor.set_len(cursor.len);
    let visible = cursor.window(body_height);
    let rows: Vec<Row> = visible
        .clone()
        .map(|i| {
            let selected = i == cursor.selected;
            let r = row(i, selected);
            if selected {
                r.style(theme.selected())
            } else {
                r
            }
        })
        .collect();
    f.render_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .flex(Flex::Start),
        area,
    );
    if cursor.len == 0 && area.height > 1 {
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(empty.to_string(), theme.muted()))),
            Rect {
                y: area.y + 1,
                height: 1,
                ..area
            },
        );
    }
    geometry
}
