//! berth-engine: a Docker Engine API compatible container engine.
//!
//! Data flows one way: `api` (HTTP, Docker wire shapes) → `service` (operations, state machine) →
//! `store` (durable metadata) and `runtime` (shims and containers). `image` holds image-format logic
//! (references, safe layer extraction, import) used by the image service.
#![recursion_limit = "256"]

pub mod api;
pub mod archive;
pub mod config;
pub mod daemon;
pub mod error;
pub mod fs_at;
pub mod image;
pub mod model;
pub mod network;
pub mod pidfile;
pub mod registry;
pub mod runtime;
pub mod service;
pub mod store;
pub mod supervisor;
pub mod util;
