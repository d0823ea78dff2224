//! Command-line surface (clap derive): the dashboard (no command), `engine`, and the docker-like
//! headless commands, plus exit-code policy.

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use crate::client::{self, ConnectError, DaemonError};
use crate::commands;
use crate::exit::ExitError;

mod containers;
mod images;
mod resources;

pub use containers::*;
pub use images::*;
pub use resources::*;
// Each command's flags live beside it in commands/; re-exported here for the dispatch.
pub use crate::commands::archive::{ExportArgs, UpdateArgs};
pub use crate::commands::attach::AttachArgs;
pub use crate::commands::build::BuildArgs;
pub use crate::commands::check::SystemCheckArgs;
pub use crate::commands::containers::{
    ContainerArg, ContainersArg, KillArgs, LogsArgs, PruneArgs, RenameArgs, RmArgs, StopArgs,
    TopArgs,
};
pub use crate::commands::cp::CpArgs;
pub use crate::commands::docs::{CompletionArgs, ManArgs};
pub use crate::commands::engine::EngineArgs;
pub use crate::commands::events::EventsArgs;
pub use crate::commands::exec::ExecArgs;
pub use crate::commands::history::HistoryArgs;
pub use crate::commands::image_archive::{LoadArgs, SaveArgs};
pub use crate::commands::images::{ImagePruneArgs, ImagesArgs, ImportArgs, RmiArgs, TagArgs};
pub use crate::commands::inspect::{FormatNames, InspectArgs};
pub use crate::commands::login::{LoginArgs, LogoutArgs};
pub use crate::commands::networks::{
    NetworkConnectArgs, NetworkCreateArgs, NetworkDisconnectArgs, NetworkLsArgs, NetworkPruneArgs,
    NetworkRmArgs, PortArgs,
};
pub use crate::commands::ps::PsArgs;
pub use crate::commands::pull::PullArgs;
pub use crate::commands::push::PushArgs;
pub use crate::commands::run::{ContainerOpts, CreateArgs, RunArgs, StartArgs};
pub use crate::commands::stats::StatsArgs;
pub use crate::commands::system::SystemDfArgs;
pub use crate::commands::volumes::{VolumeCreateArgs, VolumeLsArgs, VolumePruneArgs, VolumeRmArgs};

