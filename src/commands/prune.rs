//! The shared shape of docker's `container|volume|network prune`: a confirmation unless `-f`, one
//! POST with the filters, then the list of what went and the space reclaimed.

use std::io::Write;

use anyhow::Result;
use serde_json::Value;

use super::{out, Ctx};
use crate::client::api::{Endpoint, Filters};
use crate::format::units;

pub struct Prune<'a> {
    /// What the warning says will go: "all stopped containers".
    pub warning: &'a str,
    /// The prune call for the filters, e.g. `api::containers::prune`.
    pub endpoint: fn(&Filters) -> Endpoint,
    /// The response's list of removed objects: "ContainersDeleted".
    pub deleted_key: &'a str,
    /// The heading above that list: "Deleted Containers".
    pub heading: &'a str,
    /// Networks free no space: docker prints no total for them.
    pub reports_space: bool,
}

impl Prune<'_> {
    pub async fn run(&self, ctx: &Ctx, force: bool, filters: &[String]) -> Result<i32> {
        if !force && !confirm(self.warning)? {
            return Ok(0);
        }
        let endpoint = (self.endpoint)(&Filters::parse(filters)?);
        let client = ctx.client().await?;
        let v = client.send(endpoint).await?.unwrap_or(Value::Null);
        out(&self.report(&v));
        Ok(0)
    }

    fn report(&self, v: &Value) -> String {
        let mut text = String::new();
        // Ids or names; images report {"Untagged": ..} / {"Deleted": ..} objects instead.
        let deleted: Vec<String> = v[self.deleted_key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| match item {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o.iter().find_map(|(k, v)| {
                    v.as_str()
                        .map(|v| format!("{}: {v}", k.to_ascii_lowercase()))
                }),
                _ => None,
            })
            .collect();
        if !deleted.is_empty() {
            text.push_str(&format!("{}:\n", self.heading));
            for d in deleted {
                text.push_str(&d);
                text.push('\n');
            }
            if self.reports_space {
                text.push('\n');
            }
        }
        if self.reports_space {
            text.push_str(&format!(
                "Total reclaimed space: {}\n",
                units::human_size(v["SpaceReclaimed"].as_f64().unwrap_or(0.0))
            ));
        }
        text
    }
}

/// docker's prompt on stderr; true when the answer is y or yes.
fn confirm(warning: &str) -> Result<bool> {
    eprint!("WARNING! This will remove {warning}.\nAre you sure you want to continue? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_like_docker() {
        let p = Prune {
            warning: "all stopped containers",
            endpoint: crate::client::api::containers::prune,
            deleted_key: "ContainersDeleted",
            heading: "Deleted Containers",
            reports_space: true,
        };
        let v = serde_json::json!({"ContainersDeleted": ["abc", "def"], "SpaceReclaimed": 2048});
        assert_eq!(
            p.report(&v),
            "Deleted Containers:\nabc\ndef\n\nTotal reclaimed space: 2.048kB\n"
        );
        let none = serde_json::json!({"ContainersDeleted": null, "SpaceReclaimed": 0});
        assert_eq!(p.report(&none), "Total reclaimed space: 0B\n");
        let nets = Prune {
            warning: "all custom networks not used by at least one container",
            endpoint: crate::client::api::networks::prune,
            deleted_key: "NetworksDeleted",
            heading: "Deleted Networks",
            reports_space: false,
        };
        let v = serde_json::json!({"NetworksDeleted": ["appnet"]});
        assert_eq!(nets.report(&v), "Deleted Networks:\nappnet\n");
        let images = Prune {
            warning: "all dangling images",
            endpoint: crate::client::api::images::prune,
            deleted_key: "ImagesDeleted",
            heading: "Deleted Images",
            reports_space: true,
        };
        let v = serde_json::json!({"ImagesDeleted": [{"Untagged": "busybox:old"}, {"Deleted": "sha256:ab"}], "SpaceReclaimed": 0});
        assert_eq!(
            images.report(&v),
            "Deleted Images:\nuntagged: busybox:old\ndeleted: sha256:ab\n\nTotal reclaimed space: 0B\n"
        );
    }
}
