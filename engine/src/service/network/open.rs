//! Opening the service: load the network records and create or refresh docker's predefined
//! networks (`bridge`, `host`, `none`), with or without the host side.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use super::host::{LinuxHost, NetworkHost};
use super::{NetworkService, State};
use crate::error::Result;
use crate::network::store::{NetworkRecord, NetworkStore};
use crate::network::NetworkOptions;
use crate::service::events::EventBus;
use crate::util::now_rfc3339;

impl NetworkService {
    /// Load the records, create the predefined networks on first use and make sure every bridge
    /// exists (after a reboot none does). The engine itself uses `open_offline` + `bring_up_host`
    /// so that the host work happens after its socket answers.
    pub fn open(data_root: &Path, opts: NetworkOptions, events: EventBus) -> Result<Arc<Self>> {
        let svc = Self::open_offline(data_root, opts, events)?;
        svc.bring_up_host()?;
        Ok(svc)
    }

    /// Load and create the records without touching the host (no bridge, no sysctl): for
    /// in-process API tests that never start a bridge-mode container. A start would fail with
    /// "bridge ... missing".
    pub fn open_offline(
        data_root: &Path,
        opts: NetworkOptions,
        events: EventBus,
    ) -> Result<Arc<Self>> {
        Self::open_with_host(data_root, opts, events, Arc::new(LinuxHost))
    }

    /// `open_offline` with the host operations of `host` (a recording fake in unit tests).
    pub fn open_with_host(
        data_root: &Path,
        opts: NetworkOptions,
        events: EventBus,
        host: Arc<dyn NetworkHost>,
    ) -> Result<Arc<Self>> {
        let store = NetworkStore::open(data_root)?;
        let mut state = State::default();
        for n in store.load_networks() {
            state.networks.insert(n.id.clone(), n);
        }
        for name in crate::network::PREDEFINED {
            let existing = state.networks.values().find(|n| n.name == name).cloned();
            let before = existing.as_ref().map(serde_json::to_value);
            let mut rec = existing.unwrap_or_else(|| NetworkRecord {
                id: crate::util::new_id(),
                name: name.into(),
                created: now_rfc3339(),
                driver: match name {
                    "bridge" => "bridge",
                    "host" => "host",
                    _ => "null",
                }
                .into(),
                subnet: None,
                gateway: None,
                bridge: String::new(),
                internal: false,
                attachable: false,
                labels: HashMap::new(),
                options: HashMap::new(),
                ip_range: None,
                aux_addresses: Default::default(),
                predefined: true,
                enable_ipv6: false,
                ipv6: None,
            });
            if name == "bridge" {
                // The default bridge follows the engine's options at every start.
                rec.subnet = Some(opts.bridge_subnet.to_string());
                rec.gateway = opts.bridge_subnet.first_host();
                rec.bridge = opts.bridge_name.clone();
                rec.options = HashMap::from([
                    (
                        "com.docker.network.bridge.default_bridge".into(),
                        "true".into(),
                    ),
                    (
                        "com.docker.network.bridge.name".into(),
                        opts.bridge_name.clone(),
                    ),
                    (
                        "com.docker.network.bridge.enable_ip_masquerade".into(),
                        "true".into(),
                    ),
                    (crate::network::MTU_OPTION.into(), opts.mtu.to_string()),
                ]);
            }
            // Only a new or changed record is written (an fsync at every start delays the first
            // answer).
            if before.and_then(|b| b.ok()) != serde_json::to_value(&rec).ok() {
                store.save_network(&rec)?;
            }
            state.networks.insert(rec.id.clone(), rec);
        }
        Ok(Arc::new(NetworkService {
            opts,
            store,
            events,
            state: Mutex::new(state),
            observer: OnceLock::new(),
            host_error: Mutex::new(None),
            host,
        }))
    }
}
