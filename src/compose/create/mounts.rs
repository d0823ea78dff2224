//! Volumes of the create body (`buildContainerVolumes` and what it calls): every mount is built
//! as docker's `mount.Mount`, then the simple ones go to `HostConfig.Binds` as
//! `source:target:opts` strings (docker compose keeps the old API where it can: only `Binds`
//! creates a missing host path), the rest to `HostConfig.Mounts`. A replaced container's
//! anonymous volumes are carried over (`inherit`), so recreating keeps their data.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{file_mounts, version_at_least, CreateError, Resolved};
use crate::compose::types::{
    Project, ServiceConfig, ServiceVolumeBind, ServiceVolumeConfig, ServiceVolumeVolume,
};

/// docker's `mount.Mount` (all fields `omitempty`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mount {
    pub type_: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub consistency: String,
    pub bind: Option<BindOptions>,
    pub volume: Option<VolumeOptions>,
    pub tmpfs: Option<TmpfsOptions>,
    pub image: Option<ImageOptions>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BindOptions {
    pub propagation: String,
    pub non_recursive: bool,
    pub create_mountpoint: bool,
    pub read_only_non_recursive: bool,
    pub read_only_force_recursive: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolumeOptions {
    pub no_copy: bool,
    pub labels: BTreeMap<String, String>,
    pub subpath: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TmpfsOptions {
    pub size_bytes: i64,
    pub mode: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageOptions {
    pub subpath: String,
}

/// Go's `omitempty` object: only the entries whose value is not the zero value.
fn omitempty(fields: Vec<(&str, Value)>) -> Value {
    let zero = |v: &Value| match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        // A set options pointer is written even when empty; maps arrive as null when empty.
        Value::Object(_) => false,
        Value::Array(a) => a.is_empty(),
    };
    let m: Map<String, Value> = fields
        .into_iter()
        .filter(|(_, v)| !zero(v))
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Value::Object(m)
}

impl Mount {
    /// The mount as docker's client encodes it; an options pointer that is set is written even
    /// when all its fields are zero (`"VolumeOptions": {}`).
    pub fn to_json(&self) -> Value {
        let labels: Map<String, Value> = self
            .volume
            .iter()
            .flat_map(|v| &v.labels)
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        omitempty(vec![
            ("Type", json!(self.type_)),
            ("Source", json!(self.source)),
            ("Target", json!(self.target)),
            ("ReadOnly", json!(self.read_only)),
            ("Consistency", json!(self.consistency)),
            (
                "BindOptions",
                self.bind.as_ref().map_or(Value::Null, |b| {
                    omitempty(vec![
                        ("Propagation", json!(b.propagation)),
                        ("NonRecursive", json!(b.non_recursive)),
                        ("CreateMountpoint", json!(b.create_mountpoint)),
                        ("ReadOnlyNonRecursive", json!(b.read_only_non_recursive)),
                        ("ReadOnlyForceRecursive", json!(b.read_only_force_recursive)),
                    ])
                }),
            ),
            (
                "VolumeOptions",
                self.volume.as_ref().map_or(Value::Null, |v| {
                    let labels = if labels.is_empty() {
                        Value::Null
                    } else {
                        Value::Object(labels.clone())
                    };
                    omitempty(vec![
                        ("NoCopy", json!(v.no_copy)),
                        ("Labels", labels),
                        ("Subpath", json!(v.subpath)),
                    ])
                }),
            ),
            (
                "ImageOptions",
                self.image.as_ref().map_or(Value::Null, |i| {
                    omitempty(vec![("Subpath", json!(i.subpath))])
                }),
            ),
            (
                "TmpfsOptions",
                self.tmpfs.as_ref().map_or(Value::Null, |t| {
                    omitempty(vec![
                        ("SizeBytes", json!(t.size_bytes)),
                        ("Mode", json!(t.mode)),
                    ])
                }),
            ),
        ])
    }
}

/// What goes to `HostConfig.Binds` and `HostConfig.Mounts`.
#[derive(Debug, Clone, Default)]
pub struct ContainerVolumes {
    pub binds: Vec<String>,
    pub mounts: Vec<Mount>,
}

/// `buildContainerVolumes`. docker compose walks a map keyed by target, so its order varies
/// from run to run; here it is by target.
pub fn build_container_volumes(
    project: &Project,
    service: &ServiceConfig,
    r: &Resolved,
    warnings: &mut Vec<String>,
) -> Result<ContainerVolumes, CreateError> {
    let mut out = ContainerVolumes::default();
    for m in container_mount_options(project, service, r, warnings)?.into_values() {
        match m.type_.as_str() {
            "bind" => {
                // `Mount` cannot create a missing host path (moby/moby#43483): the `Binds`
                // string does, so it is used unless an option needs the mount API.
                if let Some(v) = find_volume_by_target(&service.volumes, &m.target) {
                    if !bind_requires_mount_api(v.bind.as_ref()) {
                        out.binds.push(to_bind_string(&m.source, v));
                        continue;
                    }
                }
            }
            "volume" => {
                let v = find_volume_by_target(&service.volumes, &m.target);
                let vol = project.volumes.values().find(|vol| vol.name == m.source);
                if let (Some(v), Some(vol)) = (v, vol) {
                    // The bind API when no advanced option is used, for compatibility.
                    if !volume_requires_mount_api(v.volume.as_ref()) {
                        out.binds.push(to_bind_string(&vol.name, v));
                        continue;
                    }
                }
            }
            "image" if !version_at_least(&r.api_version, "1.48") => {
                return Err(CreateError::new(
                    "volume with type=image require Docker Engine v28 or later",
                ));
            }
            _ => {}
        }
        out.mounts.push(m);
    }
    Ok(out)
}

/// `toBindString`: `name:target:rw|ro[,selinux][,propagation][,nocopy]`.
pub fn to_bind_string(name: &str, v: &ServiceVolumeConfig) -> String {
    let mut options = vec![if v.read_only { "ro" } else { "rw" }.to_string()];
    if let Some(b) = &v.bind {
        if !b.selinux.is_empty() {
            options.push(b.selinux.clone());
        }
        if !b.propagation.is_empty() {
            options.push(b.propagation.clone());
        }
    }
    if v.volume.as_ref().is_some_and(|v| v.no_copy) {
        options.push("nocopy".into());
    }
    format!("{name}:{}:{}", v.target, options.join(","))
}

fn find_volume_by_target<'a>(
    volumes: &'a [ServiceVolumeConfig],
    target: &str,
) -> Option<&'a ServiceVolumeConfig> {
    volumes.iter().find(|v| v.target == target)
}

