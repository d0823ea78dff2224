//! `berth compose`: docker compose v2's commands, built on [`crate::compose`]. Each verb has
//! its file; this one resolves the project once per command and dispatches.

pub mod args;
mod attached;
mod build;
mod config;
mod down;
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
mod run;
mod target;
mod top;
pub mod up;
mod version;

use std::path::PathBuf;

use anyhow::Result;

pub use args::{ComposeArgs, ComposeCmd};

use super::Ctx;
use crate::compose::converge::{Compose, Progress};
use crate::compose::load::Env;
use crate::compose::options::ProjectFlags;
use crate::compose::project::{self, LoadOptions, Loaded};
use crate::compose::types::Project;

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

    /// A compose client reporting progress on stderr.
    pub async fn compose(&self, ctx: &Ctx) -> Result<Compose> {
        self.compose_quiet(ctx, false).await
    }

    /// As [`Session::compose`], silent when `quiet`.
    pub async fn compose_quiet(&self, ctx: &Ctx, quiet: bool) -> Result<Compose> {
        let progress = if quiet {
            Progress::silent()
        } else {
            Progress::stderr()
        };
        Ok(Compose::new(ctx.client().await?, progress))
    }

    /// docker compose's `projectOrName`: the loaded project when there are files (or no `-p`),
    /// else just the name; a project that cannot be loaded still has a name from
    /// `COMPOSE_PROJECT_NAME`.
    pub fn project_or_name(&self, services: &[String]) -> Result<(Option<Project>, String)> {
        if !self.flags.files.is_empty() || self.flags.project_name.is_none() {
            let how = LoadOptions {
                services: services.to_vec(),
                discard_env_files: true,
                skip_resolve_environment: true,
            };
            match self.load(&how) {
                Ok(l) => {
                    let name = l.project.name.clone();
                    return Ok((Some(l.project), name));
                }
                Err(e) => match self
                    .env
                    .get("COMPOSE_PROJECT_NAME")
                    .filter(|n| !n.is_empty())
                {
                    Some(n) => return Ok((None, n.clone())),
                    None => return Err(e),
                },
            }
        }
        Ok((None, self.flags.project_name.clone().unwrap_or_default()))
    }
}

pub async fn dispatch(ctx: &Ctx, a: ComposeArgs) -> Result<i32> {
    let session = Session::new(&a)?;
    match a.command {
        ComposeCmd::Up(c) => up::up(ctx, &session, c).await,
        ComposeCmd::Down(c) => down::run(ctx, &session, c).await,
        ComposeCmd::Create(c) => up::create_cmd(ctx, &session, c).await,
        ComposeCmd::Start(c) => up::start_cmd(ctx, &session, c.services).await,
        ComposeCmd::Stop(c) => up::stop_cmd(ctx, &session, c.services, c.timeout).await,
        ComposeCmd::Restart(c) => {
            up::restart_cmd(ctx, &session, c.services, c.timeout, c.no_deps).await
        }
        ComposeCmd::Build(c) => build::build(ctx, &session, c).await,
        ComposeCmd::Pull(c) => build::pull(ctx, &session, c).await,
        ComposeCmd::Push(c) => build::push(ctx, &session, c).await,
        ComposeCmd::Run(c) => run::run(ctx, &session, c).await,
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
