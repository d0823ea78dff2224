//! The list table every list view is (bottom's `data_table`): a view names its columns
//! (`TableColumn`), says what each row shows in each of them (`DataToCell`) and what an empty
//! list says, and keeps its own actions; the table does the rest the same way everywhere — the
//! header with the sort arrow, the mark column, the selection, the empty state, and list keys,
//! mouse clicks and scrolling, and the filter (`on_action`, `on_mouse`, `set_filter`).

use crossterm::event::MouseEvent;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};
use ratatui::Frame;

use super::list::{Click, ListState};
use super::{Cx, DrawCx};
use crate::dashboard::keymap::Action;
use crate::dashboard::store::Store;
use crate::dashboard::theme::Theme;
use crate::dashboard::widgets::table::{self, Column};

/// One column a list view can show.
pub trait TableColumn: Copy {
    /// The header title and width.
    fn column(self) -> Column;
    /// The sort field a click on this column's header picks (`None`: the header does not sort).
    fn sort_field(self) -> Option<usize> {
        None
    }
    /// The one-cell column that shows whether a row is marked (●), drawn by the table.
    fn is_mark(self) -> bool {
        false
    }
}

/// What row `row` (in display order) shows in `column` (bottom's `DataToCell`). Rows are the
/// view's own (indexes into the store, usually), so the view answers for them.
pub trait DataToCell<C: TableColumn> {
    fn to_cell(&self, row: usize, column: C, cx: &DrawCx) -> Cell<'static>;
}

/// A view that is a table over a `ListState` (images, volumes, networks): list keys, mouse,
/// filter, sort and drawing behave the same in each, through the functions below.
pub trait ListView: DataToCell<Self::Col> {
    type Col: TableColumn;

    fn list(&self) -> &ListState;
    fn list_mut(&mut self) -> &mut ListState;
    /// Rows again from the store (filter, sort).
    fn rebuild(&mut self, store: &Store);
    /// The view's own actions, after the list's.
    fn act(&mut self, action: Action, cx: &mut Cx) -> bool;
    /// The columns that fit a body `width` wide, in order.
    fn columns(&self, width: u16) -> Vec<Self::Col>;
    /// Whether the current sort field's natural order is largest (newest, most) first: the
    /// arrow follows the rows, see `ListState::arrow_descending`.
    fn largest_first(&self) -> bool;
    /// What the table says when it has no rows (loading, nothing yet, nothing matches).
    fn empty(&self, cx: &DrawCx) -> String;
    /// What the status line says after a sort change (`None`: nothing).
    fn sort_label(&self) -> Option<String> {
        None
    }
}

/// The `ListView` methods every view writes the same way, inside its `impl ListView`: the
/// list is its `list` field, and `rebuild` and `act` are its own inherent methods.
macro_rules! list_view_basics {
    () => {
        fn list(&self) -> &$crate::dashboard::views::list::ListState {
            &self.list
        }

        fn list_mut(&mut self) -> &mut $crate::dashboard::views::list::ListState {
            &mut self.list
        }

        fn rebuild(&mut self, store: &$crate::dashboard::store::Store) {
            Self::rebuild(self, store);
        }

        fn act(
            &mut self,
            action: $crate::dashboard::keymap::Action,
            cx: &mut $crate::dashboard::views::Cx,
        ) -> bool {
            Self::act(self, action, cx)
        }
    };
}
pub(crate) use list_view_basics;

/// Draws the view's table in `area` and keeps what mouse clicks need (geometry, cursor).
pub fn draw<V: ListView>(v: &mut V, f: &mut Frame, area: Rect, cx: &DrawCx) {
    let theme = &cx.config.theme;
    let shown = v.columns(area.width);
    let columns: Vec<Column> = shown.iter().map(|c| c.column()).collect();
    // The arrow sits on the first column whose header sorts by the current field.
    let field = v.list().sort.0;
    let sort = shown
        .iter()
        .position(|c| c.sort_field() == Some(field))
        .map(|i| (i, v.list().arrow_descending(v.largest_first())));
    let empty = v.empty(cx);
    let mut cursor = v.list().cursor;
    let view = &*v;
    let geometry = table::draw(
        f,
        area,
        &columns,
        &mut cursor,
        sort,
        theme,
        &empty,
        |i, _| {
            Row::new(
                shown
                    .iter()
                    .map(|&c| {
                        if c.is_mark() {
                            mark_cell(view.list(), i, theme)
                        } else {
                            view.to_cell(i, c, cx)
                        }
                    })
                    .collect::<Vec<_>>(),
            )
        },
    );
    let list = v.list_mut();
    list.cursor = cursor;
    list.geometry = geometry;
}

/// The mark column's cell for row `i`: ● when marked.
pub fn mark_cell(list: &ListState, i: usize, theme: &Theme) -> Cell<'static> {
    let marked = list.keys.get(i).is_some_and(|k| list.is_marked(k));
    Cell::from(Span::styled(
        if marked { "●" } else { " " },
        theme.fg(theme.marked),
    ))
}

/// `View::on_action` of a list view: list keys first (a sort change rebuilds), then its own.
pub fn on_action(v: &mut impl ListView, action: Action, cx: &mut Cx) -> bool {
    let page = cx.page;
    on_action_paged(v, action, page, cx)
}

/// `on_action` for a table shorter than the body (page keys move by `page` rows).
pub fn on_action_paged(v: &mut impl ListView, action: Action, page: usize, cx: &mut Cx) -> bool {
    if v.list_mut().on_action(action, page) {
        if matches!(action, Action::Sort | Action::SortReverse) {
            v.rebuild(cx.store);
            if let Some(label) = v.sort_label() {
                cx.info(format!("sorted by {label}"));
            }
        }
        return true;
    }
    v.act(action, cx)
}

/// `View::on_mouse` of a list view: rows select, a second click opens, headers sort, the wheel
/// scrolls.
pub fn on_mouse(v: &mut impl ListView, ev: MouseEvent, cx: &mut Cx) -> bool {
    match v.list_mut().on_mouse(&ev) {
        Click::None => false,
        Click::Header(c) => {
            // The columns of the last draw: the geometry keeps its width.
            let shown = v.columns(v.list().geometry.area.width);
            if let Some(field) = shown.get(c).and_then(|k| k.sort_field()) {
                v.list_mut().sort_by(field);
                v.rebuild(cx.store);
            }
            true
        }
        Click::Activate => v.act(Action::Open, cx),
        Click::Row | Click::Scrolled => true,
    }
}

/// `View::set_filter` of a list view.
pub fn set_filter(v: &mut impl ListView, text: &str, store: &Store) {
    v.list_mut().filter = text.to_string();
    v.rebuild(store);
}
