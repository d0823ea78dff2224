//! How a local volume is backed (a directory, a tmpfs, a bind of a host path) from its driver
//! options, and mounting and unmounting a tmpfs backing.

use std::collections::HashMap;
use std::path::PathBuf;

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::VolumeService;
use crate::error::{EngineError, Result};
use crate::model::volume::VolumeRecord;
use crate::service::container::mounts;

/// How a local volume is backed, from its driver options.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Backing {
    /// A plain directory under the data root.
    Directory,
    /// `type=tmpfs`: a tmpfs mounted on `_data` on first use (data options from `o`).
    Tmpfs { data: String },
    /// `o=bind,device=/path`: the host path itself.
    Bind { device: PathBuf },
}

/// Check the local driver's options (docker's `type`, `device`, `o`): tmpfs and bind are
/// supported; other filesystem types would need block devices or network mounts.
pub(super) fn backing(opts: &HashMap<String, String>) -> Result<Backing> {
    for k in opts.keys() {
        if !matches!(k.as_str(), "type" | "device" | "o") {
            return Err(EngineError::invalid(format!("invalid option: \"{k}\"")));
        }
    }
    let o: Vec<&str> = opts
        .get("o")
        .map(|s| s.split(',').filter(|x| !x.is_empty()).collect())
        .unwrap_or_default();
    let ty = opts.get("type").map(String::as_str).unwrap_or("");
    let device = opts.get("device").map(String::as_str).unwrap_or("");
    if opts.is_empty() {
        return Ok(Backing::Directory);
    }
    if ty == "tmpfs" {
        let mut data = Vec::new();
        for opt in &o {
            let key = opt.split('=').next().unwrap_or("");
            if !matches!(
                key,
                "size" | "mode" | "uid" | "gid" | "nr_inodes" | "nr_blocks"
            ) {
                return Err(EngineError::invalid(format!(
                    "invalid tmpfs option for the local volume driver: {opt:?}"
                )));
            }
            data.push(*opt);
        }
        let (data, _) = mounts::parse_tmpfs_options(&data.join(","))?;
        return Ok(Backing::Tmpfs { data });
    }
    if o.contains(&"bind") && (ty.is_empty() || ty == "none") {
        if !device.starts_with('/') {
            return Err(EngineError::invalid(
                "a bind volume needs an absolute device path (device=/path)",
            ));
        }
        if !std::path::Path::new(device).is_dir() {
            return Err(EngineError::invalid(format!(
                "failed to mount local volume: bind source path does not exist: {device}"
            )));
        }
        return Ok(Backing::Bind {
            device: PathBuf::from(device),
        });
    }
    if ty.is_empty() && device.is_empty() && o.is_empty() {
        return Ok(Backing::Directory);
    }
    Err(EngineError::invalid(format!(
        "unsupported local volume options (type={ty:?}, o={:?}): only type=tmpfs and o=bind are supported",
        opts.get("o").cloned().unwrap_or_default()
    )))
}

/// Whether `path` is the root of a mount (its device differs from its parent's).
pub(super) fn is_mountpoint(path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(me), Some(parent)) = (std::fs::symlink_metadata(path), path.parent()) else {
        return false;
    };
    std::fs::symlink_metadata(parent).is_ok_and(|p| p.dev() != me.dev())
}

impl VolumeService {
    /// Unmount a tmpfs volume's `_data` before its directory is deleted.
    pub(super) fn release_backing(&self, rec: &VolumeRecord) {
        if let Ok(Backing::Tmpfs { .. }) = backing(&rec.options) {
            let data = self.store.data_dir(&rec.name);
            if is_mountpoint(&data) {
                if let Err(e) = umount2(&data, MntFlags::MNT_DETACH) {
                    tracing::warn!(volume = %rec.name, error = %e, "unmounting tmpfs volume");
                }
            }
        }
    }

    /// Host path a container binds for this volume.
    pub(super) fn source_of(&self, rec: &VolumeRecord) -> Result<PathBuf> {
        Ok(match backing(&rec.options)? {
            Backing::Bind { device } => device,
            Backing::Directory | Backing::Tmpfs { .. } => self.store.data_dir(&rec.name),
        })
    }

    /// Mount the tmpfs of a `type=tmpfs` volume on its `_data` once (shared by every container
    /// using it, kept until the volume is removed).
    pub(super) fn ensure_backing(&self, rec: &VolumeRecord) -> Result<()> {
        if let Backing::Tmpfs { data } = backing(&rec.options)? {
            let dir = self.store.data_dir(&rec.name);
            if !is_mountpoint(&dir) {
                mount(
                    Some("tmpfs"),
                    &dir,
                    Some("tmpfs"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                    Some(data.as_str()),
                )
                .map_err(|e| {
                    EngineError::internal(format!("mounting tmpfs volume {}: {e}", rec.name))
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn local_driver_options() {
        assert_eq!(backing(&opts(&[])).unwrap(), Backing::Directory);
        assert_eq!(
            backing(&opts(&[
                ("type", "tmpfs"),
                ("device", "tmpfs"),
                ("o", "size=1m")
            ]))
            .unwrap(),
            Backing::Tmpfs {
                data: format!("size={}", 1 << 20)
            }
        );
        assert_eq!(
            backing(&opts(&[
                ("type", "none"),
                ("o", "bind"),
                ("device", "/tmp")
            ]))
            .unwrap(),
            Backing::Bind {
                device: PathBuf::from("/tmp")
            }
        );
        for bad in [
            opts(&[("type", "nfs"), ("o", "addr=1.2.3.4")]),
            opts(&[("type", "tmpfs"), ("o", "exec,size=1m")]),
            opts(&[("o", "bind"), ("device", "relative")]),
            opts(&[("o", "bind"), ("device", "/definitely/missing")]),
            opts(&[("colour", "blue")]),
        ] {
            assert!(
                matches!(backing(&bad), Err(EngineError::InvalidArgument(_))),
                "{bad:?}"
            );
        }
    }
}
