//! Where a registry is reached: engine options, [`Endpoint`]s (mirrors, plain HTTP for loopback,
//! `--insecure-registry`), and host/origin helpers.

use std::net::IpAddr;

use super::RegistryClient;

/// Engine options for registries (`berth engine --insecure-registry`, `--registry-mirror`).
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// `HOST[:PORT]` entries (a bare host matches every port of it).
    pub insecure: Vec<String>,
    /// Mirror base URLs for docker.io, tried in order before registry-1.docker.io.
    pub mirrors: Vec<String>,
}

impl RegistryOptions {
    /// Add the comma/space separated `BERTH_INSECURE_REGISTRIES` entries.
    pub fn with_env(mut self) -> Self {
        if let Ok(v) = std::env::var("BERTH_INSECURE_REGISTRIES") {
            self.insecure.extend(
                v.split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
        self
    }
}

/// One place a registry can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// "https://registry-1.docker.io", "http://127.0.0.1:5000", a mirror URL (may have a path).
    pub base: String,
    /// Accept any certificate (`--insecure-registry` over HTTPS).
    pub skip_verify: bool,
    /// A docker.io mirror (pull only).
    pub mirror: bool,
}

/// 127.0.0.0/8, ::1 and localhost speak plain HTTP, as in docker.
pub fn is_loopback_host(domain: &str) -> bool {
    let host = host_of(domain);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// "host:port" → "host" ("[::1]:5000" → "[::1]").
fn host_of(domain: &str) -> &str {
    if domain.starts_with('[') {
        return match domain.find(']') {
            Some(i) => &domain[..=i],
            None => domain,
        };
    }
    domain.rsplit_once(':').map(|(h, _)| h).unwrap_or(domain)
}

/// Origin ("scheme://host:port") of a URL, for the same-origin credential rule.
pub(super) fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str()?,
        u.port_or_known_default()?
    ))
}

/// Normalise a `serveraddress` (`https://index.docker.io/v1/`, `registry:5000`, `http://x/`) to a
/// reference domain.
pub fn normalize_server_address(addr: &str) -> String {
    let a = addr.trim();
    let a = a
        .strip_prefix("https://")
        .or_else(|| a.strip_prefix("http://"))
        .unwrap_or(a);
    let a = a.split('/').next().unwrap_or("");
    match a {
        ""
        | "index.docker.io"
        | "registry-1.docker.io"
        | "docker.io"
        | "registry.hub.docker.com" => "docker.io".into(),
        other => other.to_ascii_lowercase(),
    }
}

impl RegistryClient {
    pub(super) fn is_insecure(&self, domain: &str) -> bool {
        self.inner
            .options
            .insecure
            .iter()
            .any(|e| e.eq_ignore_ascii_case(domain) || e.eq_ignore_ascii_case(host_of(domain)))
    }

    /// Endpoints for a registry domain, in the order they are tried. `with_mirrors` is false for
    /// push (mirrors are read-only).
    pub fn endpoints(&self, domain: &str, with_mirrors: bool) -> Vec<Endpoint> {
        let mut out = Vec::new();
        if domain == "docker.io" || domain == "index.docker.io" {
            if with_mirrors {
                for m in &self.inner.options.mirrors {
                    let m = m.trim_end_matches('/');
                    let base = if m.contains("://") {
                        m.to_string()
                    } else {
                        format!("https://{m}")
                    };
                    out.push(Endpoint {
                        base,
                        skip_verify: false,
                        mirror: true,
                    });
                }
            }
            out.push(Endpoint {
                base: "https://registry-1.docker.io".into(),
                skip_verify: false,
                mirror: false,
            });
        } else if is_loopback_host(domain) {
            out.push(Endpoint {
                base: format!("http://{domain}"),
                skip_verify: false,
                mirror: false,
            });
        } else if self.is_insecure(domain) {
            out.push(Endpoint {
                base: format!("https://{domain}"),
                skip_verify: true,
                mirror: false,
            });
            out.push(Endpoint {
                base: format!("http://{domain}"),
                skip_verify: false,
                mirror: false,
            });
        } else {
            out.push(Endpoint {
                base: format!("https://{domain}"),
                skip_verify: false,
                mirror: false,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_selection() {
        let c = RegistryClient::new(RegistryOptions {
            insecure: vec!["myreg.example:5000".into(), "plain.example".into()],
            mirrors: vec!["mirror.example/".into()],
        })
        .unwrap();
        let bases = |d: &str, m: bool| {
            c.endpoints(d, m)
                .into_iter()
                .map(|e| e.base)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bases("docker.io", true),
            vec!["https://mirror.example", "https://registry-1.docker.io"]
        );
        assert_eq!(
            bases("docker.io", false),
            vec!["https://registry-1.docker.io"]
        );
        assert_eq!(bases("127.0.0.1:5000", true), vec!["http://127.0.0.1:5000"]);
        assert_eq!(bases("localhost:5000", true), vec!["http://localhost:5000"]);
        assert_eq!(bases("[::1]:5000", true), vec!["http://[::1]:5000"]);
        assert_eq!(
            bases("myreg.example:5000", true),
            vec!["https://myreg.example:5000", "http://myreg.example:5000"]
        );
        assert_eq!(bases("plain.example:443", true).len(), 2);
        assert_eq!(bases("quay.io", true), vec!["https://quay.io"]);
        assert!(c.endpoints("myreg.example:5000", true)[0].skip_verify);
    }

    #[test]
    fn server_addresses() {
        assert_eq!(
            normalize_server_address("https://index.docker.io/v1/"),
            "docker.io"
        );
        assert_eq!(normalize_server_address(""), "docker.io");
        assert_eq!(
            normalize_server_address("http://127.0.0.1:5000/"),
            "127.0.0.1:5000"
        );
        assert_eq!(
            normalize_server_address("Reg.Example:5000"),
            "reg.example:5000"
        );
    }

    #[test]
    fn same_origin() {
        assert_eq!(
            origin_of("http://127.0.0.1:5000/v2/x"),
            origin_of("http://127.0.0.1:5000")
        );
        assert_ne!(
            origin_of("https://s3.example/x"),
            origin_of("https://reg.example")
        );
    }
}
