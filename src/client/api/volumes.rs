//! Volume endpoints (`/volumes/...`): list, inspect, create, remove and prune.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use super::{seg, Endpoint, Filters, Query};
use crate::client::Client;

/// `POST /volumes/create`'s body; an empty name lets the engine make one up.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeCreate {
    pub name: String,
    pub driver: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver_opts: Option<BTreeMap<String, String>>,
    pub labels: BTreeMap<String, String>,
}

/// `GET /volumes[?filters=]`.
pub fn list(filters: &Filters) -> Endpoint {
    let q = Query::new().filters(filters);
    Endpoint::get(format!("/volumes{}", q.encode()))
}

/// `GET /volumes/{name}`.
pub fn inspect(name: &str) -> Endpoint {
    Endpoint::get(format!("/volumes/{}", seg(name)))
}

/// `POST /volumes/create`.
pub fn create(spec: &VolumeCreate) -> Endpoint {
    Endpoint::post("/volumes/create".into()).json(spec)
}

/// `DELETE /volumes/{name}[?force=1]`.
pub fn remove(name: &str, force: bool) -> Endpoint {
    let q = Query::new().flag("force", force);
    Endpoint::delete(format!("/volumes/{}{}", seg(name), q.encode()))
}

/// `POST /volumes/prune[?filters=]` (`all=true` takes named volumes too).
pub fn prune(filters: &Filters) -> Endpoint {
    let q = Query::new().filters(filters);
    Endpoint::post(format!("/volumes/prune{}", q.encode()))
}

impl Client {
    /// The list answer (`Volumes`, `Warnings`).
    pub async fn volume_list(&self, filters: &Filters) -> Result<Value> {
        self.send_as(list(filters)).await
    }

    /// The created volume.
    pub async fn volume_create(&self, spec: &VolumeCreate) -> Result<Value> {
        Ok(self.send(create(spec)).await?.unwrap_or(Value::Null))
    }

    pub async fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        self.send(remove(name, force)).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_all_is_a_filter() {
        assert_eq!(
            prune(&Filters::parse(&["all=true".into()]).unwrap()).path,
            "/volumes/prune?filters=%7B%22all%22%3A%5B%22true%22%5D%7D"
        );
        assert_eq!(remove("v", false).path, "/volumes/v");
    }
}
