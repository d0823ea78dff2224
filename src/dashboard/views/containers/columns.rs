//! The table's columns for each terminal width, and what a group row and a container row show
//! in each (live CPU bar and sparkline, memory, network and block I/O rates).

use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

use super::rows::RowKind;
use super::status::status_text;
use super::{ContainersView, SORT_CPU, SORT_CREATED, SORT_IMAGE, SORT_MEM, SORT_NAME, SORT_STATE};
use crate::dashboard::store::model::Container;
use crate::dashboard::views::table::{DataToCell, TableColumn};
use crate::dashboard::views::DrawCx;
use crate::dashboard::widgets::table::{col, Column};
use crate::dashboard::widgets::{bars, bytes, rate};

/// Widths from which the table shows more columns.
pub(super) const MEDIUM: u16 = 110;
pub(super) const WIDE: u16 = 180;

/// The columns; their widths (and what CPU and memory show) depend on the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Mark,
    /// NAME gets the largest share of what the fixed columns leave; very narrow screens keep
    /// at least 12 columns for it (`Min`) and squeeze the fixed columns instead.
    Name {
        min: bool,
    },
    Image,
    State(u16),
    /// STATUS (sorts by creation).
    Status(u16),
    Ports,
    /// CPU percent, after a bar from the medium layout up.
    Cpu {
        bar: bool,
    },
    CpuHistory,
    /// MEMORY (with the limit in the wide layout), or MEM on narrow screens.
    Memory {
        limit: bool,
        narrow: bool,
    },
    NetIo,
    BlockIo,
    Pids,
}

impl TableColumn for Col {
    fn column(self) -> Column {
        match self {
            Col::Mark => col("", Constraint::Length(1)),
            Col::Name { min: false } => col("NAME", Constraint::Fill(3)),
            Col::Name { min: true } => col("NAME", Constraint::Min(12)),
            Col::Image => col("IMAGE", Constraint::Fill(2)),
            Col::State(w) => col("STATE", Constraint::Length(w)),
            Col::Status(w) => col("STATUS", Constraint::Length(w)),
            Col::Ports => col("PORTS", Constraint::Fill(2)),
            Col::Cpu { bar: true } => col("CPU", Constraint::Length(12)),
            Col::Cpu { bar: false } => col("CPU", Constraint::Length(6)),
            Col::CpuHistory => col("CPU HISTORY", Constraint::Length(12)),
            Col::Memory { narrow: true, .. } => col("MEM", Constraint::Length(8)),
            Col::Memory { limit: true, .. } => col("MEMORY", Constraint::Length(15)),
            Col::Memory { .. } => col("MEMORY", Constraint::Length(9)),
            Col::NetIo => col("NET RX/TX", Constraint::Length(17)),
            Col::BlockIo => col("BLOCK R/W", Constraint::Length(17)),
            Col::Pids => col("PIDS", Constraint::Length(4)),
        }
    }

    fn sort_field(self) -> Option<usize> {
        match self {
            Col::Name { .. } => Some(SORT_NAME),
            Col::Image => Some(SORT_IMAGE),
            Col::State(_) => Some(SORT_STATE),
            Col::Status(_) => Some(SORT_CREATED),
            Col::Cpu { .. } | Col::CpuHistory => Some(SORT_CPU),
            Col::Memory { .. } => Some(SORT_MEM),
            _ => None,
        }
    }

    fn is_mark(self) -> bool {
        self == Col::Mark
    }
}

impl ContainersView {
    /// The columns for a width. The medium layout leaves the CPU history and the memory limit
    /// to the detail pane.
    pub(super) fn columns_for(width: u16) -> Vec<Col> {
        use Col::*;
        let name = Name { min: false };
        if width >= WIDE {
            vec![
                Mark,
                name,
                Image,
                State(10),
                Status(24),
                Ports,
                Cpu { bar: true },
                CpuHistory,
                Memory {
                    limit: true,
                    narrow: false,
                },
                NetIo,
                BlockIo,
                Pids,
            ]
        } else if width >= MEDIUM {
            vec![
                Mark,
                name,
                Image,
                State(10),
                Status(20),
                Cpu { bar: true },
                Memory {
                    limit: false,
                    narrow: false,
                },
                Ports,
            ]
        } else {
            // Very narrow: the name is never squeezed out; the fixed columns give way instead.
            vec![
                Mark,
                Name { min: width < 60 },
                State(9),
                Status(16),
                Cpu { bar: false },
                Memory {
                    limit: false,
                    narrow: true,
                },
            ]
        }
    }
}

