//! The berth client side: API client (with engine autostart), the `--headless` docker-like
//! commands and the dashboard. `main.rs` is a thin shim over [`cli::main`].

pub mod cli;
pub mod client;
pub mod commands;
pub mod compose;
pub mod dashboard;
pub mod exit;
pub mod format;
