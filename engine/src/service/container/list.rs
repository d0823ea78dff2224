//! Looking containers up: by id, name or id prefix; the whole list; counts for `/info`.

use std::sync::Arc;

use crate::error::{EngineError, Result};
use crate::model::container::Status;

use super::{Container, ContainerService};

pub struct Counts {
    pub total: usize,
    pub running: usize,
    pub paused: usize,
    pub stopped: usize,
}

impl ContainerService {
    pub fn counts(&self) -> Counts {
        let index = self.index.read().expect("index");
        let mut counts = Counts {
            total: index.by_id.len(),
            running: 0,
            paused: 0,
            stopped: 0,
        };
        for c in index.by_id.values() {
            match c.status() {
                Status::Running | Status::Restarting => counts.running += 1,
                Status::Paused => counts.paused += 1,
                _ => counts.stopped += 1,
            }
        }
        counts
    }

    /// (image id, container id, running) for every container: the image service refuses to delete
    /// images in use.
    pub fn image_usage(&self) -> Vec<(String, String, bool)> {
        self.list()
            .iter()
            .map(|c| {
                c.with_record(|rec| {
                    (
                        rec.image_id.clone(),
                        rec.id.clone(),
                        rec.state.status == Status::Running,
                    )
                })
            })
            .collect()
    }

    pub fn list(&self) -> Vec<Arc<Container>> {
        self.index
            .read()
            .expect("index")
            .by_id
            .values()
            .cloned()
            .collect()
    }

    /// Find by full id, name (with or without '/'), or unique id prefix, as docker does.
    pub fn get(&self, key: &str) -> Result<Arc<Container>> {
        let index = self.index.read().expect("index");
        if let Some(c) = index.by_id.get(key) {
            return Ok(c.clone());
        }
        let bare = key.strip_prefix('/').unwrap_or(key);
        if let Some(id) = index.names.get(bare) {
            if let Some(c) = index.by_id.get(id) {
                return Ok(c.clone());
            }
        }
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_hexdigit()) {
            let mut found = index.by_id.iter().filter(|(id, _)| id.starts_with(key));
            if let Some((_, c)) = found.next() {
                if found.next().is_some() {
                    return Err(EngineError::invalid(format!(
                        "multiple IDs found with provided prefix: {key}"
                    )));
                }
                return Ok(c.clone());
            }
        }
        Err(EngineError::not_found(format!("No such container: {key}")))
    }
}
