//! `berth network ls/create/inspect/rm/connect/disconnect/prune`, `berth port`, and the
//! `-p/--publish`, `--expose` parsing of `run`/`create` (docker's nat.ParsePortSpec rules).

use anyhow::Result;
use clap::Args;
use serde_json::{json, Map, Value};

use super::{for_each, out, Ctx};
use crate::cli::FormatNames;
use crate::client::api::networks::{
    EndpointConfig, EndpointIpam, Ipam, IpamConfig, NetworkConnect, NetworkCreate,
    NetworkDisconnect,
};
use crate::client::api::Filters;
use crate::exit::ExitError;

#[derive(Args, Debug)]
pub struct PortArgs {
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    pub port: Option<String>,
}

#[derive(Args, Debug)]
pub struct NetworkLsArgs {
    #[arg(short = 'f', long)]
    pub filter: Vec<String>,
    #[arg(long)]
    pub format: Option<String>,
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct NetworkCreateArgs {
    #[arg(short = 'd', long)]
    pub driver: Option<String>,
    #[arg(long)]
    pub subnet: Vec<String>,
    #[arg(long)]
    pub gateway: Vec<String>,
    /// Restrict external access to the network.
    #[arg(long)]
    pub internal: bool,
    #[arg(long)]
    pub attachable: bool,
    #[arg(long)]
    pub label: Vec<String>,
    #[arg(short = 'o', long)]
    pub opt: Vec<String>,
    pub name: String,
}

#[derive(Args, Debug)]
pub struct NetworkRmArgs {
    #[arg(required = true)]
    pub networks: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkConnectArgs {
    #[arg(long)]
    pub alias: Vec<String>,
    #[arg(long)]
    pub ip: Option<String>,
    pub network: String,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct NetworkDisconnectArgs {
    #[arg(short = 'f', long)]
    pub force: bool,
    pub network: String,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct NetworkPruneArgs {
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(long)]
    pub filter: Vec<String>,
}

/// Build the engine's network options from `berth engine` flags.
pub fn engine_network_options(
    bridge_name: &str,
    bridge_subnet: &str,
    pool: &str,
    table: &str,
    mtu: u32,
) -> Result<berth_engine::network::NetworkOptions> {
    if berth_engine::network::parse_mtu(&mtu.to_string()).is_none() {
        anyhow::bail!("--mtu must be from 68 to 65535");
    }
    if bridge_name.is_empty() || bridge_name.len() > 15 {
        anyhow::bail!("--bridge-name must be 1 to 15 characters");
    }
    if table.is_empty() || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        anyhow::bail!("--nft-table must be letters, digits and '_'");
    }
    Ok(berth_engine::network::NetworkOptions {
        bridge_name: bridge_name.to_owned(),
        bridge_subnet: bridge_subnet
            .parse()
            .map_err(|e| anyhow::anyhow!("--bridge-subnet: {e}"))?,
        pool: pool
            .parse()
            .map_err(|e| anyhow::anyhow!("--network-pool: {e}"))?,
        pool_size: 24,
        nft_table: table.to_owned(),
        mtu,
    })
}

fn bad(msg: String) -> anyhow::Error {
    ExitError {
        code: 125,
        message: Some(msg),
    }
    .into()
}

fn port_range(s: &str) -> std::result::Result<(u16, u16), String> {
    let p = |x: &str| x.parse::<u16>().map_err(|_| format!("invalid port {x:?}"));
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (p(a)?, p(b)?);
            if a > b {
                return Err(format!("invalid range {s:?}"));
            }
            Ok((a, b))
        }
        None => {
            let a = p(s)?;
            Ok((a, a))
        }
    }
}

/// One `-p` value → (container "port/proto", HostIp, HostPort) bindings, ranges expanded.
pub fn parse_publish(spec: &str) -> std::result::Result<Vec<(String, String, String)>, String> {
    let invalid =
        |why: String| format!("invalid argument {spec:?} for \"-p, --publish\" flag: {why}");
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p.to_ascii_lowercase()),
        None => (spec, "tcp".to_owned()),
    };
    if proto != "tcp" && proto != "udp" {
        return Err(invalid(format!("invalid proto {proto:?}")));
    }
    // [ip:][hostPort:]containerPort, with an IPv4 address possibly in brackets.
    let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
    let (ip, host, cont) = match parts.as_slice() {
        [c] => ("", "", *c),
        [c, h] => ("", *h, *c),
        [c, h, i] => (*i, *h, *c),
        _ => return Err(invalid("empty".into())),
    };
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(invalid(format!("invalid IP address {ip:?}")));
    }
    if cont.is_empty() {
        return Err(invalid("no port specified".into()));
    }
    let (c0, c1) = port_range(cont).map_err(invalid)?;
    if c0 == 0 {
        return Err(invalid("invalid containerPort 0".into()));
    }
    let mut out = Vec::new();
    if host.is_empty() {
        for c in c0..=c1 {
            out.push((format!("{c}/{proto}"), ip.to_owned(), String::new()));
        }
        return Ok(out);
    }
    let (h0, h1) = port_range(host).map_err(invalid)?;
    if c0 == c1 {
        // One container port, maybe a host range to choose from.
        let hp = if h0 == h1 {
            h0.to_string()
        } else {
            format!("{h0}-{h1}")
        };
        out.push((format!("{c0}/{proto}"), ip.to_owned(), hp));
        return Ok(out);
    }
    if h1 - h0 != c1 - c0 {
        return Err(invalid("port ranges don't match in length".into()));
    }
    for i in 0..=(c1 - c0) {
        out.push((
            format!("{}/{proto}", c0 + i),
            ip.to_owned(),
            (h0 + i).to_string(),
        ));
    }
    Ok(out)
}

