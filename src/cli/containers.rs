//! The `berth container …` subcommands (run/create, start, stop, kill, rm, ps, logs, exec, cp,
//! update and the rest); each command's flags live beside it in commands/.

use clap::Subcommand;

use super::{
    AttachArgs, ContainerArg, ContainersArg, CpArgs, CreateArgs, ExecArgs, ExportArgs, FormatNames,
    KillArgs, LogsArgs, PruneArgs, PsArgs, RenameArgs, RmArgs, RunArgs, StartArgs, StatsArgs,
    StopArgs, TopArgs, UpdateArgs,
};

#[derive(Subcommand, Debug)]
pub enum ContainerCmd {
    /// List containers.
    #[command(visible_aliases = ["ps", "list"])]
    Ls(PsArgs),
    /// Display detailed information on one or more containers.
    Inspect(FormatNames),
    #[command(disable_help_flag = true)]
    Run(RunArgs),
    #[command(disable_help_flag = true)]
    Create(CreateArgs),
    Start(StartArgs),
    Stop(StopArgs),
    Restart(StopArgs),
    Kill(KillArgs),
    Pause(ContainersArg),
    Unpause(ContainersArg),
    Top(TopArgs),
    Rm(RmArgs),
    Logs(LogsArgs),
    Wait(ContainersArg),
    Rename(RenameArgs),
    Stats(StatsArgs),
    /// Remove all stopped containers.
    Prune(PruneArgs),
    /// Execute a command in a running container.
    Exec(ExecArgs),
    Diff(ContainerArg),
    Export(ExportArgs),
    Cp(CpArgs),
    Update(UpdateArgs),
    /// Attach local standard input, output, and error streams to a running container.
    Attach(AttachArgs),
}
