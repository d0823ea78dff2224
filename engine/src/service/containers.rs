//! Container operations and the container state machine.

pub struct ContainerService {}
