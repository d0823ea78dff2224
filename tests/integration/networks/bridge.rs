//! Networks and their containers: the default bridge's address, route, NAT and /etc files, user
//! networks that reach each other, create refusals, the lifecycle and its events, internal
//! networks and MTUs.

use super::*;

#[test]
fn default_bridge_gives_address_route_nat_and_etc_files() {
    let e = TestEngine::with_busybox();
    let gw = e.net.bridge_subnet.replace(".0/24", ".1");
    let out = ok(&e.berth(&[
        "run",
        "--rm",
        "--hostname",
        "box1",
        "--add-host",
        "db.local:10.9.8.7",
        "--dns",
        "9.9.9.9",
        "--dns-search",
        "example.test",
        "busybox",
        "sh",
        "-c",
        "ip -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf; hostname",
    ]));
    let prefix = e.net.bridge_subnet.trim_end_matches("0/24");
    assert!(out.contains(&format!("inet {prefix}")), "{out}");
    assert!(out.contains(&format!("default via {gw} dev eth0")), "{out}");
    assert!(out.contains("10.9.8.7\tdb.local"), "{out}");
    assert!(out.contains("\tbox1\n"), "{out}");
    assert!(out.contains("nameserver 9.9.9.9"), "{out}");
    assert!(out.contains("search example.test"), "{out}");
    assert!(!out.contains("nameserver 127."), "{out}");
    assert!(out.trim_end().ends_with("box1"), "{out}");

    // Outbound: the gateway and an address of the host outside the bridge answer.
    let host = host_ipv4().expect("a global IPv4 address on the host");
    let ping = e.berth(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        &format!("ping -c1 -W2 {gw} && ping -c1 -W2 {host}"),
    ]);
    ok(&ping);

    // --network none: loopback only; host: the host's interfaces.
    let none = ok(&e.berth(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "ip",
        "-o",
        "link",
    ]));
    assert!(!none.contains("eth0"), "{none}");
    let hostnet = ok(&e.berth(&[
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "ip",
        "-o",
        "link",
    ]));
    assert!(hostnet.contains(&e.net.bridge), "{hostnet}");
}

#[test]
fn user_network_containers_reach_each_other() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&["network", "create", "appnet"]));
    ok(&e.docker(&[
        "run",
        "-d",
        "--name",
        "srv",
        "--network",
        "appnet",
        "--network-alias",
        "db",
        "busybox",
        "sleep",
        "60",
    ]));
    let ip = ok(&e.docker(&[
        "inspect",
        "-f",
        "{{(index .NetworkSettings.Networks \"appnet\").IPAddress}}",
        "srv",
    ]))
    .trim()
    .to_owned();
    assert!(!ip.is_empty());
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "--network",
        "appnet",
        "busybox",
        "sh",
        "-c",
        &format!("ping -c1 -W2 {ip} && cat /etc/resolv.conf"),
    ]));
    assert!(out.contains("nameserver 127.0.0.11"), "{out}");
    assert!(out.contains("options ndots:0"), "{out}");

    // By name and by alias, through the embedded resolver on 127.0.0.11.
    for target in ["srv", "db", "srv.appnet"] {
        ok(&e.docker(&[
            "run",
            "--rm",
            "--network",
            "appnet",
            "busybox",
            "ping",
            "-c1",
            "-W2",
            target,
        ]));
    }
    let looked_up = ok(&e.berth(&[
        "run",
        "--rm",
        "--network",
        "appnet",
        "busybox",
        "nslookup",
        "db",
    ]));
    assert!(looked_up.contains(&ip), "{looked_up}");

    // Networks are isolated from each other and from the default bridge.
    let other = ok(&e.berth(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        &format!("ping -c1 -W1 {ip} >/dev/null 2>&1 && echo reachable || echo isolated"),
    ]));
    assert_eq!(other.trim(), "isolated");

    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&e.docker(&["network", "inspect", "appnet"]))).unwrap();
    let n = &inspect[0];
    assert_eq!(n["Driver"], "bridge");
    assert_eq!(n["Scope"], "local");
    assert!(n["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap()
        .ends_with("/24"));
    let containers = n["Containers"].as_object().unwrap();
    assert_eq!(containers.len(), 1);
    let (_, c) = containers.iter().next().unwrap();
    assert_eq!(c["Name"], "srv");
    assert!(c["IPv4Address"].as_str().unwrap().starts_with(&ip));
}

