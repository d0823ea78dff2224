//! Turning a create request's `HostConfig.Binds`, `HostConfig.Mounts`, `HostConfig.Tmpfs` and the
//! anonymous volumes (`Config.Volumes`, which the docker CLI fills from `-v /path`, plus the
//! image's VOLUME paths) into the container's mount list, with docker's parsing rules and error
//! messages. Parsing is pure (`parse`); creating volumes happens afterwards in the volume
//! service, so a malformed mount creates nothing.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::error::{EngineError, IoContext, Result};
use crate::model::container::{ContainerConfig, ContainerRecord, HostConfig};
use crate::model::go_json::{null_values_as_default, Zero};
use crate::model::image::ResolvedImage;
use crate::model::volume::{MountPoint, MountType};
use crate::runtime::spec::{MountKind, MountSpec};

use api_mount::{parse_api_mount, ApiMount};

/// Hooks the container service calls so volumes follow their containers' lifecycle. The volume
/// service implements them; they live behind a trait so the container service does not depend
/// on it.
pub trait MountHooks: Send + Sync {
    /// At create, after validation of the rest: resolve the mounts, creating named and
    /// anonymous volumes. An error creates nothing.
    fn resolve(&self, rec: &ContainerRecord, image: &ResolvedImage) -> Result<Vec<MountPoint>>;
    /// Before the shim starts: make sure every volume is there (and its driver mount, for
    /// `type=tmpfs` volumes), and publish `mount` events.
    fn before_start(&self, rec: &ContainerRecord) -> Result<()>;
    /// After the container's process exited: `unmount` events.
    fn after_exit(&self, rec: &ContainerRecord);
    /// After the container was removed; with `remove_anonymous`, its anonymous volumes go too
    /// (`rm -v`, `run --rm`).
    fn after_remove(&self, rec: &ContainerRecord, remove_anonymous: bool);
}

/// A parsed mount request, before volumes exist.
#[derive(Debug, Clone, PartialEq)]
pub enum Requested {
    Bind {
        source: PathBuf,
        destination: String,
        rw: bool,
        mode: String,
        propagation: String,
        /// `-v /missing:/x` creates the source dir; `--mount type=bind` refuses.
        create_source: bool,
    },
    Volume {
        /// None: anonymous (a random 64-hex name).
        name: Option<String>,
        destination: String,
        rw: bool,
        mode: String,
        nocopy: bool,
        labels: HashMap<String, String>,
        driver_opts: HashMap<String, String>,
        /// `VolumeOptions.Subpath`: mount only this directory of the volume (relative, checked
        /// lexically here and against the volume's contents at start).
        subpath: String,
    },
    Tmpfs {
        destination: String,
        data: String,
        flags: Vec<String>,
    },
}

impl Requested {
    pub fn destination(&self) -> &str {
        match self {
            Requested::Bind { destination, .. }
            | Requested::Volume { destination, .. }
            | Requested::Tmpfs { destination, .. } => destination,
        }
    }
}

const PROPAGATIONS: &[&str] = &[
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

fn invalid_spec(raw: &str) -> EngineError {
    EngineError::invalid(format!("invalid volume specification: '{raw}'"))
}

fn invalid_config(kind: &str, why: impl std::fmt::Display) -> EngineError {
    EngineError::invalid(format!("invalid mount config for type \"{kind}\": {why}"))
}

/// Lexically clean an absolute container path ("/a/./b/../c/" → "/a/c"); ".." never climbs
/// above "/". The init resolves the result inside the rootfs anyway; cleaning here gives
/// inspect and duplicate detection a canonical form.
pub fn clean_destination(p: &str) -> Option<String> {
    if !p.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(n) => parts.push(n.to_str()?),
            Component::Prefix(_) => return None,
        }
    }
    Some(format!("/{}", parts.join("/")))
}

fn destination(kind: &str, raw_target: &str) -> Result<String> {
    if raw_target.is_empty() {
        return Err(invalid_config(kind, "field Target must not be empty"));
    }
    let Some(d) = clean_destination(raw_target) else {
        return Err(invalid_config(
            kind,
            format!("invalid mount path: '{raw_target}' mount path must be absolute"),
        ));
    };
    if d == "/" {
        return Err(EngineError::invalid(
            "invalid specification: destination can't be '/'",
        ));
    }
    // Mounting over /proc would let a container hide or replace the kernel's view (runc refuses
    // these destinations too).
    if d == "/proc" || d.starts_with("/proc/") {
        return Err(invalid_config(
            kind,
            format!("mount destination {d} is not allowed: it is inside /proc"),
        ));
    }
    Ok(d)
}

