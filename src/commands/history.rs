//! `history IMAGE`: docker's table of an image's history (`GET /images/{name}/history`).

use anyhow::Result;
use chrono::{DateTime, Local, TimeZone, Utc};
use clap::Args;
use serde_json::{json, Value};

use super::ps::ellipsis;
use super::{out, Ctx};
use crate::format::{render_rows, units};

#[derive(Args, Debug)]
pub struct HistoryArgs {
    pub image: String,
    /// Print sizes and dates in human readable format (--human=false for raw values).
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub human: bool,
    /// Only show image IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output using a custom template ('table', 'json' or a Go template).
    #[arg(long)]
    pub format: Option<String>,
}

pub const HISTORY_TABLE: &str =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

fn headers() -> Value {
    json!({
        "ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
        "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT",
    })
}

/// One row as docker's historyContext renders it.
pub fn history_row(h: &Value, trunc: bool, human: bool, now: DateTime<Utc>) -> Value {
    let raw_id = h["Id"].as_str().unwrap_or("");
    let id = if trunc {
        raw_id
            .strip_prefix("sha256:")
            .unwrap_or(raw_id)
            .chars()
            .take(12)
            .collect()
    } else {
        raw_id.to_string()
    };
    let created = h["Created"].as_i64().unwrap_or(0);
    // Go's time.Unix(..).Format(time.RFC3339), in local time.
    let created_at = Local
        .timestamp_opt(created, 0)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let created_since = if human {
        units::ago(created, now)
    } else {
        created_at.clone()
    };
    let created_by = h["CreatedBy"].as_str().unwrap_or("").replace('\t', " ");
    let created_by = if trunc {
        ellipsis(&created_by, 45)
    } else {
        created_by
    };
    let size = h["Size"].as_i64().unwrap_or(0);
    let size = if human {
        units::human_size_precision(size as f64, 3)
    } else {
        size.to_string()
    };
    json!({
        "ID": id,
        "CreatedSince": created_since,
        "CreatedAt": created_at,
        "CreatedBy": created_by,
        "Size": size,
        "Comment": h["Comment"].as_str().unwrap_or(""),
    })
}

pub async fn history(ctx: &Ctx, a: HistoryArgs) -> Result<i32> {
    let client = ctx.client().await?;
    let list = client.image_history(&a.image).await?;
    let now = Utc::now();
    let rows: Vec<Value> = list
        .iter()
        .map(|h| history_row(h, !a.no_trunc, a.human, now))
        .collect();
    let format = if a.quiet {
        Some("{{.ID}}")
    } else {
        a.format.as_deref()
    };
    out(&render_rows(format, HISTORY_TABLE, &headers(), &rows)?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_table_like_docker() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let items = json!([
            {"Id": "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
             "Created": 1_700_000_000 - 2 * 3600, "CreatedBy": "/bin/sh -c #(nop)\tCMD [\"sh\"] and a long tail of words",
             "Tags": ["app:1"], "Size": 0, "Comment": ""},
            {"Id": "<missing>", "Created": 1_700_000_000 - 3 * 86400,
             "CreatedBy": "ADD rootfs.tar /", "Tags": null, "Size": 4_260_000, "Comment": "Imported from -"}
        ]);
        let rows: Vec<Value> = items
            .as_array()
            .unwrap()
            .iter()
            .map(|h| history_row(h, true, true, now))
            .collect();
        assert_eq!(rows[0]["ID"], "abcdef012345");
        assert_eq!(rows[1]["ID"], "<missing>");
        assert_eq!(
            rows[0]["CreatedBy"],
            "/bin/sh -c #(nop) CMD [\"sh\"] and a long tail…"
        );
        assert_eq!(rows[0]["CreatedBy"].as_str().unwrap().chars().count(), 45);
        let t = render_rows(None, HISTORY_TABLE, &headers(), &rows).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("IMAGE          CREATED       CREATED BY"));
        assert!(lines[1].contains("2 hours ago"));
        assert!(lines[2].contains("4.26MB") && lines[2].ends_with("Imported from -"));

        let raw = history_row(&items[1], false, false, now);
        assert_eq!(raw["Size"], "4260000");
        assert_eq!(raw["CreatedSince"], raw["CreatedAt"]);
        assert!(raw["CreatedAt"].as_str().unwrap().starts_with("2023-11-1"));
    }
}
