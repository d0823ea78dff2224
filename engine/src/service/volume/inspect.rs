//! Docker's `Volume` object.

use super::VolumeService;
use crate::model::volume::VolumeRecord;

impl VolumeService {
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
}
