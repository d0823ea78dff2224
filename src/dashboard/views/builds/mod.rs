//! The builds view: every build the engine kept (`GET /berth/v1/builds`, newest first) as a
//! table — tags, status, steps done and cached, duration, when, the image it made — and, on
//! Enter, one build's steps with the selected step's log (`detail`). `r` builds the same
//! directory again with the same options, `b` opens the build form, `d` forgets a record (the
//! image stays). The feed re-reads the list when the view opens, when images are tagged, and
//! every two seconds while a build runs.

mod cells;
mod detail;

pub use cells::{duration, short_image, steps_summary};
pub use detail::BuildDetail;

use berth_engine::model::build::{BuildRecord, BuildStatus};
use crossterm::event::MouseEvent;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::Cell;
use ratatui::Frame;

use super::list::ListState;
use super::table::{self, DataToCell, ListView, TableColumn};
use super::{Cmd, Cx, DrawCx, View, ViewId};
use crate::client::api::builds;
use crate::dashboard::dialogs::build_form;
use crate::dashboard::dialogs::confirm::Confirm;
use crate::dashboard::dialogs::text::TextViewer;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{BuildSpec, Effect, FeedRequest, Purpose};
use crate::dashboard::store::{Gone, Store};
use crate::dashboard::widgets::table::{col, Column};
use crate::format::units::ago;

const SORT_FIELDS: [&str; 4] = ["started", "tags", "status", "duration"];

pub struct BuildsView {
    pub list: ListState,
    /// Indexes into the store's builds, in display order.
    pub rows: Vec<usize>,
    /// One build's steps and logs, over the table while open (Esc closes it).
    pub detail: Option<BuildDetail>,
    /// Seconds since the list was last asked for while the view is on screen.
    idle: u32,
}

/// While the table is on screen it is read again this often (seconds): a build started
/// elsewhere (`docker build`, another terminal) sends no event until it tags its image.
const LIST_EVERY: u32 = 5;

impl Default for BuildsView {
    fn default() -> Self {
        BuildsView {
            list: ListState::with_sort(0, false, SORT_FIELDS.len()),
            rows: Vec::new(),
            detail: None,
            idle: 0,
        }
    }
}

/// The table's columns (which ones show depends on the width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Mark,
    Tags,
    Status,
    Steps,
    Duration,
    Started,
    Image,
    Context,
}

impl TableColumn for Col {
    fn column(self) -> Column {
        match self {
            Col::Mark => col("", Constraint::Length(1)),
            Col::Tags => col("TAG(S)", Constraint::Fill(3)),
            Col::Status => col("STATUS", Constraint::Length(10)),
            Col::Steps => col("STEPS", Constraint::Length(15)),
            Col::Duration => col("DURATION", Constraint::Length(9)),
            Col::Started => col("STARTED", Constraint::Length(18)),
            Col::Image => col("IMAGE", Constraint::Length(12)),
            Col::Context => col("CONTEXT", Constraint::Fill(2)),
        }
    }

    fn sort_field(self) -> Option<usize> {
        match self {
            Col::Started => Some(0),
            Col::Tags => Some(1),
            Col::Status => Some(2),
            Col::Duration => Some(3),
            _ => None,
        }
    }

    fn is_mark(self) -> bool {
        self == Col::Mark
    }
}

/// Narrow screens drop the image id, then when it started; wide ones add where it was built
/// from.
fn columns_for(width: u16) -> Vec<Col> {
    match width {
        0..60 => vec![Col::Mark, Col::Tags, Col::Status, Col::Duration],
        60..90 => vec![Col::Mark, Col::Tags, Col::Status, Col::Steps, Col::Duration],
        90..110 => vec![
            Col::Mark,
            Col::Tags,
            Col::Status,
            Col::Steps,
            Col::Duration,
            Col::Started,
        ],
        110..150 => vec![
            Col::Mark,
            Col::Tags,
            Col::Status,
            Col::Steps,
            Col::Duration,
            Col::Started,
            Col::Image,
        ],
        _ => vec![
            Col::Mark,
            Col::Tags,
            Col::Status,
            Col::Steps,
            Col::Duration,
            Col::Started,
            Col::Image,
            Col::Context,
        ],
    }
}

