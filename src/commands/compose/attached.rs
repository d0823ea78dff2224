//! Attached `up`: the services' output followed with docker compose's coloured prefixes while
//! the project runs; `service-1 exited with code N` as containers stop; Ctrl-C stops the project
//! gracefully ("Gracefully Stopping... press Ctrl+C again to force"), a second Ctrl-C kills it;
//! `--abort-on-container-exit` / `--exit-code-from` stop everything at the first exit.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Result};

use super::args::UpArgs;
use crate::compose::converge::{start, stop, Compose, StartOptions};
use crate::compose::logprinter::{follow_container, LogOptions, LogPrinter, PrinterOptions};
use crate::compose::monitor::{monitor, EventKind};
use crate::compose::observed::{Container, OneOff};
use crate::compose::types::Project;

/// The services whose output is shown: `--attach` (checked), else every service started, less
/// `--no-attach` and those with `attach: false`.
fn attach_set(project: &Project, a: &UpArgs) -> Result<Vec<String>> {
    if !a.attach.is_empty() {
        for s in &a.attach {
            if !project.services.contains_key(s) {
                return Err(anyhow!("cannot attach to services not included in up: {s}"));
            }
        }
        return Ok(a.attach.clone());
    }
    Ok(project
        .services
        .values()
        .filter(|s| a.services.is_empty() || a.services.contains(&s.name))
        .filter(|s| s.attach != Some(false))
        .filter(|s| !a.no_attach.contains(&s.name))
        .map(|s| s.name.clone())
        .collect())
}

pub async fn run(compose: &Compose, project: &Project, a: &UpArgs) -> Result<i32> {
    let printer = LogPrinter::new(PrinterOptions {
        color: !a.no_color && std::io::stdout().is_terminal(),
        prefix: !a.no_log_prefix,
        timestamps: a.timestamps,
    });
    let attach = attach_set(project, a)?;
    let since = chrono::Utc::now().timestamp().to_string();
    let following: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let follow = |c: &Container| {
        if !attach.contains(&c.service) {
            return None;
        }
        if !following
            .lock()
            .map(|mut f| f.insert(c.id.clone()))
            .unwrap_or(false)
        {
            return None;
        }
        let (client, printer, c) = (compose.client.clone(), printer.clone(), c.clone());
        printer.register(&crate::compose::logprinter::display_name(&c));
        let opts = LogOptions {
            follow: true,
            since: Some(since.clone()),
            ..LogOptions::default()
        };
        Some(tokio::spawn(async move {
            let _ = follow_container(&client, &c, &printer, &opts).await;
        }))
    };
    let mut tasks = Vec::new();
    for c in compose
        .containers(&project.name, OneOff::Exclude, &[])
        .await?
    {
        tasks.extend(follow(&c));
    }
    let services: Vec<String> = a.services.clone();
    start::start(
        compose,
        project,
        &StartOptions {
            services: services.clone(),
            ..StartOptions::default()
        },
    )
    .await?;

    let cascade = a.abort_on_container_exit || a.exit_code_from.is_some();
    let exit_code: Arc<Mutex<Option<i32>>> = Arc::default();
    let aborted = Arc::new(Mutex::new(false));
    let (abort_tx, mut abort_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let new_follows: Arc<Mutex<Vec<Container>>> = Arc::default();
    let watch = {
        let printer = printer.clone();
        let exit_code = exit_code.clone();
        let aborted = aborted.clone();
        let new_follows = new_follows.clone();
        let exit_from = a.exit_code_from.clone();
        let attach = attach.clone();
        let client = compose.client.clone();
        let name = project.name.clone();
        async move {
            monitor(&client, &name, &attach, |e| match e.kind {
                EventKind::Exited => {
                    printer.status(&e.source, &format!("exited with code {}", e.exit_code));
                    if let Some(from) = &exit_from {
                        if &e.service == from {
                            if let Ok(mut c) = exit_code.lock() {
                                c.get_or_insert(e.exit_code as i32);
                            }
                        }
                    }
                    if cascade && !e.restarting {
                        if let Ok(mut done) = aborted.lock() {
                            if !*done {
                                *done = true;
                                if exit_from.is_none() {
                                    if let Ok(mut c) = exit_code.lock() {
                                        c.get_or_insert(e.exit_code as i32);
                                    }
                                }
                                let _ = abort_tx.send(());
                            }
                        }
                    }
                }
                EventKind::Started | EventKind::Created | EventKind::Recreated => {
                    if let Ok(mut f) = new_follows.lock() {
                        f.push(Container {
                            id: e.id.clone(),
                            name: e.attributes.get("name").cloned().unwrap_or_default(),
                            service: e.service.clone(),
                            number: 0,
                            oneoff: false,
                            state: "running".into(),
                            status: String::new(),
                            image: String::new(),
                            created: 0,
                            labels: e
                                .attributes
                                .iter()
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                            summary: serde_json::Value::Null,
                        });
                    }
                }
                EventKind::Restarted => {}
            })
            .await
        }
    };
    tokio::pin!(watch);
    let mut interrupts = 0;
    let mut ticker = tokio::time::interval(std::time::Duration::from_millis(200));
    loop {
        tokio::select! {
            r = &mut watch => { r?; break; }
            _ = tokio::signal::ctrl_c() => {
                interrupts += 1;
                if interrupts == 1 {
                    eprintln!("Gracefully Stopping... press Ctrl+C again to force");
                    let (compose, project, services) = (compose.clone(), project.clone(), services.clone());
                    tokio::spawn(async move {
                        let _ = stop::stop(&compose, &project.name, &services, None, Some(&project)).await;
                    });
                } else {
                    let _ = crate::compose::converge::stop::kill_all(compose, &project.name, &services).await;
                    break;
                }
            }
            Some(()) = abort_rx.recv() => {
                eprintln!("Aborting on container exit...");
                stop::stop(compose, &project.name, &services, a.timeout, Some(project)).await?;
            }
            _ = ticker.tick() => {
                let fresh: Vec<Container> = new_follows.lock().map(|mut f| std::mem::take(&mut *f)).unwrap_or_default();
                for c in fresh {
                    tasks.extend(follow(&c));
                }
            }
        }
    }
    for t in tasks {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), t).await;
    }
    if interrupts > 0 && !cascade {
        return Ok(130);
    }
    let code = exit_code.lock().ok().and_then(|c| *c).unwrap_or(0);
    Ok(code)
}
