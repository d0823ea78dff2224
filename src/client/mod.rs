//! Docker Engine API client over a unix socket: the pooled transport (version negotiation via
//! `/_ping`, JSON requests, streaming bodies, hijacked attach), typed endpoints, and engine
//! autostart.

pub mod api;
pub mod autostart;
pub mod build_context;
pub mod credentials;
pub mod demux;
pub mod progress;
pub mod reference;
pub mod stdin;
pub mod terminal;
mod transport;

use std::fmt;
use std::path::PathBuf;

use anyhow::Result;
use hyper::StatusCode;
use serde_json::Value;

pub use api::{filters_json, query, seg};
pub use transport::{channel_body, empty, full, Client, ReqBody, CLIENT_API_VERSION};

/// A non-2xx answer from the engine, carrying its JSON `message`.
#[derive(Debug, Clone)]
pub struct DaemonError {
    pub status: u16,
    pub message: String,
}

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error response from daemon: {}", self.message)
    }
}

impl std::error::Error for DaemonError {}

/// The socket does not answer at all.
#[derive(Debug)]
pub struct ConnectError {
    pub socket: PathBuf,
    pub source: std::io::Error,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Cannot connect to the berth engine at unix://{}. Is the engine running? ({})",
            self.socket.display(),
            self.source
        )
    }
}

impl std::error::Error for ConnectError {}

/// Parse `--host`: `unix:///path` or a plain path.
pub fn parse_host(host: &str) -> Result<PathBuf> {
    if let Some(p) = host.strip_prefix("unix://") {
        if p.is_empty() {
            anyhow::bail!("invalid host {host:?}: empty socket path");
        }
        return Ok(PathBuf::from(p));
    }
    if host.contains("://") {
        anyhow::bail!("invalid host {host:?}: only unix:// sockets are supported");
    }
    Ok(PathBuf::from(host))
}

/// Build a [`DaemonError`] from a status and JSON (or plain) body.
pub fn daemon_error(status: StatusCode, body: &[u8]) -> DaemonError {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body).trim().to_string();
            if text.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("unknown error")
                    .to_string()
            } else {
                text
            }
        });
    DaemonError {
        status: status.as_u16(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            parse_host("unix:///run/berth/berth.sock").unwrap(),
            PathBuf::from("/run/berth/berth.sock")
        );
        assert_eq!(
            parse_host("/tmp/x.sock").unwrap(),
            PathBuf::from("/tmp/x.sock")
        );
        assert!(parse_host("tcp://1.2.3.4:2375").is_err());
        assert!(parse_host("unix://").is_err());
    }

    #[test]
    fn daemon_errors_use_message() {
        let e = daemon_error(StatusCode::NOT_FOUND, br#"{"message":"No such image: x"}"#);
        assert_eq!(
            e.to_string(),
            "Error response from daemon: No such image: x"
        );
        assert_eq!(e.status, 404);
        let e = daemon_error(StatusCode::BAD_GATEWAY, b"");
        assert_eq!(e.message, "Bad Gateway");
    }
}