/// What a build's row calls it: its tags, or its short id when it had none.
pub fn build_name(b: &BuildRecord) -> String {
    if b.tags.is_empty() {
        format!("build {}", short_id(&b.id))
    } else {
        b.tags.join(", ")
    }
}

fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn status_rank(s: BuildStatus) -> u8 {
    match s {
        BuildStatus::Running => 0,
        BuildStatus::Failed => 1,
        BuildStatus::Cancelled => 2,
        BuildStatus::Succeeded => 3,
    }
}

/// The spec that builds `r` again: the same directory, Dockerfile, tags, target and build
/// args. Only a build whose client said where its context was (berth's CLI and dashboard do,
/// `docker build` does not) can be sent again from here.
pub fn rebuild_spec(r: &BuildRecord) -> Result<BuildSpec, String> {
    let Some(dir) = r.context_dir.as_deref().filter(|d| !d.is_empty()) else {
        return Err(format!(
            "cannot rebuild {}: its client did not say which directory it built (docker build \
             does not); build it again with the form",
            build_name(r)
        ));
    };
    if r.dockerfile.starts_with(".dockerfile.") {
        // The CLI sends a Dockerfile from outside the context under a random name.
        return Err(format!(
            "cannot rebuild {}: its Dockerfile was outside {dir}; build it again with the form",
            build_name(r)
        ));
    }
    Ok(BuildSpec {
        context_dir: dir.into(),
        dockerfile: Some(r.dockerfile.clone()).filter(|d| !d.is_empty() && d != "Dockerfile"),
        tags: r.tags.clone(),
        target: r.target.clone().filter(|t| !t.is_empty()),
        build_args: r
            .build_args
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    })
}

/// One line per running build: its name and the step it is at.
fn running_steps(store: &Store) -> Vec<String> {
    store
        .builds
        .iter()
        .filter(|b| b.status == BuildStatus::Running)
        .map(|b| {
            let total = b.steps.len();
            match b
                .steps
                .iter()
                .find(|s| s.status == berth_engine::model::build::StepStatus::Running)
            {
                Some(s) => format!(
                    "⟳ {}: step {}/{total} : {}",
                    build_name(b),
                    s.number,
                    s.instruction
                ),
                None => format!("⟳ {}: {}", build_name(b), steps_summary(&b.steps)),
            }
        })
        .collect()
}

/// `r` on a build: start it again, or say why it cannot be.
fn rebuild(r: &BuildRecord, cx: &mut Cx) {
    match rebuild_spec(r) {
        Ok(spec) => cx.push(Cmd::StartBuild { spec, show: true }),
        Err(e) => cx.error(e),
    }
}

/// `d`: forget these builds, after asking.
fn confirm_remove(records: &[&BuildRecord], cx: &mut Cx) {
    let cmds = records
        .iter()
        .map(|b| {
            Cmd::Effect(Effect::api(
                builds::remove(&b.id),
                Purpose::BuildRemove {
                    id: b.id.clone(),
                    label: format!("remove build {}", build_name(b)),
                },
            ))
        })
        .collect();
    let names: Vec<String> = records.iter().map(|b| build_name(b)).collect();
    cx.dialog(Confirm::new(
        "Remove",
        format!(
            "Remove the record of build {}? (its image stays)",
            names.join("; ")
        ),
        cmds,
    ));
}

impl BuildsView {
    pub fn rebuild(&mut self, store: &Store) {
        self.rows = self.list.fill(
            0..store.builds.len(),
            |&i| {
                let b = &store.builds[i];
                format!(
                    "{} {} {:?} {}",
                    b.tags.join(" "),
                    short_id(&b.id),
                    b.status,
                    b.context_dir.as_deref().unwrap_or("")
                )
                .to_lowercase()
            },
            |&a, &b, field| {
                let (ba, bb) = (&store.builds[a], &store.builds[b]);
                match field {
                    1 => build_name(ba).cmp(&build_name(bb)),
                    2 => status_rank(ba.status).cmp(&status_rank(bb.status)),
                    3 => bb.duration_ms.cmp(&ba.duration_ms),
                    _ => std::cmp::Ordering::Equal,
                }
                // The store's order is newest first: it breaks every tie.
                .then(a.cmp(&b))
            },
            |&i| store.builds[i].id.clone(),
        );
    }

