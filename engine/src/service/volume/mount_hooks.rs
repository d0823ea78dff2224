//! The container service's mount hooks: resolve a container's mounts (creating its volumes),
//! mount volume backings before start, events on mount and unmount, anonymous volumes removed
//! with their container.

use std::path::PathBuf;

use super::backing::backing;
use super::{VolumeService, ANONYMOUS_LABEL};
use crate::error::{EngineError, IoContext, Result};
use crate::model::container::ContainerRecord;
use crate::model::image::ResolvedImage;
use crate::model::volume::{MountPoint, MountType};
use crate::service::container::mounts::{self, MountHooks, Requested};

impl MountHooks for VolumeService {
    fn resolve(&self, rec: &ContainerRecord, image: &ResolvedImage) -> Result<Vec<MountPoint>> {
        let requested =
            mounts::parse(&rec.config, &rec.host_config, image.config.volumes.as_ref())?;
        // Validate the driver options of volumes this create would make before making any.
        for r in &requested {
            if let Requested::Volume {
                name, driver_opts, ..
            } = r
            {
                let exists = name.as_ref().is_some_and(|n| self.index().contains_key(n));
                if !exists {
                    backing(driver_opts)?;
                }
            }
        }
        let mut created = Vec::new();
        match self.resolve_inner(requested, &mut created) {
            Ok(m) => Ok(m),
            Err(e) => {
                for name in created {
                    let _ = self.remove(&name, true);
                }
                Err(e)
            }
        }
    }

    fn before_start(&self, rec: &ContainerRecord) -> Result<()> {
        for m in rec.mounts.iter().filter(|m| m.kind == MountType::Volume) {
            let vol = self.get(&m.name).map_err(|_| {
                EngineError::not_found(format!(
                    "volume {} used by container {} no longer exists",
                    m.name, rec.id
                ))
            })?;
            self.ensure_backing(&vol)?;
        }
        for m in rec.mounts.iter().filter(|m| m.kind == MountType::Volume) {
            self.emit(
                "mount",
                &m.name,
                &[
                    ("container", rec.id.clone()),
                    ("destination", m.destination.clone()),
                    ("propagation", m.propagation.clone()),
                    ("read/write", m.rw.to_string()),
                ],
            );
        }
        Ok(())
    }

    fn after_exit(&self, rec: &ContainerRecord) {
        for m in rec.mounts.iter().filter(|m| m.kind == MountType::Volume) {
            self.emit("unmount", &m.name, &[("container", rec.id.clone())]);
        }
    }

    fn after_remove(&self, rec: &ContainerRecord, remove_anonymous: bool) {
        if !remove_anonymous {
            return;
        }
        for m in rec
            .mounts
            .iter()
            .filter(|m| m.kind == MountType::Volume && m.anonymous)
        {
            match self.remove(&m.name, true) {
                Ok(()) => {}
                // Shared with another container (--volumes-from style reuse): keep it.
                Err(EngineError::Conflict(_)) => {}
                Err(e) => tracing::warn!(volume = %m.name, error = %e, "removing anonymous volume"),
            }
        }
    }
}

impl VolumeService {
    pub(super) fn resolve_inner(
        &self,
        requested: Vec<Requested>,
        created: &mut Vec<String>,
    ) -> Result<Vec<MountPoint>> {
        let mut out = Vec::new();
        for r in requested {
            match r {
                Requested::Bind {
                    source,
                    destination,
                    rw,
                    mode,
                    propagation,
                    create_source,
                } => {
                    if create_source && std::fs::symlink_metadata(&source).is_err() {
                        // docker creates a missing `-v` source as a directory on the host.
                        std::fs::create_dir_all(&source).io_context(|| {
                            format!(
                                "error while creating mount source path '{}'",
                                source.display()
                            )
                        })?;
                    }
                    out.push(MountPoint {
                        kind: MountType::Bind,
                        name: String::new(),
                        source,
                        destination,
                        mode,
                        rw,
                        propagation,
                        copy_data: false,
                        anonymous: false,
                        tmpfs_data: String::new(),
                        tmpfs_flags: Vec::new(),
                        subpath: String::new(),
                    });
                }
                Requested::Volume {
                    name,
                    destination,
                    rw,
                    mode,
                    nocopy,
                    mut labels,
                    driver_opts,
                    subpath,
                } => {
                    let anonymous = name.is_none();
                    let name = name.unwrap_or_else(crate::util::new_id);
                    if anonymous {
                        labels.insert(ANONYMOUS_LABEL.into(), String::new());
                    }
                    let (rec, new) = self.get_or_create(&name, labels, driver_opts, anonymous)?;
                    if new {
                        created.push(name.clone());
                    }
                    out.push(MountPoint {
                        kind: MountType::Volume,
                        source: self.source_of(&rec)?,
                        name,
                        destination,
                        mode,
                        rw,
                        propagation: String::new(),
                        // Copying the image's files in is for a whole, empty volume.
                        copy_data: !nocopy && subpath.is_empty(),
                        anonymous,
                        tmpfs_data: String::new(),
                        tmpfs_flags: Vec::new(),
                        subpath,
                    });
                }
                Requested::Tmpfs {
                    destination,
                    data,
                    flags,
                } => {
                    let rw = !flags.iter().any(|f| f == "ro");
                    out.push(MountPoint {
                        kind: MountType::Tmpfs,
                        name: String::new(),
                        source: PathBuf::new(),
                        destination,
                        mode: String::new(),
                        rw,
                        propagation: String::new(),
                        copy_data: false,
                        anonymous: false,
                        tmpfs_data: data,
                        tmpfs_flags: flags
                            .into_iter()
                            .filter(|f| f != "ro" && f != "rw")
                            .collect(),
                        subpath: String::new(),
                    })
                }
            }
        }
        Ok(out)
    }
}
