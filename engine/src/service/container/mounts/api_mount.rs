//! docker's `mount.Mount` (`HostConfig.Mounts`, `--mount`): its wire shape and its checks, per
//! type (bind, volume, tmpfs).

use serde::Deserialize;

use crate::error::{EngineError, Result};
use crate::model::go_json::{null_as_default, null_values_as_default};

use super::*;

/// docker's `mount.Mount` as sent in `HostConfig.Mounts`. `null` is the zero value, as in Go (a
/// null option block is an absent one); see `model::go_json`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(super) struct ApiMount {
    #[serde(rename = "Type", deserialize_with = "null_as_default")]
    kind: String,
    #[serde(deserialize_with = "null_as_default")]
    source: String,
    #[serde(deserialize_with = "null_as_default")]
    target: String,
    #[serde(deserialize_with = "null_as_default")]
    read_only: bool,
    bind_options: Option<ApiBindOptions>,
    volume_options: Option<ApiVolumeOptions>,
    tmpfs_options: Option<ApiTmpfsOptions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ApiBindOptions {
    #[serde(deserialize_with = "null_as_default")]
    propagation: String,
    #[serde(deserialize_with = "null_as_default")]
    create_mountpoint: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ApiVolumeOptions {
    #[serde(deserialize_with = "null_as_default")]
    no_copy: bool,
    #[serde(deserialize_with = "null_values_as_default")]
    labels: HashMap<String, String>,
    driver_config: Option<ApiDriver>,
    #[serde(deserialize_with = "null_as_default")]
    subpath: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ApiDriver {
    #[serde(deserialize_with = "null_as_default")]
    name: String,
    #[serde(deserialize_with = "null_values_as_default")]
    options: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ApiTmpfsOptions {
    #[serde(deserialize_with = "null_as_default")]
    size_bytes: i64,
    #[serde(deserialize_with = "null_as_default")]
    mode: u32,
    #[serde(deserialize_with = "null_as_default")]
    options: Vec<Vec<String>>,
}

/// Go's `filepath.IsLocal`: not empty, not absolute, and no `..` that climbs above the start.
fn is_local(p: &str) -> bool {
    if p.is_empty() || p.starts_with('/') {
        return false;
    }
    let mut depth = 0usize;
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    true
}

pub(super) fn parse_api_mount(m: ApiMount) -> Result<Requested> {
    let kind = m.kind.as_str();
    match kind {
        "bind" => {
            if m.source.is_empty() {
                return Err(invalid_config(kind, "field Source must not be empty"));
            }
            if m.volume_options.is_some() || m.tmpfs_options.is_some() {
                return Err(invalid_config(
                    kind,
                    "VolumeOptions and TmpfsOptions must not be specified",
                ));
            }
            let destination = destination(kind, &m.target)?;
            let Some(source) = clean_destination(&m.source) else {
                return Err(invalid_config(
                    kind,
                    format!(
                        "invalid mount path: '{}' mount path must be absolute",
                        m.source
                    ),
                ));
            };
            let opts = m.bind_options.unwrap_or_default();
            if !opts.propagation.is_empty() && !PROPAGATIONS.contains(&opts.propagation.as_str()) {
                return Err(invalid_config(
                    kind,
                    format!("invalid propagation mode: {}", opts.propagation),
                ));
            }
            if !opts.create_mountpoint && std::fs::symlink_metadata(&source).is_err() {
                return Err(invalid_config(
                    kind,
                    format!("bind source path does not exist: {source}"),
                ));
            }
            Ok(Requested::Bind {
                source: PathBuf::from(source),
                destination,
                rw: !m.read_only,
                mode: String::new(),
                propagation: if opts.propagation.is_empty() {
                    "rprivate".into()
                } else {
                    opts.propagation
                },
                create_source: opts.create_mountpoint,
            })
        }
        "volume" => {
            if m.bind_options.is_some() || m.tmpfs_options.is_some() {
                return Err(invalid_config(
                    kind,
                    "BindOptions and TmpfsOptions must not be specified",
                ));
            }
            let destination = destination(kind, &m.target)?;
            let name = if m.source.is_empty() {
                None
            } else {
                check_volume_name(&m.source)?;
                Some(m.source.clone())
            };
            let opts = m.volume_options.unwrap_or_default();
            // moby's check (filepath.IsLocal): relative and not lexically leaving the volume.
            if !opts.subpath.is_empty() && !is_local(&opts.subpath) {
                return Err(invalid_config(
                    kind,
                    "subpath must be a relative path within the volume",
                ));
            }
            let (driver_opts, driver) = match opts.driver_config {
                Some(d) => (d.options, d.name),
                None => (HashMap::new(), String::new()),
            };
            if !driver.is_empty() && driver != "local" {
                return Err(EngineError::not_found(format!(
                    "plugin \"{driver}\" not found: only the local volume driver is available"
                )));
            }
            Ok(Requested::Volume {
                name,
                destination,
                rw: !m.read_only,
                mode: String::new(),
                nocopy: opts.no_copy,
                labels: opts.labels,
                driver_opts,
                subpath: opts.subpath,
            })
        }
        "tmpfs" => {
            if !m.source.is_empty() {
                return Err(invalid_config(kind, "field Source must not be specified"));
            }
            if m.bind_options.is_some() || m.volume_options.is_some() {
                return Err(invalid_config(
                    kind,
                    "BindOptions and VolumeOptions must not be specified",
                ));
            }
            let destination = destination(kind, &m.target)?;
            let mut opts: Vec<String> = Vec::new();
            if m.read_only {
                opts.push("ro".into());
            }
            if let Some(t) = m.tmpfs_options {
                if t.size_bytes < 0 {
                    return Err(invalid_config(
                        kind,
                        "invalid tmpfs size: must not be negative",
                    ));
                }
                if t.size_bytes > 0 {
                    opts.push(format!("size={}", t.size_bytes));
                }
                if t.mode != 0 {
                    opts.push(format!("mode={:o}", t.mode & 0o7777));
                }
                for o in t.options {
                    opts.push(o.join("="));
                }
            }
            let (data, flags) = parse_tmpfs_options(&opts.join(","))?;
            Ok(Requested::Tmpfs {
                destination,
                data,
                flags,
            })
        }
        "" => Err(EngineError::invalid(
            "invalid mount config: mount type must not be empty",
        )),
        other => Err(EngineError::invalid(format!(
            "invalid mount config for type \"{other}\": mount type unknown"
        ))),
    }
}
