//! A recording `NetworkHost` for unit tests (youki's `syscall/test.rs`): every call is recorded
//! with its arguments, results are scripted (ports are handed out from 40000, namespaces are
//! "pinned" between create and remove), and the Nth call of an operation can be told to fail.

use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::host::NetworkHost;
use crate::error::{EngineError, Result};
use crate::network::link::EndpointLink;
use crate::network::nat::{NatNetwork, PortRule};
use crate::network::ports::{Published, Requested};

/// One host operation and its arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum HostCall {
    Sysctl(String, String),
    EnsureBridge {
        name: String,
        gateway: Ipv4Addr,
        prefix: u8,
        mtu: u32,
    },
    BridgeIpv6 {
        name: String,
        gateway: Ipv6Addr,
        prefix: u8,
    },
    DeleteLink(String),
    SetupEndpoint {
        ns: PathBuf,
        host_ifname: String,
        ifname: String,
        ip: Ipv4Addr,
        bridge: String,
        default_gateway: Option<Ipv4Addr>,
        ipv6: Option<(Ipv6Addr, u8)>,
        default_gateway6: Option<Ipv6Addr>,
    },
    RemoveEndpoint {
        ns: PathBuf,
        ifname: String,
    },
    CreateNetns(PathBuf),
    RemoveNetns(PathBuf),
    /// The whole table: each network's bridge and every port rule.
    ApplyNat {
        bridges: Vec<String>,
        rules: Vec<PortRule>,
    },
    OpenForeignForward(Vec<String>),
    CloseForeignForward,
    DeleteNatTable,
    ReservePorts(Vec<Requested>),
}

impl HostCall {
    /// The operation's name, as `fail_nth` takes it (the trait method's name).
    pub fn op(&self) -> &'static str {
        match self {
            HostCall::Sysctl(..) => "sysctl",
            HostCall::EnsureBridge { .. } => "ensure_bridge",
            HostCall::BridgeIpv6 { .. } => "bridge_ipv6",
            HostCall::DeleteLink(_) => "delete_link",
            HostCall::SetupEndpoint { .. } => "setup_endpoint",
            HostCall::RemoveEndpoint { .. } => "remove_endpoint",
            HostCall::CreateNetns(_) => "create_netns",
            HostCall::RemoveNetns(_) => "remove_netns",
            HostCall::ApplyNat { .. } => "apply_nat",
            HostCall::OpenForeignForward(_) => "open_foreign_forward",
            HostCall::CloseForeignForward => "close_foreign_forward",
            HostCall::DeleteNatTable => "delete_nat_table",
            HostCall::ReservePorts(_) => "reserve_ports",
        }
    }
}

#[derive(Default)]
struct Script {
    calls: Vec<HostCall>,
    /// How often each operation has been called.
    counts: HashMap<&'static str, usize>,
    /// (operation, n): the nth call (1-based) of that operation fails.
    failures: Vec<(&'static str, usize)>,
    /// Indexes into `calls` of the calls that failed.
    failed: BTreeSet<usize>,
    pinned: BTreeSet<PathBuf>,
    next_port: u16,
}

#[derive(Default)]
pub struct FakeHost {
    script: Mutex<Script>,
}

impl FakeHost {
    /// Make the `n`th call (counting from 1, over the fake's life) of operation `op` fail.
    pub fn fail_nth(&self, op: &'static str, n: usize) {
        self.lock().failures.push((op, n));
    }

    pub fn calls(&self) -> Vec<HostCall> {
        self.lock().calls.clone()
    }

    /// The recorded calls of one operation.
    pub fn calls_of(&self, op: &str) -> Vec<HostCall> {
        self.calls().into_iter().filter(|c| c.op() == op).collect()
    }

    pub fn clear(&self) {
        self.lock().calls.clear();
    }

    /// The port rules of the last nft table written (none before the first).
    pub fn nat_rules(&self) -> Vec<PortRule> {
        self.calls_of("apply_nat")
            .into_iter()
            .filter_map(|c| match c {
                HostCall::ApplyNat { rules, .. } => Some(rules),
                _ => None,
            })
            .next_back()
            .unwrap_or_default()
    }

    /// Host veth ends set up (successfully) and not deleted since, those that go with their
    /// namespace included. A failed setup is left to the namespace's removal.
    pub fn veths_not_deleted(&self) -> Vec<String> {
        let (calls, failed) = {
            let s = self.lock();
            (s.calls.clone(), s.failed.clone())
        };
        let deleted: BTreeSet<&String> = calls
            .iter()
            .filter_map(|c| match c {
                HostCall::DeleteLink(name) => Some(name),
                _ => None,
            })
            .collect();
        calls
            .iter()
            .enumerate()
            .filter(|(i, _)| !failed.contains(i))
            .filter_map(|(_, c)| match c {
                HostCall::SetupEndpoint { host_ifname, .. } if !deleted.contains(host_ifname) => {
                    Some(host_ifname.clone())
                }
                _ => None,
            })
            .collect()
    }

