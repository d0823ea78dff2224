//! The conversions on their own, for what the recorded corpus does not reach: other API
//! versions, errors in docker compose's words, options no fixture uses. Mounts, engine-side
//! bodies and injected files are in [`super::engine_side`].

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::compose::create::{
    container_name, create_body, host, image_name, links, network, resolve_service_references,
    resources, CreateOptions, Resolved,
};
use crate::compose::observed::Container;
use crate::compose::options::ProjectFlags;
use crate::compose::project::{self, LoadOptions};
use crate::compose::types::Project;

/// A project from compose YAML, loaded as `berth compose` loads one (project `t`).
pub fn project_from(yaml: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
    let flags = ProjectFlags {
        project_name: Some("t".into()),
        ..Default::default()
    };
    let env: BTreeMap<String, String> = [("SECRET_VAR".to_string(), "s3".to_string())].into();
    project::load(&flags, &env, dir.path(), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .project
}

pub fn resolved(api: &str) -> Resolved {
    Resolved {
        api_version: api.into(),
        ..Default::default()
    }
}

fn body(p: &Project, service: &str, api: &str) -> Value {
    create_body(
        p,
        &p.services[service],
        1,
        &CreateOptions {
            use_network_aliases: true,
            ..Default::default()
        },
        &resolved(api),
    )
    .unwrap()
}

fn error(p: &Project, service: &str, api: &str) -> String {
    create_body(
        p,
        &p.services[service],
        1,
        &CreateOptions::default(),
        &resolved(api),
    )
    .unwrap_err()
    .to_string()
}

#[test]
fn names() {
    let p = project_from("services:\n  a: {build: .}\n  b: {image: x, container_name: fixed}\n");
    assert_eq!(image_name("t", &p.services["a"]), "t-a");
    assert_eq!(container_name("t", &p.services["a"], 3), "t-a-3");
    assert_eq!(container_name("t", &p.services["b"], 3), "fixed");
}

#[test]
fn restart_policies() {
    let p = project_from(
        "services:
  a: {image: x, restart: 'no'}
  b: {image: x, restart: 'on-failure:x'}
  c: {image: x, restart: always, deploy: {restart_policy: {condition: any}}}
  d: {image: x, deploy: {restart_policy: {condition: none, max_attempts: 2}}}
",
    );
    let rp = |s: &str| host::restart_policy(&p.services[s]);
    assert_eq!(rp("a"), json!({"Name": "no", "MaximumRetryCount": 0}));
    assert_eq!(
        rp("b"),
        json!({"Name": "on-failure", "MaximumRetryCount": 0})
    );
    assert_eq!(rp("c"), json!({"Name": "always", "MaximumRetryCount": 0}));
    assert_eq!(rp("d"), json!({"Name": "no", "MaximumRetryCount": 2}));
}

#[test]
fn capabilities_are_normalised_as_docker_client_does() {
    let caps = ["net_admin", "CAP_CHOWN", "all", "NET_ADMIN"].map(String::from);
    assert_eq!(
        host::normalize_capabilities(&caps),
        ["ALL", "CAP_CHOWN", "CAP_NET_ADMIN"]
    );
}

#[test]
fn security_options() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("seccomp.json"),
        "{ \"b\" : [ 1 , 2 ],\n  \"a\" : \"x y\" }\n",
    )
    .unwrap();
    let mut p = project_from("services: {a: {image: x}}");
    p.working_dir = dir.path().display().to_string();
    let opts = [
        "seccomp=seccomp.json",
        "systempaths=unconfined",
        "no-new-privileges",
        "label:disable",
        "seccomp=unconfined",
    ]
    .map(String::from);
    let (parsed, unconfined) = host::parse_security_opts(&p, &opts).unwrap();
    assert!(unconfined);
    assert_eq!(
        parsed,
        [
            r#"seccomp={"b":[1,2],"a":"x y"}"#,
            "no-new-privileges",
            "label:disable",
            "seccomp=unconfined"
        ]
    );
    let err = host::parse_security_opts(&p, &["bogus".into()]).unwrap_err();
    assert_eq!(err.to_string(), r#"invalid security-opt: "bogus""#);
    let err = host::parse_security_opts(&p, &["seccomp=missing.json".into()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "opening seccomp profile (missing.json) failed: open {}/missing.json: no such file or directory",
            dir.path().display()
        )
    );
    let p = project_from("services: {a: {image: x, security_opt: [systempaths=unconfined]}}");
    let b = body(&p, "a", "1.44");
    assert_eq!(b["HostConfig"]["MaskedPaths"], json!([]));
    assert_eq!(b["HostConfig"]["ReadonlyPaths"], json!([]));
    assert_eq!(b["HostConfig"]["SecurityOpt"], Value::Null);
}

