//! Reading from the engine: one GET stream pumped into messages, the engine's identity, and a
//! re-read of the lists that are stale.

use anyhow::Result;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::mpsc::{Sender, UnboundedSender};

use super::lines::LineSplitter;
use crate::client::api::{containers, images, networks, volumes, Filters};
use crate::client::{empty, full, Client};
use crate::dashboard::msg::{Msg, StreamRequest};
use crate::dashboard::store::model::EngineInfo;
use berth_engine::model::build::BuildStatus;

use super::*;

/// The engine's own message for a refused request, without the CLI's "Error response from
/// daemon:" prefix (the status line has no room for it).
pub fn error_text(e: &anyhow::Error) -> String {
    match e.downcast_ref::<crate::client::DaemonError>() {
        Some(d) => d.message.clone(),
        None => format!("{e:#}"),
    }
}

pub(super) async fn pump(client: &Client, req: &StreamRequest, items: &Sender<Msg>) -> Result<()> {
    let mut headers: Vec<(&str, &str)> = Vec::new();
    let body = match &req.body {
        Some(v) => {
            headers.push(("content-type", "application/json"));
            full(serde_json::to_vec(v)?)
        }
        None => empty(),
    };
    // Credentials as `docker pull`/`push` send them; a credential helper is a process, so the
    // lookup runs off the dashboard's thread.
    let auth = match &req.auth_for {
        Some(reference) => {
            let reference = reference.clone();
            tokio::task::spawn_blocking(move || {
                crate::client::credentials::registry_auth_header(&reference)
            })
            .await??
        }
        None => None,
    };
    if let Some(a) = &auth {
        headers.push(("X-Registry-Auth", a));
    }
    let (resp, upload) = match &req.upload {
        Some(file) => {
            let (resp, up) = upload::start(client, &req.key, &req.path, file, items).await?;
            (resp, Some(up))
        }
        None => (
            client
                .request(req.method.clone(), &req.path, body, &headers)
                .await?,
            None,
        ),
    };
    let mut body = resp.into_body();
    let mut split = LineSplitter::new(req.framing);
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        for item in split.push(&data).map_err(anyhow::Error::msg)? {
            let msg = Msg::Stream {
                key: req.key.clone(),
                item,
            };
            if items.send(msg).await.is_err() {
                return Ok(());
            }
        }
    }
    for item in split.finish() {
        let msg = Msg::Stream {
            key: req.key.clone(),
            item,
        };
        let _ = items.send(msg).await;
    }
    if let Some(up) = upload {
        up.finish(items).await?;
    }
    Ok(())
}

pub(super) async fn engine_info(client: &Client) -> Result<EngineInfo> {
    let version = client.version().await?;
    let info = client.info().await?;
    // berth says "berth"; Docker says "Docker Engine - Community" (or nothing, in distribution
    // builds, whose components still name the "Engine"); Podman names itself in its components.
    let component = version["Components"][0]["Name"].as_str().unwrap_or("");
    let name = match version["Platform"]["Name"]
        .as_str()
        .filter(|s| !s.is_empty())
    {
        Some(n) => n.to_string(),
        None if component == "Engine" => "Docker Engine".to_string(),
        None if !component.is_empty() => component.to_string(),
        None => "engine".to_string(),
    };
    Ok(EngineInfo {
        host: format!("unix://{}", client.socket().display()),
        name,
        version: version["Version"].as_str().unwrap_or("?").to_string(),
        api_version: client.api_version().to_string(),
        os: info["OperatingSystem"].as_str().unwrap_or("").to_string(),
        cpus: info["NCPU"].as_u64().unwrap_or(0),
        mem_total: info["MemTotal"].as_u64().unwrap_or(0),
    })
}

/// Re-reads the stale lists, concurrently. A failed read is reported on the event stream's
/// terms: if the engine is gone, the event stream ends and says so. Returns whether a build is
/// running, when the builds list was read.
pub(super) async fn refresh(
    client: &Client,
    msgs: &UnboundedSender<Msg>,
    stale: Stale,
) -> Option<bool> {
    let containers = async {
        if stale.containers {
            let list = containers::list(true, None, false, &Filters::none());
            if let Ok(v) = client.send_as(list).await {
                let _ = msgs.send(Msg::Containers(v));
            }
        }
    };
    let images = async {
        if stale.images {
            if let Ok(v) = client.send_as(images::list(false, &Filters::none())).await {
                let _ = msgs.send(Msg::Images(v));
            }
        }
    };
    let volumes = async {
        if stale.volumes {
            if let Ok(v) = client
                .send_as::<Value>(volumes::list(&Filters::none()))
                .await
            {
                if let Ok(list) = serde_json::from_value(v["Volumes"].clone()) {
                    let _ = msgs.send(Msg::Volumes(Option::unwrap_or_default(list)));
                }
            }
        }
    };
    let networks = async {
        if stale.networks {
            if let Ok(v) = client.send_as(networks::list(&Filters::none())).await {
                let _ = msgs.send(Msg::Networks(v));
            }
        }
    };
    let builds = async {
        if !stale.builds {
            return None;
        }
        match client.build_list().await {
            Ok(list) => {
                let running = list.iter().any(|b| b.status == BuildStatus::Running);
                let _ = msgs.send(Msg::Builds(Ok(list)));
                Some(running)
            }
            Err(e) => {
                let _ = msgs.send(Msg::Builds(Err(builds_error(&e))));
                None
            }
        }
    };
    tokio::join!(containers, images, volumes, networks, builds).4
}

/// Why there are no build records: an engine without `/berth/v1/builds` (docker, an older
/// berth) says 404, which means it keeps none, not that something broke.
pub(super) fn builds_error(e: &anyhow::Error) -> String {
    match e.downcast_ref::<crate::client::DaemonError>() {
        Some(d) if d.status == 404 => {
            "this engine keeps no build records (berth's engine does)".to_string()
        }
        _ => format!("reading the builds: {}", error_text(e)),
    }
}
