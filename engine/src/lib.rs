//! berth-engine: a Docker Engine API compatible container engine.
//!
//! Data flows one way: `api` (HTTP, Docker wire shapes; routers over narrow backend traits) →
//! `service` (operations and state machines, one module per aggregate, one verb per file) →
//! the mechanisms `registry`, `archive`, `image`, `runtime`, `network` (and `fs_at`, the one home
//! of fd-relative file code) → `store` (durable state, atomic writes) → `model` (wire types).
//! ARCHITECTURE.md at the repository root walks a request from the socket to the shim.
#![recursion_limit = "256"]

pub mod api;
pub mod archive;
pub mod builder;
pub mod config;
pub mod daemon;
pub mod dockerfile;
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
