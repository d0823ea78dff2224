//! Container operations and the container state machine.

pub struct ContainerService {}

impl ContainerService {
    /// Images used by containers: (image id, container id, running).
    ///
    /// PLACEHOLDER from the images branch so `DELETE /images/{name}` compiles and can check
    /// image use; the containers branch owns this file and replaces it with the real list.
    pub fn image_usage(&self) -> Vec<(String, String, bool)> {
        Vec::new()
    }
}
