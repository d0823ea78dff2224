//! Links, addresses and routes over rtnetlink: the bridge of each network and the veth pair of
//! each endpoint. Each call opens its own netlink sockets on a dedicated thread (see `netns`),
//! so a socket opened after setns() talks to the container's namespace; a whole endpoint is a
//! handful of netlink round trips, well under a millisecond.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

use futures_util::TryStreamExt;
use nix::sched::{setns, CloneFlags};
use rtnetlink::packet_route::address::AddressHeaderFlags;
use rtnetlink::packet_route::link::{InfoData, InfoKind, InfoVeth};
use rtnetlink::{
    Handle, LinkBridge, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder,
};

use super::netns;
use crate::error::{EngineError, Result};

fn nl_err(what: &str) -> impl Fn(rtnetlink::Error) -> EngineError + '_ {
    move |e| EngineError::internal(format!("{what}: {e}"))
}

/// Is this a netlink "already exists" answer?
fn is_exists(e: &rtnetlink::Error) -> bool {
    matches!(e, rtnetlink::Error::NetlinkError(m) if m.raw_code() == -libc::EEXIST)
}

/// Run `f` with a netlink handle inside the namespace at `netns` (None: the engine's own).
fn with_handle<T, F, Fut>(ns: Option<&Path>, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(Handle, Option<std::fs::File>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>>,
{
    // The engine's namespace, for moving a veth end out of the container's namespace.
    let host_ns = match ns {
        Some(_) => Some(
            std::fs::File::open("/proc/thread-self/ns/net")
                .map_err(|e| EngineError::internal(format!("opening the engine's netns: {e}")))?,
        ),
        None => None,
    };
    netns::run_in(ns, move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| EngineError::internal(format!("netlink runtime: {e}")))?;
        rt.block_on(async move {
            let (conn, handle, _) = rtnetlink::new_connection()
                .map_err(|e| EngineError::internal(format!("netlink socket: {e}")))?;
            let task = tokio::spawn(conn);
            let out = f(handle, host_ns).await;
            task.abort();
            out
        })
    })
}

async fn index_of(h: &Handle, name: &str) -> Result<Option<u32>> {
    let mut links = h.link().get().match_name(name.to_owned()).execute();
    match links.try_next().await {
        Ok(Some(msg)) => Ok(Some(msg.header.index)),
        Ok(None) => Ok(None),
        Err(rtnetlink::Error::NetlinkError(m)) if m.raw_code() == -libc::ENODEV => Ok(None),
        Err(e) => Err(nl_err("looking up a link")(e)),
    }
}

/// Create (or adopt) the bridge `name` with `gateway/prefix` and bring it up; also turns on
/// route_localnet for it so DNAT of 127.0.0.1:PORT can leave through the bridge.
pub fn ensure_bridge(name: &str, gateway: Ipv4Addr, prefix: u8, mtu: u32) -> Result<()> {
    let name = name.to_owned();
    let bridge = name.clone();
    with_handle(None, move |h, _| async move {
        let idx = match index_of(&h, &name).await? {
            Some(i) => i,
            None => {
                match h
                    .link()
                    .add(LinkBridge::new(&name).mtu(mtu).build())
                    .execute()
                    .await
                {
                    Ok(()) => {}
                    Err(e) if is_exists(&e) => {}
                    Err(e) => return Err(nl_err("creating bridge")(e)),
                }
                index_of(&h, &name)
                    .await?
                    .ok_or_else(|| EngineError::internal(format!("bridge {name} vanished")))?
            }
        };
        match h
            .address()
            .add(idx, IpAddr::V4(gateway), prefix)
            .execute()
            .await
        {
            Ok(()) => {}
            Err(e) if is_exists(&e) => {}
            Err(e) => return Err(nl_err("adding the bridge address")(e)),
        }
        // An adopted bridge (engine restart) takes the MTU configured now.
        h.link()
            .set(LinkUnspec::new_with_index(idx).mtu(mtu).up().build())
            .execute()
            .await
            .map_err(nl_err("bringing the bridge up"))
    })?;
    sysctl(&format!("net/ipv4/conf/{bridge}/route_localnet"), "1")?;
    Ok(())
}

/// Add an address without duplicate address detection (docker's `nodad`): a tentative IPv6
/// address cannot be used for the second or so DAD takes, and the engine owns the subnet.
async fn add_address(h: &Handle, idx: u32, ip: IpAddr, prefix: u8, what: &str) -> Result<()> {
    let mut req = h.address().add(idx, ip, prefix);
    if ip.is_ipv6() {
        req.message_mut().header.flags = AddressHeaderFlags::Nodad;
    }
    match req.execute().await {
        Ok(()) => Ok(()),
        Err(e) if is_exists(&e) => Ok(()),
        Err(e) => Err(nl_err(what)(e)),
    }
}

