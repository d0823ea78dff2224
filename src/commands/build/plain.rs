//! Plain output (`--progress plain`, or stdout not a terminal) and the quiet modes: the
//! engine's messages printed as the docker CLI prints them without a terminal
//! (`jsonmessage.Display`), and the "Sending build context" line as its progress reader does.

use std::io::Write;

use serde_json::Value;

use crate::format::units::human_size;

/// What docker's CLI prints for the context upload once it is complete: its raw progress
/// formatter's last update ("%8v" of the decimal size, then "\r") and the "\r\n" that ends it.
pub fn context_sent_line(bytes: u64) -> String {
    format!(
        "Sending build context to Docker daemon {:>8}\r\r\n",
        human_size(bytes as f64)
    )
}

/// The last update of docker's download progress for a remote context: "%8v/%v" of the decimal
/// sizes when the server announced one ("%8v" alone otherwise).
pub fn downloaded_line(url: &str, bytes: u64, announced: Option<u64>) -> String {
    let current = human_size(bytes as f64);
    let count = match announced.filter(|t| *t > 0 && bytes <= *t) {
        Some(total) => format!("{current:>8}/{}", human_size(total as f64)),
        None => format!("{current:>8}"),
    };
    format!("Downloading build context from remote url: {url} {count}\r\r\n")
}

/// The text docker's CLI prints for one message on a non-terminal, None for what it leaves out
/// (progress bars). Errors and `aux` messages are the caller's.
pub fn message_text(msg: &Value) -> Option<String> {
    let str_field = |k: &str| msg.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let detail = msg.get("progressDetail");
    let count = |k: &str| detail.and_then(|d| d.get(k)).and_then(Value::as_i64);
    if count("current").unwrap_or(0) > 0 || count("total").unwrap_or(0) > 0 {
        return None;
    }
    let mut out = String::new();
    if let Some(id) = str_field("id") {
        out.push_str(id);
        out.push_str(": ");
    }
    if let Some(from) = str_field("from") {
        out.push_str(&format!("(from {from}) "));
    }
    let status = str_field("status").unwrap_or("");
    if let Some(p) = str_field("progress") {
        out.push_str(&format!("{status} {p}"));
    } else if let Some(s) = str_field("stream") {
        out.push_str(s);
    } else {
        out.push_str(status);
        out.push('\n');
    }
    Some(out)
}

/// Where plain output goes: straight to a writer, or into a buffer for the quiet modes (shown
/// on stderr only if the build fails, as docker's `-q` does).
pub struct Plain<W: Write> {
    pub w: W,
}

impl<W: Write> Plain<W> {
    pub fn context_sent(&mut self, bytes: u64) -> std::io::Result<()> {
        self.raw(&context_sent_line(bytes))
    }

    pub fn raw(&mut self, text: &str) -> std::io::Result<()> {
        self.w.write_all(text.as_bytes())?;
        self.w.flush()
    }

    pub fn message(&mut self, msg: &Value) -> std::io::Result<()> {
        if let Some(text) = message_text(msg) {
            self.w.write_all(text.as_bytes())?;
            self.w.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_as_the_docker_cli_prints_them() {
        assert_eq!(
            message_text(&json!({"stream":"Step 1/2 : FROM busybox"})).unwrap(),
            "Step 1/2 : FROM busybox"
        );
        assert_eq!(message_text(&json!({"stream":"\n"})).unwrap(), "\n");
        assert_eq!(
            message_text(&json!({"status":"Pulling from library/busybox","id":"latest"})).unwrap(),
            "latest: Pulling from library/busybox\n"
        );
        assert_eq!(
            message_text(
                &json!({"status":"Downloading","id":"abc","progressDetail":{"current":5,"total":9},"progress":"[=> ]"})
            ),
            None
        );
        assert_eq!(
            message_text(&json!({"status":"Pull complete","id":"abc","progressDetail":{}}))
                .unwrap(),
            "abc: Pull complete\n"
        );
        assert_eq!(message_text(&json!({})).unwrap(), "\n");
    }

    #[test]
    fn context_line() {
        assert_eq!(
            context_sent_line(2048),
            "Sending build context to Docker daemon  2.048kB\r\r\n"
        );
        assert_eq!(
            downloaded_line("http://h/c.tar", 1234, Some(1234)),
            "Downloading build context from remote url: http://h/c.tar  1.234kB/1.234kB\r\r\n"
        );
        assert_eq!(
            context_sent_line(52_428_800),
            "Sending build context to Docker daemon  52.43MB\r\r\n"
        );
    }
}
