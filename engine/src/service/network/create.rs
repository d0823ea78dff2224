//! `POST /networks/create`: validate the request, pick or check the subnet and gateway, bring the
//! bridge up and record the network.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use super::{NetworkService, State};
use crate::error::{EngineError, Result};
use crate::network::ipam::{self, Ipv4Net};
use crate::network::ipam6::Ipv6Net;
use crate::network::store::{Ipv6Config, NetworkRecord};
use crate::util::now_rfc3339;

impl NetworkService {
    /// `POST /networks/create`.
    pub fn create(&self, body: &Value) -> Result<NetworkRecord> {
        let name = body
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned();
        if name.is_empty() {
            return Err(EngineError::invalid("network name must not be empty"));
        }
        let driver = body.get("Driver").and_then(Value::as_str).unwrap_or("");
        if !driver.is_empty() && driver != "bridge" {
            return Err(EngineError::not_found(format!(
                "plugin \"{driver}\" not found: berth supports the bridge driver"
            )));
        }
        let enable_ipv6 = body.get("EnableIPv6").and_then(Value::as_bool) == Some(true);
        let strmap = |key: &str| -> HashMap<String, String> {
            body.get(key)
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let labels = strmap("Labels");
        let options = strmap("Options");
        if let Some(mtu) = options.get(crate::network::MTU_OPTION) {
            if crate::network::parse_mtu(mtu).is_none() {
                return Err(EngineError::invalid(format!(
                    "invalid MTU {mtu:?} in {}: a number from 68 to 65535",
                    crate::network::MTU_OPTION
                )));
            }
        }
        let (ipam_configs, v6_configs): (Vec<Value>, Vec<Value>) = body
            .pointer("/IPAM/Config")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .partition(|c| !is_v6_config(c));
        if ipam_configs.len() > 1 || v6_configs.len() > 1 {
            return Err(EngineError::invalid(
                "berth bridge networks take one IPAM config per address family (one IPv4 and one IPv6 subnet)",
            ));
        }
        let ipv6 = v6_configs.first().map(parse_v6_config).transpose()?;
        if enable_ipv6 && ipv6.is_none() {
            return Err(EngineError::not_found(
                "could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network",
            ));
        }
        let requested_subnet = ipam_configs
            .first()
            .and_then(|c| c.get("Subnet"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::parse::<Ipv4Net>)
            .transpose()?;
        let requested_gw = ipam_configs
            .first()
            .and_then(|c| c.get("Gateway"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|g| {
                g.parse::<Ipv4Addr>()
                    .map_err(|_| EngineError::invalid(format!("invalid gateway address {g:?}")))
            })
            .transpose()?;
        let first = ipam_configs.first().cloned().unwrap_or(Value::Null);
        let ip_range = first
            .get("IPRange")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(ipam::parse_range)
            .transpose()?;
        let aux_addresses = first
            .get("AuxiliaryAddresses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let ip = v.as_str().unwrap_or_default();
                ip.parse::<Ipv4Addr>()
                    .map(|ip| (k.clone(), ip))
                    .map_err(|_| {
                        EngineError::invalid(format!("invalid auxiliary address {k}: {ip:?}"))
                    })
            })
            .collect::<Result<std::collections::BTreeMap<_, _>>>()?;
        if (ip_range.is_some() || !aux_addresses.is_empty()) && requested_subnet.is_none() {
            return Err(EngineError::invalid(
                "an IP range or auxiliary addresses need a subnet",
            ));
        }
        if let (Some(r), Some(s)) = (ip_range, requested_subnet) {
            if !s.contains(r.addr()) || r.prefix() < s.prefix() {
                return Err(EngineError::invalid(format!(
                    "invalid ip range {r}: it must be inside subnet {s}"
                )));
            }
        }
        if let Some(s) = requested_subnet {
            if let Some((k, ip)) = aux_addresses.iter().find(|(_, ip)| !s.contains(**ip)) {
                return Err(EngineError::invalid(format!(
                    "auxiliary address: ({k}:{ip}) must belong to the master pool: {s}"
                )));
            }
        }
        if requested_gw.is_some() && requested_subnet.is_none() {
            return Err(EngineError::invalid("a gateway needs a subnet"));
        }

        let mut state = self.lock();
        if state.networks.values().any(|n| n.name == name) {
            return Err(EngineError::conflict(format!(
                "network with name {name} already exists"
            )));
        }
        if let Some(v6) = ipv6.as_ref().filter(|_| enable_ipv6) {
            Self::check_v6_pool(&state, v6)?;
        }
        let taken: Vec<Ipv4Net> = state.networks.values().filter_map(|n| n.subnet()).collect();
        let subnet = match requested_subnet {
            Some(s) => {
                if let Some(other) = state
                    .networks
                    .values()
                    .find(|n| n.subnet().is_some_and(|t| t.overlaps(&s)))
                {
                    return Err(EngineError::invalid(format!(
                        "invalid pool request: Pool overlaps with other one on this address space (subnet {s} overlaps network {} {})",
                        other.name,
                        other.subnet.clone().unwrap_or_default()
                    )));
                }
                s
            }
            None => {
                let mut all = taken.clone();
                all.extend(ipam::host_networks());
                ipam::pick_subnet(&self.opts.pool, self.opts.pool_size, &all).ok_or_else(|| {
                    EngineError::invalid(
                        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
                    )
                })?
            }
        };
        let gateway = match requested_gw {
            Some(g) if !subnet.contains(g) || g == subnet.addr() || g == subnet.broadcast() => {
                return Err(EngineError::invalid(format!(
                    "invalid gateway {g}: not a host address of subnet {subnet}"
                )))
            }
            Some(g) => g,
            None => subnet
                .first_host()
                .ok_or_else(|| EngineError::invalid(format!("subnet {subnet} is too small")))?,
        };
        let id = crate::util::new_id();
        let rec = NetworkRecord {
            bridge: options
                .get("com.docker.network.bridge.name")
                .filter(|b| !b.is_empty() && b.len() <= 15)
                .cloned()
                .unwrap_or_else(|| format!("br-{}", &id[..12])),
            id,
            name,
            created: now_rfc3339(),
            driver: "bridge".into(),
            subnet: Some(subnet.to_string()),
            gateway: Some(gateway),
            internal: body
                .get("Internal")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            attachable: body
                .get("Attachable")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            labels,
            options,
            ip_range: ip_range.map(|r| r.to_string()),
            aux_addresses,
            predefined: false,
            enable_ipv6,
            ipv6,
        };
        if state.networks.values().any(|n| n.bridge == rec.bridge) {
            return Err(EngineError::conflict(format!(
                "bridge name {} is used by another network",
                rec.bridge
            )));
        }
        // The record first: a kill before the bridge exists leaves a network the next engine
        // start brings up, never a bridge (holding its subnet's route) that no record names.
        self.store.save_network(&rec)?;
        state.networks.insert(rec.id.clone(), rec.clone());
        let done = self
            .bring_up(&rec, self.mtu_of(&rec))
            .and_then(|_| self.apply_nat(&state));
        if let Err(e) = done {
            state.networks.remove(&rec.id);
            let _ = self.store.remove_network(&rec.id);
            let _ = self.host.delete_link(&rec.bridge);
            let _ = self.apply_nat(&state);
            return Err(e);
        }
        let bridges = Self::bridge_names(&state);
        drop(state);
        if let Err(e) = self
            .host
            .open_foreign_forward(&self.opts.nft_table, &bridges)
        {
            tracing::warn!(error = %e, "opening foreign FORWARD policy");
        }
        self.emit("create", &rec, None);
        Ok(rec)
    }
}

/// An IPAM config entry of the IPv6 family (by its subnet, else its gateway or range).
fn is_v6_config(c: &Value) -> bool {
    ["Subnet", "Gateway", "IPRange"].iter().any(|k| {
        c.get(*k)
            .and_then(Value::as_str)
            .is_some_and(|v| v.contains(':'))
    })
}

/// An IPv6 IPAM entry, checked as dockerd 20.10 checks it (its messages and status codes).
fn parse_v6_config(c: &Value) -> Result<Ipv6Config> {
    let text = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let subnet_text = text("Subnet").ok_or_else(|| {
        EngineError::not_found(
            "could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network",
        )
    })?;
    let subnet = Ipv6Net::parse_subnet(&subnet_text)?;
    let ip_range = text("IPRange");
    if let Some(r) = &ip_range {
        Ipv6Net::parse_range(r, &subnet)?;
    }
    let gateway = text("Gateway")
        .map(|g| {
            g.parse::<Ipv6Addr>()
                .map_err(|_| EngineError::invalid(format!("invalid gateway address {g:?}")))
        })
        .transpose()?;
    if let Some(g) = gateway.filter(|g| !subnet.contains(*g)) {
        return Err(EngineError::internal(format!(
            "failed to allocate gateway ({g}): Requested address is out of range"
        )));
    }
    if gateway.is_none() && subnet.first_host().is_none() {
        return Err(EngineError::invalid(format!(
            "subnet {subnet} is too small for a gateway"
        )));
    }
    Ok(Ipv6Config {
        subnet: subnet_text,
        ip_range,
        gateway,
    })
}

impl NetworkService {
    /// An enabled IPv6 pool must not overlap another enabled one (docker's 403).
    fn check_v6_pool(state: &State, v6: &Ipv6Config) -> Result<()> {
        let Some(net) = v6.net() else {
            return Ok(());
        };
        let clash = state
            .networks
            .values()
            .filter_map(|n| n.ipv6_pool()?.net())
            .any(|other| other.overlaps(&net));
        if clash {
            return Err(EngineError::Forbidden(
                "Pool overlaps with other one on this address space".into(),
            ));
        }
        Ok(())
    }
}