/// The link-local address docker gives every IPv6-enabled bridge.
const BRIDGE_LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

/// Give an IPv6-enabled network's bridge IPv6 (re-enabled if the host default disabled it), its
/// gateway address and fe80::1, and turn on the host's IPv6 forwarding, as docker does for such
/// networks.
pub fn bridge_ipv6(name: &str, gateway: Ipv6Addr, prefix: u8) -> Result<()> {
    sysctl(&format!("net/ipv6/conf/{name}/disable_ipv6"), "0")?;
    let name = name.to_owned();
    with_handle(None, move |h, _| async move {
        let idx = index_of(&h, &name)
            .await?
            .ok_or_else(|| EngineError::internal(format!("bridge {name} missing")))?;
        add_address(
            &h,
            idx,
            IpAddr::V6(gateway),
            prefix,
            "adding the bridge IPv6 address",
        )
        .await?;
        // docker's bridges also answer at fe80::1, a gateway that never changes.
        add_address(
            &h,
            idx,
            IpAddr::V6(BRIDGE_LINK_LOCAL),
            64,
            "adding fe80::1 to the bridge",
        )
        .await
    })?;
    sysctl("net/ipv6/conf/all/forwarding", "1")
}

/// Delete a link by name; a missing link is fine.
pub fn delete_link(name: &str) -> Result<()> {
    let name = name.to_owned();
    with_handle(None, move |h, _| async move {
        if let Some(idx) = index_of(&h, &name).await? {
            match h.link().del(idx).execute().await {
                Ok(()) => {}
                Err(rtnetlink::Error::NetlinkError(m)) if m.raw_code() == -libc::ENODEV => {}
                Err(e) => return Err(nl_err("deleting a link")(e)),
            }
        }
        Ok(())
    })
}

/// Names of the host's links (for reconciling leftovers).
pub fn link_names() -> Result<Vec<String>> {
    with_handle(None, move |h, _| async move {
        let mut out = Vec::new();
        let mut links = h.link().get().execute();
        while let Some(msg) = links.try_next().await.map_err(nl_err("listing links"))? {
            for attr in msg.attributes {
                if let rtnetlink::packet_route::link::LinkAttribute::IfName(n) = attr {
                    out.push(n);
                }
            }
        }
        Ok(out)
    })
}

/// One interface of a container.
#[derive(Debug, Clone)]
pub struct EndpointLink {
    /// Host end, attached to the bridge (`veth<7 hex>`).
    pub host_ifname: String,
    /// Inside the container (`eth0`, `eth1`, ...).
    pub ifname: String,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub prefix: u8,
    /// Default route through this gateway (the first non-internal network only).
    pub default_gateway: Option<Ipv4Addr>,
    pub bridge: String,
    /// Both ends get the network's MTU.
    pub mtu: u32,
    /// The IPv6 address and prefix on an IPv6-enabled network (IPv6 is enabled on the interface
    /// and on loopback for it, as docker does; it stays disabled otherwise).
    pub ipv6: Option<(Ipv6Addr, u8)>,
    /// IPv6 default route through this gateway (with the IPv4 one).
    pub default_gateway6: Option<Ipv6Addr>,
    /// IPAMConfig.LinkLocalIPs with their prefix lengths (/16 for IPv4, /64 for IPv6).
    pub link_local: Vec<(IpAddr, u8)>,
}

