//! The Stats tab: CPU, memory, network and block I/O over the history the stats stream keeps
//! (`store.stats`, five minutes). Tall panes get four line charts with axes; short ones get one
//! sparkline row per series, so 80x24 still shows everything.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Borders, Chart, Dataset, GraphType, Paragraph};
use ratatui::Frame;

use crate::dashboard::store::model::Container;
use crate::dashboard::store::stats::{StatPoint, StatsHistory};
use crate::dashboard::store::Store;
use crate::dashboard::theme::Theme;
use crate::dashboard::widgets::{bars, bytes, rate};

/// Below this many rows the charts would have no room for a plot; sparklines instead.
const CHART_ROWS: u16 = 14;

pub fn draw(f: &mut Frame, area: Rect, c: &Container, store: &Store, theme: &Theme) {
    if !c.is_running() {
        let text = if c.is_paused() {
            format!("{} is paused: no new stats until it is unpaused", c.name())
        } else {
            format!(
                "{} is {}: stats are only collected while it runs",
                c.name(),
                c.state
            )
        };
        f.render_widget(Paragraph::new(Line::styled(text, theme.muted())), area);
        return;
    }
    let Some(h) = store.stats.get(&c.id).filter(|h| h.latest().is_some()) else {
        f.render_widget(
            Paragraph::new(Line::styled("waiting for the first stats…", theme.muted())),
            area,
        );
        return;
    };
    if area.height >= CHART_ROWS && area.width >= 60 {
        charts(f, area, h, theme);
    } else {
        sparklines(f, area, h, theme);
    }
}

/// One series: its name, colour, how a value is written, and the values.
struct Series<'a> {
    name: &'a str,
    style: Style,
    fmt: fn(f64) -> String,
    get: fn(&StatPoint) -> f64,
}

fn percent(v: f64) -> String {
    format!("{v:.1}%")
}

fn series(theme: &Theme) -> [Series<'static>; 6] {
    [
        Series {
            name: "CPU",
            style: theme.fg(theme.cpu),
            fmt: percent,
            get: |p| p.cpu_percent,
        },
        Series {
            name: "MEMORY",
            style: theme.fg(theme.memory),
            fmt: bytes,
            get: |p| p.mem_used,
        },
        Series {
            name: "NET RX",
            style: theme.fg(theme.network),
            fmt: rate,
            get: |p| p.net_rx,
        },
        Series {
            name: "NET TX",
            style: theme.fg(theme.warning),
            fmt: rate,
            get: |p| p.net_tx,
        },
        Series {
            name: "BLOCK R",
            style: theme.fg(theme.io),
            fmt: rate,
            get: |p| p.blk_read,
        },
        Series {
            name: "BLOCK W",
            style: theme.fg(theme.warning),
            fmt: rate,
            get: |p| p.blk_write,
        },
    ]
}

fn max_of(values: &[f64]) -> f64 {
    values.iter().copied().fold(0.0, f64::max)
}

/// One row per series: name, current value, a sparkline of the last values, the peak.
fn sparklines(f: &mut Frame, area: Rect, h: &StatsHistory, theme: &Theme) {
    let latest = h.latest().copied().unwrap_or_default();
    let mut lines = Vec::new();
    for s in series(theme) {
        let now = (s.fmt)((s.get)(&latest));
        let label = format!("{:<8}{:>11} ", s.name, now);
        let width = (area.width as usize)
            .saturating_sub(label.len() + 14)
            .min(120);
        let values = h.series(width, s.get);
        let peak = max_of(&values);
        // CPU is drawn against 100% (one core) or the peak when higher; the rest against
        // their own peak.
        let top = if s.name == "CPU" {
            peak.max(100.0)
        } else {
            0.0
        };
        let mut spans = vec![Span::raw(label)];
        if width > 0 {
            spans.push(Span::styled(bars::sparkline(&values, width, top), s.style));
            spans.push(Span::styled(
                format!(" max {}", (s.fmt)(peak)),
                theme.muted(),
            ));
        }
        lines.push(Line::from(spans));
    }
    let mem = if latest.mem_limit > 0.0 {
        format!("memory limit {}", bytes(latest.mem_limit))
    } else {
        String::new()
    };
    lines.push(Line::styled(
        format!("PIDS    {:>11}   {mem}", latest.pids),
        theme.muted(),
    ));
    f.render_widget(Paragraph::new(lines), area);
}

