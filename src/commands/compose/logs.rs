//! `berth compose logs`: every container of the project (or of the named services) streamed
//! at once into one [`LogPrinter`], as docker compose's `logs` does; with `-f`, containers
//! that start later are followed too (from the moment they start) and exits are reported,
//! until no container of the project is left running.

use std::io::IsTerminal;

use anyhow::Result;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::args::LogsArgs;
use super::target::{fail, project_or_name, specified_container};
use super::Session;
use crate::client::Client;
use crate::commands::Ctx;
use crate::compose::logprinter::{self, LogOptions, LogPrinter, PrinterOptions};
use crate::compose::monitor::{self, ContainerEvent, EventKind};
use crate::compose::observed::{self, Container, OneOff};

pub async fn run(ctx: &Ctx, session: &Session, a: LogsArgs) -> Result<i32> {
    let index = a.index.unwrap_or(0);
    if index > 0 && a.services.len() != 1 {
        return Err(fail("--index requires one service to be selected"));
    }
    let (loaded, name) = project_or_name(session, &a.services)?;
    let mut services = a.services.clone();
    if let Some(l) = &loaded {
        if services.is_empty() {
            // Services that do not attach (`attach: false`) only show when named.
            services = l
                .project
                .services
                .iter()
                .filter(|(_, s)| s.attach != Some(false))
                .map(|(n, _)| n.clone())
                .collect();
            if services.is_empty() {
                services = l.project.services.keys().cloned().collect();
            }
        }
    }
    let client = ctx.client().await?;
    let containers: Vec<Container> = if index > 0 {
        let c =
            specified_container(&client, &name, OneOff::Exclude, true, &services[0], index).await?;
        vec![Container::from_summary(&c)]
    } else {
        observed::containers(&client, &name, OneOff::Exclude, true, &services).await?
    };
    let printer = LogPrinter::new(PrinterOptions {
        color: !a.no_color && std::io::stdout().is_terminal(),
        prefix: !a.no_log_prefix,
        timestamps: false,
    });
    let options = LogOptions {
        follow: a.follow,
        tail: Some(a.tail.clone()),
        since: a.since.clone(),
        until: a.until.clone(),
        timestamps: a.timestamps,
    };

    let mut tasks: JoinSet<Result<()>> = JoinSet::new();
    for c in containers {
        let (client, printer, options) = (client.clone(), printer.clone(), options.clone());
        tasks.spawn(
            async move { logprinter::follow_container(&client, &c, &printer, &options).await },
        );
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<ContainerEvent>();
    if a.follow {
        let (client, name, services) = (client.clone(), name.clone(), services.clone());
        tasks.spawn(async move {
            monitor::monitor(&client, &name, &services, move |e| {
                let _ = tx.send(e);
            })
            .await
        });
    } else {
        drop(tx);
    }
    loop {
        tokio::select! {
            Some(event) = rx.recv() => {
                on_event(&event, &printer);
                if event.kind == EventKind::Started {
                    let (client, printer, options) =
                        (client.clone(), printer.clone(), options.clone());
                    tasks.spawn(async move {
                        follow_started(&client, &event, &printer, options).await
                    });
                }
            }
            Some(done) = tasks.join_next() => done??,
            else => break,
        }
    }
    Ok(0)
}

/// docker compose's log printer on the monitor's events: exits and replacements.
fn on_event(e: &ContainerEvent, printer: &LogPrinter) {
    match e.kind {
        EventKind::Exited if e.restarting => printer.status(
            &e.source,
            &format!("exited with code {} (restarting)", e.exit_code),
        ),
        EventKind::Exited => {
            printer.status(&e.source, &format!("exited with code {}", e.exit_code))
        }
        EventKind::Recreated => {
            let replaced = e
                .attributes
                .get(crate::compose::labels::CONTAINER_REPLACE)
                .cloned()
                .unwrap_or_default();
            printer.status(&replaced, "has been recreated");
        }
        _ => {}
    }
}

/// A container that started while following: its logs from its start on.
async fn follow_started(
    client: &Client,
    e: &ContainerEvent,
    printer: &LogPrinter,
    mut options: LogOptions,
) -> Result<()> {
    let info = client.container_inspect(&e.id).await?;
    options.since = info["State"]["StartedAt"].as_str().map(String::from);
    let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
    logprinter::stream_logs(client, &e.id, &e.source, tty, printer, &options).await
}
