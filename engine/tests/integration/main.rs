//! berth-engine's integration tests that run under libtest, one binary with one module per area:
//! the embedded DNS resolver in a real network namespace, the /images API over a real socket, safe
//! layer extraction, the ingest path and the image service. Each test makes its own temporary
//! store, namespace or socket, so they run side by side in one process. `init_e2e` stays a binary
//! of its own (no libtest: it forks, so it must be single-threaded).

mod dns_resolver;
mod image_api;
mod image_extract;
mod image_ingest;
mod image_service;
