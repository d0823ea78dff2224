//! What the network router (`api::networks`) asks of the engine, and `Engine`'s answers (moby's
//! `router/network/backend.go`). All of it is blocking (netlink, nftables, files): the router
//! calls it on the blocking pool.

use serde_json::Value;

use crate::api::network_views;
use crate::error::Result;
use crate::model::container::Status;
use crate::network::store::NetworkRecord;
use crate::service::Engine;

pub trait NetworkBackend: Send + Sync + 'static {
    /// Find by full id, name or unique id prefix.
    fn network(&self, key: &str) -> Result<NetworkRecord>;
    fn networks(&self) -> Vec<NetworkRecord>;
    /// docker's inspect document, with the attached containers when asked.
    fn network_inspect(&self, n: &NetworkRecord, with_containers: bool) -> Value;
    /// Create from docker's create body.
    fn network_create(&self, body: &Value) -> Result<NetworkRecord>;
    fn network_remove(&self, key: &str) -> Result<()>;
    /// Remove the unused custom networks `keep` does not keep; their names.
    fn network_prune(&self, keep: &dyn Fn(&NetworkRecord) -> bool) -> Vec<String>;
    /// Attach `container` (a running one at once) with docker's `EndpointConfig`.
    fn network_connect(&self, network: &str, container: &str, endpoint: &Value) -> Result<()>;
    fn network_disconnect(&self, network: &str, container: &str) -> Result<()>;
}

impl NetworkBackend for Engine {
    fn network(&self, key: &str) -> Result<NetworkRecord> {
        self.networks.get(key)
    }

    fn networks(&self) -> Vec<NetworkRecord> {
        self.networks.list()
    }

    fn network_inspect(&self, n: &NetworkRecord, with_containers: bool) -> Value {
        network_views::network_json(&self.networks, n, with_containers)
    }

    fn network_create(&self, body: &Value) -> Result<NetworkRecord> {
        self.networks.create(body)
    }

    fn network_remove(&self, key: &str) -> Result<()> {
        self.networks.remove(key)
    }

    fn network_prune(&self, keep: &dyn Fn(&NetworkRecord) -> bool) -> Vec<String> {
        self.networks.prune(keep)
    }

    fn network_connect(&self, network: &str, container: &str, endpoint: &Value) -> Result<()> {
        let c = self.containers.get(container)?;
        let rec = c.record();
        let dir = self.containers.dir(&rec.id);
        let running = matches!(rec.state.status, Status::Running | Status::Paused);
        self.networks
            .connect(network, &rec, running, &dir, endpoint)
    }

    fn network_disconnect(&self, network: &str, container: &str) -> Result<()> {
        let c = self.containers.get(container)?;
        let rec = c.record();
        let dir = self.containers.dir(&rec.id);
        self.networks.disconnect(network, &rec, &dir)
    }
}
