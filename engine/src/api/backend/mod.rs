//! The engine as the API routers see it: one narrow trait per resource listing exactly what its
//! router calls (as moby's `api/server/router/*/backend.go`), each implemented for `Engine` next
//! to the trait by delegating to the services. Routers are written against these traits, so a
//! router can be driven in a unit test by a fake backend: no root, no engine, no shim.
//!
//! Async methods are declared `fn ... -> impl Future<Output = _> + Send` (implemented with
//! `async fn`): handlers spawn tasks, and a generic handler can only do that if the future of a
//! backend call is known to be `Send`, which a bare `async fn` in a trait does not promise.
//! Method names carry their resource (`container_stop`, `volume_remove`) because `Engine`
//! implements every trait and a router may be bound by several.

pub mod build;
pub mod container;
pub mod events;
pub mod exec;
pub mod image;
pub mod network;
pub mod system;
pub mod volume;

#[cfg(test)]
pub(crate) mod fake;

pub use build::BuildBackend;
pub use container::{ContainerBackend, ContainerCopyBackend};
pub use events::EventsBackend;
pub use exec::ExecBackend;
pub use image::{ImageArchiveBackend, ImageBackend, RegistryBackend};
pub use network::NetworkBackend;
pub use system::SystemBackend;
pub use volume::VolumeBackend;

/// Everything the top-level router serves: the bound of `router::dispatch`. Fakes implement only
/// the traits of the routers they drive.
pub trait Backend:
    BuildBackend
    + ContainerBackend
    + ContainerCopyBackend
    + EventsBackend
    + ExecBackend
    + ImageArchiveBackend
    + ImageBackend
    + NetworkBackend
    + RegistryBackend
    + SystemBackend
    + VolumeBackend
{
}

impl Backend for crate::service::Engine {}
