//! Output and input formatting shared by the headless commands: docker's size/duration units,
//! a Go-template subset for `--format`, and a tabwriter compatible with docker's tables.

pub mod json;
pub mod table;
pub mod template;
pub mod units;

use anyhow::Result;
use serde_json::Value;

use template::{Missing, Template};

/// Render rows for a list command's `--format` like docker: empty or `table` → the default
/// table, `json` → one JSON object per line, `table TEMPLATE` → a header (each field's column
/// name) plus aligned rows, anything else → TEMPLATE per row, unaligned.
pub fn render_rows(
    format: Option<&str>,
    default_table: &str,
    headers: &Value,
    rows: &[Value],
) -> Result<String> {
    let format = match format.map(str::trim) {
        None | Some("") | Some("table") => default_table.to_string(),
        Some("json") => "{{json .}}".to_string(),
        Some(f) => f.to_string(),
    };
    let (is_table, body) = match format.strip_prefix("table ") {
        Some(rest) => (true, rest.trim().to_string()),
        None => (false, format.clone()),
    };
    let tpl = Template::parse(&body).map_err(anyhow::Error::msg)?;
    let mut text = String::new();
    if is_table {
        text.push_str(
            &tpl.render(headers, Missing::NoValue)
                .map_err(anyhow::Error::msg)?,
        );
        text.push('\n');
    }
    for row in rows {
        text.push_str(
            &tpl.render(row, Missing::Error)
                .map_err(anyhow::Error::msg)?,
        );
        text.push('\n');
    }
    Ok(if is_table {
        table::TabWriter::default().format(&text)
    } else {
        text
    })
}

/// Cuts `s` to `max` display columns, ending with "…" when cut.
pub fn ellipsize(s: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let width: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if width <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}
