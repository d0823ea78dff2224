//! `berth compose ps`: the project's containers as docker compose lists them (its `ps` command
//! and backend): found by label from the project name, each inspected for its health and exit
//! code, filtered by status, sorted by name, then rendered by [`super::ps_format`].

use anyhow::Result;
use chrono::Utc;
use serde_json::Value;

use super::args::PsArgs;
use super::ps_format::{render, Summary};
use super::target::{fail, project_or_name, service_names};
use super::Session;
use crate::client::api::{containers, Filters};
use crate::commands::{out, Ctx};
use crate::compose::labels;
use crate::compose::observed::OneOff;

/// `--filter KEY=VAL`: only `status` is known (`source` is docker compose's unimplemented one).
fn statuses(a: &PsArgs) -> Result<Vec<String>> {
    let mut statuses = a.status.clone();
    for f in &a.filter {
        let Some((key, value)) = f.split_once('=') else {
            return Err(fail("arguments to --filter should be in form KEY=VAL"));
        };
        match key {
            "status" => statuses.push(value.to_string()),
            "source" => return Err(fail("not implemented")),
            other => return Err(fail(format!("unknown filter {other}"))),
        }
    }
    Ok(statuses)
}

/// The engine's entries for the project's containers in the engine's order: docker compose's
/// `getContainers` (the project label, a config hash, one-offs as asked, stopped ones with
/// `all`).
pub async fn list(
    client: &crate::client::Client,
    project: &str,
    oneoff: OneOff,
    all: bool,
    services: &[String],
) -> Result<Vec<Value>> {
    let mut filters = Filters::one("label", &labels::project_filter(project));
    if services.len() == 1 {
        filters.add("label", &labels::service_filter(&services[0]));
    }
    filters.add("label", labels::CONFIG_HASH);
    match oneoff {
        OneOff::Include => {}
        OneOff::Exclude => filters.add("label", &format!("{}=False", labels::ONEOFF)),
        OneOff::Only => filters.add("label", &format!("{}=True", labels::ONEOFF)),
    }
    let list: Vec<Value> = client
        .send_as(containers::list(all, None, false, &filters))
        .await?;
    Ok(list
        .into_iter()
        .filter(|c| {
            services.is_empty()
                || services
                    .iter()
                    .any(|s| c["Labels"][labels::SERVICE].as_str() == Some(s))
        })
        .collect())
}

pub async fn run(ctx: &Ctx, session: &Session, a: PsArgs) -> Result<i32> {
    let statuses = statuses(&a)?;
    let mut services = a.service_names.clone();
    let (loaded, name) = project_or_name(session, &services)?;
    if let Some(names) = service_names(&loaded) {
        if let Some(unknown) = services.iter().find(|s| !names.contains(s)) {
            return Err(fail(format!("no such service: {unknown}")));
        }
        if services.is_empty() && !a.orphans {
            services = names;
        }
    }
    let client = ctx.client().await?;
    let all = a.all || !statuses.is_empty();
    let oneoff = if all {
        OneOff::Include
    } else {
        OneOff::Exclude
    };
    let entries = list(&client, &name, oneoff, all, &services).await?;
    let inspects = futures_util::future::try_join_all(entries.iter().map(|e| {
        let client = client.clone();
        async move {
            client
                .container_inspect(e["Id"].as_str().unwrap_or_default())
                .await
        }
    }))
    .await?;
    let mut summaries: Vec<Summary> = entries
        .iter()
        .zip(&inspects)
        .map(|(e, i)| Summary::new(e, i))
        .filter(|c| statuses.is_empty() || statuses.contains(&c.state))
        .collect();
    summaries.sort_by(|a, b| a.name.cmp(&b.name));

    if a.quiet {
        out(&summaries
            .iter()
            .map(|c| format!("{}\n", c.id))
            .collect::<String>());
        return Ok(0);
    }
    if a.services {
        let mut seen: Vec<&str> = Vec::new();
        for c in &summaries {
            if !seen.contains(&c.service.as_str()) {
                seen.push(&c.service);
            }
        }
        // One line per service, and an empty line when there is none, as docker compose.
        out(&format!("{}\n", seen.join("\n")));
        return Ok(0);
    }
    out(&render(
        &summaries,
        a.format.as_deref(),
        !a.no_trunc,
        Utc::now(),
    )?);
    Ok(0)
}