    fn selected<'s>(&self, store: &'s Store) -> Option<&'s BuildRecord> {
        store.builds.get(*self.rows.get(self.list.cursor.selected)?)
    }

    /// Opens the detail of the selected build and asks for its logs.
    fn open(&mut self, cx: &mut Cx) -> bool {
        let Some(b) = self.selected(cx.store) else {
            return false;
        };
        let mut d = BuildDetail::new(b.clone());
        d.fetch(cx);
        self.detail = Some(d);
        true
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        let store = cx.store;
        match action {
            Action::Open => return self.open(cx),
            Action::Rebuild => match self.selected(store) {
                Some(b) => rebuild(b, cx),
                None => cx.error("no build selected"),
            },
            Action::RemoveBuild => {
                let targets = self.list.targets();
                let records: Vec<&BuildRecord> =
                    targets.iter().filter_map(|id| store.build(id)).collect();
                if records.is_empty() {
                    cx.error("no build selected");
                } else {
                    confirm_remove(&records, cx);
                }
            }
            Action::NewBuild => cx.dialog(build_form::open(store)),
            Action::Inspect => {
                let Some(b) = self.selected(store) else {
                    return false;
                };
                let title = format!("inspect {}", build_name(b));
                let purpose = Purpose::Inspect {
                    title: title.clone(),
                };
                cx.effect(Effect::api(builds::get(&b.id), purpose.clone()));
                cx.dialog(TextViewer::loading(title, purpose));
            }
            Action::Back if !self.list.marks.is_empty() => self.list.marks.clear(),
            _ => return false,
        }
        true
    }
}

impl DataToCell<Col> for BuildsView {
    fn to_cell(&self, row: usize, column: Col, cx: &DrawCx) -> Cell<'static> {
        let theme = &cx.config.theme;
        let b = &cx.store.builds[self.rows[row]];
        match column {
            Col::Mark => Cell::default(),
            Col::Tags if b.tags.is_empty() => Cell::from(Span::styled(
                format!("<none> {}", short_id(&b.id)),
                theme.muted(),
            )),
            Col::Tags => Cell::from(b.tags.join(", ")),
            Col::Status => Cell::from(cells::status_span(b.status, theme)),
            Col::Steps => Cell::from(steps_summary(&b.steps)),
            Col::Duration => Cell::from(cells::duration_span(b, cx.now, theme)),
            Col::Started => match chrono::DateTime::parse_from_rfc3339(&b.started) {
                Ok(t) => Cell::from(ago(t.timestamp(), cx.now)),
                Err(_) => Cell::from(Span::styled("-", theme.muted())),
            },
            Col::Image => match b.image_id.as_deref() {
                Some(id) => Cell::from(Span::styled(short_image(id), theme.muted())),
                None => Cell::from(Span::styled("-", theme.muted())),
            },
            Col::Context => match b.context_dir.as_deref() {
                Some(dir) => Cell::from(dir.to_string()),
                None => Cell::from(Span::styled("-", theme.muted())),
            },
        }
    }
}

impl ListView for BuildsView {
    type Col = Col;

    table::list_view_basics!();

    fn columns(&self, width: u16) -> Vec<Col> {
        columns_for(width)
    }

    fn largest_first(&self) -> bool {
        // Started (newest first) and duration (longest first).
        matches!(self.list.sort.0, 0 | 3)
    }

    fn empty(&self, cx: &DrawCx) -> String {
        let store = cx.store;
        if let (Some(e), true) = (&store.builds_error, store.builds.is_empty()) {
            e.clone()
        } else if !store.loaded.builds {
            "loading…".to_string()
        } else if store.builds.is_empty() {
            format!(
                "no builds yet: build an image ({}), or run berth build or docker build",
                cx.config.keymap.label(Action::NewBuild)
            )
        } else {
            format!("no build matches \"{}\"", self.list.filter)
        }
    }

