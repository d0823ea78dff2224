//! `berth pull [--platform] [-q] [-a]` and the pull that `run`/`create` do for a missing image.
//!
//! The display follows docker's: on a terminal one line per layer, rewritten in place as its
//! status changes; otherwise one line per status change without the progress bars.

use std::io::{IsTerminal, Write};

use anyhow::{bail, Result};
use clap::Args;
use serde_json::Value;

use super::{out, Ctx};
use crate::client::api::images;
use crate::client::progress::read_stream;
use crate::client::reference::{pull_source, split_tag_or_digest};
use crate::client::Client;

#[derive(Args, Debug)]
pub struct PullArgs {
    /// NAME[:TAG|@DIGEST]
    pub image: String,
    /// Download all tagged images in the repository.
    #[arg(short = 'a', long)]
    pub all_tags: bool,
    /// Set platform if server is multi-platform capable (os[/arch[/variant]]).
    #[arg(long, env = "DOCKER_DEFAULT_PLATFORM")]
    pub platform: Option<String>,
    /// Suppress verbose output.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// How the progress stream is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// Nothing but errors (`-q`).
    Quiet,
    /// Redrawn per-layer lines on a terminal.
    Terminal,
    /// Plain status lines (pipes, logs).
    Lines,
}

/// Progress renderer shared by pull, run and create.
struct Renderer<W: Write> {
    w: W,
    mode: Display,
    /// Layer ids in first-seen order; the terminal shows one line per id.
    ids: Vec<String>,
}

impl<W: Write> Renderer<W> {
    fn message(&mut self, msg: &Value) -> Result<()> {
        if let Some(err) = msg
            .get("errorDetail")
            .and_then(|d| d.get("message"))
            .or_else(|| msg.get("error"))
            .and_then(Value::as_str)
        {
            bail!("{err}");
        }
        if self.mode == Display::Quiet {
            return Ok(());
        }
        let status = msg.get("status").and_then(Value::as_str).unwrap_or("");
        let id = msg.get("id").and_then(Value::as_str);
        let progress = msg.get("progress").and_then(Value::as_str);
        // "Pulling from" carries the tag as id but is a header, not a layer line.
        let layer_id = id.filter(|_| !status.starts_with("Pulling from"));
        let text = match id {
            Some(id) => format!("{id}: {status}"),
            None => status.to_string(),
        };
        match (self.mode, layer_id) {
            (Display::Terminal, Some(lid)) => {
                let line = match progress {
                    Some(p) => format!("{text} {p}"),
                    None => text,
                };
                match self.ids.iter().position(|i| i == lid) {
                    Some(pos) => {
                        let up = self.ids.len() - pos;
                        write!(self.w, "\x1b[{up}A\r\x1b[2K{line}\r\x1b[{up}B")?;
                    }
                    None => {
                        self.ids.push(lid.to_string());
                        writeln!(self.w, "{line}")?;
                    }
                }
            }
            (Display::Lines, Some(_)) if progress.is_some() => {
                // Byte counts are noise without a terminal.
            }
            _ => {
                if layer_id.is_none() {
                    // A header or summary line ends the current layer block.
                    self.ids.clear();
                }
                if !text.is_empty() {
                    writeln!(self.w, "{text}")?;
                }
            }
        }
        self.w.flush()?;
        Ok(())
    }
}

/// Pull `image` showing progress on `w`. Errors (HTTP or in-stream) come back as errors.
pub async fn pull_image<W: Write>(
    client: &Client,
    image: &str,
    all_tags: bool,
    platform: Option<&str>,
    mode: Display,
    w: W,
) -> Result<()> {
    let (from_image, tag) = pull_source(image, all_tags)?;
    let endpoint = images::pull(from_image, tag, platform.filter(|p| !p.is_empty()));
    // Credentials as the docker CLI stores them (config file, credential helpers).
    let auth = crate::client::credentials::registry_auth_header(image)?;
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| ("X-Registry-Auth", a))
        .into_iter()
        .collect();
    let resp = client.open(endpoint, &headers).await?;
    let mut r = Renderer {
        w,
        mode,
        ids: Vec::new(),
    };
    read_stream(resp.into_body(), |msg| r.message(msg)).await
}

