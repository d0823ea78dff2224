//! Where a registry is reached: engine options, [`Endpoint`]s (mirrors, plain HTTP for loopback,
//! `--insecure-registry`), and host/origin helpers.

use std::net::IpAddr;
use std::path::PathBuf;

use super::RegistryClient;

/// Engine options for registries (`berth engine --insecure-registry`, `--registry-mirror`).
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// `HOST[:PORT]` entries (a bare host matches every port of it).
    pub insecure: Vec<String>,
    /// Mirror base URLs for docker.io, tried in order before registry-1.docker.io.
    pub mirrors: Vec<String>,
    /// Directories holding a `host[:port]` directory of trust files per registry (berth's own
    /// first, then docker's `/etc/docker/certs.d`), see [`super::tls`].
    pub certs_dirs: Vec<PathBuf>,
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
    /// The registry's certs directory, for HTTPS endpoints that have one.
    pub certs: Option<PathBuf>,
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
        let endpoint = |base: String, skip_verify: bool, mirror: bool| {
            let certs = if base.starts_with("https://") {
                let host = url::Url::parse(&base).ok().and_then(|u| {
                    let h = u.host_str()?.to_string();
                    Some(match u.port() {
                        Some(p) => format!("{h}:{p}"),
                        None => h,
                    })
                });
                host.and_then(|h| super::tls::host_dir(&self.inner.options.certs_dirs, &h))
            } else {
                None
            };
            Endpoint {
                base,
                skip_verify,
                mirror,
                certs,
            }
        };
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
                    out.push(endpoint(base, false, true));
                }
            }
            out.push(endpoint(
                "https://registry-1.docker.io".into(),
                false,
                false,
            ));
        } else if is_loopback_host(domain) {
            // Loopback is an insecure registry to docker (HTTPS without verification, then
            // HTTP). Plain HTTP goes first here: nearly every local registry speaks it, and a
            // TLS one answers plain HTTP at once with a 400, where a plain server may sit on a
            // TLS hello waiting for a line that never comes.
            out.push(endpoint(format!("http://{domain}"), false, false));
            out.push(endpoint(format!("https://{domain}"), true, false));
        } else if self.is_insecure(domain) {
            out.push(endpoint(format!("https://{domain}"), true, false));
            out.push(endpoint(format!("http://{domain}"), false, false));
        } else {
            out.push(endpoint(format!("https://{domain}"), false, false));
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
            certs_dirs: vec![],
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
        assert_eq!(
            bases("127.0.0.1:5000", true),
            vec!["http://127.0.0.1:5000", "https://127.0.0.1:5000"]
        );
        assert_eq!(bases("localhost:5000", true)[0], "http://localhost:5000");
        assert_eq!(bases("[::1]:5000", true)[0], "http://[::1]:5000");
        assert!(c.endpoints("localhost:5000", true)[1].skip_verify);
        assert_eq!(
            bases("myreg.example:5000", true),
            vec!["https://myreg.example:5000", "http://myreg.example:5000"]
        );
        assert_eq!(bases("plain.example:443", true).len(), 2);
        assert_eq!(bases("quay.io", true), vec!["https://quay.io"]);
        assert!(c.endpoints("myreg.example:5000", true)[0].skip_verify);
    }

    #[test]
    fn https_endpoints_carry_their_certs_directory() {
        let ours = tempfile::tempdir().unwrap();
        let dockers = tempfile::tempdir().unwrap();
        std::fs::create_dir(dockers.path().join("reg.example:5000")).unwrap();
        std::fs::create_dir(ours.path().join("127.0.0.1:5000")).unwrap();
        let c = RegistryClient::new(RegistryOptions {
            certs_dirs: vec![ours.path().into(), dockers.path().into()],
            ..Default::default()
        })
        .unwrap();
        let certs = |d: &str| {
            c.endpoints(d, false)
                .into_iter()
                .map(|e| e.certs)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            certs("reg.example:5000"),
            vec![Some(dockers.path().join("reg.example:5000"))]
        );
        assert_eq!(certs("reg.example:5001"), vec![None]);
        // The plain-HTTP endpoint of a loopback registry has none; its HTTPS one has.
        assert_eq!(
            certs("127.0.0.1:5000"),
            vec![None, Some(ours.path().join("127.0.0.1:5000"))]
        );
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
