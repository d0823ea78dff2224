//! Compose built into berth (issue 14), as a client of the Docker API: the project loaded the
//! way docker compose v2 loads it (compose-go v2.9), then converged onto the engine with docker
//! compose's names and labels, so either tool can manage what the other started.
//!
//! Data flows one way:
//! - [`options`]: which files, directory, environment, profiles and name (flags, `COMPOSE_*`,
//!   `.env`);
//! - [`load`]: the files read ([`yaml`], with positions), interpolated ([`interpolate`],
//!   [`dotenv`]), merged, checked against the spec ([`schema`]) and normalised into compose-go's
//!   canonical map;
//! - [`types`]: that map decoded into the typed model, written back as docker compose writes it
//!   (`config`), and hashed as docker compose hashes services;
//! - [`graph`], [`labels`], [`observed`]: dependency order, the labels, and what of a project
//!   already exists on the engine.
//!
//! YAML: saphyr-parser (maintained, no advisory) rather than a serde YAML crate, because compose
//! needs every node's line and column, the `!reset`/`!override` tags and the anchors that the
//! serde crates resolve away; serde_yaml and serde_yml are out (deprecated, advisory).

pub mod create;
pub mod dotenv;
pub mod graph;
pub mod interpolate;
pub mod labels;
pub mod load;
pub mod observed;
pub mod options;
pub mod project;
pub mod schema;
pub mod types;
pub mod yaml;
