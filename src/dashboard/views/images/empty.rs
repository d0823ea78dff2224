//! The images view with no images at all (a first run, likely with no registry in reach): what
//! gets an image, with the keys as the keymap has them, so a remapped key shows as it is.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use crate::dashboard::keymap::Action;
use crate::dashboard::views::DrawCx;

/// The ways to a first image, offline first.
const WAYS: [(Action, &str); 3] = [
    (
        Action::Import,
        "import a rootfs tarball or an image archive (docker save) from a file",
    ),
    (Action::BuildImage, "build one from a Dockerfile"),
    (Action::Pull, "pull from a registry"),
];

/// Draws the offer in `area` (the table's body, below its header), in line with the header's
/// first column.
pub fn draw(f: &mut Frame, area: Rect, cx: &DrawCx) {
    let area = Rect {
        x: area.x + 2.min(area.width),
        width: area.width.saturating_sub(2),
        ..area
    };
    let theme = &cx.config.theme;
    let keymap = &cx.config.keymap;
    let keys: Vec<String> = WAYS.iter().map(|(a, _)| keymap.label(*a)).collect();
    let key_w = keys.iter().map(|k| k.width()).max().unwrap_or(1);
    let mut lines = vec![Line::styled("No images yet.", theme.title()), Line::raw("")];
    for ((_, what), key) in WAYS.iter().zip(&keys) {
        lines.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(format!("{key:<key_w$}"), theme.fg(theme.accent)),
            Span::raw(format!("  {what}")),
        ]));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
