//! Network endpoints (`/networks/...`): list, inspect, create, remove, connect, disconnect
//! and prune, with the typed bodies of create, connect and disconnect.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use super::{seg, Endpoint, Filters, Query};
use crate::client::Client;

/// `POST /networks/create`'s body (docker's NetworkCreateRequest); unset options stay out.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkCreate {
    pub name: String,
    pub driver: String,
    pub internal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_duplicate: Option<bool>,
    #[serde(rename = "IPAM", skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<BTreeMap<String, String>>,
}

/// The address plan of a network: the IPAM driver and its subnets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    pub driver: String,
    pub config: Vec<IpamConfig>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpamConfig {
    pub subnet: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
}

/// `POST /networks/{id}/connect`'s body.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkConnect {
    pub container: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_config: Option<EndpointConfig>,
}

/// The container's endpoint on the network: extra DNS names and a fixed address.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(rename = "IPAMConfig", skip_serializing_if = "Option::is_none")]
    pub ipam_config: Option<EndpointIpam>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EndpointIpam {
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
}

/// `POST /networks/{id}/disconnect`'s body.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkDisconnect {
    pub container: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

/// `GET /networks[?filters=]`.
pub fn list(filters: &Filters) -> Endpoint {
    let q = Query::new().filters(filters);
    Endpoint::get(format!("/networks{}", q.encode()))
}

/// `GET /networks/{id}`.
pub fn inspect(id: &str) -> Endpoint {
    Endpoint::get(format!("/networks/{}", seg(id)))
}

/// `POST /networks/create`.
pub fn create(spec: &NetworkCreate) -> Endpoint {
    Endpoint::post("/networks/create".into()).json(spec)
}

/// `DELETE /networks/{id}`.
pub fn remove(id: &str) -> Endpoint {
    Endpoint::delete(format!("/networks/{}", seg(id)))
}

/// `POST /networks/{id}/connect`.
pub fn connect(id: &str, body: &NetworkConnect) -> Endpoint {
    Endpoint::post(format!("/networks/{}/connect", seg(id))).json(body)
}

/// `POST /networks/{id}/disconnect`.
pub fn disconnect(id: &str, body: &NetworkDisconnect) -> Endpoint {
    Endpoint::post(format!("/networks/{}/disconnect", seg(id))).json(body)
}

/// `POST /networks/prune[?filters=]`.
pub fn prune(filters: &Filters) -> Endpoint {
    let q = Query::new().filters(filters);
    Endpoint::post(format!("/networks/prune{}", q.encode()))
}

impl Client {
    pub async fn network_list(&self, filters: &Filters) -> Result<Vec<Value>> {
        self.send_as(list(filters)).await
    }

    pub async fn network_inspect(&self, id: &str) -> Result<Value> {
        self.send_as(inspect(id)).await
    }

    /// The create answer (`Id`, `Warning`).
    pub async fn network_create(&self, spec: &NetworkCreate) -> Result<Value> {
        Ok(self.send(create(spec)).await?.unwrap_or(Value::Null))
    }

    pub async fn network_remove(&self, id: &str) -> Result<()> {
        self.send(remove(id)).await.map(drop)
    }

    pub async fn network_connect(&self, id: &str, body: &NetworkConnect) -> Result<()> {
        self.send(connect(id, body)).await.map(drop)
    }

    pub async fn network_disconnect(&self, id: &str, body: &NetworkDisconnect) -> Result<()> {
        self.send(disconnect(id, body)).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_leave_out_what_is_unset() {
        let e = connect(
            "n",
            &NetworkConnect {
                container: "c".into(),
                endpoint_config: None,
            },
        );
        assert_eq!(e.body, Some(json!({"Container": "c"})));
        let spec = NetworkCreate {
            name: "n".into(),
            driver: "bridge".into(),
            ipam: Some(Ipam {
                driver: "default".into(),
                config: vec![IpamConfig {
                    subnet: "10.1.0.0/24".into(),
                    gateway: None,
                }],
            }),
            ..Default::default()
        };
        assert_eq!(
            create(&spec).body,
            Some(json!({"Name": "n", "Driver": "bridge", "Internal": false,
                "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.1.0.0/24"}]}}))
        );
    }
}
