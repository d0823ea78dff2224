//! The short syntax of ports (`"127.0.0.1:8080-8081:80-81/udp"`) into the long form, as
//! compose-go's `ParsePortConfig` does with docker/go-connections' `nat.ParsePortSpec`
//! (v0.4.0): the same splitting, range rules, error texts and the ordering by container port.

use serde_json::{json, Value};

/// Every long-form port one short spec stands for.
pub fn parse_port_config(spec: &str) -> Result<Vec<Value>, String> {
    let mut mappings = parse_port_spec(spec)?;
    // compose-go sorts by the "port/proto" key as a string, keeping bindings in order.
    mappings.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(mappings
        .into_iter()
        .map(|(key, host_ip, published)| {
            let (target, proto) = key.split_once('/').unwrap_or((&key, "tcp"));
            let mut port = json!({"mode": "ingress", "target": target.parse::<u32>().unwrap_or(0), "protocol": proto});
            if !host_ip.is_empty() {
                port["host_ip"] = json!(host_ip);
            }
            if !published.is_empty() {
                port["published"] = json!(published);
            }
            port
        })
        .collect())
}

/// (port/proto, host ip, host port) per container port.
fn parse_port_spec(raw: &str) -> Result<Vec<(String, String, String)>, String> {
    let (raw_ip, host_port, container) = split_parts(raw);
    let (proto, container) = split_proto_port(&container);
    let ip = raw_ip
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(&raw_ip)
        .to_string();
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) =
        parse_port_range(&container).map_err(|_| format!("invalid containerPort: {container}"))?;
    let (host_start, host_end) = if host_port.is_empty() {
        (0, 0)
    } else {
        parse_port_range(&host_port).map_err(|_| format!("invalid hostPort: {host_port}"))?
    };
    if !host_port.is_empty() && (end - start) != (host_end - host_start) && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host_port}"
        ));
    }
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    let mut out = Vec::new();
    for i in 0..=(end - start) {
        let mut host = String::new();
        if !host_port.is_empty() {
            host = (host_start + i).to_string();
        }
        // A single container port with a host range: the range to allocate from.
        if start == end && host_start != host_end {
            host = format!("{host}-{host_end}");
        }
        out.push((format!("{}/{proto}", start + i), ip.clone(), host));
    }
    Ok(out)
}

fn split_parts(raw: &str) -> (String, String, String) {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let container = parts[n - 1].to_string();
    match n {
        1 => (String::new(), String::new(), container),
        2 => (String::new(), parts[0].to_string(), container),
        3 => (parts[0].to_string(), parts[1].to_string(), container),
        _ => (
            parts[..n - 2].join(":"),
            parts[n - 2].to_string(),
            container,
        ),
    }
}

fn split_proto_port(raw: &str) -> (String, String) {
    let parts: Vec<&str> = raw.split('/').collect();
    if raw.is_empty() || parts[0].is_empty() {
        return (String::new(), String::new());
    }
    if parts.len() == 1 || parts[1].is_empty() {
        return ("tcp".into(), parts[0].to_string());
    }
    (parts[1].to_string(), parts[0].to_string())
}

fn parse_port_range(ports: &str) -> Result<(u64, u64), ()> {
    let one = |s: &str| s.parse::<u16>().map(u64::from).map_err(|_| ());
    match ports.split_once('-') {
        None => one(ports).map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b) = (one(a)?, one(b)?);
            if b < a {
                return Err(());
            }
            Ok((a, b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ports_become_long_ones() {
        assert_eq!(
            parse_port_config("80").unwrap(),
            vec![json!({"mode":"ingress","target":80,"protocol":"tcp"})]
        );
        assert_eq!(
            parse_port_config("127.0.0.1:8080:80/udp").unwrap(),
            vec![
                json!({"mode":"ingress","target":80,"protocol":"udp","host_ip":"127.0.0.1","published":"8080"})
            ]
        );
        let range = parse_port_config("9000-9001:90-91").unwrap();
        assert_eq!(range.len(), 2);
        assert_eq!(range[1]["published"], "9001");
        assert_eq!(range[1]["target"], 91);
        assert_eq!(
            parse_port_config("8000-8010:80").unwrap()[0]["published"],
            "8000-8010"
        );
        assert_eq!(
            parse_port_config("[::1]:53:53/udp").unwrap()[0]["host_ip"],
            "::1"
        );
        // Sorted by "port/proto" as text, as compose-go does.
        let sorted = parse_port_config("8-10").unwrap();
        assert_eq!(sorted[0]["target"], 10);
    }

    #[test]
    fn bad_ports_get_go_connections_words() {
        assert_eq!(
            parse_port_config("80/xyz").unwrap_err(),
            "invalid proto: xyz"
        );
        assert_eq!(
            parse_port_config("abc").unwrap_err(),
            "invalid containerPort: abc"
        );
        assert_eq!(
            parse_port_config("1.2.3:80:80").unwrap_err(),
            "invalid IP address: 1.2.3"
        );
        assert_eq!(
            parse_port_config("80-81:90-95").unwrap_err(),
            "invalid ranges specified for container and host Ports: 90-95 and 80-81"
        );
    }
}
