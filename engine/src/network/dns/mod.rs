//! The embedded DNS resolver of user-defined networks: docker's `127.0.0.11`.
//!
//! Every container on a user-defined network gets a UDP socket and a TCP listener bound to
//! 127.0.0.11:53 *inside its own network namespace*, opened by the engine (`listener`) and served by
//! the engine's runtime. Because each socket belongs to exactly one container, the resolver knows who
//! asks without trusting source addresses: it answers from that container's view of the networks it is
//! on (`answer`), and forwards everything else to the upstream servers (`upstream`) unless all of the
//! container's networks are internal (CVE-2024-29018: internal networks must not leak queries out).
//!
//! The sockets live as long as the engine; after an engine restart the daemon attaches them again for
//! running containers. A container keeps working while the engine is down except for name lookups.

pub mod answer;
pub mod listener;
pub mod upstream;

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use std::os::unix::fs::MetadataExt;

use crate::error::{IoContext, Result};

/// The address docker's embedded resolver answers on; containers' resolv.conf points here.
pub const RESOLVER_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);
pub const RESOLVER_PORT: u16 = 53;
/// Answers for names the engine owns may change at any time (containers come and go): keep TTLs short.
pub const LOCAL_TTL: u32 = 600;

/// One address a container can reach by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRecord {
    /// Lower-case names without a trailing dot: container name, aliases, short id, `name.network`.
    pub names: Vec<String>,
    pub addr: Ipv4Addr,
    /// The IPv6 address on an IPv6-enabled network (AAAA answers).
    pub addr6: Option<Ipv6Addr>,
    /// What a reverse lookup of `addr` (or `addr6`) answers (docker: `name.network`).
    pub ptr_name: String,
}

/// What one container may resolve, computed from the networks it is attached to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerDnsView {
    pub records: Vec<HostRecord>,
    /// Servers for every other name. Empty when all of the container's networks are internal: such
    /// queries then get SERVFAIL instead of leaving the host.
    pub upstream: Vec<SocketAddr>,
}

/// Where the resolver learns a container's view; implemented by the network service.
pub trait DnsViewSource: Send + Sync + 'static {
    /// None when the container is unknown or no longer on a user-defined network.
    fn dns_view(&self, container_id: &str) -> Option<ContainerDnsView>;
}

/// The resolver: one pair of listeners per attached container.
pub struct DnsService {
    source: Arc<dyn DnsViewSource>,
    /// The engine's runtime: attach may be called from blocking threads (container start).
    runtime: tokio::runtime::Handle,
    listeners: Mutex<HashMap<String, Attached>>,
}

struct Attached {
    /// Inode of the namespace (nsfs): identifies it whatever path it was reached by.
    netns_inode: u64,
    tasks: Vec<JoinHandle<()>>,
}

impl DnsService {
    /// Must be called inside the engine's tokio runtime.
    pub fn new(source: Arc<dyn DnsViewSource>) -> Arc<DnsService> {
        Arc::new(DnsService {
            source,
            runtime: tokio::runtime::Handle::current(),
            listeners: Mutex::new(HashMap::new()),
        })
    }

    /// Start answering on 127.0.0.11:53 inside the network namespace at `netns` (a bind-mounted nsfs
    /// file or /proc/<pid>/ns/net) for `container_id`. The namespace's loopback must be up.
    /// Idempotent: attaching again to the same namespace keeps the sockets (answers are computed per
    /// query, so a network connect needs no re-attach); a different namespace (the container was
    /// restarted) replaces them.
    pub fn attach(&self, container_id: &str, netns: &Path) -> Result<()> {
        let netns_inode = std::fs::metadata(netns)
            .io_context(|| format!("opening network namespace {}", netns.display()))?
            .ino();
        let mut listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = listeners.get(container_id) {
            if existing.netns_inode == netns_inode
                && existing.tasks.iter().all(|t| !t.is_finished())
            {
                return Ok(());
            }
        }
        let (udp, tcp) = listener::bind_in_netns(netns)?;
        let _runtime = self.runtime.enter();
        let tasks = listener::serve(self.source.clone(), container_id.to_string(), udp, tcp)?;
        let old = listeners.insert(container_id.to_string(), Attached { netns_inode, tasks });
        abort_all(old);
        tracing::debug!(container = container_id, "dns resolver attached");
        Ok(())
    }

    /// Stop answering for `container_id` (its sockets close). Unknown ids are ignored.
    pub fn detach(&self, container_id: &str) {
        let old = self
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(container_id);
        if old.is_some() {
            tracing::debug!(container = container_id, "dns resolver detached");
        }
        abort_all(old);
    }

    /// Whether `container_id` has anything to resolve (is on a user-defined network).
    pub fn has_view(&self, container_id: &str) -> bool {
        self.source.dns_view(container_id).is_some()
    }

    pub fn is_attached(&self, container_id: &str) -> bool {
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(container_id)
    }
}

fn abort_all(attached: Option<Attached>) {
    for task in attached.into_iter().flat_map(|a| a.tasks) {
        task.abort();
    }
}

impl Drop for DnsService {
    fn drop(&mut self) {
        let all: Vec<_> = self
            .listeners
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        for (_, attached) in all {
            abort_all(Some(attached));
        }
    }
}