    fn sort_label(&self) -> Option<String> {
        Some(SORT_FIELDS[self.list.sort.0].to_string())
    }
}

impl View for BuildsView {
    fn id(&self) -> ViewId {
        ViewId::Builds
    }

    fn tab_title(&self, store: &Store) -> String {
        format!("Builds {}", store.builds.len())
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        if let Some(d) = &mut self.detail {
            d.draw(f, area, cx);
            return;
        }
        // Under the table, the step each running build is at (the feed reads the list every
        // two seconds while one runs).
        let running = running_steps(cx.store);
        let strip = if area.height > 6 {
            running.len().min(3) as u16
        } else {
            0
        };
        let table_area = Rect {
            height: area.height - strip,
            ..area
        };
        table::draw(self, f, table_area, cx);
        let theme = &cx.config.theme;
        for (i, line) in running.iter().take(strip as usize).enumerate() {
            f.render_widget(
                ratatui::widgets::Paragraph::new(Span::styled(
                    crate::dashboard::widgets::ellipsize(line, area.width as usize),
                    theme.fg(theme.warning),
                )),
                Rect {
                    y: table_area.bottom() + i as u16,
                    height: 1,
                    ..area
                },
            );
        }
    }

    fn commands(&self, _store: &Store) -> Vec<Action> {
        if self.detail.is_some() {
            return vec![
                Action::BuildLogUp,
                Action::BuildLogDown,
                Action::Rebuild,
                Action::RemoveBuild,
                Action::Back,
            ];
        }
        vec![
            Action::Open,
            Action::Rebuild,
            Action::NewBuild,
            Action::RemoveBuild,
            Action::Inspect,
            Action::Mark,
            Action::Filter,
        ]
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        if let Some(d) = &mut self.detail {
            match action {
                Action::Back => self.detail = None,
                Action::Rebuild => rebuild(d.record(), cx),
                Action::RemoveBuild => confirm_remove(&[d.record()], cx),
                Action::NewBuild => cx.dialog(build_form::open(cx.store)),
                _ => return d.on_action(action, cx),
            }
            return true;
        }
        table::on_action(self, action, cx)
    }

    fn on_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        match &mut self.detail {
            Some(d) => d.on_mouse(ev),
            None => table::on_mouse(self, ev, cx),
        }
    }

    fn set_filter(&mut self, text: &str, store: &Store) {
        table::set_filter(self, text, store);
    }

    fn filter(&self) -> &str {
        &self.list.filter
    }

    fn filter_label(&self) -> String {
        "filter builds: ".into()
    }

    fn on_tick(&mut self, cx: &mut Cx) {
        if let Some(d) = &mut self.detail {
            d.on_tick(cx);
            return;
        }
        // An engine that keeps no records is not asked again and again.
        if cx.store.builds_error.is_some() && cx.store.builds.is_empty() {
            return;
        }
        self.idle += 1;
        if self.idle >= LIST_EVERY {
            self.idle = 0;
            cx.effect(Effect::feed(FeedRequest::RefreshBuilds));
        }
    }

    fn on_store(&mut self, store: &Store) {
        self.rebuild(store);
        if let Some(d) = &mut self.detail {
            d.on_store(store);
        }
    }

    fn on_answer(
        &mut self,
        purpose: &Purpose,
        result: &Result<Option<serde_json::Value>, String>,
        cx: &mut Cx,
    ) -> bool {
        match (purpose, result) {
            (Purpose::BuildDetail { id }, _) => {
                if let Some(d) = self.detail.as_mut().filter(|d| &d.record().id == id) {
                    d.on_answer(result);
                }
            }
            (Purpose::BuildRemove { id, label }, Ok(_)) => {
                cx.info(format!("{label}: done"));
                cx.push(Cmd::Forget(Gone::Builds(vec![id.clone()])));
                cx.effect(Effect::feed(FeedRequest::RefreshBuilds));
                if self.detail.as_ref().is_some_and(|d| &d.record().id == id) {
                    self.detail = None;
                }
            }
            (Purpose::BuildRemove { label, .. }, Err(e)) => cx.error(format!("{label}: {e}")),
            _ => return false,
        }
        true
    }
}
