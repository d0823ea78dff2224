//! Compose built into berth (issue 14), as a client of the Docker API: the project model
//! loaded the way docker compose v2 loads it (compose-go), then converged onto the engine.
//!
//! Built so far: [`interpolate`], compose-go's variable substitution, the first pass every
//! compose file goes through, and [`dotenv`], its `.env`/`env_file` parser (which interpolates
//! with it).
//!
//! Next: the YAML loader. serde_norway (the maintained fork of serde_yaml, not the deprecated
//! serde_yaml nor serde_yml) was checked against what compose files need: anchors and `<<`
//! merge keys (`Value::apply_merge`, also for a list of anchors), `!reset` and `!override`
//! kept as tagged values for the multi-file merge, syntax errors with line and column, and
//! duplicate keys refused.

pub mod dotenv;
pub mod interpolate;
pub mod types;
