//! The image builder's mechanisms below the service layer (`service::build` runs builds with
//! them): the received context (`context`), `.dockerignore` (`dockerignore`, shared with the
//! client), COPY/ADD semantics (`copy`) and the overlay mounts and layers a step works on
//! (`rootfs`).

pub mod context;
pub mod copy;
pub mod dockerignore;
pub mod filepath_match;
pub mod rootfs;
