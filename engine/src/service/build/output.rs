//! The `POST /build` response stream in dockerd's legacy shapes (one JSON object per message:
//! `{"stream":...}`, `{"aux":{"ID":...}}`, `{"errorDetail":{...},"error":...}`), written to an
//! unbounded channel so a slow client never stalls a RUN step.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// Where one stage (or the build as a whole) writes its messages.
#[derive(Clone)]
pub struct Out {
    tx: mpsc::UnboundedSender<Bytes>,
    /// `q=1`: step texts are held back; only the final id is sent, or, when the build fails,
    /// what was held back and the error (as dockerd does).
    quiet: Option<Arc<Mutex<Vec<Bytes>>>>,
}

/// One message as Go's encoding/json writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped
/// (dockerd's stream is byte for byte `" ---\u003e <id>"`). Those characters can only occur
/// inside JSON strings, so replacing them in the encoded text is exact.
fn line(v: &Value) -> Bytes {
    let text = serde_json::to_string(v).expect("json values serialise");
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('\n');
    Bytes::from(out)
}

impl Out {
    pub fn new(tx: mpsc::UnboundedSender<Bytes>, quiet: bool) -> Out {
        Out {
            tx,
            quiet: quiet.then(Default::default),
        }
    }

    /// A writer nobody reads (for work whose progress has nowhere to go).
    pub fn discard() -> Out {
        let (tx, _) = mpsc::unbounded_channel();
        Out { tx, quiet: None }
    }

    /// The channel itself, for writers that make their own messages (pull progress).
    pub fn sender(&self) -> mpsc::UnboundedSender<Bytes> {
        self.tx.clone()
    }

    /// A text on the build's stdout.
    pub fn stream(&self, text: &str) {
        if !text.is_empty() {
            self.raw(line(&json!({ "stream": text })));
        }
    }

    /// A RUN step's stderr, coloured as dockerd colours it.
    pub fn stderr(&self, text: &str) {
        self.stream(&format!("\x1b[91m{text}\x1b[0m"));
    }

    /// A text sent even in quiet mode (the image id `q=1` prints).
    pub fn always(&self, text: &str) {
        let _ = self.tx.send(line(&json!({ "stream": text })));
    }

    pub fn aux_id(&self, id: &str) {
        self.raw(line(&json!({ "aux": { "ID": id } })));
    }

    /// The error that ends the build; `code` is a RUN's exit status (the CLI exits with it).
    pub fn error(&self, code: Option<i32>, message: &str) {
        let detail = match code {
            Some(c) => json!({ "code": c, "message": message }),
            None => json!({ "message": message }),
        };
        let _ = self
            .tx
            .send(line(&json!({ "errorDetail": detail, "error": message })));
    }

    /// Pass on a message another writer made; false when nobody reads any more.
    pub fn raw(&self, msg: Bytes) -> bool {
        if let Some(held) = &self.quiet {
            held.lock().unwrap_or_else(|p| p.into_inner()).push(msg);
            return !self.tx.is_closed();
        }
        self.tx.send(msg).is_ok()
    }

    /// Send what quiet mode held back (before a failure's error line).
    pub fn release_held(&self) {
        if let Some(held) = &self.quiet {
            for m in held.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
                let _ = self.tx.send(m);
            }
        }
    }

    /// Whether nobody reads any more (the client went away).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// The same writer for another channel (a stage's own buffer).
    /// A stage's own writer: its messages go to `tx` and reach the client through the
    /// build's writer, which applies quiet mode.
    pub fn with_channel(&self, tx: mpsc::UnboundedSender<Bytes>) -> Out {
        Out { tx, quiet: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_escaped_as_go_does() {
        let b = line(&json!({ "stream": " ---> a & <b>\u{2028}" }));
        assert_eq!(
            std::str::from_utf8(&b).unwrap(),
            "{\"stream\":\" ---\\u003e a \\u0026 \\u003cb\\u003e\\u2028\"}\n"
        );
    }
}
