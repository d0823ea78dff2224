//! The configuration hashes docker compose puts on what it creates (the
//! `com.docker.compose.config-hash` label) and compares to decide what to recreate, ported from
//! docker/compose v2.40.3 pkg/compose/hash.go: sha256 (hex) of `json.Marshal` of the object,
//! after clearing what must not cause a recreation.

use sha2::{Digest, Sha256};

use super::gojson::to_go_json;
use super::network::{NetworkConfig, VolumeConfig};
use super::service::ServiceConfig;

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// `ServiceHash`: build, pull_policy, scale, deploy.replicas, depends_on and profiles do not
/// count (changing them does not recreate containers).
pub fn service_hash(s: &ServiceConfig) -> String {
    let mut o = s.clone();
    o.build = None;
    o.pull_policy.clear();
    o.scale = None;
    if let Some(d) = o.deploy.as_mut() {
        d.replicas = None;
    }
    o.depends_on.clear();
    o.profiles.clear();
    sha256_hex(&to_go_json(&o))
}

/// `NetworkHash`.
pub fn network_hash(n: &NetworkConfig) -> String {
    sha256_hex(&to_go_json(n))
}

/// `VolumeHash`: an unset driver counts as "local".
pub fn volume_hash(v: &VolumeConfig) -> String {
    let mut o = v.clone();
    if o.driver.is_empty() {
        o.driver = "local".into();
    }
    sha256_hex(&to_go_json(&o))
}
