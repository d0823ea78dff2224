//! The flags of `run`, `create` and `start`: docker's container options, shared by run and
//! create, kept as text where docker's own parse errors must be repeated word for word.

use std::path::PathBuf;

use clap::Args;

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
