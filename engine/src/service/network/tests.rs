//! The network state machine against the recording `FakeHost`, without root: IPAM, create and
//! remove, attach and its rollback, release, connect and disconnect, published ports.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::fake_host::{FakeHost, HostCall};
use super::ipam::allocate_address;
use super::{NetnsObserver, NetworkService, State};
use crate::error::EngineError;
use crate::model::container::{ContainerRecord, CreateRequest};
use crate::network::ipam::Ipv4Net;
use crate::network::store::{ActiveEndpoint, Attachment, ContainerNet, NetworkRecord};
use crate::network::NetworkOptions;
use crate::service::events::EventBus;

mod ipv6;

/// Records the namespace hooks (where the embedded DNS is attached and detached).
#[derive(Default)]
struct Hooks(Mutex<Vec<String>>);

impl NetnsObserver for Hooks {
    fn netns_configured(&self, id: &str, _netns: &Path) {
        self.0.lock().unwrap().push(format!("configured {id}"));
    }
    fn netns_teardown(&self, id: &str, _netns: &Path) {
        self.0.lock().unwrap().push(format!("teardown {id}"));
    }
}

struct Fixture {
    _root: tempfile::TempDir,
    svc: Arc<NetworkService>,
    host: Arc<FakeHost>,
    hooks: Arc<Hooks>,
    /// The container directory /etc/hosts and resolv.conf are written to.
    dir: PathBuf,
}

fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let host = Arc::new(FakeHost::default());
    let svc = NetworkService::open_with_host(
        root.path(),
        NetworkOptions::default(),
        EventBus::new(),
        host.clone(),
    )
    .unwrap();
    let hooks = Arc::new(Hooks::default());
    svc.set_observer(hooks.clone());
    let dir = root.path().join("container");
    std::fs::create_dir_all(&dir).unwrap();
    Fixture {
        _root: root,
        svc,
        host,
        hooks,
        dir,
    }
}

