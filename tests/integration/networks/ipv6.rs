//! IPv6 and dual-stack bridge networks as dockerd 20.10 runs them: the bridge's IPv6 gateway,
//! containers' IPv6 addresses (automatic and requested), routes and the IPv6 sysctls inside the
//! container, traffic between two containers over IPv6, AAAA answers of the embedded resolver,
//! the ip6 nft table, inspect's shapes and dockerd's errors.

use super::*;

use serde_json::{json, Value};

use common::api::{create, inspect, named, start};

/// An IPv6 /64 no other test engine uses: derived from the engine's own IPv4 bridge subnet
/// ("10.a.b.0/24" → "fd00:a:b:<n>::"), which `TestNetwork::pick` keeps unique on the host.
fn v6_prefix(e: &TestEngine, n: u8) -> String {
    let octets: Vec<&str> = e.net.bridge_subnet.split(['.', '/']).collect();
    format!("fd00:{}:{}:{n}::", octets[1], octets[2])
}

fn v6_network(e: &TestEngine, name: &str, prefix: &str) -> String {
    let body = json!({"Name": name, "EnableIPv6": true,
        "IPAM": {"Config": [{"Subnet": format!("{prefix}/64")}]}});
    let r = e.api("POST", "/networks/create", Some(&body.to_string()));
    assert_eq!(r.status, 201, "{}", r.text());
    serde_json::from_slice::<Value>(&r.body).unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `docker run -d <args…> busybox sh -c <script>`, the args split on spaces.
fn run_sh(e: &TestEngine, args: &str, script: &str) {
    let mut argv: Vec<&str> = vec!["run", "-d"];
    argv.extend(args.split_whitespace());
    argv.extend(["busybox", "sh", "-c", script]);
    ok(&e.docker(&argv));
}

fn exec(e: &TestEngine, name: &str, script: &str) -> String {
    ok(&e.docker(&["exec", name, "sh", "-c", script]))
}

#[test]
fn dual_stack_network_wires_addresses_routes_dns_and_nat() {
    let e = TestEngine::with_busybox();
    let p = v6_prefix(&e, 1);
    let id = v6_network(&e, "dual", &p);
    let net = e.api_json("GET", "/networks/dual", None);
    assert_eq!(net["EnableIPv6"], json!(true));
    let config = net["IPAM"]["Config"].as_array().unwrap().clone();
    assert_eq!(config.len(), 2, "{config:?}");
    assert!(config[0]["Subnet"].as_str().unwrap().starts_with("10."));
    assert_eq!(config[1], json!({"Subnet": format!("{p}/64")}));
    let bridge = format!("br-{}", &id[..12]);
    let addrs = stdout(
        &Command::new("ip")
            .args(["-6", "addr", "show", "dev", &bridge])
            .output()
            .unwrap(),
    );
    assert!(addrs.contains(&format!("{p}1/64")), "{addrs}");
    assert!(addrs.contains("inet6 fe80::1/64"), "{addrs}");

    run_sh(&e, "--name a6 --network dual", "sleep 300");
    run_sh(
        &e,
        &format!("--name b6 --network dual --ip6 {p}77"),
        "echo hello-over-v6 | nc -l -p 7777; sleep 300",
    );
    let a = inspect(&e, "a6")["NetworkSettings"]["Networks"]["dual"].clone();
    assert_eq!(a["GlobalIPv6Address"], json!(format!("{p}2")));
    assert_eq!(a["GlobalIPv6PrefixLen"], json!(64));
    assert_eq!(a["IPv6Gateway"], json!(format!("{p}1")));
    let b = inspect(&e, "b6")["NetworkSettings"]["Networks"]["dual"].clone();
    assert_eq!(b["IPAMConfig"], json!({"IPv6Address": format!("{p}77")}));
    assert_eq!(b["GlobalIPv6Address"], json!(format!("{p}77")));
    let members = e.api_json("GET", "/networks/dual", None)["Containers"].clone();
    let shown: Vec<&str> = members
        .as_object()
        .unwrap()
        .values()
        .map(|m| m["IPv6Address"].as_str().unwrap())
        .collect();
    assert!(shown.contains(&format!("{p}2/64").as_str()), "{members}");

    // Inside: docker's sysctls (IPv6 on for eth0 and lo only), the address without DAD delay,
    // the default route, the /etc/hosts line.
    let sysctls = exec(&e, "a6", "cd /proc/sys/net/ipv6/conf && echo $(cat all/disable_ipv6 default/disable_ipv6 eth0/disable_ipv6 lo/disable_ipv6)");
    assert_eq!(sysctls.trim(), "1 1 0 0");
    let inside = exec(&e, "a6", "ip -6 addr show dev eth0; ip -6 route");
    assert!(inside.contains(&format!("inet6 {p}2/64")), "{inside}");
    let global = inside
        .lines()
        .find(|l| l.contains(&format!("inet6 {p}2/64")))
        .unwrap();
    assert!(
        !global.contains("tentative"),
        "usable at once (no DAD): {inside}"
    );
    assert!(
        inside.contains(&format!("default via {p}1 dev eth0")),
        "{inside}"
    );
    assert!(exec(&e, "a6", "cat /etc/hosts").contains(&format!("{p}2\t")));

    // Traffic over IPv6 between the two, by address and by the resolver's AAAA answer.
    exec(&e, "a6", &format!("ping6 -c1 -W3 {p}77"));
    let got = exec(&e, "a6", &format!("nc -w 3 {p}77 7777"));
    assert_eq!(got.trim(), "hello-over-v6");
    let lookup = exec(&e, "a6", "nslookup -type=aaaa b6 127.0.0.11");
    assert!(lookup.contains(&format!("{p}77")), "{lookup}");
    // The gateway (the host's end) answers too: the bridge has the address.
    exec(&e, "a6", &format!("ping6 -c1 -W3 {p}1"));

    let table = stdout(
        &Command::new("nft")
            .args(["list", "table", "ip6", &e.net.nft_table])
            .output()
            .unwrap(),
    );
    assert!(
        table.contains(&format!(
            "ip6 saddr {p}/64 oifname != \"{bridge}\" masquerade"
        )),
        "{table}"
    );
    assert!(
        table.contains(&format!("iifname \"{bridge}\" oifname \"{bridge}\" accept")),
        "{table}"
    );

    // An IPv4-only container keeps IPv6 off, as on dockerd.
    let off = ok(&e.docker(&[
        "run",
        "--rm",
        "busybox",
        "cat",
        "/proc/sys/net/ipv6/conf/eth0/disable_ipv6",
    ]));
    assert_eq!(off.trim(), "1");
}

#[test]
fn published_ports_reach_ipv6_containers_over_the_hosts_ipv6_addresses() {
    let e = TestEngine::with_busybox();
    let p = v6_prefix(&e, 2);
    v6_network(&e, "pub6", &p);
    let port = free_port();
    run_sh(
        &e,
        &format!("--name web6 --network pub6 -p {port}:80"),
        HTTPD,
    );
    // The bridge's gateway address is one of the host's: DNAT sends it to the container's
    // IPv6 address; IPv4 keeps working.
    let v6 = format!("[{p}1]:{port}");
    let body = eventually(Duration::from_secs(5), || http_get(&v6)).unwrap_or_default();
    assert!(body.contains("hello-from-berth"), "{body}");
    let v4 = eventually(Duration::from_secs(5), || {
        http_get(&format!("127.0.0.1:{port}"))
    })
    .unwrap_or_default();
    assert!(v4.contains("hello-from-berth"), "{v4}");
    let table = stdout(
        &Command::new("nft")
            .args(["list", "table", "ip6", &e.net.nft_table])
            .output()
            .unwrap(),
    );
    assert!(table.contains(&format!("dnat to [{p}2]:80")), "{table}");
}

#[test]
fn ipv6_config_without_enable_ipv6_is_kept_but_not_allocated() {
    // docker-py's test_create_with_ipv6_address: dockerd shows the request and the pool, and
    // gives no IPv6 address on a network where IPv6 is not enabled.
    let e = TestEngine::with_busybox();
    let p = v6_prefix(&e, 3);
    let body = json!({"Name": "v6cfg", "IPAM": {"Driver": "default",
        "Config": [{"Subnet": format!("{p}/64"), "IPRange": format!("{p}/96"), "Gateway": format!("{p}ffff")}]}});
    let r = e.api("POST", "/networks/create", Some(&body.to_string()));
    assert_eq!(r.status, 201, "{}", r.text());
    let net = e.api_json("GET", "/networks/v6cfg", None);
    assert_eq!(net["EnableIPv6"], json!(false));
    assert_eq!(
        net["IPAM"]["Config"][1],
        json!({"Subnet": format!("{p}/64"), "IPRange": format!("{p}/96"), "Gateway": format!("{p}ffff")})
    );
    let mut c = named("cfg6", json!({"Image": "busybox", "Cmd": ["sleep", "300"]}));
    c["HostConfig"] = json!({"NetworkMode": "v6cfg"});
    c["NetworkingConfig"] =
        json!({"EndpointsConfig": {"v6cfg": {"IPAMConfig": {"IPv6Address": format!("{p}f00d")}}}});
    let id = create(&e, c);
    start(&e, &id);
    let ep = inspect(&e, &id)["NetworkSettings"]["Networks"]["v6cfg"].clone();
    assert_eq!(ep["IPAMConfig"], json!({"IPv6Address": format!("{p}f00d")}));
    assert_eq!(ep["GlobalIPv6Address"], json!(""));
    let inside = exec(
        &e,
        "cfg6",
        "ip -6 addr show dev eth0; cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6",
    );
    assert!(!inside.contains(&p), "{inside}");
    assert!(inside.trim().ends_with('1'), "{inside}");
}

#[test]
fn ipv6_errors_are_dockerds() {
    let e = TestEngine::with_busybox();
    let p = v6_prefix(&e, 4);
    let post = |body: Value| {
        let r = e.api("POST", "/networks/create", Some(&body.to_string()));
        (r.status, r.text())
    };
    let (status, text) = post(json!({"Name": "x1", "EnableIPv6": true}));
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("could not find an available, non-overlapping IPv6 address pool"));
    let (status, text) = post(json!({"Name": "x2", "EnableIPv6": true,
        "IPAM": {"Config": [{"Subnet": "zzz::/64"}]}}));
    assert_eq!(status, 500, "{text}");
    assert!(text.contains("Invalid subnet zzz::/64 : invalid CIDR address: zzz::/64"));
    let (status, text) = post(json!({"Name": "x3", "EnableIPv6": true,
        "IPAM": {"Config": [{"Subnet": format!("{p}/64"), "Gateway": "2001:db8:ffff::1"}]}}));
    assert_eq!(status, 500, "{text}");
    assert!(text.contains(
        "failed to allocate gateway (2001:db8:ffff::1): Requested address is out of range"
    ));
    v6_network(&e, "first6", &p);
    let (status, text) = post(json!({"Name": "x4", "EnableIPv6": true,
        "IPAM": {"Config": [{"Subnet": format!("{p}/80")}]}}));
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("Pool overlaps with other one on this address space"));

    // Requested addresses are checked when the endpoint is made, as dockerd does.
    let make = |name: &str, ip: &str| {
        let mut c = named(name, json!({"Image": "busybox", "Cmd": ["sleep", "300"]}));
        c["HostConfig"] = json!({"NetworkMode": "first6"});
        c["NetworkingConfig"] =
            json!({"EndpointsConfig": {"first6": {"IPAMConfig": {"IPv6Address": ip}}}});
        create(&e, c)
    };
    let outside = make("out6", "2001:db8:5::5");
    let r = e.api("POST", &format!("/containers/{outside}/start"), None);
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(r.text().contains(
        "Invalid address 2001:db8:5::5: It does not belong to any of this network's subnets"
    ));
    let first = make("one6", &format!("{p}9"));
    start(&e, &first);
    let twin = make("two6", &format!("{p}9"));
    let r = e.api("POST", &format!("/containers/{twin}/start"), None);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("Address already in use"));
    let mut bad = json!({"Image": "busybox"});
    bad["HostConfig"] = json!({"NetworkMode": "first6"});
    bad["NetworkingConfig"] =
        json!({"EndpointsConfig": {"first6": {"IPAMConfig": {"IPv6Address": "bogus"}}}});
    let r = e.api(
        "POST",
        "/containers/create?name=bad6",
        Some(&bad.to_string()),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("invalid IPv6 address: bogus"));
}
