//! A registry that gave no HTTP answer at all: why (DNS, refused, timeout, TLS, network), worded
//! for people ("cannot reach registry HOST: connection refused"), and what to do about it (a
//! mirror for docker.io, `--insecure-registry` for a plain-HTTP or self-signed registry, or an
//! image from a file when offline). The advice lives in the engine's message so every client —
//! berth's CLI, its dashboard and the stock docker CLI — shows the same one line.

use super::endpoint::is_loopback_host;
use super::{RegistryClient, RegistryError};

/// Why a registry could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens on the port.
    Refused,
    /// No connection or no answer in time.
    Timeout,
    /// Connected, but the TLS handshake failed (often: a plain-HTTP registry asked for HTTPS, or
    /// a self-signed certificate).
    Tls,
    /// Any other connect failure (no route, network unreachable).
    Network,
}

/// Offline there is still a way to get an image: from a file.
const OFFLINE: &str = "Offline, load an image archive (berth load -i FILE) or import a rootfs \
                       tarball (berth import FILE NAME)";

/// Classifies a reqwest failure; `None` when the registry did answer (or the failure came while
/// reading a body it had started to send, which is not a reachability problem).
pub(super) fn classify(e: &reqwest::Error) -> Option<Unreachable> {
    let chain = chain_text(e).to_ascii_lowercase();
    let refused = sources(e).any(|s| {
        s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    }) || chain.contains("connection refused");
    if e.is_connect() {
        return Some(if chain.contains("dns error") {
            Unreachable::Dns
        } else if refused {
            Unreachable::Refused
        } else if e.is_timeout() || chain.contains("timed out") {
            Unreachable::Timeout
        } else if ["certificate", "tls", "ssl", "handshake", "corrupt message"]
            .iter()
            .any(|w| chain.contains(w))
        {
            Unreachable::Tls
        } else {
            Unreachable::Network
        });
    }
    if e.is_timeout() && !e.is_body() && !e.is_decode() {
        return Some(Unreachable::Timeout);
    }
    None
}

/// "host[:port]" of the URL the request went to.
pub(super) fn host_of_url(e: &reqwest::Error) -> String {
    match e.url() {
        Some(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => u.to_string(),
        },
        None => "the registry".into(),
    }
}

/// The message of an unreachable registry: `cannot reach registry HOST: WHY`.
pub(super) fn message(kind: Unreachable, e: &reqwest::Error) -> String {
    let host = host_of_url(e);
    let root = root_cause(e);
    let why = match kind {
        Unreachable::Refused => "connection refused".to_string(),
        Unreachable::Timeout => "timed out".to_string(),
        Unreachable::Dns => format!("DNS lookup failed ({root})"),
        Unreachable::Tls => format!("TLS handshake failed ({root})"),
        Unreachable::Network => root,
    };
    format!("cannot reach registry {host}: {why}")
}

/// Every error below `e`, nearest first.
fn sources(e: &reqwest::Error) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    std::iter::successors(std::error::Error::source(e), |s| s.source())
}

/// `e` and its causes, joined with ": " (reqwest's own Display hides them).
pub(super) fn chain_text(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    for s in sources(e) {
        msg.push_str(&format!(": {s}"));
    }
    msg
}

/// The innermost cause's text ("Name or service not known", "invalid peer certificate: …").
fn root_cause(e: &reqwest::Error) -> String {
    sources(e)
        .last()
        .map_or_else(|| e.to_string(), |s| s.to_string())
}

/// Whether `--insecure-registry` could make an HTTPS-only registry reachable: after a failed TLS
/// handshake (plain HTTP or a self-signed certificate on that port), or a refused port 443 when
/// no port was named (the registry may serve plain HTTP on port 80).
fn plain_http_may_help(domain: &str, kind: Unreachable) -> bool {
    let has_port = domain
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()));
    match kind {
        Unreachable::Tls => true,
        Unreachable::Refused => !has_port,
        _ => false,
    }
}

