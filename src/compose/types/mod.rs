//! compose-go v2.9.1's `types` package (what docker compose v2.40.3 loads a project into),
//! ported to Rust: the typed model `berth compose` works on, decoded from the loader's
//! canonical map and written back exactly as docker compose writes it.
//!
//! - [`Project::from_canonical`] decodes the map (after interpolation, canonical transform,
//!   merge and normalisation) with compose-go's mapstructure leniency ("true", "5", "1g",
//!   "1m30s", string commands shell-split, list-or-map fields); `x-` keys are kept as
//!   extensions, any other key the types lack is dropped (as mapstructure drops it); errors
//!   carry the path of the value.
//! - [`to_go_json`]/[`to_go_json_indent`] write any model value as Go's `json.Marshal` /
//!   `json.MarshalIndent` do (field order, omitempty, custom marshallers, escaping, floats):
//!   `to_go_json_indent(&project)` is `docker compose config --format json`.
//! - [`to_yaml`] writes the YAML of `docker compose config` (which then applies
//!   [`escape_dollar_sign`] to either output).
//! - [`service_hash`], [`network_hash`], [`volume_hash`]: docker compose's config hashes.
//!
//! Layout: one file per concern; `macros` declares a Go struct once for both encoders and the
//! decoder; [`Node`] is the ordered tree both writers print.
//!
//! Checked against docker compose v2.40.3 itself: tests/fixtures/compose/types holds compose
//! files and what `config --format json`, `config --hash '*'` and `config` print for them
//! (record.sh regenerates them); the tests re-write those outputs byte for byte.

#[macro_use]
mod macros;
mod decode;
mod durations;
mod gofloat;
mod gojson;
mod hash;
mod node;
mod shellwords;
mod yaml_out;
mod yaml_scalar;
mod yaml_timestamp;

mod build;
mod deploy;
mod extras;
mod files;
mod mapping;
mod network;
mod project;
mod scalars;
mod service;
mod volumes;

#[cfg(test)]
mod tests;

pub use build::{BlkioConfig, BuildConfig, SSHConfig, SSHKey, ThrottleDevice, WeightDevice};
pub use decode::{Dec, Decode};
pub use deploy::{
    DeployConfig, DeviceRequest, DiscreteGenericResource, GenericResource, Placement,
    PlacementPreferences, Resource, Resources, RestartPolicy, UpdateConfig,
};
pub use durations::format as format_go_duration;
pub use extras::{
    CredentialSpecConfig, DevelopConfig, ExtendsConfig, HealthCheckConfig, IncludeConfig,
    LoggingConfig, ModelConfig, ServiceDependency, ServiceHook, ServiceModelConfig,
    ServiceProviderConfig, Trigger,
};
pub use files::{
    ConfigObjConfig, EnvFile, FileObjectConfig, FileReferenceConfig, SecretConfig,
    ServiceConfigObjConfig, ServiceSecretConfig, UlimitsConfig, SECRET_CONFIG_X_VALUE,
};
pub use gojson::{to_go_json, to_go_json_indent};
pub use hash::{network_hash, service_hash, volume_hash};
pub use mapping::{
    Extensions, HostsList, Labels, Mapping, MappingWithEquals, MultiOptions, Options, StringList,
    StringOrNumberList,
};
pub use network::{
    External, IPAMConfig, IPAMPool, NetworkConfig, ServiceNetworkConfig, VolumeConfig,
};
pub use node::{Format, GoMarshal, Node};
pub use project::{Project, TypesError};
pub use scalars::{
    DeviceCount, Duration, FileMode, HealthCheckTest, NanoCPUs, ShellCommand, UnitBytes,
};
pub use service::{DependsOnConfig, ServiceConfig};
pub use shellwords::split as shell_split;
pub use volumes::{
    DeviceMapping, ServicePortConfig, ServiceVolumeBind, ServiceVolumeConfig, ServiceVolumeImage,
    ServiceVolumeTmpfs, ServiceVolumeVolume,
};
pub use yaml_out::{to_yaml, yaml_key_less};

/// What `docker compose config` does to its output: every `$` doubled, so the printed model
/// reads back unchanged through interpolation.
pub fn escape_dollar_sign(s: &str) -> String {
    s.replace('$', "$$")
}
