//! Legacy links (`--link name:alias`, HostConfig.Links) on the default bridge, as dockerd's
//! `daemon/links`: recorded at create in docker's own form (`/child:/parent/alias`, which is what
//! inspect shows), resolved at start into the environment docker gives the linking container
//! (`ALIAS_NAME`, `ALIAS_PORT_80_TCP_ADDR`, `ALIAS_ENV_FOO`, ...) and /etc/hosts lines, listed as
//! extra names of the linked container in `ps`, and removed by `DELETE /containers/{p}/{a}?link=1`.
//!
//! On user networks docker ignores HostConfig.Links (resolution goes through the embedded DNS and
//! EndpointSettings.Links), so they are not recorded there.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use serde_json::{json, Value};

use super::ContainerService;
use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, HostConfig, Status};
use crate::network::ports;

/// What a starting container gets from its links: environment variables and /etc/hosts lines.
#[derive(Debug, Default)]
pub struct ResolvedLinks {
    pub env: Vec<String>,
    pub hosts: Vec<(Ipv4Addr, String)>,
}

/// The recorded links of a container: (child name with '/', "/parent/alias").
fn recorded(h: &HostConfig) -> Vec<(String, String)> {
    h.extra
        .get("Links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|l| l.split_once(':'))
        .map(|(c, p)| (c.to_owned(), p.to_owned()))
        .collect()
}

fn on_default_bridge(h: &HostConfig) -> bool {
    matches!(h.network_mode.as_str(), "" | "default" | "bridge")
}

impl ContainerService {
    /// Create: check each `name[:alias]` names a container and record the links as docker does
    /// (`/child:/parent/alias`). A missing container is dockerd's 400.
    pub(super) fn register_links(&self, name: &str, host: &mut HostConfig) -> Result<()> {
        let Some(requested) = host.extra.get("Links").and_then(Value::as_array).cloned() else {
            return Ok(());
        };
        // `container:` mode refuses links (shared_net::validate, docker's conflicting options).
        if super::shared_net::target(&host.network_mode).is_some() {
            return Ok(());
        }
        if !on_default_bridge(host) {
            host.extra.remove("Links");
            return Ok(());
        }
        let mut out = Vec::new();
        for l in requested.iter().filter_map(Value::as_str) {
            let (child, alias) = l.split_once(':').unwrap_or((l, l));
            let child = child.trim_start_matches('/');
            let alias = alias.trim_start_matches('/');
            let c = self.get(child).map_err(|e| {
                EngineError::invalid(format!("could not get container for {child}: {e}"))
            })?;
            out.push(json!(format!("/{}:/{name}/{alias}", c.record().name)));
        }
        host.extra.insert("Links".into(), Value::Array(out));
        Ok(())
    }

    /// Start: each linked container must be running on the default bridge; its address, exposed
    /// ports and environment become the starting container's link variables and hosts lines.
    pub(super) fn resolve_links(&self, rec: &ContainerRecord) -> Result<ResolvedLinks> {
        let mut out = ResolvedLinks::default();
        let links = recorded(&rec.host_config);
        if links.is_empty() || !on_default_bridge(&rec.host_config) {
            return Ok(out);
        }
        for (child, link_name) in links {
            let c = self.get(&child).map_err(|_| {
                EngineError::internal(format!("Could not get container for {child}"))
            })?;
            let crec = c.record();
            if crec.state.status != Status::Running {
                return Err(EngineError::internal(format!(
                    "Cannot link to a non running container: {child} AS {link_name}"
                )));
            }
            let ip = self
                .networks()
                .and_then(|n| n.default_bridge_ip(&crec.id))
                .ok_or_else(|| {
                    EngineError::internal(format!(
                        "Cannot link to {child}, as it does not belong to the default network"
                    ))
                })?;
            let alias = link_name.rsplit('/').next().unwrap_or_default().to_owned();
            let exposed: Vec<String> = ports::exposed_keys(crec.config.exposed_ports.as_ref())
                .iter()
                .map(|p| p.key())
                .collect();
            // The HOSTNAME berth records in Config.Env is not in docker's: not the user's either.
            let own_hostname = format!("HOSTNAME={}", crec.config.hostname);
            let child_env: Vec<String> = crec
                .config
                .env
                .iter()
                .filter(|v| **v != own_hostname)
                .cloned()
                .collect();
            out.env
                .extend(link_env(&alias, &link_name, ip, &exposed, &child_env));
            // docker: the alias, the linked container's hostname, and its name unless the alias.
            let mut names = format!("{alias} {}", crec.config.hostname);
            if alias != crec.name {
                names.push(' ');
                names.push_str(&crec.name);
            }
            out.hosts.push((ip, names));
        }
        Ok(out)
    }

    /// `DELETE /containers/{parent}/{alias}?link=true`: forget the link (the containers stay).
    pub fn remove_link(&self, key: &str) -> Result<()> {
        let missing = || EngineError::not_found(format!("No such container: {key}"));
        let (parent, alias) = key.rsplit_once('/').ok_or_else(missing)?;
        let c = self.get(parent).map_err(|_| missing())?;
        let rec = c.record();
        let link_name = format!("/{}/{alias}", rec.name);
        let links = recorded(&rec.host_config);
        if !links.iter().any(|(_, p)| *p == link_name) {
            return Err(missing());
        }
        let kept: Vec<Value> = links
            .iter()
            .filter(|(_, p)| *p != link_name)
            .map(|(c, p)| json!(format!("{c}:{p}")))
            .collect();
        // docker shows null once the last link is gone.
        let new = c.update(|r| {
            if kept.is_empty() {
                r.host_config.extra.remove("Links");
            } else {
                r.host_config
                    .extra
                    .insert("Links".into(), Value::Array(kept));
            }
        });
        if let Err(e) = self.store.save(&new) {
            c.update(|r| r.host_config = rec.host_config.clone());
            return Err(e);
        }
        if let Some(nets) = self.networks() {
            nets.drop_link_host(&rec.id, alias, &new, &self.dir(&rec.id));
        }
        Ok(())
    }

    /// By linked container name (without '/'): the names other containers link it by
    /// (`/parent/alias`), which `ps` lists as its extra names as docker does. Read once per
    /// listing, each record alone (never under another record's lock).
    pub fn link_names(&self) -> HashMap<String, Vec<String>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for c in self.list() {
            for (child, link) in c.with_record(|r| recorded(&r.host_config)) {
                let child = child.trim_start_matches('/').to_owned();
                out.entry(child).or_default().push(link);
            }
        }
        out.values_mut().for_each(|v| v.sort());
        out
    }
}

