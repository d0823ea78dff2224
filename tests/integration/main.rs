//! berth's integration tests, one binary (like bottom's `tests/integration/main.rs`): one module
//! per area, the shared harness in `common/` (a real `berth engine` on a temporary socket and data
//! root, raw API and CLI helpers, test images, registries, tmux). Every test starts what it needs
//! (its own engine, registry or sandbox) with unique names, sockets, bridges and ports, so tests run
//! side by side in one process; nothing here sets process-wide state (environment, current
//! directory, signal handlers): children get their environment through `Command`.
//!
//! Run one area with `cargo test --test integration networks::`.

mod common;

mod api_basics;
mod api_leniency;
mod api_shapes;
mod archive;
mod build;
mod build_differential;
mod cli_docs;
mod cli_parity;
mod cli_transport;
mod compose_cmds;
mod compose_create;
mod compose_loader;
mod compose_up;
mod containers;
mod crash_recovery;
mod dashboard_e2e;
mod docker_cli;
mod engine_service;
mod events;
mod exec;
mod headless;
mod hostile_layers;
mod image_archive;
mod image_local;
mod image_prune;
mod lifecycle_cli;
mod lifecycle_policies;
mod links_endpoints;
mod log_rotation;
mod networks;
mod null_bodies;
mod pause_top;
mod readme;
mod registry_login;
mod registry_pull;
mod registry_push;
mod registry_tls;
mod registry_unreachable;
mod security;
mod shared_netns;
mod shim_e2e;
mod stats;
mod swarm_commit;
mod tty;
mod volumes;
