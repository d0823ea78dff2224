//! `POST /volumes/create`, and the volumes a container's mounts create on first use.

use std::collections::HashMap;

use super::backing::backing;
use super::{VolumeService, ANONYMOUS_LABEL};
use crate::error::{EngineError, Result};
use crate::model::volume::{VolumeCreateRequest, VolumeRecord};
use crate::service::container::mounts;

impl VolumeService {
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
    pub(super) fn get_or_create(
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
}
