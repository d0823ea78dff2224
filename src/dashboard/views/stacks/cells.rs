//! The Stacks table's columns and cells. A project row shows its name, docker compose ls's
//! status, running/total services, a health summary, published ports and config files; a
//! service row under it the same columns for the service: state, running/scale replicas,
//! health, ports and its image (in the files column, which a service has none of).

use ratatui::layout::Constraint;
use ratatui::text::Span;
use ratatui::widgets::Cell;

use super::{Row, StacksView};
use crate::dashboard::store::stacks::derive::{ServiceRow, Stack};
use crate::dashboard::store::Store;
use crate::dashboard::theme::Theme;
use crate::dashboard::views::table::{DataToCell, TableColumn};
use crate::dashboard::views::DrawCx;
use crate::dashboard::widgets::table::{col, Column};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Name,
    Status,
    Services,
    Health,
    Ports,
    Files,
}

/// Narrow screens keep name, status and services; health and ports come next, then the files.
pub fn columns_for(width: u16) -> Vec<Col> {
    match width {
        0..60 => vec![Col::Name, Col::Status, Col::Services],
        60..100 => vec![Col::Name, Col::Status, Col::Services, Col::Ports],
        _ => vec![
            Col::Name,
            Col::Status,
            Col::Services,
            Col::Health,
            Col::Ports,
            Col::Files,
        ],
    }
}

impl TableColumn for Col {
    fn column(self) -> Column {
        match self {
            Col::Name => col("NAME", Constraint::Fill(2)),
            Col::Status => col("STATUS", Constraint::Length(24)),
            Col::Services => col("SERVICES", Constraint::Length(8)),
            Col::Health => col("HEALTH", Constraint::Length(12)),
            Col::Ports => col("PORTS", Constraint::Fill(2)),
            Col::Files => col("FILES / IMAGE", Constraint::Fill(3)),
        }
    }

    fn sort_field(self) -> Option<usize> {
        (self == Col::Name).then_some(0)
    }
}

fn dash(theme: &Theme) -> Cell<'static> {
    Cell::from(Span::styled("-", theme.muted()))
}

fn or_dash(text: String, theme: &Theme) -> Cell<'static> {
    if text.is_empty() {
        dash(theme)
    } else {
        Cell::from(text)
    }
}

fn stack_cell(s: &Stack, column: Col, store: &Store, theme: &Theme) -> Cell<'static> {
    let file = s.file.map(|i| &store.stack_files[i]);
    match column {
        Col::Name => {
            let loading = file.is_some_and(|f| f.loading);
            Cell::from(format!("{}{}", s.name, if loading { " …" } else { "" }))
        }
        Col::Status => match file.and_then(|f| f.error()) {
            // A file that cannot be read says why where the status would be.
            Some(e) if s.containers.is_empty() => {
                Cell::from(Span::styled(e.to_string(), theme.error()))
            }
            _ => {
                let status = s.status(store);
                let style = if s.running(store) > 0 {
                    theme.state("running")
                } else if s.containers.is_empty() {
                    theme.muted()
                } else {
                    theme.state("exited")
                };
                Cell::from(Span::styled(status, style))
            }
        },
        Col::Services => Cell::from(s.services_text()),
        Col::Health => health_cell(s.health_text(store), theme),
        Col::Ports => or_dash(s.ports_text(store), theme),
        Col::Files => or_dash(s.config_files.clone(), theme),
    }
}

fn health_cell(text: String, theme: &Theme) -> Cell<'static> {
    let style = if text.contains("unhealthy") {
        theme.fg(theme.unhealthy)
    } else if text.contains("healthy") {
        theme.fg(theme.healthy)
    } else {
        theme.muted()
    };
    if text.is_empty() {
        dash(theme)
    } else {
        Cell::from(Span::styled(text, style))
    }
}

fn service_cell(v: &ServiceRow, last: bool, column: Col, theme: &Theme) -> Cell<'static> {
    match column {
        Col::Name => Cell::from(format!(" {} {}", if last { "└" } else { "├" }, v.name)),
        Col::Status => Cell::from(Span::styled(v.state.clone(), theme.state(&v.state))),
        Col::Services => {
            let want = v.scale.unwrap_or(v.containers.len() as i64);
            Cell::from(format!("{}/{want}", v.running))
        }
        Col::Health => health_cell(v.health.clone(), theme),
        Col::Ports => or_dash(v.ports.clone(), theme),
        Col::Files => or_dash(v.image.clone(), theme),
    }
}

impl DataToCell<Col> for StacksView {
    fn to_cell(&self, row: usize, column: Col, cx: &DrawCx) -> Cell<'static> {
        let theme = &cx.config.theme;
        match self.rows[row] {
            Row::Stack(si) => stack_cell(&self.stacks[si], column, cx.store, theme),
            Row::Service(si, vi) => {
                let s = &self.stacks[si];
                service_cell(&s.services[vi], vi + 1 == s.services.len(), column, theme)
            }
        }
    }
}
