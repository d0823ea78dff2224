//! Forwarding queries the engine does not own to upstream servers.
//!
//! Sockets are opened by the engine in the host's network namespace, so an upstream on the host's
//! loopback (systemd-resolved's 127.0.0.53, a local dnsmasq) works, as with docker's resolver.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;

/// How long one upstream server gets before the next is tried (docker uses 4 s for the whole query).
pub const PER_SERVER_TIMEOUT: Duration = Duration::from_secs(2);

/// Relay `query` over UDP to each server in turn; the first reply with the query's id wins.
pub async fn forward_udp(query: &[u8], servers: &[SocketAddr]) -> Option<Vec<u8>> {
    for server in servers {
        match timeout(PER_SERVER_TIMEOUT, udp_once(query, *server)).await {
            Ok(Ok(reply)) => return Some(reply),
            Ok(Err(e)) => tracing::debug!(%server, "dns upstream failed: {e}"),
            Err(_) => tracing::debug!(%server, "dns upstream timed out"),
        }
    }
    None
}

async fn udp_once(query: &[u8], server: SocketAddr) -> std::io::Result<Vec<u8>> {
    let local: SocketAddr = match server.ip() {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).await?;
    // connect(): the kernel then drops datagrams from anyone but the server.
    socket.connect(server).await?;
    socket.send(query).await?;
    let mut buf = vec![0u8; 65535];
    loop {
        let n = socket.recv(&mut buf).await?;
        // A reply must carry the query's id; anything else is stale or spoofed.
        if n >= 12 && buf[..2] == query[..2] {
            buf.truncate(n);
            return Ok(buf);
        }
    }
}

/// Relay `query` over TCP (a client that got a truncated answer retries this way).
pub async fn forward_tcp(query: &[u8], servers: &[SocketAddr]) -> Option<Vec<u8>> {
    for server in servers {
        match timeout(PER_SERVER_TIMEOUT, tcp_once(query, *server)).await {
            Ok(Ok(reply)) => return Some(reply),
            Ok(Err(e)) => tracing::debug!(%server, "dns upstream (tcp) failed: {e}"),
            Err(_) => tracing::debug!(%server, "dns upstream (tcp) timed out"),
        }
    }
    None
}

async fn tcp_once(query: &[u8], server: SocketAddr) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(server).await?;
    let len = u16::try_from(query.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "query too long"))?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed).await?;
    let reply_len = stream.read_u16().await? as usize;
    let mut reply = vec![0u8; reply_len];
    stream.read_exact(&mut reply).await?;
    if reply.len() < 12 || reply[..2] != query[..2] {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "reply does not match the query",
        ));
    }
    Ok(reply)
}

/// The `nameserver` lines of a resolv.conf (the host's, or the servers given with `--dns`), as
/// socket addresses on port 53. Unreadable file: no servers.
pub fn nameservers_from_file(path: &Path) -> Vec<SocketAddr> {
    std::fs::read_to_string(path)
        .map(|text| nameservers(&text))
        .unwrap_or_default()
}

pub fn nameservers(resolv_conf: &str) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()? == "nameserver").then_some(())?;
            // Scoped IPv6 addresses (fe80::1%eth0) cannot be reached from the engine as written.
            words.next()?.parse::<IpAddr>().ok()
        })
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nameserver_lines_only() {
        let conf =
            "# generated\nsearch example.org\nnameserver 127.0.0.53\nnameserver  2001:db8::1\n\
                    nameserver fe80::1%eth0\noptions edns0\n";
        assert_eq!(
            nameservers(conf),
            vec![
                "127.0.0.53:53".parse().unwrap(),
                "[2001:db8::1]:53".parse().unwrap()
            ]
        );
    }

    #[tokio::test]
    async fn forwards_over_udp_and_ignores_mismatched_ids() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            // First a reply with the wrong id (must be ignored), then the real one.
            let mut wrong = buf[..n].to_vec();
            wrong[0] ^= 0xff;
            server.send_to(&wrong, from).await.unwrap();
            let mut right = buf[..n].to_vec();
            right[2] |= 0x80;
            server.send_to(&right, from).await.unwrap();
        });
        let query = [0x12, 0x34, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let reply = forward_udp(&query, &[addr]).await.expect("reply");
        assert_eq!(&reply[..2], &[0x12, 0x34]);
        assert_eq!(reply[2] & 0x80, 0x80);
    }

    #[tokio::test]
    async fn an_unreachable_server_gives_up_and_tries_the_next() {
        // A bound socket that never answers, then one that does.
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let answering = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let servers = [
            silent.local_addr().unwrap(),
            answering.local_addr().unwrap(),
        ];
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = answering.recv_from(&mut buf).await.unwrap();
            answering.send_to(&buf[..n], from).await.unwrap();
        });
        let query = [0xaa, 0xbb, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let started = std::time::Instant::now();
        assert!(forward_udp(&query, &servers).await.is_some());
        assert!(started.elapsed() >= PER_SERVER_TIMEOUT);
        drop(silent);
    }
}