/// Four charts in a 2x2 grid: CPU %, memory, network rx/tx, block read/write.
fn charts(f: &mut Frame, area: Rect, h: &StatsHistory, theme: &Theme) {
    let [top, bottom] = Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
    let [a, b] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)])
        .spacing(1)
        .areas(top);
    let [c, d] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)])
        .spacing(1)
        .areas(bottom);
    let s = series(theme);
    let latest = h.latest().copied().unwrap_or_default();
    let mem_title = if latest.mem_limit > 0.0 {
        format!(
            "Memory {} / {}",
            bytes(latest.mem_used),
            bytes(latest.mem_limit)
        )
    } else {
        format!("Memory {}", bytes(latest.mem_used))
    };
    chart(
        f,
        a,
        h,
        format!("CPU {}", percent(latest.cpu_percent)),
        &s[0..1],
        100.0,
        theme,
    );
    chart(f, b, h, mem_title, &s[1..2], 0.0, theme);
    chart(
        f,
        c,
        h,
        format!(
            "Network rx {} tx {}",
            rate(latest.net_rx),
            rate(latest.net_tx)
        ),
        &s[2..4],
        0.0,
        theme,
    );
    chart(
        f,
        d,
        h,
        format!(
            "Block I/O read {} write {}",
            rate(latest.blk_read),
            rate(latest.blk_write)
        ),
        &s[4..6],
        0.0,
        theme,
    );
}

/// A line chart of `series` over the history: x is seconds ago, y from 0 to a bit above the
/// peak (or to `floor` when the peak is below it), both axes labelled.
fn chart(
    f: &mut Frame,
    area: Rect,
    h: &StatsHistory,
    title: String,
    series: &[Series],
    floor: f64,
    theme: &Theme,
) {
    let n = h.points().len();
    let data: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            h.points()
                .iter()
                .enumerate()
                .map(|(i, p)| (i as f64 - (n as f64 - 1.0), (s.get)(p)))
                .collect()
        })
        .collect();
    let peak = data.iter().flatten().map(|&(_, y)| y).fold(0.0, f64::max);
    // Headroom above the peak, unless the floor (100% CPU) already gives it.
    let top = if peak <= floor {
        floor
    } else if peak > 0.0 {
        peak * 1.1
    } else {
        1.0
    };
    // The x axis spans at least a minute so a fresh container's line does not fill the width.
    let span = (n.max(60) - 1) as f64;
    let fmt = series.first().map_or(bytes as fn(f64) -> String, |s| s.fmt);
    let datasets: Vec<Dataset> = series
        .iter()
        .zip(&data)
        .map(|(s, d)| {
            Dataset::default()
                .name(s.name.to_lowercase())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(s.style)
                .data(d)
        })
        .collect();
    let ago = if span >= 120.0 {
        format!("-{}m", (span / 60.0).round())
    } else {
        format!("-{span}s")
    };
    let chart = Chart::new(datasets)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border())
                .title(Span::styled(format!(" {title} "), theme.title())),
        )
        .x_axis(
            Axis::default()
                .bounds([-span, 0.0])
                .labels([
                    Span::styled(ago, theme.muted()),
                    Span::styled("now", theme.muted()),
                ])
                .style(theme.border()),
        )
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels([
                    Span::styled("0", theme.muted()),
                    Span::styled(fmt(top), theme.muted()),
                ])
                .style(theme.border()),
        )
        // A legend only where two series share a chart.
        .hidden_legend_constraints((Constraint::Ratio(1, 3), Constraint::Ratio(1, 2)));
    let chart = if series.len() > 1 {
        chart
    } else {
        chart.legend_position(None)
    };
    f.render_widget(chart, area);
}