/// The full reference docker's `pull -q` prints ("docker.io/library/busybox:latest").
fn full_reference(image: &str, all_tags: bool) -> String {
    let (name, tag) = split_tag_or_digest(image);
    let first = name.split('/').next().unwrap_or("");
    let has_domain =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let name = if has_domain {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    match tag {
        Some(t) if t.starts_with("sha256:") => format!("{name}@{t}"),
        Some(t) => format!("{name}:{t}"),
        None if all_tags => name,
        None => format!("{name}:latest"),
    }
}

pub async fn pull(ctx: &Ctx, a: PullArgs) -> Result<i32> {
    let client = ctx.client().await?;
    let mode = if a.quiet {
        Display::Quiet
    } else if std::io::stdout().is_terminal() {
        Display::Terminal
    } else {
        Display::Lines
    };
    if mode != Display::Quiet && a.all_tags {
        out(&format!("Using default tag: all tags of {}\n", a.image));
    } else if mode != Display::Quiet && split_tag_or_digest(&a.image).1.is_none() {
        out("Using default tag: latest\n");
    }
    pull_image(
        &client,
        &a.image,
        a.all_tags,
        a.platform.as_deref(),
        mode,
        std::io::stdout().lock(),
    )
    .await?;
    out(&format!("{}\n", full_reference(&a.image, a.all_tags)));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queries_like_the_docker_cli() {
        let (name, tag) = pull_source("busybox", false).unwrap();
        assert_eq!(
            images::pull(name, tag, None).path,
            "/images/create?fromImage=busybox&tag=latest"
        );
        let (name, tag) = pull_source("127.0.0.1:5000/x", true).unwrap();
        assert_eq!(
            images::pull(name, tag, Some("linux/arm64")).path,
            "/images/create?fromImage=127.0.0.1%3A5000%2Fx&platform=linux%2Farm64"
        );
        let d = format!("sha256:{}", "a".repeat(64));
        let image = format!("x@{d}");
        assert_eq!(pull_source(&image, false).unwrap(), ("x", Some(d.as_str())));
        assert!(pull_source("x:1", true).is_err());
        assert_eq!(
            full_reference("busybox", false),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            full_reference("127.0.0.1:5000/a/b:1", false),
            "127.0.0.1:5000/a/b:1"
        );
    }

    #[test]
    fn terminal_rewrites_layer_lines_in_place() {
        let mut buf = Vec::new();
        let mut r = Renderer {
            w: &mut buf,
            mode: Display::Terminal,
            ids: Vec::new(),
        };
        r.message(&json!({"status":"Pulling fs layer","id":"l1"}))
            .unwrap();
        r.message(&json!({"status":"Pulling fs layer","id":"l2"}))
            .unwrap();
        r.message(&json!({"status":"Downloading","id":"l1","progress":"[>  ] 1B/2B"}))
            .unwrap();
        let s = String::from_utf8(buf).unwrap();
        assert_eq!(
            s,
            "l1: Pulling fs layer\nl2: Pulling fs layer\n\x1b[2A\r\x1b[2Kl1: Downloading [>  ] 1B/2B\r\x1b[2B"
        );
    }

    #[test]
    fn plain_lines_skip_byte_counts() {
        let mut buf = Vec::new();
        let mut r = Renderer {
            w: &mut buf,
            mode: Display::Lines,
            ids: Vec::new(),
        };
        r.message(&json!({"status":"Pulling from library/x","id":"latest"}))
            .unwrap();
        r.message(&json!({"status":"Pulling fs layer","id":"abc"}))
            .unwrap();
        r.message(&json!({"status":"Downloading","id":"abc","progress":"[>  ] 1B/2B","progressDetail":{"current":1,"total":2}})).unwrap();
        r.message(&json!({"status":"Pull complete","id":"abc"}))
            .unwrap();
        assert!(r
            .message(&json!({"errorDetail":{"message":"boom"},"error":"boom"}))
            .is_err());
        let s = String::from_utf8(buf).unwrap();
        assert_eq!(
            s,
            "latest: Pulling from library/x\nabc: Pulling fs layer\nabc: Pull complete\n"
        );
    }
}
