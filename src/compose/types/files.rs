//! File-backed objects and the types with their own Go marshalling (types/types.go
//! `FileObjectConfig`, `SecretConfig`, `ConfigObjConfig`, `FileReferenceConfig`,
//! `UlimitsConfig`; types/envfile.go `EnvFile`).

use std::collections::BTreeMap;

use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::decode::{Dec, Decode};
use super::mapping::{newtype, Labels};
use super::network::External;
use super::node::{Format, GoMarshal, Node};
use super::scalars::FileMode;

go_struct! {
    /// A secret or config: from a file, an environment variable, inline content, or external.
    pub struct FileObjectConfig {
        "name" name: String => omitempty,
        "file" file: String => omitempty,
        "environment" environment: String => omitempty,
        "content" content: String => omitempty,
        /// Go's unexported `marshallContent`: write a secret's content (compose-go's
        /// `WithSecretContent`); never read from the map.
        "-" marshall_content: bool => internal,
        "external" external: External => omitempty,
        "labels" labels: Labels => omitempty,
        "driver" driver: String => omitempty,
        "driver_opts" driver_opts: BTreeMap<String, String> => omitempty,
        "template_driver" template_driver: String => omitempty,
        ..extensions
    }
}

newtype!(
    /// A top-level secret. Its content (set by the loader from `environment`, or given inline
    /// as the `x-#value` extension) is never written unless `marshall_content` is set.
    SecretConfig(FileObjectConfig)
);
newtype!(
    /// A top-level config. Its content is not written when it came from `environment`.
    ConfigObjConfig(FileObjectConfig)
);

/// compose-go's `SecretConfigXValue`: inline secret content carried as an extension.
pub const SECRET_CONFIG_X_VALUE: &str = "x-#value";

impl Decode for SecretConfig {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut s = FileObjectConfig::decode(d)?;
        // compose-go's secretConfigDecoderHook.
        if let Some(serde_json::Value::String(v)) = s.extensions.remove(SECRET_CONFIG_X_VALUE) {
            s.content = v;
        }
        Ok(SecretConfig(s))
    }
}

impl Decode for ConfigObjConfig {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        FileObjectConfig::decode(d).map(ConfigObjConfig)
    }
}

impl GoMarshal for SecretConfig {
    fn marshal(&self, f: Format) -> Node {
        let mut s = self.0.clone();
        if !s.marshall_content {
            s.content.clear();
        }
        s.marshal(f)
    }
    fn is_empty(&self, f: Format) -> bool {
        self.0.is_empty(f)
    }
}

impl GoMarshal for ConfigObjConfig {
    fn marshal(&self, f: Format) -> Node {
        let mut s = self.0.clone();
        if !s.environment.is_empty() {
            s.content.clear();
        }
        s.marshal(f)
    }
    fn is_empty(&self, f: Format) -> bool {
        self.0.is_empty(f)
    }
}

go_struct! {
    /// A service's reference to a secret or config (`secrets:`/`configs:` items, build secrets).
    pub struct FileReferenceConfig {
        "source" source: String => omitempty,
        "target" target: String => omitempty,
        "uid" uid: String => omitempty,
        "gid" gid: String => omitempty,
        "mode" mode: Option<FileMode> => omitempty,
        ..extensions
    }
}

/// compose-go's `ServiceSecretConfig`.
pub type ServiceSecretConfig = FileReferenceConfig;
/// compose-go's `ServiceConfigObjConfig`.
pub type ServiceConfigObjConfig = FileReferenceConfig;

go_struct! {
    custom;
    /// One `env_file` entry. Read from a path (required) or `{path, required, format}`; written
    /// as the bare path when required, as compose-go's MarshalJSON/MarshalYAML do.
    pub struct EnvFile {
        "path" path: String => omitempty,
        "required" required: bool => always,
        "format" format: String => omitempty,
    }
}

impl Decode for EnvFile {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a path or a mapping")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EnvFile, E> {
                Ok(EnvFile {
                    path: v.to_owned(),
                    required: true,
                    format: String::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvFile, A::Error> {
                // transform/envfile.go: `required` defaults to true.
                let mut out = EnvFile {
                    required: true,
                    ..EnvFile::default()
                };
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "path" => out.path = map.next_value::<Dec<String>>()?.0,
                        "required" => out.required = map.next_value::<Dec<bool>>()?.0,
                        "format" => out.format = map.next_value::<Dec<String>>()?.0,
                        // mapstructure drops what the struct lacks (x- keys included).
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

impl GoMarshal for EnvFile {
    fn marshal(&self, f: Format) -> Node {
        if self.required {
            return Node::Str(self.path.clone());
        }
        match f {
            Format::Json => self.go_fields(f),
            // map[string]any{"path", "required"}: no format, keys sorted.
            Format::Yaml => Node::Map(vec![
                ("path".into(), Node::Str(self.path.clone())),
                ("required".into(), Node::Bool(self.required)),
            ]),
        }
    }
    fn is_empty(&self, f: Format) -> bool {
        self.go_zero(f)
    }
}

go_struct! {
    custom;
    /// A ulimit: one value (`nofile: 1024`, `single`) or `{soft, hard}`.
    pub struct UlimitsConfig {
        "single" single: i64 => omitempty,
        "soft" soft: i64 => omitempty,
        "hard" hard: i64 => omitempty,
        ..extensions
    }
}

impl Decode for UlimitsConfig {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UlimitsConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an integer or a mapping with soft and hard")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<UlimitsConfig, E> {
                Ok(UlimitsConfig {
                    single: v,
                    ..UlimitsConfig::default()
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<UlimitsConfig, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom(format!("ulimit {v} out of range")))
                    .and_then(|v| self.visit_i64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UlimitsConfig, E> {
                v.parse()
                    .map_err(|_| {
                        E::custom(format!(
                            "invalid ulimit {}",
                            berth_engine::util::go::quote(v)
                        ))
                    })
                    .and_then(|v| self.visit_i64(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<UlimitsConfig, A::Error> {
                // The map form never sets `single` (compose-go resets it), and its extensions
                // do not survive compose-go's hook.
                let mut u = UlimitsConfig::visit_fields(map)?;
                u.single = 0;
                u.extensions.clear();
                Ok(u)
            }
        }
        d.deserialize_any(V)
    }
}

impl GoMarshal for UlimitsConfig {
    fn marshal(&self, f: Format) -> Node {
        if self.single != 0 {
            return Node::Int(self.single);
        }
        match f {
            Format::Json => self.go_fields(f),
            // MarshalYAML: an anonymous struct {Soft, Hard}, untagged, so both always written.
            Format::Yaml => Node::Struct(vec![
                ("soft".into(), Node::Int(self.soft)),
                ("hard".into(), Node::Int(self.hard)),
            ]),
        }
    }
    fn is_empty(&self, f: Format) -> bool {
        self.go_zero(f)
    }
}
