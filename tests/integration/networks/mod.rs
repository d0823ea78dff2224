//! Bridge networking end to end: real containers on real bridges, veths, nftables NAT and
//! published ports, through the raw API, `berth --headless` and the stock docker CLI.

mod bridge;
mod dns;
mod ipv6;
mod ports;
mod reboot;

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::{eventually, free_port, host_ipv4, ok, stderr, stdout, TestEngine};

pub(super) fn http_get(addr: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    s.write_all(b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n")
        .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    Some(buf)
}

pub(super) const HTTPD: &str =
    "mkdir -p /www && echo hello-from-berth > /www/index.html && exec httpd -f -p 80 -h /www";

pub(super) fn links_on_bridge(bridge: &str) -> String {
    let out = Command::new("ip")
        .args(["-o", "link", "show", "master", bridge])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(super) fn nft_table(e: &TestEngine) -> String {
    let out = Command::new("nft")
        .args(["list", "table", "ip", &e.net.nft_table])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(super) fn netns_files(e: &TestEngine) -> usize {
    std::fs::read_dir(e.data_path("networks/netns"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// What a reboot does to an engine's world: every container process and shim gone, namespace pins
/// (bind mounts) gone, bridges and nftables gone. Records, pinned files and state on disk stay.
pub(crate) fn simulate_reboot(e: &mut TestEngine, container_pids: &[String], bridges: &[String]) {
    e.kill9();
    let shims = format!("__berth-shim {}/", e.data_root.display());
    let _ = Command::new("pkill").args(["-9", "-f", &shims]).status();
    for pid in container_pids {
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
    if let Ok(dir) = std::fs::read_dir(e.data_path("networks/netns")) {
        for f in dir.flatten() {
            let _ = Command::new("umount").arg("-l").arg(f.path()).status();
        }
    }
    // Only this engine's bridges: other tests' engines run beside this one.
    for bridge in std::iter::once(&e.net.bridge).chain(bridges) {
        let _ = Command::new("ip").args(["link", "del", bridge]).status();
    }
    let _ = Command::new("nft")
        .args(["delete", "table", "ip", &e.net.nft_table])
        .status();
    std::thread::sleep(Duration::from_millis(200));
}
