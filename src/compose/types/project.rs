//! `Project` (types/project.go): the whole loaded model, decoded from the loader's canonical
//! map by [`Project::from_canonical`].

use std::collections::BTreeMap;
use std::fmt;

use serde::de::Deserializer;

use super::decode::Decode;
use super::extras::ModelConfig;
use super::files::{ConfigObjConfig, SecretConfig};
use super::mapping::Mapping;
use super::network::{NetworkConfig, VolumeConfig};
use super::node::{Format, GoMarshal, Node};
use super::service::ServiceConfig;

go_struct! {
    custom;
    /// A loaded project. Only the fields with YAML keys come from the canonical map; the others
    /// are set by the loader.
    pub struct Project {
        "name" name: String => omitempty,
        /// The project directory.
        "-" working_dir: String => internal,
        "services" services: BTreeMap<String, ServiceConfig> => always,
        "networks" networks: BTreeMap<String, NetworkConfig> => omitempty,
        "volumes" volumes: BTreeMap<String, VolumeConfig> => omitempty,
        "secrets" secrets: BTreeMap<String, SecretConfig> => omitempty,
        "configs" configs: BTreeMap<String, ConfigObjConfig> => omitempty,
        "models" models: BTreeMap<String, ModelConfig> => omitempty,
        /// The compose files the project was loaded from.
        "-" compose_files: Vec<String> => internal,
        /// The variables the project was interpolated with.
        "-" environment: Mapping => internal,
        /// Services left out because none of their profiles is active.
        "-" disabled_services: BTreeMap<String, ServiceConfig> => internal,
        /// The active profiles.
        "-" profiles: Vec<String> => internal,
        ..extensions
    }
}

/// A model that does not fit compose-go's types: where (`services.web.cpus`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypesError {
    /// The path of the offending value, as `serde_path_to_error` reports it.
    pub path: String,
    pub message: String,
}

impl fmt::Display for TypesError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.path.is_empty() || self.path == "." {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for TypesError {}

impl Project {
    /// Decodes the loader's canonical map (compose-go's state just before `mapstructure`
    /// builds `types.Project`). `version` is dropped (obsolete; compose-go ignores it).
    pub fn from_canonical(mut value: serde_json::Value) -> Result<Project, TypesError> {
        if let Some(top) = value.as_object_mut() {
            top.remove("version");
        }
        serde_path_to_error::deserialize(value).map_err(|e| TypesError {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }

    /// Names of the services, sorted.
    pub fn service_names(&self) -> Vec<String> {
        self.services.keys().cloned().collect()
    }
}

impl Decode for Project {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut p = Project::decode_fields(d)?;
        // compose-go's `nameServices` hook: a service knows its key.
        for (name, s) in p.services.iter_mut() {
            s.name = name.clone();
        }
        Ok(p)
    }
}

impl GoMarshal for Project {
    fn marshal(&self, f: Format) -> Node {
        match f {
            Format::Yaml => self.go_fields(f),
            // compose-go's Project.MarshalJSON: a map (so keys sorted) of name, services, the
            // non-empty networks/volumes/secrets/configs, and the extensions. No models.
            Format::Json => {
                let mut m: BTreeMap<String, Node> = BTreeMap::new();
                m.insert("name".into(), Node::Str(self.name.clone()));
                m.insert("services".into(), self.services.marshal(f));
                if !self.networks.is_empty() {
                    m.insert("networks".into(), self.networks.marshal(f));
                }
                if !self.volumes.is_empty() {
                    m.insert("volumes".into(), self.volumes.marshal(f));
                }
                if !self.secrets.is_empty() {
                    m.insert("secrets".into(), self.secrets.marshal(f));
                }
                if !self.configs.is_empty() {
                    m.insert("configs".into(), self.configs.marshal(f));
                }
                for (k, v) in &self.extensions {
                    m.insert(k.clone(), v.marshal(f));
                }
                Node::Map(m.into_iter().collect())
            }
        }
    }
    fn is_empty(&self, f: Format) -> bool {
        self.go_zero(f)
    }
}
