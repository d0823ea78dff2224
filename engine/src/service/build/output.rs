//! The `POST /build` response stream in dockerd's legacy shapes (one JSON object per message:
//! `{"stream":...}`, `{"aux":{"ID":...}}`, `{"errorDetail":{...},"error":...}`), written to an
//! unbounded channel so a slow client never stalls a RUN step.

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// Where one stage (or the build as a whole) writes its messages.
#[derive(Clone)]
pub struct Out {
    tx: mpsc::UnboundedSender<Bytes>,
    /// `q=1`: step texts are suppressed; only the final id (or the error) is sent.
    quiet: bool,
}

fn line(v: &Value) -> Bytes {
    let mut b = serde_json::to_vec(v).expect("json values serialise");
    b.push(b'\n');
    Bytes::from(b)
}

impl Out {
    pub fn new(tx: mpsc::UnboundedSender<Bytes>, quiet: bool) -> Out {
        Out { tx, quiet }
    }

    /// A writer nobody reads (for work whose progress has nowhere to go).
    pub fn discard() -> Out {
        let (tx, _) = mpsc::unbounded_channel();
        Out { tx, quiet: true }
    }

    /// The channel itself, for writers that make their own messages (pull progress).
    pub fn sender(&self) -> mpsc::UnboundedSender<Bytes> {
        self.tx.clone()
    }

    /// A text on the build's stdout.
    pub fn stream(&self, text: &str) {
        if !self.quiet && !text.is_empty() {
            let _ = self.tx.send(line(&json!({ "stream": text })));
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
        let _ = self.tx.send(line(&json!({ "aux": { "ID": id } })));
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
        self.tx.send(msg).is_ok()
    }

    /// Whether nobody reads any more (the client went away).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// The same writer for another channel (a stage's own buffer).
    pub fn with_channel(&self, tx: mpsc::UnboundedSender<Bytes>) -> Out {
        Out {
            tx,
            quiet: self.quiet,
        }
    }
}