/// `berth --version`: the berth release and the Docker Engine API its engine serves (kept equal
/// to `berth_engine::config::API_VERSION` by a test).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (Docker Engine API 1.44, accepts 1.24 and later)"
);

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    version = VERSION,
    about = "Docker Desktop for the terminal: dashboard, bundled engine, headless CLI",
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Run a docker-like command instead of the dashboard (commands are also accepted without it).
    #[arg(long)]
    pub headless: bool,
    /// Engine socket: unix:///path or a path.
    #[arg(short = 'H', long, env = "BERTH_HOST", default_value = berth_engine::config::DEFAULT_SOCKET)]
    pub host: String,
    /// Do not start the engine when it is not running.
    #[arg(long)]
    pub no_autostart: bool,
    /// Open this compose file in the dashboard's Stacks view (repeatable).
    #[arg(long = "compose-file", value_name = "FILE")]
    pub compose_files: Vec<String>,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run the engine service (serves the Docker Engine API on a unix socket), or manage it:
    /// status, stop, install, uninstall, env.
    #[command(args_conflicts_with_subcommands = true)]
    Engine(EngineArgs),
    /// Define and run multi-container applications (docker compose v2 compatible).
    Compose(crate::commands::compose::ComposeArgs),
    /// Show the client and engine versions.
    Version,
    /// Display system-wide information.
    Info,
    /// Import a tarball to create a filesystem image.
    Import(ImportArgs),
    /// Download an image from a registry.
    Pull(PullArgs),
    /// Build an image from a Dockerfile.
    Build(BuildArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default).
    Save(SaveArgs),
    /// Load an image from a tar archive or STDIN.
    Load(LoadArgs),
    /// List images.
    Images(ImagesArgs),
    /// Remove one or more images.
    Rmi(RmiArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
    /// Upload an image to a registry.
    Push(PushArgs),
    /// Show the history of an image.
    History(HistoryArgs),
    /// Log in to a registry (checked by the engine, stored in ~/.docker/config.json or a helper).
    Login(LoginArgs),
    /// Log out from a registry.
    Logout(LogoutArgs),
    /// Create and run a new container from an image.
    #[command(disable_help_flag = true)]
    Run(RunArgs),
    /// Create a new container.
    #[command(disable_help_flag = true)]
    Create(CreateArgs),
    /// Start one or more stopped containers.
    Start(StartArgs),
    /// Stop one or more running containers.
    Stop(StopArgs),
    /// Restart one or more containers.
    Restart(StopArgs),
    /// Kill one or more running containers.
    Kill(KillArgs),
    /// Pause all processes within one or more containers.
    Pause(ContainersArg),
    /// Unpause all processes within one or more containers.
    Unpause(ContainersArg),
    /// Display the running processes of a container.
    Top(TopArgs),
    /// Remove one or more containers.
    Rm(RmArgs),
    /// List containers.
    Ps(PsArgs),
    /// Fetch the logs of a container.
    Logs(LogsArgs),
    /// Return low-level information on containers or images.
    Inspect(InspectArgs),
    /// Block until one or more containers stop, then print their exit codes.
    Wait(ContainersArg),
    /// Rename a container.
    Rename(RenameArgs),
    /// Get real time events from the engine.
    Events(EventsArgs),
    /// Manage networks.
    #[command(subcommand)]
    Network(NetworkCmd),
    /// List port mappings or a specific mapping for the container.
    Port(PortArgs),
    /// Display a live stream of container(s) resource usage statistics.
    Stats(StatsArgs),
    /// Execute a command in a running container.
    Exec(ExecArgs),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(ContainerArg),
    /// Export a container's filesystem as a tar archive.
    Export(ExportArgs),
    /// Copy files/folders between a container and the local filesystem.
    Cp(CpArgs),
    /// Update configuration of one or more containers.
    Update(UpdateArgs),
    /// Attach local standard input, output, and error streams to a running container.
    Attach(AttachArgs),
    /// Manage containers.
    #[command(subcommand)]
    Container(ContainerCmd),
    /// Manage images.
    #[command(subcommand)]
    Image(ImageCmd),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(VolumeCmd),
    /// Manage the engine (disk usage).
    #[command(subcommand)]
    System(SystemCmd),
    /// Print a shell completion script (bash, zsh or fish).
    Completion(CompletionArgs),
    /// Print berth's manual page (roff), or write one page per command into a directory.
    Man(ManArgs),
}

/// Parse argv and run; returns the process exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            let code = match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                // docker exits 1 when the arguments are too few or too many ("'docker stop'
                // requires at least 1 argument") and for an unknown command...
                ErrorKind::MissingRequiredArgument
                | ErrorKind::TooFewValues
                | ErrorKind::TooManyValues
                | ErrorKind::WrongNumberOfValues
                | ErrorKind::MissingSubcommand
                | ErrorKind::InvalidSubcommand => 1,
                // ...and 125 for flag errors.
                _ => 125,
            };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        None if cli.headless => {
            eprintln!("berth: --headless needs a command; see 'berth --help'.");
            125
        }
        None => match client::parse_host(&cli.host) {
            Ok(socket) => report(
                crate::dashboard::run(socket, !cli.no_autostart, cli.compose_files),
                1,
            ),
            Err(e) => report(Err(e), 1),
        },
        Some(Cmd::Engine(a)) if a.action.is_none() => commands::engine::serve::run(a),
        Some(Cmd::Completion(a)) => report(commands::docs::completion(a.shell), 1),
        Some(Cmd::Man(a)) => report(commands::docs::man(a.dir.as_deref()), 1),
        Some(cmd) => {
            // Errors of run are all 125 unless they carry their own status, like docker
            // (`docker create` exits 1 for an engine error, 125 only for a bad flag).
            let default_code = match &cmd {
                Cmd::Run(_) | Cmd::Container(ContainerCmd::Run(_)) => 125,
                _ => 1,
            };
            let socket = match client::parse_host(&cli.host) {
                Ok(s) => s,
                Err(e) => return report(Err(e), default_code),
            };
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return report(Err(e.into()), 1),
            };
            let ctx = commands::Ctx {
                socket,
                autostart: !cli.no_autostart,
            };
            let result = rt.block_on(commands::dispatch(ctx, cmd));
            // A stdin read still blocked in tokio's blocking pool (the attach/exec input pump)
            // must not keep the process alive once the command has finished.
            rt.shutdown_background();
            report(result, default_code)
        }
    }
}

