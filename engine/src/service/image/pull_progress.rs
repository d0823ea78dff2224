//! A pull's (and a push's) progress as docker's JSON message stream: layer statuses, byte counts
//! with docker's `[===>   ] 1.2MB/3.4MB` bar, and the in-stream error message.

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// Sends progress messages to the client; a gone client does not stop the pull (docker
/// finishes it too, so the next pull is instant).
#[derive(Clone)]
pub struct Progress {
    tx: mpsc::UnboundedSender<Bytes>,
}

impl Progress {
    pub fn new(tx: mpsc::UnboundedSender<Bytes>) -> Self {
        Progress { tx }
    }

    pub(super) fn send(&self, v: Value) {
        let mut line = serde_json::to_vec(&v).unwrap_or_default();
        line.push(b'\n');
        let _ = self.tx.send(Bytes::from(line));
    }

    pub(super) fn status(&self, status: &str) {
        self.send(json!({ "status": status }));
    }

    pub(super) fn layer(&self, id: &str, status: &str) {
        self.send(json!({ "status": status, "progressDetail": {}, "id": id }));
    }

    pub(super) fn bytes(&self, id: &str, status: &str, current: u64, total: Option<u64>) {
        let mut detail = json!({ "current": current });
        if let Some(t) = total {
            detail["total"] = json!(t);
        }
        self.send(json!({
            "status": status,
            "progressDetail": detail,
            "progress": progress_bar(current, total),
            "id": id,
        }));
    }

    /// The in-stream failure message (docker's `errorDetail` inside a 200).
    pub fn error(&self, message: &str) {
        self.send(json!({ "errorDetail": { "message": message }, "error": message }));
    }
}

/// docker's progress string: `[=====>     ]  1.2MB/3.4MB`.
pub fn progress_bar(current: u64, total: Option<u64>) -> String {
    match total.filter(|t| *t > 0) {
        Some(total) => {
            let pct = ((current.min(total) as f64 / total as f64) * 100.0) as usize / 2;
            let pct = pct.min(50);
            let bar = if pct > 0 {
                format!("{}>{}", "=".repeat(pct - 1), " ".repeat(50 - pct))
            } else {
                format!(">{}", " ".repeat(49))
            };
            format!("[{bar}] {:>8}/{}", human_size(current), human_size(total))
        }
        None => format!("{:>8}", human_size(current)),
    }
}

/// go-units HumanSize: decimal units, 4 significant digits ("1.23MB", "512B").
pub fn human_size(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    let s = format!("{v:.4}");
    // %.4g: four significant digits, trailing zeros dropped.
    let digits_before = (v.trunc() as u64).to_string().len();
    let decimals = 4usize.saturating_sub(digits_before);
    let s = if s.contains('.') {
        let t = format!("{v:.decimals$}");
        let t = if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t
        };
        t
    } else {
        s
    };
    format!("{s}{}", units[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_like_go_units() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(1234), "1.234kB");
        assert_eq!(human_size(2_800_000), "2.8MB");
        assert_eq!(human_size(209_715_200), "209.7MB");
    }

    #[test]
    fn progress_bars() {
        let bar = progress_bar(50, Some(100));
        assert!(bar.starts_with("[========================>"), "{bar}");
        assert!(bar.ends_with("50B/100B"), "{bar}");
        assert_eq!(bar.find(']').unwrap(), 51);
        assert!(progress_bar(0, Some(100)).starts_with("[>"));
        assert!(progress_bar(100, Some(100)).contains("=>]"));
        assert_eq!(progress_bar(1000, None).trim(), "1kB");
    }
}
