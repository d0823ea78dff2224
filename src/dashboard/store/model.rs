//! The engine's objects as the dashboard needs them, decoded from the Docker API's list answers
//! (missing fields default, so Docker and Podman sockets decode too).

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Port {
    #[serde(rename = "IP")]
    pub ip: Option<String>,
    #[serde(rename = "PrivatePort")]
    pub private: u16,
    #[serde(rename = "PublicPort")]
    pub public: Option<u16>,
    #[serde(rename = "Type")]
    pub proto: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct MountPoint {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Name")]
    pub name: Option<String>,
    #[serde(rename = "Source")]
    pub source: String,
    #[serde(rename = "Destination")]
    pub destination: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct EndpointSummary {
    #[serde(rename = "IPAddress")]
    pub ip: String,
    #[serde(rename = "NetworkID")]
    pub network_id: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct NetworkSummary {
    #[serde(rename = "Networks")]
    pub networks: BTreeMap<String, EndpointSummary>,
}

/// One row of `GET /containers/json?all=1`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Container {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Names")]
    pub names: Vec<String>,
    #[serde(rename = "Image")]
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    #[serde(rename = "Command")]
    pub command: String,
    #[serde(rename = "Created")]
    pub created: i64,
    #[serde(rename = "Ports")]
    pub ports: Vec<Port>,
    #[serde(rename = "Labels")]
    pub labels: BTreeMap<String, String>,
    #[serde(rename = "State")]
    pub state: String,
    #[serde(rename = "Status")]
    pub status: String,
    #[serde(rename = "Mounts")]
    pub mounts: Vec<MountPoint>,
    #[serde(rename = "NetworkSettings")]
    pub network_settings: Option<NetworkSummary>,
}

pub const COMPOSE_PROJECT: &str = "com.docker.compose.project";
pub const COMPOSE_SERVICE: &str = "com.docker.compose.service";

impl Container {
    /// The name without docker's leading slash.
    pub fn name(&self) -> &str {
        self.names
            .first()
            .map(|n| n.trim_start_matches('/'))
            .unwrap_or("")
    }

    pub fn short_id(&self) -> &str {
        let id = self.id.strip_prefix("sha256:").unwrap_or(&self.id);
        &id[..id.len().min(12)]
    }

    pub fn project(&self) -> Option<&str> {
        self.labels.get(COMPOSE_PROJECT).map(String::as_str)
    }

    pub fn is_running(&self) -> bool {
        self.state == "running"
    }

    pub fn is_paused(&self) -> bool {
        self.state == "paused"
    }

    /// `healthy`, `unhealthy` or `starting`, from docker's status text "Up 3 minutes (healthy)".
    pub fn health(&self) -> Option<&'static str> {
        let s = &self.status;
        if s.contains("(unhealthy)") {
            Some("unhealthy")
        } else if s.contains("(healthy)") {
            Some("healthy")
        } else if s.contains("(health: starting)") {
            Some("starting")
        } else {
            None
        }
    }

    /// Published ports as `0.0.0.0:8080->80/tcp`, unpublished as `80/tcp`, deduplicated
    /// across IPv4/IPv6 as the docker CLI does.
    pub fn ports_text(&self) -> String {
        let mut seen = Vec::new();
        for p in &self.ports {
            let s = match p.public {
                Some(pub_port) => format!("{pub_port}->{}/{}", p.private, p.proto),
                None => format!("{}/{}", p.private, p.proto),
            };
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
        seen.join(", ")
    }

    /// The published host ports, for "open in browser".
    pub fn published(&self) -> Vec<(String, u16)> {
        let mut out: Vec<(String, u16)> = Vec::new();
        for p in &self.ports {
            if let Some(public) = p.public {
                if p.proto == "tcp" && !out.iter().any(|(_, q)| *q == public) {
                    let ip = match p.ip.as_deref() {
                        None | Some("") | Some("0.0.0.0") | Some("::") => "localhost".to_string(),
                        Some(ip) if ip.contains(':') => format!("[{ip}]"),
                        Some(ip) => ip.to_string(),
                    };
                    out.push((ip, public));
                }
            }
        }
        out
    }
}

/// One row of `GET /images/json`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Image {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "RepoTags")]
    pub repo_tags: Option<Vec<String>>,
    #[serde(rename = "RepoDigests")]
    pub repo_digests: Option<Vec<String>>,
    #[serde(rename = "Created")]
    pub created: i64,
    #[serde(rename = "Size")]
    pub size: i64,
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
}

impl Image {
    pub fn short_id(&self) -> &str {
        let id = self.id.strip_prefix("sha256:").unwrap_or(&self.id);
        &id[..id.len().min(12)]
    }

    /// (repository, tag) pairs; a dangling image is one `("<none>", "<none>")` row.
    pub fn tags(&self) -> Vec<(String, String)> {
        let tags: Vec<&String> = self
            .repo_tags
            .iter()
            .flatten()
            .filter(|t| t.as_str() != "<none>:<none>")
            .collect();
        if tags.is_empty() {
            return vec![("<none>".into(), "<none>".into())];
        }
        tags.into_iter()
            .map(|t| match t.rsplit_once(':') {
                Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
                _ => (t.clone(), "<none>".into()),
            })
            .collect()
    }

    pub fn is_dangling(&self) -> bool {
        self.repo_tags
            .iter()
            .flatten()
            .all(|t| t == "<none>:<none>")
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct VolumeUsage {
    #[serde(rename = "Size")]
    pub size: i64,
    #[serde(rename = "RefCount")]
    pub ref_count: i64,
}

/// One entry of `GET /volumes`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Volume {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Driver")]
    pub driver: String,
    #[serde(rename = "Mountpoint")]
    pub mountpoint: String,
    #[serde(rename = "CreatedAt")]
    pub created_at: String,
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "UsageData")]
    pub usage: Option<VolumeUsage>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct IpamConfig {
    #[serde(rename = "Subnet")]
    pub subnet: String,
    #[serde(rename = "Gateway")]
    pub gateway: String,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Ipam {
    #[serde(rename = "Config")]
    pub config: Option<Vec<IpamConfig>>,
}

/// One entry of `GET /networks`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Network {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Driver")]
    pub driver: String,
    #[serde(rename = "Scope")]
    pub scope: String,
    #[serde(rename = "Internal")]
    pub internal: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    #[serde(rename = "Created")]
    pub created: String,
}

impl Network {
    pub fn short_id(&self) -> &str {
        &self.id[..self.id.len().min(12)]
    }

    pub fn subnets(&self) -> (String, String) {
        let configs = self.ipam.config.as_deref().unwrap_or_default();
        let join = |f: fn(&IpamConfig) -> &str| {
            configs
                .iter()
                .map(f)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        };
        (join(|c| &c.subnet), join(|c| &c.gateway))
    }
}

/// What the header says about the engine.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineInfo {
    /// `unix:///run/berth/berth.sock`.
    pub host: String,
    /// "berth" or "Docker Engine - Community", from /version's Platform.Name, else the OS.
    pub name: String,
    pub version: String,
    pub api_version: String,
    pub os: String,
    pub cpus: u64,
    pub mem_total: u64,
}

