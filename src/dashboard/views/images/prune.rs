//! Image prune: the dialog (dangling only, or every unused image), its API call and the status
//! line it ends with.

use ratatui::layout::Rect;
use ratatui::Frame;

use crate::client::api::{images, Filters};
use crate::dashboard::dialogs::{frame, hint, Dialog, Outcome};
use crate::dashboard::msg::{Effect, Purpose};
use crate::dashboard::views::{Cx, DrawCx};
use crate::dashboard::widgets::bytes;

/// `POST /images/prune` with docker's dangling filter: true removes untagged images only, false
/// every image no container uses (`image prune -a`).
pub fn prune_call(all: bool) -> Effect {
    let dangling = Filters::one("dangling", if all { "false" } else { "true" });
    Effect::api(images::prune(&dangling), Purpose::PruneImages)
}

/// "Remove dangling images?" with a second choice: every unused image.
pub struct PruneDialog;

impl Dialog for PruneDialog {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let rect = crate::dashboard::widgets::centered(area, 62, 7);
        let inner = frame(f, rect, "Prune images", theme);
        let text = vec![
            ratatui::text::Line::raw("Remove dangling images (untagged, used by no container)?"),
            ratatui::text::Line::raw(""),
            ratatui::text::Line::raw("y/enter: dangling only    a: all unused images (-a)"),
            ratatui::text::Line::styled("n/esc: cancel", theme.muted()),
        ];
        f.render_widget(
            ratatui::widgets::Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: false }),
            inner,
        );
    }

    fn on_key(&mut self, key: crossterm::event::KeyEvent, cx: &mut Cx) -> Outcome {
        use crossterm::event::KeyCode;
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                cx.effect(prune_call(false));
                Outcome::Close
            }
            KeyCode::Char('a') | KeyCode::Char('A') => {
                cx.effect(prune_call(true));
                Outcome::Close
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                Outcome::Close
            }
            _ => Outcome::Keep,
        }
    }

    fn hints(&self) -> Vec<(String, String)> {
        vec![
            hint("y", "dangling"),
            hint("a", "all unused"),
            hint("n", "cancel"),
        ]
    }
}

/// The status line after a prune: how many images went and the space they freed.
pub(super) fn prune_summary(v: &serde_json::Value) -> String {
    let deleted = v["ImagesDeleted"].as_array().map_or(0, |a| {
        a.iter().filter(|d| d.get("Deleted").is_some()).count()
    });
    let untagged = v["ImagesDeleted"].as_array().map_or(0, |a| {
        a.iter().filter(|d| d.get("Untagged").is_some()).count()
    });
    let space = v["SpaceReclaimed"].as_u64().unwrap_or(0);
    let mut s = format!(
        "pruned {deleted} image{}",
        if deleted == 1 { "" } else { "s" }
    );
    if untagged > 0 {
        s.push_str(&format!(" ({untagged} untagged)"));
    }
    s.push_str(&format!(", reclaimed {}", bytes(space as f64)));
    s
}
