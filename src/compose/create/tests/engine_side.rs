//! Mounts (inherited volumes, bind strings against mount options), the network and volume
//! create bodies, injected secrets and configs, proxies and platform.

use serde_json::{json, Value};

use super::units::{project_from, resolved};
use crate::compose::create::{
    create_body, create_spec, networks, secrets, volumes, CreateOptions, Resolved,
};

#[test]
fn inherited_anonymous_volumes() {
    let p = project_from(
        "services:\n  s: {image: x, volumes: [/anon, 'data:/data', /fresh]}\nvolumes: {data: {}}\n",
    );
    let r = Resolved {
        api_version: "1.44".into(),
        inherit: Some(json!({"Mounts": [
            {"Type": "volume", "Name": "old-anon", "Source": "/var/lib/x", "Destination": "/anon", "RW": true},
            {"Type": "volume", "Name": "img-vol", "Destination": "/from-image", "RW": false},
            {"Type": "volume", "Name": "t_data", "Destination": "/data", "RW": true},
            {"Type": "tmpfs", "Destination": "/tmp", "RW": true}
        ]})),
        image_volumes: vec!["/from-image".into()],
        ..Default::default()
    };
    let b = create_body(&p, &p.services["s"], 1, &CreateOptions::default(), &r).unwrap();
    assert_eq!(b["HostConfig"]["Binds"], json!(["t_data:/data:rw"]));
    assert_eq!(
        b["HostConfig"]["Mounts"],
        json!([
            {"Type": "volume", "Source": "old-anon", "Target": "/anon"},
            {"Type": "volume", "Target": "/fresh", "VolumeOptions": {}},
            {"Type": "volume", "Source": "img-vol", "Target": "/from-image", "ReadOnly": true},
        ])
    );
}

#[test]
fn bind_strings_and_mount_options() {
    let p = project_from(
        "services:
  s:
    image: x
    volumes:
      - type: bind
        source: /src
        target: /z
        bind: {selinux: z, create_host_path: true}
      - type: bind
        source: /src
        target: /no-create
        bind: {selinux: z}
      - type: bind
        source: /src
        target: /r
        bind: {recursive: readonly}
      - {type: volume, source: v, target: /sub, volume: {subpath: a/b}}
volumes: {v: {}}
",
    );
    let spec = create_spec(
        &p,
        &p.services["s"],
        1,
        &CreateOptions::default(),
        &resolved("1.44"),
    )
    .unwrap();
    let h = &spec.body["HostConfig"];
    assert_eq!(h["Binds"], json!(["/src:/z:rw,z"]));
    assert_eq!(
        h["Mounts"],
        json!([
            // Without create_host_path the mount API is needed, and it has no SELinux option.
            {"Type": "bind", "Source": "/src", "Target": "/no-create", "BindOptions": {}},
            {"Type": "bind", "Source": "/src", "Target": "/r", "BindOptions": {"ReadOnlyForceRecursive": true}},
            {"Type": "volume", "Source": "t_v", "Target": "/sub", "VolumeOptions": {"Subpath": "a/b"}},
        ])
    );
}

#[test]
fn network_and_volume_bodies() {
    let p = project_from(
        "services: {s: {image: x, networks: [n], volumes: ['vol:/v']}}
networks:
  n:
    enable_ipv6: true
    ipam:
      config: [{subnet: 10.9.0.0/16, ip_range: 10.9.1.0/24, aux_addresses: {h: 10.9.0.5}}]
volumes:
  vol: {driver: local, driver_opts: {type: tmpfs, device: tmpfs}, labels: {a: b}}
",
    );
    let b = networks::network_create_body(&p, "n", &p.networks["n"]);
    assert_eq!(b["EnableIPv6"], true);
    assert_eq!(b.get("EnableIPv4"), None);
    assert_eq!(
        b["IPAM"],
        json!({"Driver": "", "Options": null, "Config": [
            {"Subnet": "10.9.0.0/16", "IPRange": "10.9.1.0/24", "AuxiliaryAddresses": {"h": "10.9.0.5"}}]})
    );
    let v = volumes::volume_create_body(&p, "vol", &p.volumes["vol"]);
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["DriverOpts"], json!({"type": "tmpfs", "device": "tmpfs"}));
    assert_eq!(v["Labels"]["a"], "b");
    assert_eq!(v["Labels"]["com.docker.compose.volume"], "vol");
    assert_eq!(v["Name"], "t_vol");
    assert_eq!(
        volumes::VolumeDiverged { volume: "t_v".into() }.to_string(),
        "Volume \"t_v\" exists but doesn't match configuration in compose file. Recreate (data will be lost)?"
    );
}

