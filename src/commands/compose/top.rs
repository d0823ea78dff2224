//! `berth compose top`: the processes of the project's running containers in one table, as
//! docker compose v2.40.3 prints it: SERVICE and replica number (`#`) first, then the engine's
//! `ps` columns, CMD always last, `-` where a container lacks a column.

use anyhow::Result;
use serde_json::Value;

use super::args::ServicesArgs;
use super::ps_format::canonical_name;
use super::target::project_name;
use super::Session;
use crate::client::api::{containers, Filters};
use crate::commands::{out, Ctx};
use crate::compose::labels;
use crate::format::table::TabWriter;

/// One container's `top`: docker compose's `ContainerProcSummary`.
pub struct Procs {
    pub name: String,
    pub service: String,
    pub replica: String,
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|c| c.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The table: columns in the order first met, CMD moved last, one row per process.
pub fn table(mut list: Vec<Procs>) -> String {
    list.sort_by(|a, b| a.name.cmp(&b.name));
    let mut header: Vec<String> = vec!["SERVICE".into(), "#".into()];
    for c in &list {
        for t in &c.titles {
            if !c.processes.is_empty() && !header.contains(t) {
                header.push(t.clone());
            }
        }
    }
    if let Some(pos) = header.iter().position(|h| h == "CMD") {
        let cmd = header.remove(pos);
        header.push(cmd);
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for c in &list {
        for p in &c.processes {
            let row = header
                .iter()
                .map(|h| match h.as_str() {
                    "SERVICE" => c.service.clone(),
                    "#" => c.replica.clone(),
                    _ => c
                        .titles
                        .iter()
                        .position(|t| t == h)
                        .and_then(|i| p.get(i).cloned())
                        .unwrap_or_else(|| "-".into()),
                })
                .collect::<Vec<_>>();
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut text = header.join("\t") + "\n";
    for r in rows {
        text.push_str(&r.join("\t"));
        text.push('\n');
    }
    TabWriter::new(4, 2).format(&text)
}

pub async fn run(ctx: &Ctx, session: &Session, a: ServicesArgs) -> Result<i32> {
    let name = project_name(session)?;
    let client = ctx.client().await?;
    // Running containers, one-offs included, as docker compose's `Top`.
    let mut filters = Filters::one("label", &labels::project_filter(&name));
    filters.add("label", labels::CONFIG_HASH);
    let list: Vec<Value> = client
        .send_as(containers::list(false, None, false, &filters))
        .await?;
    let list: Vec<Value> = list
        .into_iter()
        .filter(|c| {
            a.services.is_empty()
                || a.services
                    .iter()
                    .any(|s| c["Labels"][labels::SERVICE].as_str() == Some(s))
        })
        .collect();
    let tops = futures_util::future::try_join_all(list.iter().map(|c| {
        let client = client.clone();
        async move {
            client
                .container_top(c["Id"].as_str().unwrap_or_default(), None)
                .await
        }
    }))
    .await?;
    let procs = list
        .iter()
        .zip(tops)
        .map(|(c, top)| {
            let names = strings(&c["Names"]);
            let name = canonical_name(&names, c["Id"].as_str().unwrap_or_default());
            Procs {
                service: c["Labels"][labels::SERVICE]
                    .as_str()
                    .map_or_else(|| name.clone(), String::from),
                replica: c["Labels"][labels::CONTAINER_NUMBER]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                name,
                titles: strings(&top["Titles"]),
                processes: top["Processes"]
                    .as_array()
                    .map(|a| a.iter().map(strings).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    out(&table(procs));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn procs(name: &str, service: &str, replica: &str, rows: &[&[&str]]) -> Procs {
        let titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];
        Procs {
            name: name.into(),
            service: service.into(),
            replica: replica.into(),
            titles: titles.iter().map(|t| t.to_string()).collect(),
            processes: rows
                .iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect(),
        }
    }

    /// docker compose v2.40.3's `top` of the same project on a berth engine.
    #[test]
    fn one_table_as_docker_compose_prints_it() {
        let list = vec![
            procs(
                "demo-web-1",
                "web",
                "1",
                &[
                    &["root", "1173", "1170", "0", "18:58", "?", "00:00:00", "sh -c echo hello from web; echo oops >&2; i=0; while true; do sleep 1; done"],
                    &["root", "1618", "1173", "0", "18:59", "?", "00:00:00", "sleep 1"],
                ],
            ),
            procs(
                "demo-database-2",
                "database",
                "2",
                &[&["root", "1185", "1184", "0", "18:58", "?", "00:00:00", "sleep 1000"]],
            ),
            procs(
                "demo-database-1",
                "database",
                "1",
                &[&["root", "1179", "1178", "0", "18:58", "?", "00:00:00", "sleep 1000"]],
            ),
        ];
        assert_eq!(
            table(list),
            "SERVICE   #   UID   PID   PPID  C   STIME  TTY  TIME      CMD\n\
             database  1   root  1179  1178  0   18:58  ?    00:00:00  sleep 1000\n\
             database  2   root  1185  1184  0   18:58  ?    00:00:00  sleep 1000\n\
             web       1   root  1173  1170  0   18:58  ?    00:00:00  sh -c echo hello from web; echo oops >&2; i=0; while true; do sleep 1; done\n\
             web       1   root  1618  1173  0   18:59  ?    00:00:00  sleep 1\n"
        );
        assert_eq!(table(vec![]), "");
    }

    #[test]
    fn cmd_stays_last_and_missing_columns_are_dashes() {
        let mut a = procs("a", "a", "1", &[&["1", "sh"]]);
        a.titles = vec!["PID".into(), "CMD".into()];
        let mut b = procs("b", "b", "1", &[&["2", "x", "y"]]);
        b.titles = vec!["PID".into(), "CMD".into(), "USER".into()];
        assert_eq!(
            table(vec![a, b]),
            "SERVICE  #   PID  USER  CMD\na        1   1    -     sh\nb        1   2    y     x\n"
        );
    }
}