/// ExposedPorts and PortBindings of a create request.
pub type PortMaps = (Map<String, Value>, Map<String, Value>);

/// `-p`, `--expose` → (ExposedPorts, PortBindings).
pub fn publish_options(
    publish: &[String],
    expose: &[String],
) -> std::result::Result<PortMaps, String> {
    let mut exposed = Map::new();
    let mut bindings = Map::new();
    for e in expose {
        let (rest, proto) = e.rsplit_once('/').unwrap_or((e.as_str(), "tcp"));
        let (a, b) =
            port_range(rest).map_err(|w| format!("invalid range format for --expose: {w}"))?;
        for p in a..=b {
            exposed.insert(format!("{p}/{proto}"), json!({}));
        }
    }
    for p in publish {
        for (key, ip, port) in parse_publish(p)? {
            exposed.insert(key.clone(), json!({}));
            let list = bindings.entry(key).or_insert_with(|| json!([]));
            if let Value::Array(a) = list {
                a.push(json!({"HostIp": ip, "HostPort": port}));
            }
        }
    }
    Ok((exposed, bindings))
}

pub async fn ls(ctx: &Ctx, a: NetworkLsArgs) -> Result<i32> {
    let client = ctx.client().await?;
    let v = client.network_list(&Filters::parse(&a.filter)?).await?;
    if a.quiet {
        for n in &v {
            let id = n["Id"].as_str().unwrap_or_default();
            out(&format!(
                "{}\n",
                if a.no_trunc {
                    id
                } else {
                    &id[..id.len().min(12)]
                }
            ));
        }
        return Ok(0);
    }
    if a.format.as_deref() == Some("json") {
        for n in &v {
            out(&format!("{}\n", serde_json::to_string(n)?));
        }
        return Ok(0);
    }
    let mut rows = vec![vec![
        "NETWORK ID".to_owned(),
        "NAME".into(),
        "DRIVER".into(),
        "SCOPE".into(),
    ]];
    for n in &v {
        let id = n["Id"].as_str().unwrap_or_default();
        rows.push(vec![
            if a.no_trunc {
                id.to_owned()
            } else {
                id[..id.len().min(12)].to_owned()
            },
            n["Name"].as_str().unwrap_or_default().to_owned(),
            n["Driver"].as_str().unwrap_or_default().to_owned(),
            n["Scope"].as_str().unwrap_or_default().to_owned(),
        ]);
    }
    out(&table(&rows));
    Ok(0)
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}   ", w = widths[i]));
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

pub async fn create(ctx: &Ctx, a: NetworkCreateArgs) -> Result<i32> {
    if a.driver.as_deref().is_some_and(|d| d != "bridge") {
        return Err(bad(format!(
            "network driver {:?} is not supported; berth creates bridge networks",
            a.driver.unwrap_or_default()
        )));
    }
    let mut ipam = Vec::new();
    if a.subnet.len() > 1 || a.gateway.len() > 1 {
        return Err(bad(
            "berth networks take one --subnet and one --gateway".into()
        ));
    }
    if let Some(s) = a.subnet.first() {
        ipam.push(IpamConfig {
            subnet: s.clone(),
            gateway: a.gateway.first().cloned(),
        });
    } else if !a.gateway.is_empty() {
        return Err(bad("every --gateway needs a matching --subnet".into()));
    }
    let kv = |items: &[String]| {
        items
            .iter()
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    };
    let spec = NetworkCreate {
        name: a.name,
        driver: "bridge".into(),
        internal: a.internal,
        attachable: Some(a.attachable),
        check_duplicate: None,
        ipam: Some(Ipam {
            driver: "default".into(),
            config: ipam,
        }),
        labels: Some(kv(&a.label)),
        options: Some(kv(&a.opt)),
    };
    let client = ctx.client().await?;
    let v = client.network_create(&spec).await?;
    out(&format!("{}\n", v["Id"].as_str().unwrap_or_default()));
    Ok(0)
}