impl DataToCell<Col> for ContainersView {
    fn to_cell(&self, row: usize, column: Col, cx: &DrawCx) -> Cell<'static> {
        match &self.rows[row] {
            RowKind::Group {
                project,
                total,
                running,
            } => group_cell(
                project,
                *total,
                *running,
                self.folded.contains(project),
                column,
                cx,
            ),
            RowKind::Container { index, grouped } => {
                container_cell(&cx.store.containers[*index], *grouped, column, cx)
            }
        }
    }
}

/// A compose project's row: its fold arrow, name and how many of its containers run, in the
/// name column (the others are empty).
fn group_cell(
    project: &str,
    total: usize,
    running: usize,
    folded: bool,
    column: Col,
    cx: &DrawCx,
) -> Cell<'static> {
    let theme = &cx.config.theme;
    let Col::Name { .. } = column else {
        return Cell::default();
    };
    let arrow = if folded { "▸" } else { "▾" };
    Cell::from(Line::from(vec![
        Span::styled(format!("{arrow} {project}"), theme.title()),
        Span::styled(format!("  {running}/{total} running"), theme.muted()),
    ]))
}

/// What a container's row shows in `column`.
fn container_cell(c: &Container, grouped: bool, column: Col, cx: &DrawCx) -> Cell<'static> {
    let store = cx.store;
    let theme = &cx.config.theme;
    let latest = store
        .stats
        .get(&c.id)
        .and_then(|h| h.latest())
        .filter(|_| c.is_running());
    match column {
        // The table draws the marks.
        Col::Mark => Cell::default(),
        Col::Name { .. } => {
            let indent = if grouped { "  " } else { "" };
            Cell::from(format!("{indent}{}", c.name()))
        }
        Col::Image => Cell::from(Span::styled(c.image.clone(), theme.muted())),
        Col::State(_) => Cell::from(Span::styled(c.state.clone(), theme.state(&c.state))),
        Col::Status(_) => {
            let health_style = match c.health() {
                Some("unhealthy") => theme.fg(theme.unhealthy),
                Some("healthy") => theme.fg(theme.healthy),
                _ => Style::default(),
            };
            Cell::from(Span::styled(status_text(c, store, cx.now), health_style))
        }
        Col::Ports => Cell::from(c.ports_text()),
        Col::Cpu { bar } => Cell::from(match latest.map(|p| p.cpu_percent) {
            Some(v) if bar => Line::from(vec![
                Span::styled(bars::bar(v / 100.0, 5), theme.fg(theme.cpu)),
                Span::raw(format!("{v:>6.1}%")),
            ]),
            Some(v) => Line::raw(format!("{v:>5.1}%")),
            None => Line::styled("-", theme.muted()),
        }),
        Col::CpuHistory => {
            let spark = store
                .stats
                .get(&c.id)
                .filter(|_| c.is_running())
                .map(|h| bars::sparkline(&h.series(12, |p| p.cpu_percent), 12, 100.0))
                .unwrap_or_default();
            Cell::from(Span::styled(spark, theme.fg(theme.cpu)))
        }
        Col::Memory { limit, .. } => Cell::from(match latest {
            Some(p) if limit && p.mem_limit > 0.0 => {
                format!("{} / {}", bytes(p.mem_used), bytes(p.mem_limit))
            }
            Some(p) => bytes(p.mem_used),
            None => "-".into(),
        }),
        Col::NetIo => Cell::from(latest.map_or("-".into(), |p| {
            format!("{} {}", rate(p.net_rx), rate(p.net_tx))
        })),
        Col::BlockIo => Cell::from(latest.map_or("-".into(), |p| {
            format!("{} {}", rate(p.blk_read), rate(p.blk_write))
        })),
        Col::Pids => Cell::from(latest.map_or("-".into(), |p| p.pids.to_string())),
    }
}
