//! Command-line surface (clap derive): the dashboard (no command), `engine`, and the docker-like
//! headless commands, plus exit-code policy.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::client::{self, ConnectError, DaemonError};
use crate::commands;

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
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run the engine service (serves the Docker Engine API on a unix socket), or manage it:
    /// status, stop, install, uninstall, env.
    #[command(args_conflicts_with_subcommands = true)]
    Engine(EngineArgs),
    /// Show the client and engine versions.
    Version,
    /// Display system-wide information.
    Info,
    /// Import a tarball to create a filesystem image.
    Import(ImportArgs),
    /// Download an image from a registry.
    Pull(PullArgs),
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

#[derive(Args, Debug)]
pub struct CompletionArgs {
    /// The shell: bash, zsh or fish.
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write berth.1 and berth-COMMAND.1 for every command into DIR instead of printing berth.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum VolumeCmd {
    /// Create a volume.
    Create(VolumeCreateArgs),
    /// List volumes.
    #[command(visible_alias = "list")]
    Ls(VolumeLsArgs),
    /// Display detailed information on one or more volumes.
    Inspect(FormatNames),
    /// Remove one or more volumes.
    #[command(visible_alias = "remove")]
    Rm(VolumeRmArgs),
    /// Remove unused local volumes.
    Prune(VolumePruneArgs),
}

#[derive(Subcommand, Debug)]
pub enum SystemCmd {
    /// Show engine disk usage.
    Df(SystemDfArgs),
    /// Re-verify the image store: blob digests, images' configs, manifests and layers, orphans.
    Check(SystemCheckArgs),
}

#[derive(Args, Debug)]
pub struct SystemCheckArgs {
    /// Remove broken images (with their tags), corrupt blobs and orphaned blobs and layers.
    #[arg(long)]
    pub repair: bool,
    /// "json" prints the engine's report as JSON.
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct VolumeCreateArgs {
    pub name: Option<String>,
    /// Specify volume name.
    #[arg(long = "name")]
    pub name_flag: Option<String>,
    /// Specify volume driver name.
    #[arg(short = 'd', long, default_value = "local")]
    pub driver: String,
    /// Set driver specific options.
    #[arg(short = 'o', long = "opt")]
    pub opts: Vec<String>,
    /// Set metadata for a volume.
    #[arg(long = "label")]
    pub labels: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeLsArgs {
    /// Only display volume names.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(short = 'f', long = "filter")]
    pub filters: Vec<String>,
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct VolumeRmArgs {
    /// Force the removal of one or more volumes.
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(required = true)]
    pub volumes: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumePruneArgs {
    /// Remove all unused volumes, not just anonymous ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(long = "filter")]
    pub filters: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SystemDfArgs {
    /// Show detailed information on space usage.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[arg(long)]
    pub format: Option<String>,
}

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

#[derive(Subcommand, Debug)]
pub enum ImageCmd {
    /// List images.
    #[command(visible_alias = "list")]
    Ls(ImagesArgs),
    /// Display detailed information on one or more images.
    Inspect(FormatNames),
    /// Remove one or more images.
    Rm(RmiArgs),
    Tag(TagArgs),
    Import(ImportArgs),
    /// Upload an image to a registry.
    Push(PushArgs),
    /// Download an image from a registry.
    Pull(PullArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default).
    Save(SaveArgs),
    /// Load an image from a tar archive or STDIN.
    Load(LoadArgs),
    /// Remove unused images (untagged ones; all unused with -a).
    Prune(ImagePruneArgs),
    /// Show the history of an image.
    History(HistoryArgs),
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Server (default: Docker Hub).
    pub server: Option<String>,
    /// Username.
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password (insecure: prefer --password-stdin).
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Take the password from stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Server (default: Docker Hub).
    pub server: Option<String>,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    pub image: String,
    /// Print sizes and dates in human readable format (--human=false for raw values).
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub human: bool,
    /// Only show image IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output using a custom template ('table', 'json' or a Go template).
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct PullArgs {
    /// NAME[:TAG|@DIGEST]
    pub image: String,
    /// Download all tagged images in the repository.
    #[arg(short = 'a', long)]
    pub all_tags: bool,
    /// Set platform if server is multi-platform capable (os[/arch[/variant]]).
    #[arg(long, env = "DOCKER_DEFAULT_PLATFORM")]
    pub platform: Option<String>,
    /// Suppress verbose output.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ImagePruneArgs {
    /// Remove all images not used by a container, not just untagged ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Filter values (until=<timestamp>, label=<key>[=<value>]).
    #[arg(long)]
    pub filter: Vec<String>,
}

#[derive(Args, Debug)]
pub struct EngineArgs {
    /// Manage the engine instead of running it (the flags below are for running it).
    #[command(subcommand)]
    pub action: Option<commands::engine::EngineCmd>,
    /// Socket to serve (ignored when a service manager passes one: socket activation).
    #[arg(long, default_value = berth_engine::config::DEFAULT_SOCKET)]
    pub socket: PathBuf,
    #[arg(long, env = "BERTH_DATA_ROOT", default_value = berth_engine::config::DEFAULT_DATA_ROOT)]
    pub data_root: PathBuf,
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Name of the default bridge (at most 15 characters).
    #[arg(long, env = "BERTH_BRIDGE_NAME", default_value = "berth0")]
    pub bridge_name: String,
    /// Subnet of the default bridge.
    #[arg(long, env = "BERTH_BRIDGE_SUBNET", default_value = "10.201.0.0/16")]
    pub bridge_subnet: String,
    /// Pool that user networks get their subnets from (one /24 each).
    #[arg(long, env = "BERTH_NETWORK_POOL", default_value = "10.202.0.0/16")]
    pub network_pool: String,
    /// Name of the engine's nftables table.
    #[arg(long, env = "BERTH_NFT_TABLE", default_value = "berth")]
    pub nft_table: String,
    /// MTU of bridges and container interfaces (networks can override it with
    /// com.docker.network.driver.mtu; docker's default is 1500).
    #[arg(long, env = "BERTH_MTU", default_value_t = berth_engine::network::DEFAULT_MTU)]
    pub mtu: u32,
    /// Remove this engine's bridges, namespaces and nftables table, then exit (uninstall, tests).
    #[arg(long)]
    pub cleanup_networking: bool,
    /// Registry (HOST[:PORT]) reached without TLS verification, or plain HTTP (repeatable; also
    /// BERTH_INSECURE_REGISTRIES, comma separated).
    #[arg(long = "insecure-registry")]
    pub insecure_registries: Vec<String>,
    /// Mirror URL for docker.io pulls (repeatable, tried in order).
    #[arg(long = "registry-mirror")]
    pub registry_mirrors: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN.
    #[arg(short = 'i', long)]
    pub input: Option<PathBuf>,
    /// Suppress the load output.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Tarball path, or - for stdin.
    pub file: String,
    /// Repository and optional tag for the new image.
    pub reference: Option<String>,
    /// Apply a Dockerfile instruction to the created image.
    #[arg(short = 'c', long = "change")]
    pub changes: Vec<String>,
    /// Commit message for the imported image.
    #[arg(short = 'm', long)]
    pub message: Option<String>,
}

#[derive(Args, Debug, Default)]
pub struct ImagesArgs {
    /// Repository to list (optionally REPO:TAG).
    pub reference: Option<String>,
    /// Show all images (default hides intermediate images).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only show image IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Show digests.
    #[arg(long)]
    pub digests: bool,
    #[arg(short = 'f', long = "filter")]
    pub filters: Vec<String>,
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct RmiArgs {
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(long)]
    pub no_prune: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// NAME[:TAG]
    pub image: String,
    /// Push all tags of the repository.
    #[arg(short = 'a', long = "all-tags")]
    pub all_tags: bool,
    /// Print only the pushed reference.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Layer compression for layers stored uncompressed: gzip (default) or zstd.
    #[arg(long)]
    pub compression: Option<String>,
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

/// An error that carries its own exit status; `message` (if any) is printed as is.
#[derive(Debug)]
pub struct ExitError {
    pub code: i32,
    pub message: Option<String>,
}

impl std::fmt::Display for ExitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(m) => f.write_str(m),
            None => write!(f, "exit status {}", self.code),
        }
    }
}

impl std::error::Error for ExitError {}

impl ExitError {
    pub fn with(code: i32, message: impl Into<String>) -> anyhow::Error {
        ExitError {
            code,
            message: Some(message.into()),
        }
        .into()
    }

    pub fn silent(code: i32) -> anyhow::Error {
        ExitError {
            code,
            message: None,
        }
        .into()
    }
}

/// docker's wording for a bad flag value (exit 125), kept to one line: `berth CMD --help` is
/// where the usage lives.
pub fn flag_error(cmd: &str, flag: &str, value: &str, why: &str) -> anyhow::Error {
    ExitError::with(
        125,
        format!("berth {cmd}: invalid argument \"{value}\" for \"{flag}\" flag: {why}"),
    )
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
            Ok(socket) => report(crate::dashboard::run(socket, !cli.no_autostart), 1),
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

#[derive(Subcommand, Debug)]
pub enum NetworkCmd {
    /// List networks.
    #[command(visible_alias = "list")]
    Ls(NetworkLsArgs),
    /// Create a network.
    Create(NetworkCreateArgs),
    /// Display detailed information on one or more networks.
    Inspect(FormatNames),
    /// Remove one or more networks.
    #[command(visible_alias = "remove")]
    Rm(NetworkRmArgs),
    /// Connect a container to a network.
    Connect(NetworkConnectArgs),
    /// Disconnect a container from a network.
    Disconnect(NetworkDisconnectArgs),
    /// Remove all unused networks.
    Prune(NetworkPruneArgs),
}

#[derive(Args, Debug)]
pub struct NetworkLsArgs {
    #[arg(short = 'f', long)]
    pub filter: Vec<String>,
    #[arg(long)]
    pub format: Option<String>,
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct NetworkCreateArgs {
    #[arg(short = 'd', long)]
    pub driver: Option<String>,
    #[arg(long)]
    pub subnet: Vec<String>,
    #[arg(long)]
    pub gateway: Vec<String>,
    /// Restrict external access to the network.
    #[arg(long)]
    pub internal: bool,
    #[arg(long)]
    pub attachable: bool,
    #[arg(long)]
    pub label: Vec<String>,
    #[arg(short = 'o', long)]
    pub opt: Vec<String>,
    pub name: String,
}

#[derive(Args, Debug)]
pub struct NetworkRmArgs {
    #[arg(required = true)]
    pub networks: Vec<String>,
}

#[derive(Args, Debug)]
pub struct NetworkConnectArgs {
    #[arg(long)]
    pub alias: Vec<String>,
    #[arg(long)]
    pub ip: Option<String>,
    pub network: String,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct NetworkDisconnectArgs {
    #[arg(short = 'f', long)]
    pub force: bool,
    pub network: String,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct NetworkPruneArgs {
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(long)]
    pub filter: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortArgs {
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    pub port: Option<String>,
}