#[test]
fn injected_files() {
    let p = project_from(
        "services:
  s:
    image: x
    secrets: [{source: env, target: rel}]
    configs: [{source: inline, target: rel.conf, mode: 0600}]
  ro: {image: x, read_only: true, secrets: [env]}
  unset: {image: x, secrets: [missing]}
secrets:
  env: {environment: SECRET_VAR}
  missing: {environment: NOT_SET}
configs:
  inline: {content: hi}
",
    );
    let i = secrets::injections(&p, &p.services["s"]).unwrap();
    assert_eq!(
        (i[0].target.as_str(), i[0].content.as_str(), i[0].mode),
        ("/run/secrets/rel", "s3", 0o444)
    );
    // A relative config target is kept as written (docker compose only roots secrets).
    assert_eq!((i[1].target.as_str(), i[1].mode), ("rel.conf", 0o600));
    assert_eq!(
        secrets::injections(&p, &p.services["ro"]).unwrap_err().to_string(),
        "cannot create secret \"t_env\" in read-only service ro: `file` is the sole supported option"
    );
    assert_eq!(
        secrets::injections(&p, &p.services["unset"])
            .unwrap_err()
            .to_string(),
        "environment variable \"NOT_SET\" required by secret \"t_missing\" is not set"
    );
    let long = secrets::Injection {
        target: format!("/{}/{}", "d".repeat(120), "f".repeat(50)),
        ..i[0].clone()
    };
    let tar = secrets::tar_of(&long).unwrap();
    let mut a = tar::Archive::new(&tar[..]);
    let e = a.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(&*e.path_bytes(), long.target.as_bytes());
}

#[test]
fn proxies_and_platform() {
    let config: serde_json::Map<String, Value> = serde_json::from_value(json!({"proxies": {
        "default": {"httpProxy": "http://d:3128"},
        "unix:///run/e.sock": {"httpsProxy": "http://e:3128", "noProxy": "local"}
    }}))
    .unwrap();
    let env = crate::compose::create::container::proxy_env(&config, "unix:///run/e.sock");
    assert_eq!(
        env.into_iter().collect::<Vec<_>>(),
        [
            ("HTTPS_PROXY".into(), "http://e:3128".into()),
            ("NO_PROXY".into(), "local".into()),
            ("https_proxy".into(), "http://e:3128".into()),
            ("no_proxy".into(), "local".into()),
        ]
    );
    // The service's environment wins over the proxies.
    let p = project_from(
        "services: {s: {image: x, environment: {NO_PROXY: mine}, platform: linux/arm64}}",
    );
    let r = Resolved {
        api_version: "1.44".into(),
        proxy_env: [
            ("NO_PROXY".to_string(), "p".to_string()),
            ("no_proxy".to_string(), "p".to_string()),
        ]
        .into(),
        ..Default::default()
    };
    let b = create_body(&p, &p.services["s"], 1, &CreateOptions::default(), &r).unwrap();
    assert_eq!(b["Env"], json!(["NO_PROXY=mine", "no_proxy=p"]));
    assert_eq!(
        crate::compose::create::container::platform(&p, &p.services["s"]).as_deref(),
        Some("linux/arm64")
    );
}
