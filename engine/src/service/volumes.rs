//! Volumes (local driver): named and anonymous volumes under `<data-root>/volumes`, their
//! lifecycle alongside containers (created on first use, `rm -v`, in-use checks), events, prune
//! and usage for `system df`.
//!
//! "In use" is computed from the container records (each keeps its resolved mounts), so there is
//! no reference count on disk to drift after a crash.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::error::{EngineError, IoContext, Result};
use crate::model::container::ContainerRecord;
use crate::model::image::ResolvedImage;
use crate::model::volume::{MountPoint, MountType, VolumeCreateRequest, VolumeRecord};
use crate::service::container::mounts::{self, MountHooks, Requested};
use crate::service::container::ContainerService;
use crate::service::events::{kind, EventBus};
use crate::store::volumes::VolumeStore;

/// Docker's label on volumes created for a single container.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// How a local volume is backed, from its driver options.
#[derive(Debug, Clone, PartialEq)]
enum Backing {
    /// A plain directory under the data root.
    Directory,
    /// `type=tmpfs`: a tmpfs mounted on `_data` on first use (data options from `o`).
    Tmpfs { data: String },
    /// `o=bind,device=/path`: the host path itself.
    Bind { device: PathBuf },
}

/// Check the local driver's options (docker's `type`, `device`, `o`): tmpfs and bind are
/// supported; other filesystem types would need block devices or network mounts.
fn backing(opts: &HashMap<String, String>) -> Result<Backing> {
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

pub struct VolumeService {
    store: VolumeStore,
    index: Mutex<BTreeMap<String, VolumeRecord>>,
    events: EventBus,
    containers: Weak<ContainerService>,
}

/// A volume with its usage, for `system df` and prune.
pub struct VolumeUsage {
    pub record: VolumeRecord,
    pub size: u64,
    pub ref_count: usize,
}

impl VolumeService {
    /// Open the store (sweeping leftovers of interrupted operations) and load every volume.
    pub fn open(
        data_root: &std::path::Path,
        events: EventBus,
        containers: &Arc<ContainerService>,
    ) -> Result<Arc<Self>> {
        let store = VolumeStore::open(data_root)?;
        store.sweep_leftovers();
        let index = store
            .load_all()
            .into_iter()
            .map(|r| (r.name.clone(), r))
            .collect();
        Ok(Arc::new(VolumeService {
            store,
            index: Mutex::new(index),
            events,
            containers: Arc::downgrade(containers),
        }))
    }

    fn index(&self) -> MutexGuard<'_, BTreeMap<String, VolumeRecord>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn mountpoint(&self, name: &str) -> PathBuf {
        self.store.data_dir(name)
    }

    fn emit(&self, action: &str, name: &str, extra: &[(&str, String)]) {
        let mut attrs = BTreeMap::from([("driver".to_string(), "local".to_string())]);
        for (k, v) in extra {
            attrs.insert((*k).to_string(), v.clone());
        }
        self.events.publish(kind::VOLUME, action, name, attrs);
    }

    pub fn list(&self) -> Vec<VolumeRecord> {
        self.index().values().cloned().collect()
    }

    pub fn get(&self, name: &str) -> Result<VolumeRecord> {
        self.index()
            .get(name)
            .cloned()
            .ok_or_else(|| EngineError::not_found(format!("get {name}: no such volume")))
    }

    /// `POST /volumes/create`. An existing volume of that name is returned as is (docker).
    pub fn create(&self, req: VolumeCreateRequest) -> Result<VolumeRecord> {
        if !req.driver.is_empty() && req.driver != "local" {
            return Err(EngineError::not_found(format!(
                "error looking up volume plugin {}: plugin \"{}\" not found",
                req.driver, req.driver
            )));
        }
        let (name, anonymous) = if req.name.is_empty() {
            (crate::util::new_id(), true)
        } else {
            mounts::check_volume_name(&req.name)?;
            (req.name.clone(), false)
        };
        backing(&req.driver_opts)?;
        let mut labels = req.labels;
        if anonymous {
            labels.insert(ANONYMOUS_LABEL.into(), String::new());
        }
        Ok(self
            .get_or_create(&name, labels, req.driver_opts, anonymous)?
            .0)
    }

    /// The volume `name`, created when missing; `true` when it was created now.
    fn get_or_create(
        &self,
        name: &str,
        labels: HashMap<String, String>,
        options: HashMap<String, String>,
        anonymous: bool,
    ) -> Result<(VolumeRecord, bool)> {
        let mut index = self.index();
        if let Some(rec) = index.get(name) {
            return Ok((rec.clone(), false));
        }
        let rec = VolumeRecord {
            name: name.to_owned(),
            driver: "local".into(),
            // docker's volume CreatedAt has whole seconds.
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            labels,
            options,
            anonymous,
        };
        self.store.create(&rec)?;
        index.insert(name.to_owned(), rec.clone());
        drop(index);
        self.emit("create", name, &[]);
        Ok((rec, true))
    }

    /// Ids of the containers (any state) whose mounts use volume `name`.
    pub fn users(&self, name: &str) -> Vec<String> {
        let Some(containers) = self.containers.upgrade() else {
            return Vec::new();
        };
        let mut ids: Vec<String> = containers
            .list()
            .iter()
            .map(|c| c.record())
            .filter(|r| {
                r.mounts
                    .iter()
                    .any(|m| m.kind == MountType::Volume && m.name == name)
            })
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    }

    /// `DELETE /volumes/{name}`: refused while any container uses it, even with `force` (which
    /// only turns "no such volume" into success), as docker does.
    pub fn remove(&self, name: &str, force: bool) -> Result<()> {
        if !self.index().contains_key(name) {
            if force {
                return Ok(());
            }
            return Err(EngineError::not_found(format!(
                "get {name}: no such volume"
            )));
        }
        let users = self.users(name);
        if !users.is_empty() {
            return Err(EngineError::conflict(format!(
                "remove {name}: volume is in use - [{}]",
                users.join(", ")
            )));
        }
        let mut index = self.index();
        let Some(rec) = index.get(name).cloned() else {
            return Ok(());
        };
        self.release_backing(&rec);
        self.store.remove(name)?;
        index.remove(name);
        drop(index);
        self.emit("destroy", name, &[]);
        Ok(())
    }

    /// Unmount a tmpfs volume's `_data` before its directory is deleted.
    fn release_backing(&self, rec: &VolumeRecord) {
        if let Ok(Backing::Tmpfs { .. }) = backing(&rec.options) {
            let data = self.store.data_dir(&rec.name);
            if is_mountpoint(&data) {
                if let Err(e) = umount2(&data, MntFlags::MNT_DETACH) {
                    tracing::warn!(volume = %rec.name, error = %e, "unmounting tmpfs volume");
                }
            }
        }
    }

    /// Every volume with its size and number of containers using it.
    pub fn usage(&self) -> Vec<VolumeUsage> {
        let mut refs: HashMap<String, usize> = HashMap::new();
        if let Some(containers) = self.containers.upgrade() {
            for c in containers.list() {
                for m in c.record().mounts {
                    if m.kind == MountType::Volume {
                        *refs.entry(m.name).or_default() += 1;
                    }
                }
            }
        }
        self.list()
            .into_iter()
            .map(|record| VolumeUsage {
                size: crate::util::du::tree_size(&self.store.data_dir(&record.name)),
                ref_count: refs.get(&record.name).copied().unwrap_or(0),
                record,
            })
            .collect()
    }

    /// `POST /volumes/prune`: unused volumes matching `keep`; anonymous ones only unless `all`.
    /// Returns the names removed and the bytes reclaimed.
    pub fn prune(
        &self,
        all: bool,
        keep: &dyn Fn(&VolumeRecord) -> bool,
    ) -> Result<(Vec<String>, u64)> {
        let mut deleted = Vec::new();
        let mut reclaimed = 0;
        for u in self.usage() {
            if u.ref_count > 0 || (!all && !u.record.anonymous) || !keep(&u.record) {
                continue;
            }
            match self.remove(&u.record.name, false) {
                Ok(()) => {
                    deleted.push(u.record.name);
                    reclaimed += u.size;
                }
                // Taken into use meanwhile: not an error for prune.
                Err(EngineError::Conflict(_)) | Err(EngineError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((deleted, reclaimed))
    }

    /// Docker's `Volume` object.
    pub fn to_api(&self, rec: &VolumeRecord) -> serde_json::Value {
        serde_json::json!({
            "CreatedAt": rec.created_at,
            "Driver": rec.driver,
            "Labels": if rec.labels.is_empty() { serde_json::Value::Null } else { serde_json::json!(rec.labels) },
            "Mountpoint": self.store.data_dir(&rec.name),
            "Name": rec.name,
            "Options": if rec.options.is_empty() { serde_json::Value::Null } else { serde_json::json!(rec.options) },
            "Scope": "local",
        })
    }

    /// Host path a container binds for this volume.
    fn source_of(&self, rec: &VolumeRecord) -> Result<PathBuf> {
        Ok(match backing(&rec.options)? {
            Backing::Bind { device } => device,
            Backing::Directory | Backing::Tmpfs { .. } => self.store.data_dir(&rec.name),
        })
    }

    /// Mount the tmpfs of a `type=tmpfs` volume on its `_data` once (shared by every container
    /// using it, kept until the volume is removed).
    fn ensure_backing(&self, rec: &VolumeRecord) -> Result<()> {
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

    fn resolve_inner(
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
                        copy_data: !nocopy,
                        anonymous,
                        tmpfs_data: String::new(),
                        tmpfs_flags: Vec::new(),
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
                    })
                }
            }
        }
        Ok(out)
    }
}

/// Whether `path` is the root of a mount (its device differs from its parent's).
fn is_mountpoint(path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(me), Some(parent)) = (std::fs::symlink_metadata(path), path.parent()) else {
        return false;
    };
    std::fs::symlink_metadata(parent).is_ok_and(|p| p.dev() != me.dev())
}

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
