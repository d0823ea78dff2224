//! The table's columns for each terminal width, and the cells of a group row and of a
//! container row (live CPU bar and sparkline, memory, network and block I/O rates).

use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::status::status_text;
use super::{ContainersView, SORT_CPU, SORT_CREATED, SORT_IMAGE, SORT_MEM, SORT_NAME, SORT_STATE};
use crate::dashboard::store::model::Container;
use crate::dashboard::theme::Theme;
use crate::dashboard::views::DrawCx;
use crate::dashboard::widgets::table::{col, Column};
use crate::dashboard::widgets::{bars, bytes, rate};

/// Widths from which the table shows more columns.
pub(super) const MEDIUM: u16 = 110;
pub(super) const WIDE: u16 = 180;

impl ContainersView {
    /// The columns for a width. NAME gets the largest share of what the fixed columns leave;
    /// the medium layout leaves the CPU history and the memory limit to the detail pane.
    pub(super) fn columns(width: u16) -> (Vec<Column>, Vec<Option<usize>>) {
        let name = col("NAME", Constraint::Fill(3));
        if width >= WIDE {
            (
                vec![
                    col("", Constraint::Length(1)),
                    name,
                    col("IMAGE", Constraint::Fill(2)),
                    col("STATE", Constraint::Length(10)),
                    col("STATUS", Constraint::Length(24)),
                    col("PORTS", Constraint::Fill(2)),
                    col("CPU", Constraint::Length(12)),
                    col("CPU HISTORY", Constraint::Length(12)),
                    col("MEMORY", Constraint::Length(15)),
                    col("NET RX/TX", Constraint::Length(17)),
                    col("BLOCK R/W", Constraint::Length(17)),
                    col("PIDS", Constraint::Length(4)),
                ],
                vec![
                    None,
                    Some(SORT_NAME),
                    Some(SORT_IMAGE),
                    Some(SORT_STATE),
                    Some(SORT_CREATED),
                    None,
                    Some(SORT_CPU),
                    Some(SORT_CPU),
                    Some(SORT_MEM),
                    None,
                    None,
                    None,
                ],
            )
        } else if width >= MEDIUM {
            (
                vec![
                    col("", Constraint::Length(1)),
                    name,
                    col("IMAGE", Constraint::Fill(2)),
                    col("STATE", Constraint::Length(10)),
                    col("STATUS", Constraint::Length(20)),
                    col("CPU", Constraint::Length(12)),
                    col("MEMORY", Constraint::Length(9)),
                    col("PORTS", Constraint::Fill(2)),
                ],
                vec![
                    None,
                    Some(SORT_NAME),
                    Some(SORT_IMAGE),
                    Some(SORT_STATE),
                    Some(SORT_CREATED),
                    Some(SORT_CPU),
                    Some(SORT_MEM),
                    None,
                ],
            )
        } else {
            // Very narrow: the name is never squeezed out; the fixed columns give way instead.
            let name = if width < 60 {
                col("NAME", Constraint::Min(12))
            } else {
                name
            };
            (
                vec![
                    col("", Constraint::Length(1)),
                    name,
                    col("STATE", Constraint::Length(9)),
                    col("STATUS", Constraint::Length(16)),
                    col("CPU", Constraint::Length(6)),
                    col("MEM", Constraint::Length(8)),
                ],
                vec![
                    None,
                    Some(SORT_NAME),
                    Some(SORT_STATE),
                    Some(SORT_CREATED),
                    Some(SORT_CPU),
                    Some(SORT_MEM),
                ],
            )
        }
    }
}

/// A compose project's row: its fold arrow, name and how many of its containers run.
pub(super) fn group_row(
    project: &str,
    total: usize,
    running: usize,
    folded: bool,
    marked: bool,
    theme: &Theme,
) -> Row<'static> {
    let arrow = if folded { "▸" } else { "▾" };
    let mark = if marked { "●" } else { " " };
    Row::new(vec![
        Cell::from(Span::styled(mark, theme.fg(theme.marked))),
        Cell::from(Line::from(vec![
            Span::styled(format!("{arrow} {project}"), theme.title()),
            Span::styled(format!("  {running}/{total} running"), theme.muted()),
        ])),
    ])
}

/// A container's row, its cells matching `columns` for the same width.
pub(super) fn container_row(
    c: &Container,
    grouped: bool,
    marked: bool,
    medium: bool,
    wide: bool,
    cx: &DrawCx,
) -> Row<'static> {
    let store = cx.store;
    let theme = &cx.config.theme;
    let now = cx.now;
    let mark = if marked { "●" } else { " " };
    let indent = if grouped { "  " } else { "" };
    let latest = store
        .stats
        .get(&c.id)
        .and_then(|h| h.latest())
        .filter(|_| c.is_running());
    let cpu = latest.map(|p| p.cpu_percent);
    let cpu_cell = match cpu {
        Some(v) if medium => Line::from(vec![
            Span::styled(bars::bar(v / 100.0, 5), theme.fg(theme.cpu)),
            Span::raw(format!("{v:>6.1}%")),
        ]),
        Some(v) => Line::raw(format!("{v:>5.1}%")),
        None => Line::styled("-", theme.muted()),
    };
    let spark = store
        .stats
        .get(&c.id)
        .filter(|_| wide && c.is_running())
        .map(|h| bars::sparkline(&h.series(12, |p| p.cpu_percent), 12, 100.0))
        .unwrap_or_default();
    let mem = match latest {
        Some(p) if wide && p.mem_limit > 0.0 => {
            format!("{} / {}", bytes(p.mem_used), bytes(p.mem_limit))
        }
        Some(p) => bytes(p.mem_used),
        None => "-".into(),
    };
    let health_style = match c.health() {
        Some("unhealthy") => theme.fg(theme.unhealthy),
        Some("healthy") => theme.fg(theme.healthy),
        _ => Style::default(),
    };
    let mut cells = vec![
        Cell::from(Span::styled(mark, theme.fg(theme.marked))),
        Cell::from(format!("{indent}{}", c.name())),
    ];
    if medium {
        cells.push(Cell::from(Span::styled(c.image.clone(), theme.muted())));
    }
    cells.push(Cell::from(Span::styled(
        c.state.clone(),
        theme.state(&c.state),
    )));
    cells.push(Cell::from(Span::styled(
        status_text(c, store, now),
        health_style,
    )));
    if wide {
        cells.push(Cell::from(c.ports_text()));
    }
    cells.push(Cell::from(cpu_cell));
    if wide {
        cells.push(Cell::from(Span::styled(spark, theme.fg(theme.cpu))));
    }
    cells.push(Cell::from(mem));
    if wide {
        let (net, blk, pids) = match latest {
            Some(p) => (
                format!("{} {}", rate(p.net_rx), rate(p.net_tx)),
                format!("{} {}", rate(p.blk_read), rate(p.blk_write)),
                p.pids.to_string(),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        cells.push(Cell::from(net));
        cells.push(Cell::from(blk));
        cells.push(Cell::from(pids));
    } else if medium {
        cells.push(Cell::from(c.ports_text()));
    }
    Row::new(cells)
}
