//! Legacy links and endpoint settings as dockerd 20.10 answers them (docker-py's LinkTest and
//! network tests): link environment and /etc/hosts lines, link removal, MAC addresses, endpoint
//! Links/DriverOpts/LinkLocalIPs (link aliases resolved by the embedded DNS for the linking
//! container, link-local addresses on the interface), network names with spaces, IPAM IPRange and
//! auxiliary addresses.

use crate::common;

use serde_json::json;

use common::api::{create, inspect, named, run_detached, start};
use common::{ok, TestEngine};

fn sleeper() -> serde_json::Value {
    json!({"Image": "busybox", "Cmd": ["sleep", "1000"]})
}

#[test]
fn link_gives_dockers_environment_and_hosts_lines() {
    let e = TestEngine::with_busybox();
    let mut up = named("lk-up", sleeper());
    up["Env"] = json!(["FOO=bar", "X=y=z"]);
    up["ExposedPorts"] = json!({"80/tcp": {}, "53/udp": {}});
    let up_id = run_detached(&e, up);
    let ip = inspect(&e, &up_id)["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut me = named("lk-me", sleeper());
    me["HostConfig"] = json!({"Links": ["lk-up:al"]});
    let me_id = run_detached(&e, me);
    assert_eq!(
        inspect(&e, &me_id)["HostConfig"]["Links"],
        json!(["/lk-up:/lk-me/al"])
    );
    let env = ok(&e.docker(&["exec", "lk-me", "env"]));
    for want in [
        "AL_NAME=/lk-me/al".to_owned(),
        format!("AL_PORT=udp://{ip}:53"),
        format!("AL_PORT_80_TCP=tcp://{ip}:80"),
        format!("AL_PORT_80_TCP_ADDR={ip}"),
        "AL_PORT_80_TCP_PORT=80".to_owned(),
        "AL_PORT_80_TCP_PROTO=tcp".to_owned(),
        format!("AL_PORT_53_UDP=udp://{ip}:53"),
        "AL_ENV_FOO=bar".to_owned(),
        "AL_ENV_X=y=z".to_owned(),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} not in\n{env}");
    }
    assert!(
        !env.contains("AL_ENV_PATH") && !env.contains("AL_ENV_HOSTNAME"),
        "{env}"
    );
    let hosts = ok(&e.docker(&["exec", "lk-me", "cat", "/etc/hosts"]));
    assert!(
        hosts.contains(&format!("{ip}\tal {} lk-up\n", &up_id[..12])),
        "{hosts}"
    );
}

#[test]
fn link_to_a_missing_or_stopped_container_fails_as_dockerd() {
    let e = TestEngine::with_busybox();
    let mut body = sleeper();
    body["HostConfig"] = json!({"Links": ["nosuch:al"]});
    let r = e.api("POST", "/containers/create", Some(&body.to_string()));
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.message(),
        "could not get container for nosuch: No such container: nosuch"
    );
    create(&e, named("lk-stopped", sleeper()));
    let mut me = named("lk-me2", sleeper());
    me["HostConfig"] = json!({"Links": ["lk-stopped"]});
    let id = create(&e, me);
    let r = e.api("POST", &format!("/containers/{id}/start"), None);
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(
        r.message(),
        "Cannot link to a non running container: /lk-stopped AS /lk-me2/lk-stopped"
    );
}

#[test]
fn remove_link_answers_and_effects_as_dockerd() {
    let e = TestEngine::with_busybox();
    run_detached(&e, named("rl-up", sleeper()));
    let mut me = named("rl-me", sleeper());
    me["HostConfig"] = json!({"Links": ["rl-up:mylink"]});
    let me_id = run_detached(&e, me);
    let names = |e: &TestEngine| -> Vec<String> {
        e.api_json("GET", "/containers/json?all=1", None)
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["Names"].as_array().unwrap().clone())
            .map(|n| n.as_str().unwrap().to_owned())
            .collect()
    };
    assert!(names(&e).contains(&"/rl-me/mylink".to_owned()));
    let r = e.api("DELETE", "/containers/rl-me/nope?link=true", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "No such container: rl-me/nope");
    let r = e.api("DELETE", "/containers/rl-me/mylink?link=true", None);
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(!names(&e).contains(&"/rl-me/mylink".to_owned()));
    assert!(names(&e).contains(&"/rl-up".to_owned()));
    assert!(inspect(&e, &me_id)["HostConfig"]["Links"].is_null());
    let hosts = ok(&e.docker(&["exec", "rl-me", "cat", "/etc/hosts"]));
    assert!(!hosts.contains("mylink"), "{hosts}");
}