    pub fn pinned_namespaces(&self) -> Vec<PathBuf> {
        self.lock().pinned.iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record `call` and answer with the scripted failure, if this is the call to fail.
    fn record(&self, call: HostCall) -> Result<()> {
        let mut s = self.lock();
        let op = call.op();
        s.calls.push(call);
        let n = {
            let count = s.counts.entry(op).or_default();
            *count += 1;
            *count
        };
        if s.failures.contains(&(op, n)) {
            let index = s.calls.len() - 1;
            s.failed.insert(index);
            return Err(EngineError::internal(format!(
                "fake host: {op} call {n} fails"
            )));
        }
        Ok(())
    }
}

impl NetworkHost for FakeHost {
    fn sysctl(&self, key: &str, value: &str) -> Result<()> {
        self.record(HostCall::Sysctl(key.into(), value.into()))
    }

    fn ensure_bridge(&self, name: &str, gateway: Ipv4Addr, prefix: u8, mtu: u32) -> Result<()> {
        self.record(HostCall::EnsureBridge {
            name: name.into(),
            gateway,
            prefix,
            mtu,
        })
    }

    fn bridge_ipv6(&self, name: &str, gateway: Ipv6Addr, prefix: u8) -> Result<()> {
        self.record(HostCall::BridgeIpv6 {
            name: name.into(),
            gateway,
            prefix,
        })
    }

    fn delete_link(&self, name: &str) -> Result<()> {
        self.record(HostCall::DeleteLink(name.into()))
    }

    fn setup_endpoint(&self, ns: &Path, ep: &EndpointLink, _loopback: bool) -> Result<()> {
        self.record(HostCall::SetupEndpoint {
            ns: ns.into(),
            host_ifname: ep.host_ifname.clone(),
            ifname: ep.ifname.clone(),
            ip: ep.ip,
            bridge: ep.bridge.clone(),
            default_gateway: ep.default_gateway,
            ipv6: ep.ipv6,
            default_gateway6: ep.default_gateway6,
        })
    }

    fn remove_endpoint(&self, ns: &Path, ifname: &str) -> Result<()> {
        self.record(HostCall::RemoveEndpoint {
            ns: ns.into(),
            ifname: ifname.into(),
        })
    }

    fn create_netns(&self, path: &Path) -> Result<()> {
        self.record(HostCall::CreateNetns(path.into()))?;
        self.lock().pinned.insert(path.into());
        Ok(())
    }

    fn remove_netns(&self, path: &Path) {
        let _ = self.record(HostCall::RemoveNetns(path.into()));
        self.lock().pinned.remove(path);
    }

    fn netns_pinned(&self, path: &Path) -> bool {
        self.lock().pinned.contains(path)
    }

    fn apply_nat(&self, _table: &str, nets: &[NatNetwork], rules: &[PortRule]) -> Result<()> {
        self.record(HostCall::ApplyNat {
            bridges: nets.iter().map(|n| n.bridge.clone()).collect(),
            rules: rules.to_vec(),
        })
    }

    fn open_foreign_forward(&self, _table: &str, bridges: &[String]) -> Result<()> {
        self.record(HostCall::OpenForeignForward(bridges.to_vec()))
    }

    fn close_foreign_forward(&self, _table: &str) {
        let _ = self.record(HostCall::CloseForeignForward);
    }

    fn delete_nat_table(&self, _table: &str) -> Result<()> {
        self.record(HostCall::DeleteNatTable)
    }

    /// Fixed ports as asked; "any port" from 40000 up. No sockets are held.
    fn reserve_ports(&self, reqs: &[Requested]) -> Result<(Vec<Published>, Vec<OwnedFd>)> {
        self.record(HostCall::ReservePorts(reqs.to_vec()))?;
        let mut s = self.lock();
        let published = reqs
            .iter()
            .map(|r| {
                let host_port = if r.host_ports.0 == 0 {
                    s.next_port += 1;
                    39999 + s.next_port
                } else {
                    r.host_ports.0
                };
                Published {
                    container: r.container,
                    host_ip: r.host_ip,
                    host_port,
                }
            })
            .collect();
        Ok((published, Vec::new()))
    }

    fn host_resolv_conf(&self) -> String {
        "nameserver 192.0.2.53\n".into()
    }
}
