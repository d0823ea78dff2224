//! `berth compose`: docker compose v2's commands, built on [`crate::compose`]. Each verb has
//! its file; this one resolves the project once per command and dispatches.

pub mod args;
mod config;
mod events;
mod exec;
mod images;
mod kill;
mod logs;
mod ls;
mod port;
mod prompt;
mod ps;
mod ps_format;
mod rm;
mod target;
mod top;
mod version;

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
    match a.command {
        ComposeCmd::Config(c) => config::run(&session, c),
        ComposeCmd::Events(c) => events::run(ctx, &session, c).await,
        ComposeCmd::Exec(c) => exec::run(ctx, &session, c).await,
        ComposeCmd::Images(c) => images::run(ctx, &session, c).await,
        ComposeCmd::Kill(c) => kill::kill(ctx, &session, c).await,
        ComposeCmd::Logs(c) => logs::run(ctx, &session, c).await,
        ComposeCmd::Ls(c) => ls::run(ctx, c).await,
        ComposeCmd::Pause(c) => kill::pause(ctx, &session, c, true).await,
        ComposeCmd::Port(c) => port::run(ctx, &session, c).await,
        ComposeCmd::Ps(c) => ps::run(ctx, &session, c).await,
        ComposeCmd::Rm(c) => rm::run(ctx, &session, c).await,
        ComposeCmd::Top(c) => top::run(ctx, &session, c).await,
        ComposeCmd::Unpause(c) => kill::pause(ctx, &session, c, false).await,
        ComposeCmd::Version(c) => version::run(c),
    }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks over every compose verb: a short flag a verb shares with
    /// the global ones (`logs -f`, `rm -f`) only shows when that verb is parsed.
    #[test]
    fn every_verb_parses() {
        use clap::CommandFactory;
        crate::cli::Cli::command().debug_assert();
    }
}
