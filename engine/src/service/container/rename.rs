//! `docker rename`.

use crate::error::{EngineError, Result};

use super::ContainerService;

impl ContainerService {
    pub fn rename(&self, key: &str, new_name: &str) -> Result<()> {
        let new_name = super::names::validate(new_name)?;
        let c = self.get(key)?;
        let mut index = self.index.write().expect("index");
        let old = c.record().name;
        if old == new_name {
            return Err(EngineError::invalid(
                "Renaming a container with the same name as its current name",
            ));
        }
        if let Some(other) = index.names.get(&new_name) {
            return Err(EngineError::conflict(format!(
                "Conflict. The container name \"/{new_name}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
            )));
        }
        let rec = c.update(|r| r.name = new_name.clone());
        if let Err(e) = self.store.save(&rec) {
            c.update(|r| r.name = old);
            return Err(e);
        }
        index.names.remove(&old);
        index.names.insert(new_name.clone(), c.id.clone());
        if let Some(nets) = self.networks() {
            nets.renamed(&c.id, &new_name);
        }
        drop(index);
        // docker reports the old name with its leading '/'.
        self.emit(&c, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }
}