fn id(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// A container record in `mode` with `host_extra` merged into its HostConfig.
fn container(n: u8, mode: &str, host_extra: Value) -> ContainerRecord {
    let mut host = json!({"NetworkMode": mode});
    if let (Some(h), Some(extra)) = (host.as_object_mut(), host_extra.as_object()) {
        h.extend(extra.clone());
    }
    serde_json::from_value(json!({
        "id": id(n),
        "name": format!("c{n}"),
        "created": "2026-01-01T00:00:00Z",
        "image": "busybox",
        "image_id": "sha256:00",
        "layer_dirs": [],
        "path": "sh",
        "args": [],
        "config": {"Hostname": format!("h{n}")},
        "host_config": host,
        "state": {"status": "created", "pid": 0, "exit_code": 0, "oom_killed": false,
                  "error": "", "started_at": "", "finished_at": ""},
        "restart_count": 0,
    }))
    .unwrap()
}

fn create_net(f: &Fixture, name: &str, subnet: &str) -> NetworkRecord {
    f.svc
        .create(&json!({"Name": name, "IPAM": {"Config": [{"Subnet": subnet}]}}))
        .unwrap()
}

/// Create container `n` through the hooks the container service calls (plan, then commit).
fn create_container(f: &Fixture, n: u8, mode: &str, endpoints: Value) -> ContainerRecord {
    let rec = container(n, mode, json!({}));
    let req: CreateRequest = serde_json::from_value(json!({
        "HostConfig": {"NetworkMode": mode},
        "NetworkingConfig": {"EndpointsConfig": endpoints},
    }))
    .unwrap();
    let plan = f.svc.plan_create(&req).unwrap().expect("bridge mode");
    f.svc.commit_create(plan, &rec).unwrap();
    rec
}

/// The container's active addresses, by network name.
fn addresses(f: &Fixture, rec: &ContainerRecord) -> Vec<(String, Ipv4Addr)> {
    f.svc
        .container_networking(&rec.id)
        .map(|c| {
            c.attachments
                .iter()
                .filter_map(|(a, n)| Some((n.name.clone(), a.active.as_ref()?.ip)))
                .collect()
        })
        .unwrap_or_default()
}

// ---- IPAM ---------------------------------------------------------------------------------------

fn ipam_state(subnet: &str, taken: &[(&str, [u8; 4])]) -> (State, NetworkRecord) {
    let net: Ipv4Net = subnet.parse().unwrap();
    let n = NetworkRecord {
        id: "net".into(),
        name: "app".into(),
        created: String::new(),
        driver: "bridge".into(),
        subnet: Some(subnet.into()),
        gateway: net.first_host(),
        bridge: "br-test".into(),
        internal: false,
        attachable: false,
        labels: Default::default(),
        options: Default::default(),
        ip_range: None,
        aux_addresses: Default::default(),
        predefined: false,
        enable_ipv6: false,
        ipv6: None,
    };
    let mut state = State::default();
    for (cid, ip) in taken {
        let active = ActiveEndpoint {
            endpoint_id: String::new(),
            ip: Ipv4Addr::from(*ip),
            prefix: net.prefix(),
            gateway: n.gateway.unwrap(),
            mac: [0; 6],
            ifname: "eth0".into(),
            host_ifname: "veth".into(),
            ipv6: None,
        };
        state.containers.insert(
            cid.to_string(),
            ContainerNet {
                container_id: cid.to_string(),
                attachments: vec![Attachment {
                    network_id: n.id.clone(),
                    active: Some(active),
                    ..Default::default()
                }],
                ..Default::default()
            },
        );
    }
    state.networks.insert(n.id.clone(), n.clone());
    (state, n)
}

#[test]
fn ipam_skips_the_gateway_and_taken_addresses() {
    let (state, n) = ipam_state("10.99.0.0/24", &[("a", [10, 99, 0, 2])]);
    let subnet = n.subnet().unwrap();
    assert_eq!(
        allocate_address(&state, "b", &n, &subnet, None).unwrap(),
        Ipv4Addr::new(10, 99, 0, 3)
    );
    // A container's own earlier endpoint does not count as taken.
    assert_eq!(
        allocate_address(&state, "a", &n, &subnet, None).unwrap(),
        Ipv4Addr::new(10, 99, 0, 2)
    );
}

#[test]
fn ipam_takes_addresses_from_the_range_and_never_auxiliary_ones() {
    let (state, mut n) = ipam_state("10.99.0.0/20", &[("a", [10, 99, 5, 2])]);
    n.ip_range = Some("10.99.5.0/24".into());
    n.aux_addresses = [("x".into(), Ipv4Addr::new(10, 99, 5, 0))].into();
    let subnet = n.subnet().unwrap();
    // .0 is in the range (a host address of the /20) but auxiliary; .2 is taken.
    assert_eq!(
        allocate_address(&state, "b", &n, &subnet, None).unwrap(),
        Ipv4Addr::new(10, 99, 5, 1)
    );
    n.aux_addresses
        .insert("y".into(), Ipv4Addr::new(10, 99, 5, 1));
    assert_eq!(
        allocate_address(&state, "b", &n, &subnet, None).unwrap(),
        Ipv4Addr::new(10, 99, 5, 3)
    );
}

#[test]
fn ipam_requested_address_must_be_free_and_not_the_gateway() {
    let (state, n) = ipam_state("10.99.0.0/24", &[("a", [10, 99, 0, 2])]);
    let subnet = n.subnet().unwrap();
    let want = Ipv4Addr::new(10, 99, 0, 50);
    assert_eq!(
        allocate_address(&state, "b", &n, &subnet, Some(want)).unwrap(),
        want
    );
    for taken in [Ipv4Addr::new(10, 99, 0, 2), Ipv4Addr::new(10, 99, 0, 1)] {
        let err = allocate_address(&state, "b", &n, &subnet, Some(taken)).unwrap_err();
        assert!(matches!(err, EngineError::Conflict(_)), "{err}");
        assert!(err.to_string().contains("Address already in use"), "{err}");
    }
}

#[test]
fn ipam_exhaustion_is_a_conflict() {
    // A /30 has two host addresses: the gateway and one container.
    let (state, n) = ipam_state("10.99.0.0/30", &[("a", [10, 99, 0, 2])]);
    let subnet = n.subnet().unwrap();
    let err = allocate_address(&state, "b", &n, &subnet, None).unwrap_err();
    assert!(matches!(err, EngineError::Conflict(_)), "{err}");
    assert!(
        err.to_string().contains("no available IPv4 addresses"),
        "{err}"
    );
}

// ---- create / remove / prune --------------------------------------------------------------------

#[test]
fn create_brings_the_bridge_up_with_the_gateway_reserved() {
    let f = fixture();
    let n = create_net(&f, "app", "10.99.0.0/24");
    assert_eq!(n.gateway, Some(Ipv4Addr::new(10, 99, 0, 1)));
    assert!(f.host.calls().contains(&HostCall::EnsureBridge {
        name: n.bridge.clone(),
        gateway: Ipv4Addr::new(10, 99, 0, 1),
        prefix: 24,
        mtu: crate::network::DEFAULT_MTU,
    }));
    let rec = create_container(&f, 1, "app", json!({}));
    f.svc.attach(&rec, &f.dir).unwrap();
    assert_eq!(
        addresses(&f, &rec),
        vec![("app".into(), Ipv4Addr::new(10, 99, 0, 2))]
    );
}

#[test]
fn create_with_an_overlapping_subnet_is_rejected() {
    let f = fixture();
    create_net(&f, "app", "10.99.0.0/24");
    f.host.clear();
    let err = f
        .svc
        .create(&json!({"Name": "other", "IPAM": {"Config": [{"Subnet": "10.99.0.128/25"}]}}))
        .unwrap_err();
    assert!(matches!(err, EngineError::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("overlaps"), "{err}");
    // The default bridge's subnet is taken too.
    let default = NetworkOptions::default().bridge_subnet.to_string();
    assert!(f
        .svc
        .create(&json!({"Name": "other", "IPAM": {"Config": [{"Subnet": default}]}}))
        .is_err());
    assert!(f.host.calls().is_empty(), "{:?}", f.host.calls());
    assert!(f.svc.get("other").is_err());
}

#[test]
fn create_without_a_subnet_takes_one_that_overlaps_nothing() {
    let f = fixture();
    let a = f.svc.create(&json!({"Name": "a"})).unwrap();
    let b = f.svc.create(&json!({"Name": "b"})).unwrap();
    let (sa, sb) = (a.subnet().unwrap(), b.subnet().unwrap());
    assert!(!sa.overlaps(&sb), "{sa} {sb}");
    assert!(NetworkOptions::default().pool.contains(sa.addr()));
}

#[test]
fn create_that_fails_on_the_host_leaves_no_network() {
    let f = fixture();
    f.host.fail_nth("apply_nat", 1);
    assert!(f.svc.create(&json!({"Name": "app"})).is_err());
    assert!(f.svc.get("app").is_err());
    // The bridge made before the failure is deleted again.
    let bridge = match &f.host.calls_of("ensure_bridge")[0] {
        HostCall::EnsureBridge { name, .. } => name.clone(),
        other => panic!("{other:?}"),
    };
    assert!(f.host.calls().contains(&HostCall::DeleteLink(bridge)));
}

#[test]
fn removing_a_network_in_use_is_refused_until_its_containers_stop() {
    let f = fixture();
    let n = create_net(&f, "app", "10.99.0.0/24");
    let rec = create_container(&f, 1, "app", json!({}));
    f.svc.attach(&rec, &f.dir).unwrap();
    let err = f.svc.remove("app").unwrap_err();
    assert!(matches!(err, EngineError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("active endpoints"), "{err}");
    // Not pruned either while attached.
    assert!(f.svc.prune(|_| false).is_empty());

    f.svc.release(&rec.id);
    f.svc.remove("app").unwrap();
    assert!(f.host.calls().contains(&HostCall::DeleteLink(n.bridge)));
    // The stopped container no longer names the network.
    let c = f.svc.container_networking(&rec.id).unwrap();
    assert!(c.net.attachments.is_empty());
}

#[test]
fn predefined_networks_cannot_be_removed_and_prune_takes_unused_user_networks() {
    let f = fixture();
    for name in ["bridge", "host", "none"] {
        assert!(matches!(f.svc.remove(name), Err(EngineError::Conflict(_))));
    }
    create_net(&f, "used", "10.99.0.0/24");
    create_net(&f, "unused", "10.99.1.0/24");
    create_container(&f, 1, "used", json!({}));
    assert_eq!(f.svc.prune(|_| false), vec!["unused".to_string()]);
    assert!(f.svc.get("used").is_ok());
}

// ---- attach / release ---------------------------------------------------------------------------

#[test]
fn attach_wires_each_network_and_writes_the_etc_files() {
    let f = fixture();
    create_net(&f, "front", "10.99.0.0/24");
    create_net(&f, "back", "10.99.1.0/24");
    let rec = create_container(&f, 1, "front", json!({"back": {"Aliases": ["db"]}}));
    let ns = f.svc.attach(&rec, &f.dir).unwrap().expect("a namespace");
    assert_eq!(f.host.pinned_namespaces(), vec![ns.clone()]);
    let setups = f.host.calls_of("setup_endpoint");
    assert_eq!(setups.len(), 2);
    match (&setups[0], &setups[1]) {
        (
            HostCall::SetupEndpoint {
                ifname: i0,
                default_gateway: g0,
                ..
            },
            HostCall::SetupEndpoint {
                ifname: i1,
                default_gateway: g1,
                ..
            },
        ) => {
            assert_eq!((i0.as_str(), i1.as_str()), ("eth0", "eth1"));
            // One default route, through the first network.
            assert_eq!((*g0, *g1), (Some(Ipv4Addr::new(10, 99, 0, 1)), None));
        }
        other => panic!("{other:?}"),
    }
    let hosts = std::fs::read_to_string(f.dir.join("hosts")).unwrap();
    assert!(hosts.contains("10.99.0.2"), "{hosts}");
    assert!(hosts.contains("10.99.1.2"), "{hosts}");
    let resolv = std::fs::read_to_string(f.dir.join("resolv.conf")).unwrap();
    // User networks get the embedded resolver.
    assert!(resolv.contains("127.0.0.11"), "{resolv}");
    assert_eq!(
        *f.hooks.0.lock().unwrap(),
        vec![format!("configured {}", rec.id)]
    );
    let scopes = f.svc.dns_scope(&rec.id);
    assert_eq!(scopes.len(), 2);
    assert_eq!(scopes[1].members[0].aliases, vec!["db".to_string()]);
    assert_eq!(scopes[0].upstream_servers, vec!["192.0.2.53".to_string()]);
}

#[test]
fn attach_failing_halfway_undoes_every_step() {
    let f = fixture();
    create_net(&f, "front", "10.99.0.0/24");
    create_net(&f, "back", "10.99.1.0/24");
    let rec = create_container(&f, 1, "front", json!({"back": {}}));
    // The second network's veth fails after the first one is up.
    f.host.fail_nth("setup_endpoint", 2);
    assert!(f.svc.attach(&rec, &f.dir).is_err());
    assert!(
        f.host.veths_not_deleted().is_empty(),
        "{:?}",
        f.host.calls()
    );
    assert!(f.host.pinned_namespaces().is_empty());
    assert!(addresses(&f, &rec).is_empty());
    let c = f.svc.container_networking(&rec.id).unwrap();
    assert!(c.net.netns.is_none());
    assert!(f.hooks.0.lock().unwrap().is_empty());

    // Nothing is held: the next start gets the same addresses.
    f.svc.attach(&rec, &f.dir).unwrap();
    assert_eq!(
        addresses(&f, &rec),
        vec![
            ("front".into(), Ipv4Addr::new(10, 99, 0, 2)),
            ("back".into(), Ipv4Addr::new(10, 99, 1, 2)),
        ]
    );
}

#[test]
fn attach_failing_to_create_the_namespace_wires_nothing() {
    let f = fixture();
    create_net(&f, "app", "10.99.0.0/24");
    let rec = create_container(&f, 1, "app", json!({}));
    f.host.fail_nth("create_netns", 1);
    assert!(f.svc.attach(&rec, &f.dir).is_err());
    assert!(f.host.calls_of("setup_endpoint").is_empty());
    assert!(addresses(&f, &rec).is_empty());
}

#[test]
fn host_and_none_modes_get_no_namespace() {
    let f = fixture();
    for mode in ["host", "none"] {
        let rec = container(1, mode, json!({}));
        assert_eq!(f.svc.attach(&rec, &f.dir).unwrap(), None);
    }
    assert!(f.host.calls().is_empty());
}

#[test]
fn published_ports_get_dnat_rules_until_the_container_stops() {
    let f = fixture();
    create_net(&f, "app", "10.99.0.0/24");
    let mut rec = create_container(&f, 1, "app", json!({}));
    rec.host_config.extra.insert(
        "PortBindings".into(),
        json!({"80/tcp": [{"HostPort": "8080"}], "53/udp": [{"HostPort": ""}]}),
    );
    f.svc.attach(&rec, &f.dir).unwrap();
    let mut rules: Vec<(String, u16, u16, Ipv4Addr)> = f
        .host
        .nat_rules()
        .iter()
        .map(|r| {
            (
                r.proto.clone(),
                r.host_port,
                r.container_port,
                r.container_ip,
            )
        })
        .collect();
    rules.sort();
    let ip = Ipv4Addr::new(10, 99, 0, 2);
    assert_eq!(
        rules,
        vec![("tcp".into(), 8080, 80, ip), ("udp".into(), 40000, 53, ip),]
    );
    assert_eq!(f.svc.published(&rec.id).len(), 2);

    f.svc.release(&rec.id);
    assert!(f.host.nat_rules().is_empty());
    assert!(f.svc.published(&rec.id).is_empty());
    assert!(f.host.pinned_namespaces().is_empty());
    assert!(addresses(&f, &rec).is_empty());
    assert_eq!(
        f.hooks.0.lock().unwrap().last().unwrap(),
        &format!("teardown {}", rec.id)
    );
    // Idempotent.
    f.host.clear();
    f.svc.release(&rec.id);
    assert!(f.host.calls().is_empty());
}

#[test]
fn attach_failing_after_the_dnat_rules_takes_them_back() {
    let f = fixture();
    create_net(&f, "app", "10.99.0.0/24");
    let mut rec = create_container(&f, 1, "app", json!({}));
    rec.host_config.extra.insert(
        "PortBindings".into(),
        json!({"80/tcp": [{"HostPort": "8080"}]}),
    );
    // /etc/hosts cannot be written: the step after the DNAT rules fails.
    let missing = f.dir.join("missing");
    assert!(f.svc.attach(&rec, &missing).is_err());
    assert!(f.host.nat_rules().is_empty(), "{:?}", f.host.calls());
    assert!(f.host.veths_not_deleted().is_empty());
    assert!(f.svc.published(&rec.id).is_empty());
}

// ---- connect / disconnect -----------------------------------------------------------------------

#[test]
fn connect_wires_a_running_container_and_disconnect_releases_the_address() {
    let f = fixture();
    create_net(&f, "front", "10.99.0.0/24");
    create_net(&f, "back", "10.99.1.0/24");
    let rec = create_container(&f, 1, "front", json!({}));
    f.svc.attach(&rec, &f.dir).unwrap();
    f.svc
        .connect("back", &rec, true, &f.dir, &json!({"Aliases": ["db"]}))
        .unwrap();
    assert_eq!(
        addresses(&f, &rec),
        vec![
            ("front".into(), Ipv4Addr::new(10, 99, 0, 2)),
            ("back".into(), Ipv4Addr::new(10, 99, 1, 2)),
        ]
    );
    let hosts = std::fs::read_to_string(f.dir.join("hosts")).unwrap();
    assert!(hosts.contains("10.99.1.2"), "{hosts}");
    // Connecting a running container twice is forbidden (dockerd's 403).
    assert!(matches!(
        f.svc.connect("back", &rec, true, &f.dir, &Value::Null),
        Err(EngineError::Forbidden(_))
    ));

    f.svc.disconnect("back", &rec, &f.dir).unwrap();
    assert!(f.host.calls().contains(&HostCall::RemoveEndpoint {
        ns: f
            .svc
            .container_networking(&rec.id)
            .unwrap()
            .net
            .netns
            .unwrap(),
        ifname: "eth1".into(),
    }));
    assert!(f.svc.members(&f.svc.get("back").unwrap().id).is_empty());
    let hosts = std::fs::read_to_string(f.dir.join("hosts")).unwrap();
    assert!(!hosts.contains("10.99.1.2"), "{hosts}");
    // The address is free again.
    let other = create_container(&f, 2, "back", json!({}));
    f.svc.attach(&other, &f.dir).unwrap();
    assert_eq!(
        addresses(&f, &other),
        vec![("back".into(), Ipv4Addr::new(10, 99, 1, 2))]
    );
}

#[test]
fn connect_failing_on_the_host_adds_nothing() {
    let f = fixture();
    create_net(&f, "front", "10.99.0.0/24");
    create_net(&f, "back", "10.99.1.0/24");
    let rec = create_container(&f, 1, "front", json!({}));
    f.svc.attach(&rec, &f.dir).unwrap();
    f.host.fail_nth("setup_endpoint", 2);
    assert!(f
        .svc
        .connect("back", &rec, true, &f.dir, &Value::Null)
        .is_err());
    assert_eq!(
        addresses(&f, &rec),
        vec![("front".into(), Ipv4Addr::new(10, 99, 0, 2))]
    );
    let c = f.svc.container_networking(&rec.id).unwrap();
    assert_eq!(c.net.attachments.len(), 1);
    // The half-made interface is taken out of the running container.
    assert!(f.host.calls().contains(&HostCall::RemoveEndpoint {
        ns: c.net.netns.unwrap(),
        ifname: "eth1".into(),
    }));
    // And it can be retried.
    f.svc
        .connect("back", &rec, true, &f.dir, &Value::Null)
        .unwrap();
}

#[test]
fn connect_of_a_stopped_container_is_recorded_for_its_next_start() {
    let f = fixture();
    create_net(&f, "front", "10.99.0.0/24");
    create_net(&f, "back", "10.99.1.0/24");
    let rec = create_container(&f, 1, "front", json!({}));
    f.svc
        .connect(
            "back",
            &rec,
            false,
            &f.dir,
            &json!({"IPAMConfig": {"IPv4Address": "10.99.1.77"}}),
        )
        .unwrap();
    assert!(f.host.calls_of("setup_endpoint").is_empty());
    f.svc.attach(&rec, &f.dir).unwrap();
    assert_eq!(
        addresses(&f, &rec),
        vec![
            ("front".into(), Ipv4Addr::new(10, 99, 0, 2)),
            ("back".into(), Ipv4Addr::new(10, 99, 1, 77)),
        ]
    );
}

#[test]
fn disconnect_of_a_network_the_container_is_not_on_is_refused() {
    let f = fixture();
    create_net(&f, "front", "10.99.0.0/24");
    create_net(&f, "back", "10.99.1.0/24");
    let rec = create_container(&f, 1, "front", json!({}));
    assert!(matches!(
        f.svc.disconnect("back", &rec, &f.dir),
        Err(EngineError::InvalidArgument(_))
    ));
}

#[test]
fn reconcile_drops_the_networking_of_containers_that_no_longer_run() {
    let f = fixture();
    create_net(&f, "app", "10.99.0.0/24");
    let a = create_container(&f, 1, "app", json!({}));
    let b = create_container(&f, 2, "app", json!({}));
    f.svc.attach(&a, &f.dir).unwrap();
    f.svc.attach(&b, &f.dir).unwrap();
    let running = [a.id.clone()].into_iter().collect();
    let existing = [a.id.clone(), b.id.clone()].into_iter().collect();
    f.svc.reconcile(&running, &existing);
    assert_eq!(addresses(&f, &a).len(), 1);
    assert!(addresses(&f, &b).is_empty());
    assert_eq!(f.host.pinned_namespaces().len(), 1);
    // A container that no longer exists is forgotten.
    f.svc.reconcile(&running, &running);
    assert!(f.svc.container_networking(&b.id).is_none());
}