#[test]
fn healthcheck_start_interval_needs_api_and_start_period() {
    let p = project_from(
        "services:\n  a: {image: x, healthcheck: {test: [CMD, 'true'], start_interval: 1s}}\n  b: {image: x, healthcheck: {test: [CMD, 'true'], start_interval: 1s, start_period: 2s}}\n",
    );
    assert_eq!(
        error(&p, "b", "1.43"),
        "can't set healthcheck.start_interval as feature require Docker Engine v25 or later"
    );
    assert_eq!(
        error(&p, "a", "1.44"),
        "healthcheck.start_interval requires healthcheck.start_period to be set"
    );
}

#[test]
fn mac_addresses_by_api_version() {
    let p = project_from(
        "services:
  one: {image: x, mac_address: '02:42:ac:11:00:02'}
  two:
    image: x
    networks:
      a: {mac_address: '02:42:ac:11:00:03'}
      b: {mac_address: '02:42:ac:11:00:04'}
  clash:
    image: x
    mac_address: '02:42:ac:11:00:05'
    networks: {a: {mac_address: '02:42:ac:11:00:06'}}
networks: {a: {}, b: {}}
",
    );
    // 1.44: on the main endpoint, not on the container.
    let b = body(&p, "one", "1.44");
    assert_eq!(b.get("MacAddress"), None);
    let ep = &b["NetworkingConfig"]["EndpointsConfig"]["t_default"];
    assert_eq!(ep["MacAddress"], "02:42:ac:11:00:02");
    // Below: the container's, and only one network may have one.
    let b = body(&p, "one", "1.43");
    assert_eq!(b["MacAddress"], "02:42:ac:11:00:02");
    assert_eq!(
        error(&p, "two", "1.43"),
        "a MAC address is specified for multiple networks (a, b), but this feature requires Docker Engine v25 or later"
    );
    assert_eq!(
        error(&p, "clash", "1.44"),
        "the service-level mac_address should have the same value as network a"
    );
}

#[test]
fn endpoints_below_api_1_44_are_connected_after_create() {
    let p = project_from(
        "services:
  s:
    image: x
    networks:
      a: {priority: 1}
      b: {priority: 5, interface_name: eth7, driver_opts: {k: v}}
networks: {a: {}, b: {}}
",
    );
    assert_eq!(
        error(&p, "s", "1.48"),
        "interface_name requires Docker Engine v28.1 or later"
    );
    let b = body(&p, "s", "1.49");
    let eps = b["NetworkingConfig"]["EndpointsConfig"]
        .as_object()
        .unwrap();
    assert_eq!(eps.len(), 2);
    assert_eq!(b["HostConfig"]["NetworkMode"], "t_b");
    assert_eq!(
        eps["t_b"]["DriverOpts"],
        json!({"k": "v", "com.docker.network.endpoint.ifname": "eth7"})
    );
    let s = &p.services["s"];
    let opts = CreateOptions {
        use_network_aliases: true,
        ..Default::default()
    };
    let mut r = resolved("1.43");
    let extra = network::extra_networks(&p, s, 1, &opts, &r, "t_b");
    assert_eq!(extra.len(), 1);
    assert_eq!(extra[0].0, "t_a");
    assert_eq!(extra[0].1["Aliases"], json!(["t-s-1", "s"]));
    r.api_version = "1.44".into();
    assert!(network::extra_networks(&p, s, 1, &opts, &r, "t_b").is_empty());
}

