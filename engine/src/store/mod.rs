//! Durable state under the data root. Every write is atomic (see `atomic`).

pub mod atomic;
pub mod blobs;
pub mod containers;
pub mod images;
pub mod layers;
pub mod record_dirs;
pub mod resumable;
pub mod volumes;
