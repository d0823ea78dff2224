//! `DELETE /volumes/{name}` and the in-use check it relies on.

use super::VolumeService;
use crate::error::{EngineError, Result};
use crate::model::volume::MountType;

impl VolumeService {
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
}