#[test]
fn requested_mac_addresses_are_applied_and_shown() {
    let e = TestEngine::with_busybox();
    let mut body = named("mac1", sleeper());
    body["MacAddress"] = json!("02:42:ac:11:00:42");
    let id = run_detached(&e, body);
    let i = inspect(&e, &id);
    assert_eq!(i["NetworkSettings"]["MacAddress"], "02:42:ac:11:00:42");
    let link = ok(&e.docker(&["exec", "mac1", "ip", "link", "show", "eth0"]));
    assert!(link.contains("link/ether 02:42:ac:11:00:42"), "{link}");
    ok(&e.docker(&["network", "create", "macnet"]));
    let r = e.api(
        "POST",
        "/networks/macnet/connect",
        Some(
            &json!({"Container": id, "EndpointConfig": {"MacAddress": "02:42:ac:11:00:43"}})
                .to_string(),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let i = inspect(&e, &id);
    assert_eq!(
        i["NetworkSettings"]["Networks"]["macnet"]["MacAddress"],
        "02:42:ac:11:00:43"
    );
    let link = ok(&e.docker(&["exec", "mac1", "ip", "link", "show", "eth1"]));
    assert!(link.contains("link/ether 02:42:ac:11:00:43"), "{link}");
}

#[test]
fn endpoint_links_driver_opts_and_link_local_ips_are_kept() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&["network", "create", "epnet"]));
    let mut body = named("ep1", sleeper());
    body["HostConfig"] = json!({"NetworkMode": "epnet"});
    body["NetworkingConfig"] = json!({"EndpointsConfig": {"epnet": {
        "Links": ["docker-py-test-upstream:bar"],
        "DriverOpts": {"io.docker.test": "yes"},
        "IPAMConfig": {"LinkLocalIPs": ["169.254.8.8"]},
        "Aliases": ["web"],
    }}});
    let id = create(&e, body);
    start(&e, &id);
    let ep = &inspect(&e, &id)["NetworkSettings"]["Networks"]["epnet"];
    assert_eq!(ep["Links"], json!(["docker-py-test-upstream:bar"]));
    assert_eq!(ep["DriverOpts"], json!({"io.docker.test": "yes"}));
    assert_eq!(ep["IPAMConfig"], json!({"LinkLocalIPs": ["169.254.8.8"]}));
    assert_eq!(ep["Aliases"], json!(["web"]));
}

