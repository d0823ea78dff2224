//! Saving the buffered lines: the prompt for a path, the default file name and the text
//! written.

use super::super::Cmd;
use super::{Cx, LogsView, ZONE};
use crate::dashboard::dialogs::prompt::Prompt;
use crate::dashboard::msg::Effect;

impl LogsView {
    /// Every buffered line as saved: container prefix (merged), full timestamp, text.
    fn save_text(&self) -> String {
        let mut out = String::new();
        for (_, l) in self.buffer.iter_from(0) {
            if self.merged() {
                let name = self.sources.get(l.source).map_or("", |s| s.name.as_str());
                out.push_str(name);
                out.push_str(" | ");
            }
            if let Some(ts) = &l.timestamp {
                out.push_str(ts);
                out.push(' ');
            }
            out.push_str(&l.text);
            out.push('\n');
        }
        out
    }

    pub(super) fn save(&mut self, cx: &mut Cx) {
        let Some(target) = &self.target else { return };
        if self.buffer.is_empty() {
            cx.error("no log lines to save");
            return;
        }
        let stamp = self.now().with_timezone(&ZONE).format("%Y%m%d-%H%M%S");
        let default = format!("./{}-{stamp}.log", file_safe(&target.title));
        let contents = self.save_text();
        let n = self.buffer.len();
        cx.dialog(Prompt::new(
            "save logs",
            format!("save {n} line{} to", if n == 1 { "" } else { "s" }),
            &default,
            move |path| {
                let path = path.trim();
                if path.is_empty() {
                    return Err("a file name is needed".into());
                }
                Ok(vec![Cmd::Effect(Effect::WriteFile {
                    path: path.to_string(),
                    contents: contents.clone(),
                })])
            },
        ));
    }
}

/// A title made safe for a file name: "project shop" → "project-shop".
fn file_safe(title: &str) -> String {
    let s: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches(|c| c == '-' || c == '.').to_string();
    if s.is_empty() {
        "logs".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(file_safe("project shop"), "project-shop");
        assert_eq!(file_safe("../etc/passwd"), "etc-passwd");
        assert_eq!(file_safe("///"), "logs");
    }
}
