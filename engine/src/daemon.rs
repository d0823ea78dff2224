//! `berth engine`: take the data root lock, open the stores, reconnect to running shims, serve the
//! API until SIGTERM/SIGINT.

use crate::config::EngineOptions;
use crate::error::Result;

pub fn run(_options: EngineOptions) -> Result<()> {
    Ok(())
}