/// Docker's local volume name rule.
pub fn valid_volume_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

pub fn check_volume_name(name: &str) -> Result<()> {
    if name.len() == 1 && name.as_bytes()[0].is_ascii_alphanumeric() {
        return Err(EngineError::invalid(
            "volume name is too short, names should be at least two alphanumeric characters",
        ));
    }
    if valid_volume_name(name) {
        Ok(())
    } else {
        Err(EngineError::invalid(format!(
            "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        )))
    }
}

/// Parsed `-v` mode list: (rw, propagation, nocopy, label mode present).
fn parse_mode(raw: &str, mode: &str) -> Result<(bool, String, bool)> {
    let mut rw = None;
    let mut propagation = String::new();
    let mut copy = None;
    let mut label = false;
    if mode.is_empty() {
        return Ok((true, propagation, false));
    }
    for m in mode.split(',') {
        match m {
            "rw" | "ro" if rw.is_none() => rw = Some(m == "rw"),
            "z" | "Z" if !label => label = true,
            "nocopy" | "copy" if copy.is_none() => copy = Some(m == "copy"),
            p if PROPAGATIONS.contains(&p) && propagation.is_empty() => propagation = p.into(),
            _ => {
                let _ = raw;
                return Err(EngineError::invalid(format!("invalid mode: {mode}")));
            }
        }
    }
    Ok((rw.unwrap_or(true), propagation, copy == Some(false)))
}

/// One `HostConfig.Binds` entry: `name:/dst[:mode]`, `/host:/dst[:mode]`.
pub fn parse_bind(raw: &str) -> Result<Requested> {
    let parts: Vec<&str> = raw.splitn(4, ':').collect();
    if parts[0].is_empty() {
        return Err(invalid_spec(raw));
    }
    let (source, target, mode) = match parts.as_slice() {
        // A bare destination in Binds is an anonymous volume, as docker's parser allows.
        [dst] => ("", *dst, ""),
        [src, dst] => {
            if parse_mode(raw, dst).is_ok() && !dst.starts_with('/') {
                return Err(invalid_spec(raw));
            }
            (*src, *dst, "")
        }
        [src, dst, mode] => (*src, *dst, *mode),
        _ => return Err(invalid_spec(raw)),
    };
    let (rw, propagation, nocopy) = parse_mode(raw, mode)?;
    if source.starts_with('/') {
        let destination = destination("bind", target)?;
        let source = clean_destination(source).ok_or_else(|| invalid_spec(raw))?;
        if nocopy {
            return Err(EngineError::invalid(format!(
                "invalid mode: {mode}: nocopy applies to volumes only"
            )));
        }
        Ok(Requested::Bind {
            source: PathBuf::from(source),
            destination,
            rw,
            mode: mode.to_owned(),
            propagation: if propagation.is_empty() {
                "rprivate".into()
            } else {
                propagation
            },
            create_source: true,
        })
    } else {
        let destination = destination("volume", target)?;
        if !propagation.is_empty() {
            return Err(EngineError::invalid(format!(
                "invalid mode: {mode}: propagation applies to bind mounts only"
            )));
        }
        let name = if source.is_empty() {
            None
        } else {
            check_volume_name(source)?;
            Some(source.to_owned())
        };
        Ok(Requested::Volume {
            name,
            destination,
            rw,
            mode: if mode.is_empty() {
                "z".into()
            } else {
                mode.to_owned()
            },
            nocopy,
            labels: HashMap::new(),
            driver_opts: HashMap::new(),
            subpath: String::new(),
        })
    }
}

/// tmpfs options (`--tmpfs /x:size=64m,mode=1777,exec`): docker's defaults nosuid, nodev,
/// noexec, overridable; size/mode/uid/gid/nr_inodes go to the kernel as data.
pub fn parse_tmpfs_options(opts: &str) -> Result<(String, Vec<String>)> {
    let mut flags: Vec<String> = vec!["nosuid".into(), "nodev".into(), "noexec".into()];
    let mut data: Vec<String> = Vec::new();
    let set_flag = |flags: &mut Vec<String>, on: &str, off: &str| {
        flags.retain(|f| f != on && f != off);
        flags.push(on.to_owned());
    };
    for o in opts.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        if let Some((k, v)) = o.split_once('=') {
            match k {
                "size" => {
                    let ok = v.ends_with('%') && v[..v.len() - 1].parse::<u64>().is_ok()
                        || crate::util::parse_size(v).is_some();
                    if !ok {
                        return Err(EngineError::invalid(format!("invalid tmpfs size: {v}")));
                    }
                    let v = match crate::util::parse_size(v) {
                        Some(n) if !v.ends_with('%') => n.to_string(),
                        _ => v.to_owned(),
                    };
                    data.retain(|d| !d.starts_with("size="));
                    data.push(format!("size={v}"));
                }
                "mode" => {
                    if u32::from_str_radix(v, 8).map_or(true, |m| m > 0o7777) {
                        return Err(EngineError::invalid(format!("invalid tmpfs mode: {v}")));
                    }
                    data.retain(|d| !d.starts_with("mode="));
                    data.push(format!("mode={v}"));
                }
                "uid" | "gid" | "nr_inodes" | "nr_blocks" => {
                    if v.parse::<u64>().is_err() {
                        return Err(EngineError::invalid(format!("invalid tmpfs option {o}")));
                    }
                    data.push(o.to_owned());
                }
                _ => return Err(EngineError::invalid(format!("invalid tmpfs option {o:?}"))),
            }
            continue;
        }
        match o {
            "rw" | "ro" => set_flag(&mut flags, o, if o == "rw" { "ro" } else { "rw" }),
            "exec" | "noexec" => {
                set_flag(&mut flags, o, if o == "exec" { "noexec" } else { "exec" })
            }
            "suid" | "nosuid" => {
                set_flag(&mut flags, o, if o == "suid" { "nosuid" } else { "suid" })
            }
            "dev" | "nodev" => set_flag(&mut flags, o, if o == "dev" { "nodev" } else { "dev" }),
            "atime" | "noatime" | "relatime" | "strictatime" | "nodiratime" | "diratime"
            | "sync" | "async" | "dirsync" => flags.push(o.to_owned()),
            p if PROPAGATIONS.contains(&p) => {}
            _ => return Err(EngineError::invalid(format!("invalid tmpfs option {o:?}"))),
        }
    }
    Ok((data.join(","), flags))
}

/// Everything the container asks for, in docker's precedence: Binds, Mounts, Tmpfs, then the
/// anonymous volumes of `Config.Volumes` and the image's VOLUME paths whose destination nothing
/// else covers. Duplicate destinations among the explicit ones are an error.
pub fn parse(
    config: &ContainerConfig,
    host: &HostConfig,
    image_volumes: Option<&HashMap<String, serde_json::Value>>,
) -> Result<Vec<Requested>> {
    let mut out: Vec<Requested> = Vec::new();
    let push = |r: Requested, out: &mut Vec<Requested>| -> Result<()> {
        if out.iter().any(|o| o.destination() == r.destination()) {
            return Err(EngineError::invalid(format!(
                "Duplicate mount point: {}",
                r.destination()
            )));
        }
        out.push(r);
        Ok(())
    };
    match host.extra.get("Binds") {
        None | Some(serde_json::Value::Null) => {}
        Some(v) => {
            let binds: Vec<String> = serde_json::from_value(v.clone())
                .map_err(|e| EngineError::invalid(format!("invalid HostConfig.Binds: {e}")))?;
            for b in binds {
                push(parse_bind(&b)?, &mut out)?;
            }
        }
    }
    match host.extra.get("Mounts") {
        None | Some(serde_json::Value::Null) => {}
        Some(v) => {
            // A null element is a zero Mount, as in Go (refused below for its empty type).
            let mounts: Vec<Zero<ApiMount>> = serde_json::from_value(v.clone())
                .map_err(|e| EngineError::invalid(format!("invalid HostConfig.Mounts: {e}")))?;
            for Zero(m) in mounts {
                push(parse_api_mount(m)?, &mut out)?;
            }
        }
    }
    match host.extra.get("Tmpfs") {
        None | Some(serde_json::Value::Null) => {}
        Some(v) => {
            // `{"/run": null}` is a tmpfs at /run with no options, as in Go.
            let tmpfs: HashMap<String, String> = null_values_as_default(v)
                .map_err(|e| EngineError::invalid(format!("invalid HostConfig.Tmpfs: {e}")))?;
            let mut sorted: Vec<_> = tmpfs.into_iter().collect();
            sorted.sort();
            for (dst, opts) in sorted {
                let destination = destination("tmpfs", &dst)?;
                let (data, flags) = parse_tmpfs_options(&opts)?;
                push(
                    Requested::Tmpfs {
                        destination,
                        data,
                        flags,
                    },
                    &mut out,
                )?;
            }
        }
    }
    let mut anonymous: Vec<&String> = config.volumes.iter().flat_map(|m| m.keys()).collect();
    anonymous.extend(image_volumes.iter().flat_map(|m| m.keys()));
    anonymous.sort();
    anonymous.dedup();
    for raw in anonymous {
        // Image VOLUME paths are untrusted (CVE-2022-23648): cleaned, absolute, never "/".
        let Some(dst) = clean_destination(raw) else {
            return Err(invalid_config(
                "volume",
                format!("invalid mount path: '{raw}' mount path must be absolute"),
            ));
        };
        if dst == "/" || raw.split('/').any(|c| c == "..") {
            return Err(invalid_spec(raw));
        }
        if out.iter().any(|o| o.destination() == dst) {
            continue;
        }
        let destination = destination("volume", &dst)?;
        out.push(Requested::Volume {
            name: None,
            destination,
            rw: true,
            mode: String::new(),
            nocopy: false,
            labels: HashMap::new(),
            driver_opts: HashMap::new(),
            subpath: String::new(),
        });
    }
    // Parents before children, so a mount at /a/b lands on top of one at /a.
    out.sort_by_key(|r| r.destination().matches('/').count());
    Ok(out)
}

/// The runtime side of a container's mounts. A volume's `Subpath` is resolved now, against what
/// the volume holds at this start.
pub fn runtime_mounts(mounts: &[MountPoint]) -> Result<Vec<MountSpec>> {
    mounts
        .iter()
        .map(|m| {
            if m.kind == MountType::Bind {
                propagation::check(&m.source, &m.propagation)?;
            }
            Ok(match m.kind {
                MountType::Tmpfs => MountSpec {
                    kind: MountKind::Tmpfs,
                    source: PathBuf::new(),
                    destination: m.destination.clone(),
                    readonly: !m.rw,
                    data: m.tmpfs_data.clone(),
                    flags: m.tmpfs_flags.clone(),
                    copy_up: false,
                    propagation: String::new(),
                },
                MountType::Bind | MountType::Volume => MountSpec {
                    kind: MountKind::Bind,
                    source: if m.subpath.is_empty() {
                        m.source.clone()
                    } else {
                        volume_subpath(&m.source, &m.subpath)?
                    },
                    destination: m.destination.clone(),
                    readonly: !m.rw,
                    data: String::new(),
                    flags: Vec::new(),
                    copy_up: m.kind == MountType::Volume && m.copy_data,
                    propagation: m.propagation.clone(),
                },
            })
        })
        .collect()
}

/// The host path of `subpath` inside the volume at `source`: it must exist, and no `..` or
/// symlink on the way may leave the volume (openat2 RESOLVE_BENEATH, as moby's safepath.Join
/// refuses it). The path mounted is the one the kernel resolved.
fn volume_subpath(source: &Path, subpath: &str) -> Result<PathBuf> {
    use std::os::fd::AsRawFd;
    let root = crate::fs_at::at::open_dir_path(source)
        .io_context(|| format!("opening volume {}", source.display()))?;
    match crate::fs_at::in_root::open_beneath(root.as_raw_fd(), Path::new(subpath), libc::O_PATH) {
        Ok(fd) => std::fs::read_link(crate::fs_at::in_root::fd_path(&fd))
            .io_context(|| format!("resolving subpath {subpath}")),
        Err(nix::errno::Errno::EXDEV) => Err(EngineError::invalid(format!(
            "path concatenation escapes the base directory: {} + {subpath}",
            source.display()
        ))),
        Err(e) => {
            // Go's wording of the errno ("no such file or directory").
            let desc = e.desc();
            let mut cause = desc[..1].to_lowercase();
            cause.push_str(&desc[1..]);
            Err(EngineError::not_found(format!(
                "cannot access path {subpath}: {cause}"
            )))
        }
    }
}

mod api_mount;
mod propagation;
#[cfg(test)]
mod tests;