/// Configure one endpoint of the namespace at `ns`. The veth pair is created from the engine's
/// namespace with its peer born inside the container's (named, addressed and sized there) and
/// the host end born enslaved to the bridge: moving an existing device between namespaces
/// costs an RCU grace period (tens of milliseconds under load), creating it in place does not.
/// Then, from inside: IPv6 off and loopback up (first endpoint), IPv6 on where this endpoint has
/// it, the addresses, the link up, the default routes.
pub fn setup_endpoint(ns: &Path, ep: &EndpointLink, loopback: bool) -> Result<()> {
    let ep = ep.clone();
    let ns_file = std::fs::File::open(ns)
        .map_err(|e| EngineError::internal(format!("opening {}: {e}", ns.display())))?;
    netns::run_in(None, move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| EngineError::internal(format!("netlink runtime: {e}")))?;
        rt.block_on(async move {
            // Host side first, on a socket opened in the engine's namespace.
            let (conn, h, _) = rtnetlink::new_connection()
                .map_err(|e| EngineError::internal(format!("netlink socket: {e}")))?;
            let host_task = tokio::spawn(conn);
            let br = index_of(&h, &ep.bridge)
                .await?
                .ok_or_else(|| EngineError::internal(format!("bridge {} missing", ep.bridge)))?;
            let peer = LinkMessageBuilder::<LinkUnspec>::new()
                .name(ep.ifname.clone())
                .mtu(ep.mtu)
                .address(ep.mac.to_vec())
                .setns_by_fd(ns_file.as_raw_fd())
                .build();
            let host_end = LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth)
                .name(ep.host_ifname.clone())
                .mtu(ep.mtu)
                .controller(br)
                .up()
                .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
                .build();
            h.link()
                .add(host_end)
                .execute()
                .await
                .map_err(nl_err("creating the veth pair"))?;
            host_task.abort();
            // Then the container side, on a socket opened inside its namespace.
            setns(ns_file.as_fd(), CloneFlags::CLONE_NEWNET)
                .map_err(|e| EngineError::internal(format!("setns: {e}")))?;
            let (conn, h, _) = rtnetlink::new_connection()
                .map_err(|e| EngineError::internal(format!("netlink socket: {e}")))?;
            let task = tokio::spawn(conn);
            if loopback {
                // A new namespace starts as docker's: IPv6 off everywhere until an IPv6
                // endpoint turns it on for itself and loopback. (A kernel booted with
                // ipv6.disable=1 has no such knobs: nothing to turn off.)
                if Path::new("/proc/sys/net/ipv6").exists() {
                    for knob in ["default", "all"] {
                        sysctl(&format!("net/ipv6/conf/{knob}/disable_ipv6"), "1")?;
                    }
                }
                if let Some(lo) = index_of(&h, "lo").await? {
                    h.link()
                        .set(LinkUnspec::new_with_index(lo).up().build())
                        .execute()
                        .await
                        .map_err(nl_err("bringing loopback up"))?;
                }
            }
            let idx = index_of(&h, &ep.ifname)
                .await?
                .ok_or_else(|| EngineError::internal("container interface missing"))?;
            if ep.ipv6.is_some() || ep.link_local.iter().any(|(ip, _)| ip.is_ipv6()) {
                for dev in ["lo", ep.ifname.as_str()] {
                    sysctl(&format!("net/ipv6/conf/{dev}/disable_ipv6"), "0")?;
                }
            }
            add_address(
                &h,
                idx,
                IpAddr::V4(ep.ip),
                ep.prefix,
                "adding the container address",
            )
            .await?;
            if let Some((ip6, prefix6)) = ep.ipv6 {
                add_address(
                    &h,
                    idx,
                    IpAddr::V6(ip6),
                    prefix6,
                    "adding the container IPv6 address",
                )
                .await?;
            }
            for (ip, prefix) in &ep.link_local {
                add_address(&h, idx, *ip, *prefix, "adding a link-local address").await?;
            }
            h.link()
                .set(LinkUnspec::new_with_index(idx).up().build())
                .execute()
                .await
                .map_err(nl_err("bringing the container interface up"))?;
            if let Some(gw) = ep.default_gateway {
                h.route()
                    .add(
                        RouteMessageBuilder::<Ipv4Addr>::new()
                            .gateway(gw)
                            .output_interface(idx)
                            .build(),
                    )
                    .execute()
                    .await
                    .map_err(nl_err("adding the default route"))?;
            }
            if let Some(gw6) = ep.default_gateway6 {
                h.route()
                    .add(
                        RouteMessageBuilder::<Ipv6Addr>::new()
                            .gateway(gw6)
                            .output_interface(idx)
                            .build(),
                    )
                    .execute()
                    .await
                    .map_err(nl_err("adding the IPv6 default route"))?;
            }
            task.abort();
            Ok(())
        })
    })
}

/// Remove one interface from a running container's namespace (its veth peer goes with it).
pub fn remove_endpoint(ns: &Path, ifname: &str) -> Result<()> {
    let ifname = ifname.to_owned();
    with_handle(Some(ns), move |h, _| async move {
        if let Some(idx) = index_of(&h, &ifname).await? {
            h.link()
                .del(idx)
                .execute()
                .await
                .map_err(nl_err("deleting the container interface"))?;
        }
        Ok(())
    })
}

/// Write a /proc/sys knob (path relative to /proc/sys).
pub fn sysctl(key: &str, value: &str) -> Result<()> {
    let path = format!("/proc/sys/{key}");
    if std::fs::read_to_string(&path).is_ok_and(|v| v.trim() == value) {
        return Ok(());
    }
    std::fs::write(&path, value)
        .map_err(|e| EngineError::internal(format!("setting {path}={value}: {e}")))
}
