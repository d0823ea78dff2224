//! `berth push [-a] [-q] [--compression gzip|zstd] IMAGE`: upload an image to its registry through
//! the engine, showing per-layer progress (redrawn in place on a terminal, one line per status
//! change otherwise).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use anyhow::Result;
use clap::Args;
use serde_json::Value;

use super::{out, Ctx};
use crate::client::api::images;
use crate::client::progress::{read_stream, render_message};
use crate::client::reference::split_tag;

#[derive(Args, Debug)]
pub struct PushArgs {
    /// NAME[:TAG]
    pub image: String,
    /// Push all tags of the repository.
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Print only the pushed reference.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Layer compression for layers stored uncompressed: gzip (default) or zstd.
    #[arg(long)]
    pub compression: Option<String>,
}

pub async fn push(ctx: &Ctx, a: PushArgs) -> Result<i32> {
    // A digest names no tag to push: docker pushes the repository's tags.
    let (name, tag) = split_tag(a.image.split('@').next().unwrap_or(&a.image));
    if a.all_tags && tag.is_some() {
        anyhow::bail!("tag can't be used with --all-tags/-a");
    }
    // Without -a, docker pushes the named tag (latest when none is given).
    let tag = match (a.all_tags, tag) {
        (true, _) => String::new(),
        (false, Some(t)) => t.to_string(),
        (false, None) => "latest".to_string(),
    };
    // Credentials from `docker login` / `berth login` (config.json or a credential helper).
    let auth = crate::client::credentials::registry_auth_header(name)?;
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("X-Registry-Auth", a)])
        .unwrap_or_default();
    let client = ctx.client().await?;
    let endpoint = images::push(name, &tag, a.compression.as_deref());
    let resp = client.open(endpoint, &headers).await?;
    let mut display = Display::new(!a.quiet && std::io::stdout().is_terminal(), a.quiet);
    read_stream(resp.into_body(), |msg| display.message(msg)).await?;
    display.finish();
    if a.quiet {
        if tag.is_empty() {
            out(&format!("{name}\n"));
        } else {
            out(&format!("{name}:{tag}\n"));
        }
    }
    Ok(0)
}

/// Docker's progress rendering: on a terminal each layer id keeps its own line, rewritten as its
/// status changes; elsewhere every status change is a new line and progress bars are skipped.
struct Display {
    tty: bool,
    quiet: bool,
    /// Layer id → its line number among the lines printed so far.
    lines: HashMap<String, usize>,
    printed: usize,
}

impl Display {
    fn new(tty: bool, quiet: bool) -> Self {
        Display {
            tty,
            quiet,
            lines: HashMap::new(),
            printed: 0,
        }
    }

    fn message(&mut self, msg: &Value) -> Result<()> {
        let line = match render_message(msg) {
            Ok(Some(l)) => l,
            Ok(None) => return Ok(()),
            Err(e) => {
                self.finish();
                anyhow::bail!("{e}");
            }
        };
        if self.quiet {
            return Ok(());
        }
        let id = msg.get("id").and_then(Value::as_str);
        let has_bar = msg.get("progress").is_some();
        let mut o = std::io::stdout().lock();
        match (id, self.tty) {
            (Some(id), true) => {
                if let Some(&n) = self.lines.get(id) {
                    let up = self.printed - n;
                    // Up to the layer's line, rewrite it, then back down.
                    let _ = write!(o, "\x1b[{up}A\r\x1b[2K{line}\r\x1b[{up}B");
                } else {
                    self.lines.insert(id.to_string(), self.printed);
                    self.printed += 1;
                    let _ = writeln!(o, "{line}");
                }
            }
            // Without a terminal, bars would be a flood of lines: print status changes only.
            (Some(_), false) if has_bar => {}
            _ => {
                self.printed += 1;
                let _ = writeln!(o, "{line}");
            }
        }
        let _ = o.flush();
        Ok(())
    }

    fn finish(&mut self) {
        let _ = std::io::stdout().flush();
    }
}