/// `bindRequiresMountAPI`: the `Binds` string cannot say "do not create the host path", nor
/// carry propagation or recursion settings.
fn bind_requires_mount_api(bind: Option<&ServiceVolumeBind>) -> bool {
    match bind {
        None => false,
        Some(b) => !b.create_host_path || !b.propagation.is_empty() || !b.recursive.is_empty(),
    }
}

/// `volumeRequiresMountAPI`: labels, a subpath or nocopy need the mount API.
fn volume_requires_mount_api(vol: Option<&ServiceVolumeVolume>) -> bool {
    match vol {
        None => false,
        Some(v) => !v.labels.is_empty() || !v.subpath.is_empty() || v.no_copy,
    }
}

/// `buildContainerMountOptions`: the inherited anonymous volumes, then `fillBindMounts`.
fn container_mount_options(
    project: &Project,
    service: &ServiceConfig,
    r: &Resolved,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, Mount>, CreateError> {
    let mut mounts = BTreeMap::new();
    let mut volumes = service.volumes.clone();
    let inherited = r
        .inherit
        .as_ref()
        .and_then(|c| c["Mounts"].as_array().cloned())
        .unwrap_or_default();
    for m in &inherited {
        let str_of = |k: &str| m[k].as_str().unwrap_or_default().to_string();
        let type_ = str_of("Type");
        if type_ == "tmpfs" {
            continue;
        }
        let source = if type_ == "volume" {
            str_of("Name")
        } else {
            str_of("Source")
        };
        let dest = str_of("Destination");
        let kept = Mount {
            type_,
            source,
            target: dest.clone(),
            read_only: !m["RW"].as_bool().unwrap_or(false),
            ..Mount::default()
        };
        // A volume the image declares: the previous container's one is kept.
        if r.image_volumes.contains(&dest) {
            mounts.insert(dest.clone(), kept.clone());
        }
        // So is an anonymous volume of the service at the same place.
        volumes.retain(|v| {
            if v.target != dest || !v.source.is_empty() {
                return true;
            }
            mounts.insert(dest.clone(), kept.clone());
            false
        });
    }
    // fillBindMounts: the service's volumes, then secrets and configs where nothing is mounted.
    for v in &volumes {
        let m = build_mount(project, v, warnings)?;
        mounts.insert(m.target.clone(), m);
    }
    for m in file_mounts::secret_mounts(project, service, warnings)? {
        mounts.entry(m.target.clone()).or_insert(m);
    }
    for m in file_mounts::config_mounts(project, service, warnings)? {
        mounts.entry(m.target.clone()).or_insert(m);
    }
    Ok(mounts)
}

/// `buildMount`: one service volume as docker's mount. Bind sources are absolute already
/// (the loader made them so); a relative one is taken from the current directory as Go's
/// `filepath.Abs` does. A volume source is the project volume's engine name.
pub fn build_mount(
    project: &Project,
    v: &ServiceVolumeConfig,
    warnings: &mut Vec<String>,
) -> Result<Mount, CreateError> {
    let mut source = v.source.clone();
    match v.type_.as_str() {
        "bind" if !file_mounts::is_abs_target(&source) => {
            let cwd = std::env::current_dir().map_err(|e| CreateError::new(e.to_string()))?;
            source = clean(&cwd.join(&source));
        }
        "volume" if !source.is_empty() => {
            if let Some(pv) = project.volumes.get(&source) {
                source = pv.name.clone();
            }
        }
        _ => {}
    }
    for (opt, set, of_type) in [
        ("bind", v.bind.is_some(), "bind"),
        ("volume", v.volume.is_some(), "volume"),
        ("tmpfs", v.tmpfs.is_some(), "tmpfs"),
        ("image", v.image.is_some(), "image"),
    ] {
        if set && v.type_ != of_type {
            warnings.push(format!(
                "mount of type `{}` should not define `{opt}` option",
                v.type_
            ));
        }
    }
    let mut m = Mount {
        type_: v.type_.clone(),
        source,
        target: v.target.clone(),
        read_only: v.read_only,
        consistency: v.consistency.clone(),
        ..Mount::default()
    };
    match v.type_.as_str() {
        "bind" => {
            m.bind = v.bind.as_ref().map(|b| BindOptions {
                propagation: b.propagation.clone(),
                create_mountpoint: b.create_host_path,
                non_recursive: b.recursive == "disabled",
                read_only_non_recursive: b.recursive == "writable",
                read_only_force_recursive: b.recursive == "readonly",
            });
        }
        "volume" => {
            m.volume = v.volume.as_ref().map(|o| VolumeOptions {
                no_copy: o.no_copy,
                subpath: o.subpath.clone(),
                labels: o.labels.0.clone(),
            });
        }
        "tmpfs" => {
            m.tmpfs = v.tmpfs.as_ref().map(|t| TmpfsOptions {
                size_bytes: t.size.0,
                mode: t.mode,
            });
        }
        "image" => {
            m.image = v.image.as_ref().map(|i| ImageOptions {
                subpath: i.sub_path.clone(),
            });
        }
        _ => {}
    }
    Ok(m)
}

/// Go's `filepath.Clean` of an absolute path (what `filepath.Abs` returns).
fn clean(p: &std::path::Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    format!("/{}", parts.join("/"))
}