/// Print an error the way docker does and pick the exit status.
fn report(result: anyhow::Result<i32>, default_code: i32) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            if let Some(x) = e.downcast_ref::<ExitError>() {
                if let Some(m) = &x.message {
                    eprintln!("{m}");
                }
                return x.code;
            }
            if let Some(d) = e.downcast_ref::<DaemonError>() {
                eprintln!("{d}");
            } else if let Some(c) = e.downcast_ref::<ConnectError>() {
                eprintln!("{c}");
            } else {
                eprintln!("Error: {e:#}");
            }
            default_code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).unwrap()
    }

    #[test]
    fn headless_run_flags() {
        let cli = parse(&[
            "berth",
            "--headless",
            "run",
            "-d",
            "--rm",
            "-e",
            "A=1",
            "img",
            "cmd",
            "-x",
        ]);
        assert!(cli.headless);
        let Some(Cmd::Run(r)) = cli.command else {
            panic!("not run")
        };
        assert!(r.detach);
        assert!(r.opts.rm);
        assert_eq!(r.opts.env, vec!["A=1"]);
        assert_eq!(r.opts.image, "img");
        assert_eq!(r.opts.command, vec!["cmd", "-x"]);
    }

    #[test]
    fn run_h_is_hostname_and_flags_after_image_belong_to_the_command() {
        let cli = parse(&[
            "berth", "run", "-h", "box", "-it", "img", "sh", "-c", "echo -d",
        ]);
        let Some(Cmd::Run(r)) = cli.command else {
            panic!("not run")
        };
        assert_eq!(r.opts.hostname.as_deref(), Some("box"));
        assert!(r.opts.interactive && r.opts.tty && !r.detach);
        assert_eq!(r.opts.command, vec!["sh", "-c", "echo -d"]);
    }

    #[test]
    fn globals_and_aliases() {
        let cli = parse(&[
            "berth",
            "--host",
            "unix:///tmp/s.sock",
            "--no-autostart",
            "ps",
            "-a",
        ]);
        assert_eq!(cli.host, "unix:///tmp/s.sock");
        assert!(cli.no_autostart);
        assert!(matches!(
            cli.command,
            Some(Cmd::Ps(PsArgs { all: true, .. }))
        ));
        let cli = parse(&["berth", "container", "ls", "-q"]);
        assert!(matches!(
            cli.command,
            Some(Cmd::Container(ContainerCmd::Ls(PsArgs { quiet: true, .. })))
        ));
        assert!(Cli::try_parse_from(["berth", "ps", "--bogus"]).is_err());
    }

    #[test]
    fn engine_runs_without_a_subcommand_and_manages_with_one() {
        use commands::engine::EngineCmd;
        let Some(Cmd::Engine(a)) = parse(&["berth", "engine", "--socket", "/tmp/s.sock"]).command
        else {
            panic!("not engine")
        };
        assert!(a.action.is_none());
        assert_eq!(a.socket, PathBuf::from("/tmp/s.sock"));
        let Some(Cmd::Engine(a)) = parse(&["berth", "engine", "stop", "-t", "5"]).command else {
            panic!("not engine")
        };
        assert!(matches!(a.action, Some(EngineCmd::Stop(s)) if s.timeout == 5));
        let Some(Cmd::Engine(a)) = parse(&[
            "berth", "-H", "/x.sock", "engine", "status", "--format", "json",
        ])
        .command
        else {
            panic!("not engine")
        };
        assert!(
            matches!(a.action, Some(EngineCmd::Status(s)) if s.format.as_deref() == Some("json"))
        );
        // Running flags and management subcommands do not mix.
        assert!(Cli::try_parse_from(["berth", "engine", "--socket", "/s", "status"]).is_err());
    }

    #[test]
    fn bad_flag_exit_code_is_125() {
        assert_eq!(
            main(vec!["berth".into(), "ps".into(), "--bogus".into()]),
            125
        );
        assert_eq!(main(vec!["berth".into(), "--headless".into()]), 125);
    }
}