/// Docker's link variables (`daemon/links/links.go` ToEnv): the first port (lowest, tcp first) as
/// `ALIAS_PORT`, runs of contiguous ports as `_START`/`_END`, each port's URL, address, port and
/// protocol, the link's name, and the linked container's environment (but HOME and PATH).
pub fn link_env(
    alias: &str,
    link_name: &str,
    ip: Ipv4Addr,
    exposed: &[String],
    child_env: &[String],
) -> Vec<String> {
    let a = alias.to_uppercase().replace('-', "_");
    let mut ports: Vec<(u16, String)> = exposed
        .iter()
        .filter_map(|k| {
            let (p, proto) = k.split_once('/').unwrap_or((k.as_str(), "tcp"));
            Some((p.parse().ok()?, proto.to_lowercase()))
        })
        .collect();
    ports.sort_by(|x, y| {
        x.0.cmp(&y.0)
            .then_with(|| (y.1 == "tcp").cmp(&(x.1 == "tcp")))
    });
    let mut env = Vec::new();
    if let Some((p, proto)) = ports.first() {
        env.push(format!("{a}_PORT={proto}://{ip}:{p}"));
    }
    let mut i = 0;
    while i < ports.len() {
        let (p, proto) = &ports[i];
        let mut j = i;
        while j + 1 < ports.len() && u32::from(ports[j + 1].0) == u32::from(ports[j].0) + 1 {
            j += 1;
        }
        if j > i + 1 {
            let up = proto.to_uppercase();
            let (q, qproto) = &ports[j];
            let qup = qproto.to_uppercase();
            env.push(format!("{a}_PORT_{p}_{up}_START={proto}://{ip}:{p}"));
            env.push(format!("{a}_PORT_{p}_{up}_ADDR={ip}"));
            env.push(format!("{a}_PORT_{p}_{up}_PROTO={proto}"));
            env.push(format!("{a}_PORT_{p}_{up}_PORT_START={p}"));
            env.push(format!("{a}_PORT_{p}_{qup}_END={qproto}://{ip}:{q}"));
            env.push(format!("{a}_PORT_{p}_{qup}_PORT_END={q}"));
            i = j + 1;
        } else {
            i += 1;
        }
    }
    for (p, proto) in &ports {
        let up = proto.to_uppercase();
        env.push(format!("{a}_PORT_{p}_{up}={proto}://{ip}:{p}"));
        env.push(format!("{a}_PORT_{p}_{up}_ADDR={ip}"));
        env.push(format!("{a}_PORT_{p}_{up}_PORT={p}"));
        env.push(format!("{a}_PORT_{p}_{up}_PROTO={proto}"));
    }
    env.push(format!("{a}_NAME={link_name}"));
    for v in child_env {
        let Some((k, val)) = v.split_once('=') else {
            continue;
        };
        if k != "HOME" && k != "PATH" {
            env.push(format!("{a}_ENV_{k}={val}"));
        }
    }
    env
}

