//! `inspect`: containers, images and volumes, untyped (`berth inspect`, docker's "No such
//! object") or typed (`container|image|volume inspect`, the engine's own message).

use anyhow::Result;
use clap::Args;
use http_body_util::BodyExt;
use serde_json::Value;

use super::{out, Ctx};
use crate::client::api::{containers, images, volumes, Endpoint};
use crate::client::{Client, DaemonError};
use crate::exit::ExitError;
use crate::format::json::reindent;
use crate::format::template::{Missing, Template};

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Only inspect objects of this type (container, image).
    #[arg(long = "type")]
    pub kind: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct FormatNames {
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

/// Fetch the raw inspect JSON of a container, image or volume; the engine's 404 as `Err` inside.
async fn inspect_raw(client: &Client, endpoint: Endpoint) -> Result<Result<String, DaemonError>> {
    let resp = client.open(endpoint, &[]).await;
    match resp {
        Ok(r) => {
            let bytes = r.into_body().collect().await?.to_bytes();
            Ok(Ok(String::from_utf8_lossy(&bytes).into_owned()))
        }
        Err(e) => match e.downcast::<DaemonError>() {
            Ok(d) if d.status == 404 => Ok(Err(d)),
            Ok(d) => Err(d.into()),
            Err(e) => Err(e),
        },
    }
}

pub async fn inspect(
    ctx: &Ctx,
    format: Option<String>,
    kind: Option<String>,
    names: Vec<String>,
) -> Result<i32> {
    let kind = kind.map(|k| k.to_lowercase());
    if let Some(k) = &kind {
        if k != "container" && k != "image" && k != "volume" {
            return Err(ExitError::with(
                1,
                format!("\"{k}\" is not a valid value for --type"),
            ));
        }
    }
    let template = match format.as_deref() {
        Some(f) if !f.is_empty() && f != "json" => {
            Some(Template::parse(f).map_err(anyhow::Error::msg)?)
        }
        _ => None,
    };
    let client = ctx.client().await?;
    let mut found: Vec<String> = Vec::new();
    let mut failed = false;
    for name in &names {
        let mut calls = Vec::new();
        if kind.as_deref() != Some("image") {
            calls.push(containers::inspect(name));
        }
        if !matches!(kind.as_deref(), Some("container" | "volume")) {
            calls.push(images::inspect(name));
        }
        if matches!(kind.as_deref(), None | Some("volume")) {
            calls.push(volumes::inspect(name));
        }
        let (mut raw, mut missing) = (None, None);
        for call in calls {
            match inspect_raw(&client, call).await? {
                Ok(r) => {
                    raw = Some(r);
                    break;
                }
                Err(d) => missing = Some(d),
            }
        }
        match (raw, missing) {
            (Some(r), _) => found.push(r),
            (None, missing) => {
                failed = true;
                // `docker container|image|volume inspect` print the engine's answer; the
                // untyped `docker inspect` has its own line.
                match (kind.is_some(), missing) {
                    (true, Some(d)) => eprintln!("{d}"),
                    _ => eprintln!("Error: No such object: {name}"),
                }
            }
        }
    }
    match template {
        Some(t) => {
            let mut text = String::new();
            for raw in &found {
                let v: Value = serde_json::from_str(raw)?;
                text.push_str(&t.render(&v, Missing::NoValue).map_err(anyhow::Error::msg)?);
                text.push('\n');
            }
            out(&text);
        }
        None => {
            let mut text = String::from("[");
            for (i, raw) in found.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                text.push_str("\n    ");
                text.push_str(&reindent(raw, 4, 1));
            }
            text.push_str(if found.is_empty() { "]\n" } else { "\n]\n" });
            out(&text);
        }
    }
    Ok(if failed { 1 } else { 0 })
}
