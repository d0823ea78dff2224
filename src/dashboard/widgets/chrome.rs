//! The frame around the views: header (engine, counts, host usage), tab bar, engine-lost banner
//! and footer (status message or the keys that work here).

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{bars, bytes, ellipsize};
use crate::dashboard::store::{Connection, Store};
use crate::dashboard::theme::Theme;

/// Header line: engine name and version, host, object counts, host CPU and memory.
pub fn header(f: &mut Frame, area: Rect, store: &Store, theme: &Theme, extra: &str) {
    let bg = Style::default().bg(theme.header_bg);
    let mut left: Vec<Span> = vec![Span::styled(
        " berth ",
        Style::default()
            .fg(theme.accent)
            .add_modifier(Modifier::BOLD),
    )];
    match (&store.connection, &store.info) {
        (Connection::Connected, Some(info)) => {
            left.push(Span::styled(
                format!("{} {} ", info.name, info.version),
                theme.title(),
            ));
            left.push(Span::styled(format!("{} ", info.host), theme.muted()));
        }
        (Connection::Lost(_), _) => left.push(Span::styled("engine lost ", theme.error())),
        _ => left.push(Span::styled("connecting… ", theme.muted())),
    }
    let running = store.containers.iter().filter(|c| c.is_running()).count();
    let stopped = store.containers.len() - running;
    let counts = vec![
        Span::styled(format!("▲{running}"), theme.fg(theme.running)),
        Span::styled(format!(" ▼{stopped}"), theme.fg(theme.stopped)),
        Span::raw(format!(
            " ctr · {} img · {} vol · {} net ",
            store.images.len(),
            store.volumes.len(),
            store.networks.len()
        )),
    ];
    let mut usage = Vec::new();
    if let Some(h) = store.host {
        let mem = if h.mem_total > 0 {
            h.mem_used as f64 / h.mem_total as f64
        } else {
            0.0
        };
        usage.push(Span::raw("CPU "));
        usage.push(Span::styled(
            bars::bar(h.cpu_percent / 100.0, 5),
            theme.fg(theme.cpu),
        ));
        usage.push(Span::raw(format!("{:>3.0}% MEM ", h.cpu_percent)));
        usage.push(Span::styled(bars::bar(mem, 5), theme.fg(theme.memory)));
        usage.push(Span::raw(format!(
            "{}/{} ",
            bytes(h.mem_used as f64),
            bytes(h.mem_total as f64)
        )));
    }
    if !extra.is_empty() {
        usage.push(Span::styled(format!("{extra} "), theme.fg(theme.warning)));
    }
    // Drop the least important parts first when narrow: host path, then usage, then counts.
    let width = |spans: &[Span]| spans.iter().map(|s| s.width()).sum::<usize>();
    let avail = area.width as usize;
    let mut spans = left.clone();
    spans.extend(counts.clone());
    spans.extend(usage.clone());
    if width(&spans) > avail {
        let mut l = left.clone();
        if l.len() == 3 {
            l.pop();
        }
        spans = l.clone();
        spans.extend(counts.clone());
        spans.extend(usage);
        if width(&spans) > avail {
            spans = l;
            spans.extend(counts);
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(bg), area);
}

/// The tab bar; returns each tab's column range for mouse clicks.
pub fn tabs(
    f: &mut Frame,
    area: Rect,
    titles: &[(String, bool)],
    theme: &Theme,
) -> Vec<(u16, u16)> {
    let mut spans = Vec::new();
    let mut ranges = Vec::new();
    let mut x = area.x;
    let texts: Vec<String> = titles
        .iter()
        .enumerate()
        .map(|(i, (title, _))| format!(" {} {} ", i + 1, title))
        .collect();
    let widths: Vec<u16> = texts
        .iter()
        .map(|t| unicode_width::UnicodeWidthStr::width(t.as_str()) as u16)
        .collect();
    // A blank between tabs while they fit; without it when they would not (six tabs at 80
    // columns), since each tab's own padding still keeps the names apart.
    let full: u16 = widths.iter().map(|w| w + 1).sum();
    let gap = u16::from(full <= area.width);
    for ((text, w), (_, active)) in texts.into_iter().zip(widths).zip(titles) {
        let style = if *active {
            theme.selected().fg(theme.accent)
        } else {
            theme.muted()
        };
        ranges.push((x, x + w));
        x += w + gap;
        spans.push(Span::styled(text, style));
        if gap > 0 {
            spans.push(Span::raw(" "));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
    ranges
}

pub fn banner(f: &mut Frame, area: Rect, reason: &str, theme: &Theme) {
    let text =
        format!(" Engine connection lost: {reason} — reconnecting every second; keys still work ");
    let style = if theme.mono {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
            .fg(ratatui::style::Color::White)
            .bg(theme.error)
            .add_modifier(Modifier::BOLD)
    };
    f.render_widget(
        Paragraph::new(ellipsize(&text, area.width as usize)).style(style),
        area,
    );
}

/// Footer: `hints` are (key, what) pairs; as many as fit, with the help key always last.
pub fn footer(
    f: &mut Frame,
    area: Rect,
    hints: &[(String, String)],
    help: &(String, String),
    theme: &Theme,
) {
    let key_style = Style::default()
        .fg(theme.accent)
        .add_modifier(Modifier::BOLD);
    let help_w = help.0.len() + help.1.len() + 2;
    let mut spans = Vec::new();
    let mut used = 0;
    for (k, what) in hints {
        let w = k.len() + what.len() + 3;
        if used + w + help_w > area.width as usize {
            break;
        }
        used += w;
        spans.push(Span::styled(k.clone(), key_style));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    spans.push(Span::styled(help.0.clone(), key_style));
    spans.push(Span::raw(format!(" {}", help.1)));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A status message in place of the footer.
pub fn status(f: &mut Frame, area: Rect, text: &str, error: bool, theme: &Theme) {
    let style = if error {
        theme.error()
    } else {
        theme.fg(theme.ok)
    };
    f.render_widget(
        Paragraph::new(ellipsize(text, area.width as usize)).style(style),
        area,
    );
}