/// The starting container's environment with its link variables: docker puts them before the
/// container's own, which win on a clash.
pub fn with_link_env(own: Vec<String>, links: Vec<String>) -> Vec<String> {
    let key = |v: &str| v.split('=').next().unwrap_or_default().to_owned();
    let own_keys: std::collections::HashSet<String> = own.iter().map(|v| key(v)).collect();
    let mut out: Vec<String> = links
        .into_iter()
        .filter(|v| !own_keys.contains(&key(v)))
        .collect();
    out.extend(own);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_env_matches_dockerd() {
        let ip = Ipv4Addr::new(172, 17, 0, 2);
        let env = link_env(
            "my-al",
            "/me/my-al",
            ip,
            &["80/tcp".into(), "53/udp".into()],
            &["PATH=/bin".into(), "FOO=bar".into(), "X=y=z".into()],
        );
        assert_eq!(
            env,
            [
                "MY_AL_PORT=udp://172.17.0.2:53",
                "MY_AL_PORT_53_UDP=udp://172.17.0.2:53",
                "MY_AL_PORT_53_UDP_ADDR=172.17.0.2",
                "MY_AL_PORT_53_UDP_PORT=53",
                "MY_AL_PORT_53_UDP_PROTO=udp",
                "MY_AL_PORT_80_TCP=tcp://172.17.0.2:80",
                "MY_AL_PORT_80_TCP_ADDR=172.17.0.2",
                "MY_AL_PORT_80_TCP_PORT=80",
                "MY_AL_PORT_80_TCP_PROTO=tcp",
                "MY_AL_NAME=/me/my-al",
                "MY_AL_ENV_FOO=bar",
                "MY_AL_ENV_X=y=z",
            ]
        );
    }

    #[test]
    fn contiguous_ports_get_a_range() {
        let ip = Ipv4Addr::new(10, 0, 0, 2);
        let env = link_env(
            "a",
            "/p/a",
            ip,
            &["8002/tcp".into(), "8000/tcp".into(), "8001/tcp".into()],
            &[],
        );
        assert!(env.contains(&"A_PORT_8000_TCP_START=tcp://10.0.0.2:8000".to_owned()));
        assert!(env.contains(&"A_PORT_8000_TCP_END=tcp://10.0.0.2:8002".to_owned()));
        assert!(env.contains(&"A_PORT_8000_TCP_PORT_END=8002".to_owned()));
        assert_eq!(env[0], "A_PORT=tcp://10.0.0.2:8000");
    }

    #[test]
    fn own_variables_win() {
        let env = with_link_env(
            vec!["A_NAME=mine".into(), "X=1".into()],
            vec!["A_NAME=/p/a".into(), "A_PORT=x".into()],
        );
        assert_eq!(env, ["A_PORT=x", "A_NAME=mine", "X=1"]);
    }
}
