//! What of a project exists on the engine, found by docker compose's labels (the same query
//! docker compose makes, so berth sees projects docker compose started and the reverse): its
//! containers by service and number, one-off `run` containers apart, and its networks and
//! volumes.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::Value;

use super::labels;
use crate::client::api::{containers, Filters};
use crate::client::Client;

/// One container of a project, from the engine's container list.
#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub service: String,
    pub number: u32,
    pub oneoff: bool,
    /// created, running, paused, restarting, removing, exited, dead.
    pub state: String,
    /// The engine's human status ("Up 3 seconds (healthy)").
    pub status: String,
    pub image: String,
    pub created: i64,
    pub labels: BTreeMap<String, String>,
    /// The raw summary, for the networks, mounts and ports it lists.
    pub summary: Value,
}

impl Container {
    pub fn from_summary(v: &Value) -> Container {
        let labels: BTreeMap<String, String> = v["Labels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let name = v["Names"][0]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string();
        Container {
            id: v["Id"].as_str().unwrap_or_default().to_string(),
            service: labels.get(labels::SERVICE).cloned().unwrap_or_default(),
            number: labels
                .get(labels::CONTAINER_NUMBER)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            oneoff: labels.get(labels::ONEOFF).map(String::as_str) == Some("True"),
            state: v["State"].as_str().unwrap_or_default().to_string(),
            status: v["Status"].as_str().unwrap_or_default().to_string(),
            image: v["Image"].as_str().unwrap_or_default().to_string(),
            created: v["Created"].as_i64().unwrap_or(0),
            name,
            labels,
            summary: v.clone(),
        }
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    pub fn is_running(&self) -> bool {
        self.state == "running"
    }

    /// The ids of the networks the container is attached to.
    pub fn network_ids(&self) -> Vec<String> {
        self.summary["NetworkSettings"]["Networks"]
            .as_object()
            .map(|m| {
                m.values()
                    .filter_map(|n| n["NetworkID"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The names of the volumes mounted in the container.
    pub fn volume_names(&self) -> Vec<String> {
        self.summary["Mounts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|m| m["Type"] == "volume")
                    .filter_map(|m| m["Name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Which containers a query wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneOff {
    Include,
    Exclude,
    Only,
}

/// The project's containers (all states when `all`), optionally only some services, sorted
/// by service then number.
pub async fn containers(
    client: &Client,
    project: &str,
    oneoff: OneOff,
    all: bool,
    services: &[String],
) -> Result<Vec<Container>> {
    let mut filters = Filters::one("label", &labels::project_filter(project));
    match oneoff {
        OneOff::Include => {}
        OneOff::Exclude => filters.add("label", &format!("{}=False", labels::ONEOFF)),
        OneOff::Only => filters.add("label", &format!("{}=True", labels::ONEOFF)),
    }
    if services.len() == 1 {
        filters.add("label", &labels::service_filter(&services[0]));
    }
    // docker compose only counts containers it created, which all carry a config hash.
    filters.add("label", labels::CONFIG_HASH);
    let list: Vec<Value> = client
        .send_as(containers::list(all, None, false, &filters))
        .await?;
    let mut out: Vec<Container> = list
        .iter()
        .map(Container::from_summary)
        .filter(|c| services.is_empty() || services.contains(&c.service))
        .collect();
    out.sort_by(|a, b| (&a.service, a.number, &a.name).cmp(&(&b.service, b.number, &b.name)));
    Ok(out)
}

/// The project's networks as the engine lists them.
pub async fn project_networks(client: &Client, project: &str) -> Result<Vec<Value>> {
    client
        .network_list(&Filters::one("label", &labels::project_filter(project)))
        .await
}

/// The project's volumes as the engine lists them.
pub async fn project_volumes(client: &Client, project: &str) -> Result<Vec<Value>> {
    let v = client
        .volume_list(&Filters::one("label", &labels::project_filter(project)))
        .await?;
    Ok(v["Volumes"].as_array().cloned().unwrap_or_default())
}

/// A project found on the engine: name, container states, config files.
#[derive(Debug, Clone)]
pub struct ProjectSummary {
    pub name: String,
    /// State → count, e.g. running → 2.
    pub states: BTreeMap<String, usize>,
    /// Every container's `config_files` entries, each once in the order met (docker compose's
    /// `combinedConfigFiles`); `N/A` when a container lacks the label.
    pub config_files: String,
    pub working_dir: String,
}

impl ProjectSummary {
    /// docker compose ls's STATUS: `running(2), exited(1)`.
    pub fn status(&self) -> String {
        self.states
            .iter()
            .map(|(s, n)| format!("{s}({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every compose project that has containers on the engine (running ones only unless `all`),
/// by name, as docker compose's `ls` finds them.
pub async fn projects(client: &Client, all: bool) -> Result<Vec<ProjectSummary>> {
    let mut filters = Filters::one("label", labels::PROJECT);
    filters.add("label", labels::CONFIG_HASH);
    let list: Vec<Value> = client
        .send_as(containers::list(all, None, false, &filters))
        .await?;
    Ok(summarize(list.iter().map(Container::from_summary)))
}

fn summarize(list: impl Iterator<Item = Container>) -> Vec<ProjectSummary> {
    let mut by_name: BTreeMap<String, (ProjectSummary, Option<Vec<String>>)> = BTreeMap::new();
    for c in list {
        let Some(name) = c.label(labels::PROJECT) else {
            continue;
        };
        let (p, files) = by_name.entry(name.to_string()).or_insert_with(|| {
            let summary = ProjectSummary {
                name: name.to_string(),
                states: BTreeMap::new(),
                config_files: String::new(),
                working_dir: c.label(labels::WORKING_DIR).unwrap_or_default().to_string(),
            };
            (summary, Some(Vec::new()))
        });
        *p.states.entry(c.state.clone()).or_default() += 1;
        match (c.label(labels::CONFIG_FILES), files.as_mut()) {
            (Some(list), Some(files)) => {
                for f in list.split(',') {
                    if !files.iter().any(|x| x == f) {
                        files.push(f.to_string());
                    }
                }
            }
            _ => *files = None,
        }
    }
    by_name
        .into_values()
        .map(|(mut p, files)| {
            p.config_files = files.map_or_else(|| "N/A".to_string(), |f| f.join(","));
            p
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(project: &str, state: &str, files: Option<&str>) -> Container {
        let mut labels = json!({ labels::PROJECT: project });
        if let Some(f) = files {
            labels[labels::CONFIG_FILES] = json!(f);
        }
        Container::from_summary(&json!({"Id": "x", "State": state, "Labels": labels}))
    }

    #[test]
    fn projects_combine_states_and_config_files_like_docker_compose() {
        let list = summarize(
            vec![
                c("b", "running", Some("/b/compose.yaml")),
                c("a", "running", Some("/a/compose.yaml,/a/override.yaml")),
                c("a", "exited", Some("/a/compose.yaml,/a/extra.yaml")),
                c("a", "running", Some("/a/compose.yaml")),
                c("c", "running", None),
            ]
            .into_iter(),
        );
        let names: Vec<&str> = list.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(list[0].status(), "exited(1), running(2)");
        assert_eq!(
            list[0].config_files,
            "/a/compose.yaml,/a/override.yaml,/a/extra.yaml"
        );
        assert_eq!(list[2].config_files, "N/A");
    }
}
