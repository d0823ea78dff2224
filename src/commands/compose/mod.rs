//! `berth compose`: docker compose v2's commands, built on [`crate::compose`]. Each verb has
//! its file; this one resolves the project once per command and dispatches.

pub mod args;
mod config;

use std::path::PathBuf;

use anyhow::Result;

pub use args::{ComposeArgs, ComposeCmd};

use super::Ctx;
use crate::compose::load::Env;
use crate::compose::options::ProjectFlags;
use crate::compose::project::{self, LoadOptions, Loaded};

/// One command's view of the project: the flags, the process environment and directory.
pub struct Session {
    pub flags: ProjectFlags,
    pub env: Env,
    pub cwd: PathBuf,
}

impl Session {
    fn new(a: &ComposeArgs) -> Result<Session> {
        Ok(Session {
            flags: a.project_flags(),
            env: std::env::vars().collect(),
            cwd: std::env::current_dir()?,
        })
    }

    /// Load the project, printing docker compose's warnings.
    pub fn load(&self, how: &LoadOptions) -> Result<Loaded> {
        let loaded = project::load(&self.flags, &self.env, &self.cwd, how)?;
        for w in &loaded.warnings {
            eprintln!("WARN[0000] {w}");
        }
        Ok(loaded)
    }
}

pub async fn dispatch(ctx: &Ctx, a: ComposeArgs) -> Result<i32> {
    let session = Session::new(&a)?;
    let _ = ctx;
    match a.command {
        ComposeCmd::Config(c) => config::run(&session, c),
    }
}
