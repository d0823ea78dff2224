//! Sockets on 127.0.0.11:53 inside a container's network namespace, and the loops serving them.

use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nix::sched::{setns, CloneFlags};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

use super::answer::{answer, Outcome, UDP_PLAIN_LIMIT};
use super::{upstream, DnsViewSource, RESOLVER_ADDR, RESOLVER_PORT};
use crate::error::{EngineError, IoContext, Result};

/// A TCP client that sends nothing for this long is dropped.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// Bind UDP and TCP 127.0.0.11:53 inside the network namespace at `netns`.
///
/// A socket belongs to the namespace it was created in, whatever thread uses it later, so a
/// short-lived thread enters the namespace, binds, and ends; the engine's own threads never move.
pub fn bind_in_netns(netns: &Path) -> Result<(std::net::UdpSocket, std::net::TcpListener)> {
    let ns = std::fs::File::open(netns)
        .io_context(|| format!("opening network namespace {}", netns.display()))?;
    let where_ = netns.display().to_string();
    std::thread::Builder::new()
        .name("dns-bind".into())
        .spawn(move || -> Result<_> {
            setns(ns.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| {
                EngineError::internal(format!("entering network namespace {where_}: {e}"))
            })?;
            let addr = SocketAddr::from((RESOLVER_ADDR, RESOLVER_PORT));
            let udp = std::net::UdpSocket::bind(addr)
                .io_context(|| format!("binding udp {addr} in {where_}"))?;
            let tcp = std::net::TcpListener::bind(addr)
                .io_context(|| format!("binding tcp {addr} in {where_}"))?;
            udp.set_nonblocking(true)
                .io_context(|| "dns socket".to_string())?;
            tcp.set_nonblocking(true)
                .io_context(|| "dns socket".to_string())?;
            Ok((udp, tcp))
        })
        .io_context(|| "spawning the dns bind thread".to_string())?
        .join()
        .map_err(|_| EngineError::internal("the dns bind thread panicked"))?
}

/// Serve both sockets for `container_id` until the returned tasks are aborted.
pub fn serve(
    source: Arc<dyn DnsViewSource>,
    container_id: String,
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
) -> Result<Vec<JoinHandle<()>>> {
    let udp = Arc::new(UdpSocket::from_std(udp).io_context(|| "dns udp socket".to_string())?);
    let tcp = TcpListener::from_std(tcp).io_context(|| "dns tcp listener".to_string())?;
    let udp_task = tokio::spawn(serve_udp(source.clone(), container_id.clone(), udp));
    let tcp_task = tokio::spawn(serve_tcp(source, container_id, tcp));
    Ok(vec![udp_task, tcp_task])
}

async fn serve_udp(source: Arc<dyn DnsViewSource>, container_id: String, socket: Arc<UdpSocket>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(container = %container_id, "dns udp receive failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let query = buf[..n].to_vec();
        let view = source.dns_view(&container_id);
        match answer(&query, view.as_ref(), UDP_PLAIN_LIMIT) {
            Outcome::Reply(bytes) => {
                let _ = socket.send_to(&bytes, from).await;
            }
            Outcome::Drop => {}
            Outcome::Forward => {
                // Upstream answers can take seconds: never hold up the next local query.
                let socket = socket.clone();
                let servers = view.map(|v| v.upstream).unwrap_or_default();
                tokio::spawn(async move {
                    let reply = match upstream::forward_udp(&query, &servers).await {
                        Some(reply) => reply,
                        None => server_failure(&query),
                    };
                    let _ = socket.send_to(&reply, from).await;
                });
            }
        }
    }
}

async fn serve_tcp(source: Arc<dyn DnsViewSource>, container_id: String, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_tcp_client(
                    source.clone(),
                    container_id.clone(),
                    stream,
                ));
            }
            Err(e) => {
                tracing::warn!(container = %container_id, "dns tcp accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// DNS over TCP: each message is preceded by its length (RFC 1035 4.2.2); several per connection.
async fn serve_tcp_client(
    source: Arc<dyn DnsViewSource>,
    container_id: String,
    mut stream: TcpStream,
) {
    loop {
        let len = match tokio::time::timeout(TCP_IDLE, stream.read_u16()).await {
            Ok(Ok(len)) => len as usize,
            _ => return,
        };
        let mut query = vec![0u8; len];
        if stream.read_exact(&mut query).await.is_err() {
            return;
        }
        let view = source.dns_view(&container_id);
        let reply = match answer(&query, view.as_ref(), usize::from(u16::MAX)) {
            Outcome::Reply(bytes) => bytes,
            Outcome::Drop => return,
            Outcome::Forward => {
                let servers = view.map(|v| v.upstream).unwrap_or_default();
                upstream::forward_tcp(&query, &servers)
                    .await
                    .unwrap_or_else(|| server_failure(&query))
            }
        };
        let Ok(reply_len) = u16::try_from(reply.len()) else {
            return;
        };
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&reply_len.to_be_bytes());
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

/// SERVFAIL for a query no upstream answered (the query parsed far enough to be forwarded, so it
/// has a full header).
fn server_failure(query: &[u8]) -> Vec<u8> {
    let mut out = query[..12.min(query.len())].to_vec();
    out.resize(12, 0);
    out[2] = 0x80 | (out[2] & 0x79);
    out[3] = 0x80 | 2;
    // No sections follow.
    out[4..12].fill(0);
    out
}