#[test]
fn endpoint_link_aliases_resolve_for_the_linking_container_only() {
    // docker-py's test_create_with_links / test_connect_with_links: the alias of
    // EndpointSettings.Links resolves through the embedded DNS, also when the linked container
    // starts after the linking one, and only for the linking container.
    let e = TestEngine::with_busybox();
    ok(&e.docker(&["network", "create", "lnet"]));
    let mut body = named("linker", sleeper());
    body["HostConfig"] = json!({"NetworkMode": "lnet"});
    body["NetworkingConfig"] = json!({"EndpointsConfig": {"lnet": {"Links": ["upstream-db:bar"]}}});
    run_detached(&e, body);
    let mut up = named("upstream-db", sleeper());
    up["HostConfig"] = json!({"NetworkMode": "lnet"});
    let up_id = run_detached(&e, up);
    let up_ip = inspect(&e, &up_id)["NetworkSettings"]["Networks"]["lnet"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_owned();
    let found = ok(&e.docker(&["exec", "linker", "nslookup", "bar"]));
    assert!(found.contains(&up_ip), "{found}");
    let other = e.docker(&[
        "run",
        "--rm",
        "--network",
        "lnet",
        "busybox",
        "nslookup",
        "bar",
    ]);
    assert!(
        !other.status.success(),
        "the alias is the linking container's only"
    );

    // Links given at connect work the same.
    let mut late = named("late", sleeper());
    late["HostConfig"] = json!({"NetworkMode": "lnet"});
    let late_id = run_detached(&e, late);
    ok(&e.docker(&["network", "disconnect", "lnet", "late"]));
    let r = e.api(
        "POST",
        "/networks/lnet/connect",
        Some(
            &json!({"Container": late_id, "EndpointConfig": {"Links": ["upstream-db:baz"]}})
                .to_string(),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let found = ok(&e.docker(&["exec", "late", "nslookup", "baz"]));
    assert!(found.contains(&up_ip), "{found}");
}

#[test]
fn link_local_ips_are_configured_on_the_interface() {
    let e = TestEngine::with_busybox();
    let mut body = named("ll", sleeper());
    body["HostConfig"] = json!({"NetworkMode": "bridge"});
    body["NetworkingConfig"] = json!({"EndpointsConfig": {"bridge": {
        "IPAMConfig": {"LinkLocalIPs": ["169.254.8.8", "fe80::8"]},
    }}});
    let id = run_detached(&e, body);
    let ep = &inspect(&e, &id)["NetworkSettings"]["Networks"]["bridge"];
    assert_eq!(
        ep["IPAMConfig"],
        json!({"LinkLocalIPs": ["169.254.8.8", "fe80::8"]})
    );
    let addrs = ok(&e.docker(&["exec", "ll", "ip", "addr", "show", "dev", "eth0"]));
    assert!(addrs.contains("inet 169.254.8.8/16"), "{addrs}");
    assert!(addrs.contains("inet6 fe80::8/64"), "{addrs}");
}

#[test]
fn network_names_with_spaces_are_accepted() {
    let e = TestEngine::with_busybox();
    let r = e.api("POST", "/networks/create", Some(r#"{"Name":"test 01"}"#));
    assert_eq!(r.status, 201, "{}", r.text());
    let n = e.api_json("GET", "/networks/test%2001", None);
    assert_eq!(n["Name"], "test 01");
    let r = e.api("DELETE", "/networks/test%2001", None);
    assert_eq!(r.status, 204, "{}", r.text());
}

#[test]
fn ip_range_and_auxiliary_addresses_are_honoured() {
    let e = TestEngine::with_busybox();
    // The engine's own pool (a /20 no other test engine uses): a subnet, a /24 range inside it.
    let pool = e.net.pool.clone();
    let octets: Vec<u32> = pool
        .trim_end_matches(".0/20")
        .split('.')
        .map(|o| o.parse().unwrap())
        .collect();
    let at = |third: u32, fourth: u32| format!("10.{}.{}.{fourth}", octets[1], octets[2] + third);
    let body = json!({"Name": "rangenet", "IPAM": {"Config": [{
        "Subnet": pool, "IPRange": format!("{}/24", at(5, 0)), "Gateway": at(0, 254),
        "AuxiliaryAddresses": {"a": at(5, 0), "b": at(5, 1)},
    }]}});
    let r = e.api("POST", "/networks/create", Some(&body.to_string()));
    assert_eq!(r.status, 201, "{}", r.text());
    let n = e.api_json("GET", "/networks/rangenet", None);
    assert_eq!(n["IPAM"]["Config"], body["IPAM"]["Config"]);
    let mut c = sleeper();
    c["HostConfig"] = json!({"NetworkMode": "rangenet"});
    let id = run_detached(&e, c);
    let ep = &inspect(&e, &id)["NetworkSettings"]["Networks"]["rangenet"];
    assert_eq!(ep["IPAddress"], json!(at(5, 2)));
    let bad = json!({"Name": "badaux", "IPAM": {"Config": [{
        "Subnet": pool, "AuxiliaryAddresses": {"a": "10.1.0.1"},
    }]}});
    let r = e.api("POST", "/networks/create", Some(&bad.to_string()));
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.message(),
        format!("auxiliary address: (a:10.1.0.1) must belong to the master pool: {pool}")
    );
}
