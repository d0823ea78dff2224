//! IPv6 on the fake host: the bridge's gateway, endpoint addresses (automatic, requested, out of
//! the subnet, taken), the default route, the nft state, and a v6 config without EnableIPv6.

use std::net::Ipv6Addr;

use super::*;

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn create_v6(f: &Fixture, name: &str, enable: bool) -> NetworkRecord {
    f.svc
        .create(&json!({"Name": name, "EnableIPv6": enable,
            "IPAM": {"Config": [{"Subnet": "10.98.0.0/24"}, {"Subnet": "fd00:98::/64"}]}}))
        .unwrap()
}

/// Per endpoint set up: its IPv6 address and prefix, its IPv6 default gateway.
type V6Setup = (Option<(Ipv6Addr, u8)>, Option<Ipv6Addr>);

fn setups_v6(f: &Fixture) -> Vec<V6Setup> {
    f.host
        .calls_of("setup_endpoint")
        .into_iter()
        .filter_map(|c| match c {
            HostCall::SetupEndpoint {
                ipv6,
                default_gateway6,
                ..
            } => Some((ipv6, default_gateway6)),
            _ => None,
        })
        .collect()
}

#[test]
fn enabled_network_gives_bridge_and_endpoints_ipv6() {
    let f = fixture();
    let n = create_v6(&f, "dual", true);
    assert!(f.host.calls().contains(&HostCall::BridgeIpv6 {
        name: n.bridge.clone(),
        gateway: v6("fd00:98::1"),
        prefix: 64,
    }));
    let a = create_container(&f, 1, "dual", json!({}));
    f.svc.attach(&a, &f.dir).unwrap();
    let b = create_container(
        &f,
        2,
        "dual",
        json!({"dual": {"IPAMConfig": {"IPv6Address": "fd00:98::77"}}}),
    );
    f.svc.attach(&b, &f.dir).unwrap();
    assert_eq!(
        setups_v6(&f),
        vec![
            (Some((v6("fd00:98::2"), 64)), Some(v6("fd00:98::1"))),
            (Some((v6("fd00:98::77"), 64)), Some(v6("fd00:98::1"))),
        ]
    );
    let hosts = std::fs::read_to_string(f.dir.join(crate::runtime::spec::files::HOSTS)).unwrap();
    assert!(hosts.contains("fd00:98::77\th2"), "{hosts}");
    let (nets, _) = NetworkService::nat_state(&f.svc.lock());
    let dual = nets.iter().find(|x| x.bridge == n.bridge).unwrap();
    assert_eq!(
        dual.subnet6.map(|s| s.to_string()),
        Some("fd00:98::/64".into())
    );
}

#[test]
fn requested_ipv6_addresses_are_checked_when_the_endpoint_is_made() {
    let f = fixture();
    create_v6(&f, "dual", true);
    let a = create_container(
        &f,
        1,
        "dual",
        json!({"dual": {"IPAMConfig": {"IPv6Address": "fd00:98::9"}}}),
    );
    f.svc.attach(&a, &f.dir).unwrap();
    let twin = create_container(
        &f,
        2,
        "dual",
        json!({"dual": {"IPAMConfig": {"IPv6Address": "fd00:98::9"}}}),
    );
    let e = f.svc.attach(&twin, &f.dir).unwrap_err();
    assert!(
        matches!(e, EngineError::Forbidden(ref m) if m == "Address already in use"),
        "{e}"
    );
    let out = create_container(
        &f,
        3,
        "dual",
        json!({"dual": {"IPAMConfig": {"IPv6Address": "2001:db8::9"}}}),
    );
    let e = f.svc.attach(&out, &f.dir).unwrap_err();
    assert!(
        e.to_string()
            .contains("does not belong to any of this network's subnets"),
        "{e}"
    );
    // As for IPv4, the default bridge takes no requested address (dockerd's 400).
    let req: CreateRequest = serde_json::from_value(json!({
        "HostConfig": {"NetworkMode": "bridge"},
        "NetworkingConfig": {"EndpointsConfig": {"bridge": {"IPAMConfig": {"IPv6Address": "fd00::9"}}}},
    }))
    .unwrap();
    let Err(e) = f.svc.plan_create(&req) else {
        panic!("a requested address on the default bridge must be refused")
    };
    assert!(matches!(e, EngineError::InvalidArgument(_)), "{e}");
    // Nothing of the failed starts is left behind.
    assert_eq!(f.host.pinned_namespaces().len(), 1);
}

#[test]
fn a_v6_config_without_enable_ipv6_is_kept_but_not_allocated() {
    let f = fixture();
    let n = create_v6(&f, "plain", false);
    assert!(!n.enable_ipv6);
    assert_eq!(
        n.ipv6.as_ref().map(|c| c.subnet.as_str()),
        Some("fd00:98::/64")
    );
    assert!(f.host.calls_of("bridge_ipv6").is_empty());
    let a = create_container(
        &f,
        1,
        "plain",
        json!({"plain": {"IPAMConfig": {"IPv6Address": "fd00:98::9"}}}),
    );
    f.svc.attach(&a, &f.dir).unwrap();
    assert_eq!(setups_v6(&f), vec![(None, None)]);
    // A second network may use the same v6 pool: nothing was allocated from it.
    f.svc
        .create(&json!({"Name": "again", "EnableIPv6": true,
            "IPAM": {"Config": [{"Subnet": "fd00:98::/64"}]}}))
        .unwrap();
    let clash = f.svc.create(&json!({"Name": "clash", "EnableIPv6": true,
        "IPAM": {"Config": [{"Subnet": "fd00:98::/80"}]}}));
    assert!(matches!(clash, Err(EngineError::Forbidden(_))));
}