/// The host's CPU and memory use, sampled by the feed from /proc.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HostUsage {
    pub cpu_percent: f64,
    pub mem_used: u64,
    pub mem_total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_docker_list_rows() {
        let c: Container = serde_json::from_str(
            r#"{"Id":"0123456789abcdef","Names":["/web-1"],"Image":"nginx","State":"running",
               "Status":"Up 2 minutes (healthy)","Ports":[{"IP":"0.0.0.0","PrivatePort":80,
               "PublicPort":8080,"Type":"tcp"},{"IP":"::","PrivatePort":80,"PublicPort":8080,
               "Type":"tcp"},{"PrivatePort":443,"Type":"tcp"}],
               "Labels":{"com.docker.compose.project":"shop"}}"#,
        )
        .unwrap();
        assert_eq!(c.name(), "web-1");
        assert_eq!(c.short_id(), "0123456789ab");
        assert_eq!(c.project(), Some("shop"));
        assert_eq!(c.health(), Some("healthy"));
        assert_eq!(c.ports_text(), "8080->80/tcp, 443/tcp");
        assert_eq!(c.published(), vec![("localhost".to_string(), 8080)]);

        let i: Image = serde_json::from_str(
            r#"{"Id":"sha256:abcdef0123456789","RepoTags":["localhost:5000/a/b:1.0","b:latest"],"Size":5}"#,
        )
        .unwrap();
        assert_eq!(i.short_id(), "abcdef012345");
        assert_eq!(
            i.tags(),
            vec![
                ("localhost:5000/a/b".into(), "1.0".into()),
                ("b".into(), "latest".into())
            ]
        );
        assert!(!i.is_dangling());
        let d: Image = serde_json::from_str(r#"{"Id":"x","RepoTags":null}"#).unwrap();
        assert!(d.is_dangling());
        assert_eq!(d.tags(), vec![("<none>".into(), "<none>".into())]);
    }
}
