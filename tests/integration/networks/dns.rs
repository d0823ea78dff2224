//! The embedded DNS resolver and its upstream: forwarded from open networks only.

use super::*;

/// A DNS server on a host-only loopback address (127.0.0.77:53, unreachable from containers) that
/// answers every query with 192.0.2.7 and counts what it saw: the upstream of the embedded resolver.
fn start_upstream() -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let socket = std::net::UdpSocket::bind("127.0.0.77:53").expect("bind 127.0.0.77:53");
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            counter.fetch_add(1, Ordering::SeqCst);
            if n < 12 {
                continue;
            }
            // Header: same id, QR + RD + RA, one question, one answer.
            let mut r = buf[..n].to_vec();
            r[2] = 0x81;
            r[3] = 0x80;
            r[6..8].copy_from_slice(&[0, 1]);
            r[8..12].fill(0);
            // Answer: pointer to the question's name, A IN, ttl 30, 192.0.2.7.
            r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 7]);
            let _ = socket.send_to(&r, from);
        }
    });
    seen
}

#[test]
fn cve_2024_29018_embedded_dns_forwards_from_open_networks_only() {
    use std::sync::atomic::Ordering;
    let e = TestEngine::with_busybox();
    let seen = start_upstream();
    ok(&e.docker(&["network", "create", "open"]));
    ok(&e.docker(&["network", "create", "--internal", "sealed"]));

    // Not a name the engine owns: relayed to the container's --dns server from the engine's own
    // namespace (127.0.0.77 is not reachable from inside the container).
    let out = ok(&e.docker(&[
        "run",
        "--rm",
        "--network",
        "open",
        "--dns",
        "127.0.0.77",
        "busybox",
        "nslookup",
        "example.org",
    ]));
    assert!(out.contains("192.0.2.7"), "{out}");
    let forwarded = seen.load(Ordering::SeqCst);
    assert!(forwarded >= 1);

    // On an internal network names of the network still resolve, but nothing leaves the host
    // (CVE-2024-29018): the lookup fails and the upstream sees no query.
    ok(&e.docker(&[
        "run",
        "-d",
        "--name",
        "vault",
        "--network",
        "sealed",
        "busybox",
        "sleep",
        "60",
    ]));
    ok(&e.docker(&[
        "run",
        "--rm",
        "--network",
        "sealed",
        "busybox",
        "ping",
        "-c1",
        "-W2",
        "vault",
    ]));
    let o = e.docker(&[
        "run",
        "--rm",
        "--network",
        "sealed",
        "--dns",
        "127.0.0.77",
        "busybox",
        "nslookup",
        "example.org",
    ]);
    assert!(
        !o.status.success(),
        "internal lookup succeeded: {}",
        stdout(&o)
    );
    assert_eq!(
        seen.load(Ordering::SeqCst),
        forwarded,
        "an internal network leaked a query"
    );

    // The default bridge has no embedded resolver (docker): its resolv.conf is the host's.
    let conf = ok(&e.docker(&["run", "--rm", "busybox", "cat", "/etc/resolv.conf"]));
    assert!(!conf.contains("127.0.0.11"), "{conf}");

    // The resolver comes back for running containers after an engine restart.
    let mut e = e;
    ok(&e.docker(&[
        "run",
        "-d",
        "--name",
        "client",
        "--network",
        "sealed",
        "busybox",
        "sleep",
        "60",
    ]));
    e.kill9();
    e.spawn();
    let resolved = eventually(Duration::from_secs(10), || {
        let o = e.docker(&["exec", "client", "nslookup", "vault"]);
        o.status.success().then(|| stdout(&o))
    });
    assert!(resolved.is_some(), "no resolution after an engine restart");
    ok(&e.docker(&["rm", "-f", "vault", "client"]));
}