impl RegistryClient {
    /// Adds to an unreachable registry's message what would fix it, for `domain` (the
    /// reference's registry, e.g. "docker.io" or "10.0.0.5:5000"). Other errors pass unchanged.
    pub fn with_advice(&self, domain: &str, mut e: RegistryError) -> RegistryError {
        let Some(kind) = e.unreachable else {
            return e;
        };
        let docker_io = matches!(domain, "docker.io" | "index.docker.io");
        let advice = if docker_io {
            if self.options().mirrors.is_empty() {
                "To pull docker.io images through a mirror, start the engine with \
                 --registry-mirror URL."
                    .to_string()
            } else {
                "The configured mirrors (--registry-mirror) did not serve it either.".to_string()
            }
        } else if kind == Unreachable::Dns {
            format!("Check the registry name {domain}.")
        } else if is_loopback_host(domain)
            || self.is_insecure(domain)
            || !plain_http_may_help(domain, kind)
        {
            // Plain HTTP is tried already, or would not change anything: the registry is missing.
            format!("Is a registry listening on {domain}?")
        } else if kind == Unreachable::Tls {
            let trust = match self.options().certs_dirs.first() {
                Some(d) => format!("{}/{domain}/ca.crt", d.display()),
                None => format!("/etc/docker/certs.d/{domain}/ca.crt"),
            };
            format!(
                "To trust its certificate authority, put the CA certificate in {trust}. For a \
                 registry over plain HTTP or with a self-signed certificate, start the engine \
                 with --insecure-registry {domain} (or set BERTH_INSECURE_REGISTRIES={domain})."
            )
        } else {
            format!(
                "For a registry over plain HTTP or with a self-signed certificate, start the \
                 engine with --insecure-registry {domain} (or set BERTH_INSECURE_REGISTRIES={domain})."
            )
        };
        e.message = format!("{}. {advice} {OFFLINE}", e.message);
        e
    }
}

#[cfg(test)]
mod tests {
    use super::super::RegistryOptions;
    use super::*;

    fn client(insecure: &[&str], mirrors: &[&str]) -> RegistryClient {
        RegistryClient::new(RegistryOptions {
            insecure: insecure.iter().map(|s| s.to_string()).collect(),
            mirrors: mirrors.iter().map(|s| s.to_string()).collect(),
            certs_dirs: vec![],
        })
        .unwrap()
    }

    fn unreachable(host: &str, kind: Unreachable) -> RegistryError {
        RegistryError {
            status: None,
            code: String::new(),
            message: format!("cannot reach registry {host}: connection refused"),
            unreachable: Some(kind),
        }
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_host() {
        // Port 1 on loopback: nothing listens there.
        let e = reqwest::Client::new()
            .get("http://127.0.0.1:1/v2/")
            .send()
            .await
            .unwrap_err();
        assert_eq!(classify(&e), Some(Unreachable::Refused));
        assert_eq!(
            message(Unreachable::Refused, &e),
            "cannot reach registry 127.0.0.1:1: connection refused"
        );
    }

    #[test]
    fn advice_fits_the_registry() {
        let c = client(&["plain.example:5000"], &[]);
        let m = c
            .with_advice(
                "docker.io",
                unreachable("registry-1.docker.io", Unreachable::Dns),
            )
            .message;
        assert!(m.contains("--registry-mirror URL"), "{m}");
        assert!(m.ends_with("(berth import FILE NAME)"), "{m}");
        let m = c
            .with_advice(
                "127.0.0.1:1",
                unreachable("127.0.0.1:1", Unreachable::Refused),
            )
            .message;
        assert!(m.contains("Is a registry listening on 127.0.0.1:1?"), "{m}");
        let m = c
            .with_advice(
                "10.1.2.3:5000",
                unreachable("10.1.2.3:5000", Unreachable::Tls),
            )
            .message;
        assert!(
            m.contains(
                "--insecure-registry 10.1.2.3:5000 (or set BERTH_INSECURE_REGISTRIES=10.1.2.3:5000)"
            ),
            "{m}"
        );
        let m = c
            .with_advice(
                "plain.example:5000",
                unreachable("plain.example:5000", Unreachable::Tls),
            )
            .message;
        assert!(!m.contains("--insecure-registry"), "already insecure: {m}");
        // A refused named port stays refused over plain HTTP; port 443 may hide one on port 80.
        let m = c
            .with_advice(
                "10.1.2.3:5000",
                unreachable("10.1.2.3:5000", Unreachable::Refused),
            )
            .message;
        assert!(
            m.contains("Is a registry listening on 10.1.2.3:5000?"),
            "{m}"
        );
        let m = c
            .with_advice(
                "reg.example",
                unreachable("reg.example", Unreachable::Refused),
            )
            .message;
        assert!(m.contains("--insecure-registry reg.example "), "{m}");
        let m = c
            .with_advice(
                "nosuch.example",
                unreachable("nosuch.example", Unreachable::Dns),
            )
            .message;
        assert!(m.contains("Check the registry name"), "{m}");
        let mirrored = client(&[], &["https://mirror.example"]);
        let m = mirrored
            .with_advice(
                "docker.io",
                unreachable("registry-1.docker.io", Unreachable::Timeout),
            )
            .message;
        assert!(
            m.contains("mirrors (--registry-mirror) did not serve it"),
            "{m}"
        );
        // Answers from a registry are not about reachability: unchanged.
        let denied = RegistryError {
            status: Some(401),
            code: "UNAUTHORIZED".into(),
            message: "authentication required".into(),
            unreachable: None,
        };
        assert_eq!(
            c.with_advice("docker.io", denied).message,
            "authentication required"
        );
    }
}
