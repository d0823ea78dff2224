//! `berth compose kill`, `pause` and `unpause`: a signal, a freeze or a thaw for each running
//! container of the project (of the named services), all at once, each reported with docker
//! compose's progress lines (`Container demo-web-1  Killed`).

use anyhow::Result;
use futures_util::future::join_all;

use super::args::{KillArgs, ServicesArgs};
use super::target::{project_or_name, service_names};
use super::Session;
use crate::client::Client;
use crate::commands::Ctx;
use crate::compose::observed::{self, Container, OneOff};
use crate::compose::progress::{container_id, Event, Progress, Status};

/// Run `act` on every container at once, with `working`/`done` events around it and docker
/// compose's `Error while …` event on failure; the first error is the command's.
async fn each<F, Fut>(
    containers: &[Container],
    progress: &Progress,
    working: Option<&str>,
    done: &str,
    failed: &str,
    act: F,
) -> Result<()>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let results = join_all(containers.iter().map(|c| {
        let id = container_id(&c.name);
        let call = act(c.id.clone());
        async move {
            if let Some(w) = working {
                progress.event(Event::working(id.clone(), w));
            }
            match call.await {
                Ok(()) => {
                    progress.event(Event::done(id, done));
                    Ok(())
                }
                Err(e) => {
                    if !failed.is_empty() {
                        progress.event(Event::new(id, Status::Error, failed));
                    }
                    Err(e)
                }
            }
        }
    }))
    .await;
    results.into_iter().collect()
}

pub async fn kill(ctx: &Ctx, session: &Session, a: KillArgs) -> Result<i32> {
    let (loaded, name) = project_or_name(session, &a.services)?;
    let client = ctx.client().await?;
    let mut containers =
        observed::containers(&client, &name, OneOff::Include, false, &a.services).await?;
    // Without a project file, the services are those the containers name: nothing is orphaned.
    if let Some(services) = service_names(&loaded) {
        if !a.remove_orphans {
            containers.retain(|c| services.contains(&c.service));
        }
    }
    if containers.is_empty() {
        // docker compose's words, without a newline.
        eprint!("no container to kill");
        return Ok(0);
    }
    let signal = a.signal.clone();
    each(
        &containers,
        &Progress::stderr(),
        Some("Killing"),
        "Killed",
        "Error while Killing",
        |id| {
            let (client, signal) = (client.clone(), signal.clone());
            async move { client.container_kill(&id, Some(&signal)).await }
        },
    )
    .await?;
    Ok(0)
}

/// `pause` (`freeze`) or `unpause` of the project's running containers, one-offs left alone.
pub async fn pause(ctx: &Ctx, session: &Session, a: ServicesArgs, freeze: bool) -> Result<i32> {
    let (loaded, name) = project_or_name(session, &a.services)?;
    let client: Client = ctx.client().await?;
    let mut containers =
        observed::containers(&client, &name, OneOff::Exclude, false, &a.services).await?;
    if let Some(services) = service_names(&loaded) {
        containers.retain(|c| services.contains(&c.service));
    }
    let done = if freeze { "Paused" } else { "Unpaused" };
    each(&containers, &Progress::stderr(), None, done, "", |id| {
        let client = client.clone();
        async move { client.container_pause(&id, freeze).await }
    })
    .await?;
    Ok(0)
}
