//! Compose built into berth (issue 14), as a client of the Docker API: the project model
//! loaded the way docker compose v2 loads it (compose-go), then converged onto the engine.
//!
//! Built so far: [`interpolate`], compose-go's variable substitution, the first pass every
//! compose file goes through, and [`dotenv`], its `.env`/`env_file` parser (which interpolates
//! with it).

pub mod dotenv;
pub mod interpolate;