#[test]
fn network_create_refuses_overlaps_duplicates_and_bad_subnets() {
    let e = TestEngine::with_busybox();

    // Networks: overlapping subnet 400, duplicate name 409, unknown 404, predefined 409.
    let sub = e.net.pool.replace(".0/20", ".0/24");
    ok(&e.docker(&["network", "create", "--subnet", &sub, "n1"]));
    let o = e.docker(&["network", "create", "--subnet", &sub, "n2"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("overlaps"), "{}", stderr(&o));
    let r = e.api(
        "POST",
        "/networks/create",
        Some(&format!(
            r#"{{"Name":"n3","IPAM":{{"Config":[{{"Subnet":"{}"}}]}}}}"#,
            e.net.bridge_subnet
        )),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = e.api("POST", "/networks/create", Some(r#"{"Name":"n1"}"#));
    assert_eq!(r.status, 409, "{}", r.text());
    let r = e.api(
        "POST",
        "/networks/create",
        Some(r#"{"Name":"bad","IPAM":{"Config":[{"Subnet":"10.1.2.3/24"}]}}"#),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = e.api("GET", "/networks/nope", None);
    assert_eq!(r.status, 404);
    assert!(r.json()["message"].as_str().is_some());
    let r = e.api("DELETE", "/networks/bridge", None);
    assert_eq!(r.status, 409, "{}", r.text());
    let names = ok(&e.docker(&["network", "ls", "--format", "{{.Name}}"]));
    assert!(
        names.contains("n1") && !names.contains("n2") && !names.contains("n3"),
        "{names}"
    );
}

#[test]
fn network_lifecycle_through_cli_api_and_events() {
    let e = TestEngine::with_busybox();
    let since = chrono::Utc::now().timestamp().to_string();
    let id = ok(&e.berth(&["network", "create", "--label", "team=a", "life"]))
        .trim()
        .to_owned();
    assert_eq!(id.len(), 64);
    let ls = ok(&e.berth(&["network", "ls"]));
    for n in ["bridge", "host", "none", "life"] {
        assert!(ls.contains(n), "{ls}");
    }
    let docker_ls = ok(&e.docker(&["network", "ls"]));
    assert!(
        docker_ls.contains("life") && docker_ls.contains("bridge"),
        "{docker_ls}"
    );
    let inspect = ok(&e.berth(&[
        "network",
        "inspect",
        "-f",
        "{{.Name}} {{.Driver}} {{.Internal}}",
        "life",
    ]));
    assert_eq!(inspect.trim(), "life bridge false");

    ok(&e.docker(&["run", "-d", "--name", "c1", "busybox", "sleep", "60"]));
    ok(&e.berth(&["network", "connect", "--alias", "one", "life", "c1"]));
    let links = ok(&e.docker(&["exec", "c1", "ip", "-o", "-4", "addr"]));
    assert!(links.contains("eth1"), "{links}");
    let nets = ok(&e.docker(&["inspect", "-f", "{{json .NetworkSettings.Networks}}", "c1"]));
    let nets: serde_json::Value = serde_json::from_str(&nets).unwrap();
    assert!(nets["life"]["IPAddress"]
        .as_str()
        .unwrap()
        .starts_with("10."));
    assert_eq!(nets["life"]["Aliases"], serde_json::json!(["one"]));
    assert!(nets["bridge"]["IPAddress"]
        .as_str()
        .unwrap()
        .starts_with("10."));

    // In use: 409 with docker's message.
    let o = e.docker(&["network", "rm", "life"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("has active endpoints"),
        "{}",
        stderr(&o)
    );
    ok(&e.docker(&["network", "disconnect", "life", "c1"]));
    let links = ok(&e.docker(&["exec", "c1", "ip", "-o", "-4", "addr"]));
    assert!(!links.contains("eth1"), "{links}");
    ok(&e.berth(&["network", "rm", "life"]));

    ok(&e.docker(&["network", "create", "spare"]));
    let pruned = ok(&e.docker(&["network", "prune", "-f"]));
    assert!(pruned.contains("spare"), "{pruned}");
    let ls = ok(&e.berth(&["network", "ls", "-q"]));
    assert_eq!(ls.lines().count(), 3, "{ls}");

    let until = (chrono::Utc::now().timestamp() + 1).to_string();
    let ev = ok(&e.docker(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--filter",
        "type=network",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
    ]));
    for want in [
        "create life",
        "connect life",
        "disconnect life",
        "destroy life",
        "create spare",
        "destroy spare",
    ] {
        assert!(ev.contains(want), "missing {want:?} in:\n{ev}");
    }
}

#[test]
fn internal_network_has_no_route_out() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&["network", "create", "--internal", "sealed"]));
    let host = host_ipv4().expect("a global IPv4 address on the host");
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "--network",
        "sealed",
        "busybox",
        "sh",
        "-c",
        &format!("ip route; ping -c1 -W1 {host} >/dev/null 2>&1 && echo out || echo blocked"),
    ]));
    assert!(!out.contains("default"), "{out}");
    assert!(out.trim_end().ends_with("blocked"), "{out}");
    assert!(!nft_table(&e).contains(&format!("ip saddr {}", e.net.pool.replace("/20", "/24"))));
}

#[test]
fn mtu_defaults_to_the_engines_and_follows_the_network_option() {
    let e = TestEngine::with_busybox();
    let mtu = |args: &[&str]| -> String {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["busybox", "cat", "/sys/class/net/eth0/mtu"]);
        ok(&e.berth(&all)).trim().to_owned()
    };
    assert_eq!(mtu(&[]), "65520");
    ok(&e.docker(&[
        "network",
        "create",
        "-o",
        "com.docker.network.driver.mtu=1400",
        "small",
    ]));
    assert_eq!(mtu(&["--network", "small"]), "1400");
    let o = e.docker(&[
        "network",
        "create",
        "-o",
        "com.docker.network.driver.mtu=9",
        "tiny",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("invalid MTU"), "{}", stderr(&o));
    assert_eq!(
        e.api("GET", "/networks/tiny", None).status,
        404,
        "a refused network must not exist"
    );
}