#[test]
fn resources_devices_and_float32_cpus() {
    let p = project_from(
        "services:
  s:
    image: x
    cpus: 1.1
    cpu_percent: 50
    mem_swappiness: 10
    devices: ['vendor.com/gpu=all', '/dev/null:/dev/null']
    gpus: [{driver: nvidia, count: 2, capabilities: [compute]}]
    blkio_config:
      weight: 300
      device_read_bps: [{path: /dev/sda, rate: 1mb}]
    deploy:
      resources:
        reservations:
          devices: [{driver: nvidia, count: all, capabilities: [gpu]}]
",
    );
    let r = resources::resources(&p.services["s"]);
    // Go multiplies a float32 by 1e9 in float32: 1.1 gives 1100000000, not 1100000023.
    assert_eq!(r["NanoCpus"], 1_100_000_000);
    assert_eq!(r["CpuPercent"], 5000);
    assert_eq!(r["MemorySwappiness"], 10);
    assert_eq!(r["BlkioWeight"], 300);
    assert_eq!(
        r["BlkioDeviceReadBps"],
        json!([{"Path": "/dev/sda", "Rate": 1048576}])
    );
    assert_eq!(
        r["Devices"],
        json!([{"PathOnHost": "/dev/null", "PathInContainer": "/dev/null", "CgroupPermissions": "rwm"}])
    );
    assert_eq!(
        r["DeviceRequests"],
        json!([
            {"Driver": "nvidia", "Count": -1, "DeviceIDs": null, "Capabilities": [["gpu"]], "Options": null},
            {"Driver": "cdi", "Count": 0, "DeviceIDs": ["vendor.com/gpu=all"], "Capabilities": null, "Options": null},
            {"Driver": "nvidia", "Count": 2, "DeviceIDs": null, "Capabilities": [["compute", "gpu"]], "Options": null},
        ])
    );
    assert!(resources::is_qualified_cdi_name("nvidia.com/gpu=0"));
    assert!(!resources::is_qualified_cdi_name("/dev/null"));
    assert!(!resources::is_qualified_cdi_name("vendor/class"));
    assert!(!resources::is_qualified_cdi_name("1vendor/class=x"));
}

#[test]
fn references_and_links() {
    let p = project_from(
        "services:
  db: {image: x}
  web:
    image: x
    network_mode: 'service:db'
    volumes_from: ['db:ro', 'container:other']
    links: [db]
    external_links: ['ext1', 'ext2:alias']
",
    );
    let web = &p.services["web"];
    let err = resolve_service_references(web, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot share volume with service db: container missing"
    );
    let c = |id: &str, name: &str| {
        Container::from_summary(
            &json!({"Id": id, "Names": [format!("/{name}"), "/t-web-1/db"],
            "Labels": {"com.docker.compose.service": "db"}}),
        )
    };
    let observed = [c("bbb", "t-db-2"), c("aaa", "t-db-1")];
    let s = resolve_service_references(web, &observed).unwrap();
    assert_eq!(s.network_mode, "container:aaa");
    assert_eq!(s.volumes_from, ["aaa", "other"]);
    assert_eq!(
        links("t", web, 3, &observed[1..]),
        [
            "t-db-1:db",
            "t-db-1:db-3",
            "t-db-1:t-db-3",
            "ext1:ext1",
            "ext2:alias"
        ]
    );
    // A one-off (number 0 here, -1 in docker compose).
    assert_eq!(
        links("t", web, 0, &observed[1..])[1..3],
        ["t-db-1:db--1", "t-db-1:t-db--1"]
    );
}
