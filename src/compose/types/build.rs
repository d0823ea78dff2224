//! Build and block-IO configuration (types/types.go `BuildConfig`, `BlkioConfig`, types/ssh.go).

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};

use super::decode::Decode;
use super::files::{ServiceSecretConfig, UlimitsConfig};
use super::mapping::{newtype, HostsList, Labels, Mapping, MappingWithEquals, StringList};
use super::node::{Format, GoMarshal, Node};
use super::scalars::UnitBytes;

go_struct! {
    /// How a service's image is built.
    pub struct BuildConfig {
        "context" context: String => omitempty,
        "dockerfile" dockerfile: String => omitempty,
        "dockerfile_inline" dockerfile_inline: String => omitempty,
        "entitlements" entitlements: Vec<String> => omitempty,
        "args" args: MappingWithEquals => omitempty,
        "provenance" provenance: String => omitempty,
        "sbom" sbom: String => omitempty,
        "ssh" ssh: SSHConfig => omitempty,
        "labels" labels: Labels => omitempty,
        "cache_from" cache_from: StringList => omitempty,
        "cache_to" cache_to: StringList => omitempty,
        "no_cache" no_cache: bool => omitempty,
        "additional_contexts" additional_contexts: Mapping => omitempty,
        "pull" pull: bool => omitempty,
        "extra_hosts" extra_hosts: HostsList => omitempty,
        "isolation" isolation: String => omitempty,
        "network" network: String => omitempty,
        "target" target: String => omitempty,
        "secrets" secrets: Vec<ServiceSecretConfig> => omitempty,
        "shm_size" shm_size: UnitBytes => omitempty,
        "tags" tags: StringList => omitempty,
        "ulimits" ulimits: BTreeMap<String, Option<UlimitsConfig>> => omitempty,
        "platforms" platforms: StringList => omitempty,
        "privileged" privileged: bool => omitempty,
        ..extensions
    }
}

go_struct! {
    /// Block IO weights and throttles.
    pub struct BlkioConfig {
        "weight" weight: u16 => omitempty,
        "weight_device" weight_device: Vec<WeightDevice> => omitempty,
        "device_read_bps" device_read_bps: Vec<ThrottleDevice> => omitempty,
        "device_read_iops" device_read_iops: Vec<ThrottleDevice> => omitempty,
        "device_write_bps" device_write_bps: Vec<ThrottleDevice> => omitempty,
        "device_write_iops" device_write_iops: Vec<ThrottleDevice> => omitempty,
        ..extensions
    }
}

go_struct! {
    custom;
    /// A device and its weight. The Go struct has no tags: JSON keys are the Go field names
    /// (`Path`, `Weight`), YAML keys their lower case, neither omitempty.
    pub struct WeightDevice {
        "path" path: String => always,
        "weight" weight: u16 => always,
        ..extensions
    }
}

go_struct! {
    custom;
    /// A device and its rate per second (bytes or IO operations); untagged like [`WeightDevice`].
    pub struct ThrottleDevice {
        "path" path: String => always,
        "rate" rate: UnitBytes => always,
        ..extensions
    }
}

impl GoMarshal for WeightDevice {
    fn marshal(&self, f: Format) -> Node {
        match f {
            Format::Json => Node::Struct(vec![
                ("Path".into(), self.path.marshal(f)),
                ("Weight".into(), self.weight.marshal(f)),
            ]),
            Format::Yaml => self.go_fields(f),
        }
    }
    fn is_empty(&self, f: Format) -> bool {
        self.go_zero(f)
    }
}

impl GoMarshal for ThrottleDevice {
    fn marshal(&self, f: Format) -> Node {
        match f {
            Format::Json => Node::Struct(vec![
                ("Path".into(), self.path.marshal(f)),
                ("Rate".into(), self.rate.marshal(f)),
            ]),
            Format::Yaml => self.go_fields(f),
        }
    }
    fn is_empty(&self, f: Format) -> bool {
        self.go_zero(f)
    }
}

impl Decode for WeightDevice {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::decode_fields(d)
    }
}

impl Decode for ThrottleDevice {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::decode_fields(d)
    }
}

/// One build SSH agent socket or key: `default`, or an id with a path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SSHKey {
    pub id: String,
    pub path: String,
}

newtype!(
    /// Build SSH keys. compose-go decodes them from a map (id → path or null; the loader turns the
    /// list form into one) and writes each as `id` or, in YAML, `id: path`. Its JSON for a key
    /// with a path is `"id": path`, which is not JSON (docker compose then fails to print the
    /// project); `"id=path"`, the list form that reads back, is written instead.
    SSHConfig(Vec<SSHKey>)
);

impl SSHConfig {
    /// compose-go's `Get`: the path of a key.
    pub fn get(&self, id: &str) -> Option<&str> {
        self.0.iter().find(|k| k.id == id).map(|k| k.path.as_str())
    }
}

impl Decode for SSHConfig {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let keys = match serde_json::Value::decode(d)? {
            serde_json::Value::Object(m) => m
                .into_iter()
                .map(|(id, p)| SSHKey {
                    id,
                    path: match p {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    },
                })
                .collect(),
            // The short form (transform/ssh.go), also what the JSON output holds.
            serde_json::Value::Array(a) => a
                .into_iter()
                .map(|e| match e {
                    serde_json::Value::String(s) => {
                        let (id, path) = s.split_once('=').unwrap_or((&s, ""));
                        Ok(SSHKey {
                            id: id.to_owned(),
                            path: path.to_owned(),
                        })
                    }
                    other => Err(de::Error::custom(format!("invalid ssh key type {other}"))),
                })
                .collect::<Result<_, _>>()?,
            other => {
                return Err(de::Error::custom(format!(
                    "invalid ssh config type {other}"
                )))
            }
        };
        Ok(SSHConfig(keys))
    }
}

impl GoMarshal for SSHConfig {
    fn marshal(&self, f: Format) -> Node {
        Node::Seq(
            self.0
                .iter()
                .map(|k| {
                    Node::Str(match (f, k.path.is_empty()) {
                        (_, true) => k.id.clone(),
                        (Format::Json, false) => format!("{}={}", k.id, k.path),
                        (Format::Yaml, false) => format!("{}: {}", k.id, k.path),
                    })
                })
                .collect(),
        )
    }
    fn is_empty(&self, _: Format) -> bool {
        self.0.is_empty()
    }
}