pub async fn inspect(ctx: &Ctx, a: FormatNames) -> Result<i32> {
    let client = ctx.client().await?;
    let mut docs = Vec::new();
    let mut status = 0;
    for n in &a.names {
        match client.network_inspect(n).await {
            Ok(v) => docs.push(v),
            Err(e) => {
                eprintln!("Error response from daemon: {}", root_message(&e));
                status = 1;
            }
        }
    }
    if let Some(f) = &a.format {
        for d in &docs {
            let t = crate::format::template::Template::parse(f)
                .map_err(|e| bad(format!("template parsing error: {e}")))?;
            let text = t
                .render(d, crate::format::template::Missing::NoValue)
                .map_err(|e| bad(format!("template: {e}")))?;
            out(&format!("{text}\n"));
        }
    } else {
        // docker prints `[]` even when every name was unknown.
        out(&format!("{}\n", serde_json::to_string_pretty(&docs)?));
    }
    Ok(status)
}

fn root_message(e: &anyhow::Error) -> String {
    match e.downcast_ref::<crate::client::DaemonError>() {
        Some(d) => d.message.clone(),
        None => e.to_string(),
    }
}

pub async fn rm(ctx: &Ctx, a: NetworkRmArgs) -> Result<i32> {
    let client = ctx.client().await?;
    for_each(&a.networks, |n| {
        let client = &client;
        async move {
            client.network_remove(&n).await?;
            out(&format!("{n}\n"));
            Ok(())
        }
    })
    .await
}

pub async fn connect(ctx: &Ctx, a: NetworkConnectArgs) -> Result<i32> {
    let body = NetworkConnect {
        container: a.container,
        endpoint_config: Some(EndpointConfig {
            aliases: a.alias,
            ipam_config: a.ip.map(|ip| EndpointIpam { ipv4_address: ip }),
        }),
    };
    let client = ctx.client().await?;
    client.network_connect(&a.network, &body).await?;
    Ok(0)
}

pub async fn disconnect(ctx: &Ctx, a: NetworkDisconnectArgs) -> Result<i32> {
    let client = ctx.client().await?;
    let body = NetworkDisconnect {
        container: a.container,
        force: Some(a.force),
    };
    client.network_disconnect(&a.network, &body).await?;
    Ok(0)
}

pub async fn prune(ctx: &Ctx, a: NetworkPruneArgs) -> Result<i32> {
    super::prune::Prune {
        warning: "all custom networks not used by at least one container",
        endpoint: crate::client::api::networks::prune,
        deleted_key: "NetworksDeleted",
        heading: "Deleted Networks",
        reports_space: false,
    }
    .run(ctx, a.force, &a.filter)
    .await
}

/// `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`, docker's output.
pub async fn port(ctx: &Ctx, a: PortArgs) -> Result<i32> {
    let client = ctx.client().await?;
    let v = client.container_inspect(&a.container).await?;
    let ports = v["NetworkSettings"]["Ports"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let line = |b: &Value| {
        format!(
            "{}:{}",
            b["HostIp"].as_str().unwrap_or_default(),
            b["HostPort"].as_str().unwrap_or_default()
        )
    };
    if let Some(want) = &a.port {
        let key = if want.contains('/') {
            want.clone()
        } else {
            format!("{want}/tcp")
        };
        match ports.get(&key).and_then(Value::as_array) {
            Some(list) if !list.is_empty() => {
                for b in list {
                    out(&format!("{}\n", line(b)));
                }
                Ok(0)
            }
            _ => Err(ExitError {
                code: 1,
                message: Some(format!(
                    "Error: No public port '{key}' published for {}",
                    a.container
                )),
            }
            .into()),
        }
    } else {
        let mut keys: Vec<&String> = ports.keys().collect();
        keys.sort_by_key(|k| {
            let (p, proto) = k.split_once('/').unwrap_or((k, ""));
            (p.parse::<u32>().unwrap_or(0), proto.to_owned())
        });
        for k in keys {
            for b in ports[k].as_array().into_iter().flatten() {
                out(&format!("{k} -> {}\n", line(b)));
            }
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_specs() {
        assert_eq!(
            parse_publish("8080:80").unwrap(),
            vec![("80/tcp".into(), "".into(), "8080".into())]
        );
        assert_eq!(
            parse_publish("127.0.0.1:8080:80/udp").unwrap(),
            vec![("80/udp".into(), "127.0.0.1".into(), "8080".into())]
        );
        assert_eq!(parse_publish("80").unwrap()[0].2, "");
        assert_eq!(parse_publish("8000-8001:80-81").unwrap().len(), 2);
        assert_eq!(parse_publish("8000-8001:80-81").unwrap()[1].2, "8001");
        for bad in [
            "",
            "x:80",
            "80/sctpx",
            "1.2.3:80:80",
            "8000-8002:80-81",
            "99999:80",
            "8080:0",
        ] {
            assert!(parse_publish(bad).is_err(), "{bad}");
        }
    }
}
