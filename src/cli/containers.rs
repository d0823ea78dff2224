//! Flags of the container commands: run/create (their shared options), start, stop, kill, rm,
//! ps, logs, exec, cp, update and the rest of `berth container …`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

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

/// Flags shared by `run` and `create` (docker's container options). Numeric and size flags are
/// kept as text and parsed later so errors read exactly like docker's.
#[derive(Args, Debug, Default, Clone)]
pub struct ContainerOpts {
    #[arg(short = 'i', long)]
    pub interactive: bool,
    #[arg(short = 't', long)]
    pub tty: bool,
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    #[arg(long)]
    pub entrypoint: Option<String>,
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    #[arg(long)]
    pub memory_swap: Option<String>,
    #[arg(long)]
    pub cpus: Option<String>,
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<String>,
    #[arg(long)]
    pub cpu_quota: Option<String>,
    #[arg(long)]
    pub cpu_period: Option<String>,
    #[arg(long)]
    pub pids_limit: Option<String>,
    #[arg(long)]
    pub read_only: bool,
    #[arg(long, visible_alias = "net")]
    pub network: Option<String>,
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Publish a container's port(s) to the host ([ip:][hostPort:]containerPort[/proto]).
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports.
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports.
    #[arg(long)]
    pub expose: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip).
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    /// Set custom DNS servers.
    #[arg(long)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains.
    #[arg(long = "dns-search")]
    pub dns_search: Vec<String>,
    /// Set DNS options.
    #[arg(long = "dns-option")]
    pub dns_option: Vec<String>,
    /// Add a network-scoped alias for the container.
    #[arg(long = "network-alias")]
    pub network_alias: Vec<String>,
    /// IPv4 address on the container's user-defined network.
    #[arg(long)]
    pub ip: Option<String>,
    #[arg(long)]
    pub stop_signal: Option<String>,
    #[arg(long)]
    pub stop_timeout: Option<String>,
    #[arg(short = 'l', long = "label")]
    pub labels: Vec<String>,
    #[arg(long)]
    pub init: bool,
    #[arg(long)]
    pub restart: Option<String>,
    /// Command to run to check health.
    #[arg(long)]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s).
    #[arg(long, allow_hyphen_values = true)]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s).
    #[arg(long, allow_hyphen_values = true)]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy.
    #[arg(long, allow_hyphen_values = true)]
    pub health_retries: Option<String>,
    /// Start period for the container to initialize before starting health-retries countdown.
    #[arg(long, allow_hyphen_values = true)]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period.
    #[arg(long, allow_hyphen_values = true)]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK.
    #[arg(long)]
    pub no_healthcheck: bool,
    /// Attach to STDIN, STDOUT or STDERR.
    #[arg(short = 'a', long)]
    pub attach: Vec<String>,
    /// Automatically remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Bind mount a volume (NAME:/path, /host:/path[:ro], or /path for an anonymous volume).
    #[arg(short = 'v', long = "volume")]
    pub volumes: Vec<String>,
    /// Attach a filesystem mount to the container (type=volume|bind|tmpfs,...).
    #[arg(long = "mount")]
    pub mounts: Vec<String>,
    /// Mount a tmpfs directory (/path[:options]).
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Pull image before running ("always", "missing", "never").
    #[arg(long, default_value = "missing")]
    pub pull: String,
    /// Set platform if server is multi-platform capable.
    #[arg(long)]
    pub platform: Option<String>,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    pub image: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Run the container in the background and print its ID.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Proxy received signals to the process (non-TTY mode only).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container (default ctrl-p,ctrl-q).
    #[arg(long)]
    pub detach_keys: Option<String>,
    #[command(flatten)]
    pub opts: ContainerOpts,
}

#[derive(Args, Debug, Clone)]
pub struct CreateArgs {
    #[command(flatten)]
    pub opts: ContainerOpts,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    #[arg(short = 'a', long)]
    pub attach: bool,
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container (default ctrl-p,ctrl-q).
    #[arg(long)]
    pub detach_keys: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Do not attach STDIN.
    #[arg(long)]
    pub no_stdin: bool,
    /// Proxy all received signals to the process (non-TTY mode only).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container (default ctrl-p,ctrl-q).
    #[arg(long)]
    pub detach_keys: Option<String>,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait before killing the container.
    #[arg(short = 't', long, visible_alias = "timeout")]
    pub time: Option<String>,
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TopArgs {
    pub container: String,
    /// ps options (only the default `-ef` listing is supported by the engine).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    #[arg(short = 's', long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct PsArgs {
    #[arg(short = 'a', long)]
    pub all: bool,
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Show n last created containers (includes all states).
    #[arg(short = 'n', long)]
    pub last: Option<String>,
    /// Show the latest created container (includes all states).
    #[arg(short = 'l', long)]
    pub latest: bool,
    #[arg(short = 'f', long = "filter")]
    pub filters: Vec<String>,
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(long)]
    pub format: Option<String>,
    /// Display total file sizes.
    #[arg(short = 's', long)]
    pub size: bool,
}

#[derive(Args, Debug, Default)]
pub struct StatsArgs {
    /// Show all containers (default shows just running).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result.
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output: table, json, or a Go template.
    #[arg(long)]
    pub format: Option<String>,
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    #[arg(short = 'f', long)]
    pub follow: bool,
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    #[arg(short = 't', long)]
    pub timestamps: bool,
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long)]
    pub until: Option<String>,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Show all events created since timestamp.
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp.
    #[arg(long)]
    pub until: Option<String>,
    /// Filter output based on conditions provided (key=value).
    #[arg(short = 'f', long = "filter")]
    pub filters: Vec<String>,
    /// Format output: "json" or a Go template.
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Only inspect objects of this type (container, image).
    #[arg(long = "type")]
    pub kind: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct FormatNames {
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ContainersArg {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ContainerArg {
    pub container: String,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Write to a file instead of STDOUT.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information).
    #[arg(short = 'a', long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH.
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// CONTAINER:SRC_PATH, a local path, or - (a tar on stdin).
    #[arg(allow_hyphen_values = true)]
    pub src: String,
    /// CONTAINER:DEST_PATH, a local path, or - (a tar on stdout).
    #[arg(allow_hyphen_values = true)]
    pub dest: String,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// Number of CPUs.
    #[arg(long)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<i64>,
    /// Limit CPU CFS period.
    #[arg(long)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS quota.
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// Memory limit.
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap.
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Tune container pids limit (set -1 for unlimited).
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Restart policy to apply when a container exits.
    #[arg(long)]
    pub restart: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RenameArgs {
    pub container: String,
    pub new_name: String,
}

#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Detached mode: run command in the background.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Username or UID (format: "<name|uid>[:<group|gid>]").
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Give extended privileges to the command.
    #[arg(long)]
    pub privileged: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long)]
    pub detach_keys: Option<String>,
    pub container: String,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(long = "filter")]
    pub filters: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortArgs {
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    pub port: Option<String>,
}
