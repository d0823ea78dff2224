//! `berth compose`'s command line, flag for flag with docker compose v2 where berth implements
//! the behaviour (the flags of features berth does not have, such as `--dry-run` or `watch`,
//! are not offered rather than accepted and ignored).

use clap::{Args, Subcommand};

use crate::compose::options::ProjectFlags;

// The verbs that look at or act on what runs (ps, logs, exec, kill…) have their own file.
#[path = "args_running.rs"]
mod running;
pub use running::*;

/// The project flags go before the verb and only there, as docker compose's (`docker compose
/// ps -p x` is refused): after it, verbs give `-f` and `-p` their own meaning (`logs -f`,
/// `rm -f`, `run -p`).
#[derive(Args, Debug)]
pub struct ComposeArgs {
    /// Compose configuration files (default: compose.yaml & co. in this or a parent directory).
    #[arg(short = 'f', long = "file")]
    pub files: Vec<String>,
    /// Project name.
    #[arg(short = 'p', long = "project-name")]
    pub project_name: Option<String>,
    /// Profiles to enable.
    #[arg(long = "profile")]
    pub profiles: Vec<String>,
    /// Alternate environment files.
    #[arg(long = "env-file")]
    pub env_files: Vec<String>,
    /// Alternate working directory (default: the directory of the first compose file).
    #[arg(long = "project-directory")]
    pub project_directory: Option<String>,
    #[command(subcommand)]
    pub command: ComposeCmd,
}

impl ComposeArgs {
    pub fn project_flags(&self) -> ProjectFlags {
        ProjectFlags {
            files: self.files.clone(),
            project_name: self.project_name.clone(),
            profiles: self.profiles.clone(),
            env_files: self.env_files.clone(),
            project_directory: self.project_directory.clone(),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ComposeCmd {
    /// Create and start containers.
    Up(UpArgs),
    /// Stop and remove containers, networks (with -v volumes, with --rmi images).
    Down(DownArgs),
    /// Create containers for services.
    Create(CreateArgs),
    /// Start services.
    Start(ServicesArgs),
    /// Stop services.
    Stop(TimeoutArgs),
    /// Restart service containers.
    Restart(RestartArgs),
    /// Build or rebuild services.
    Build(BuildArgs),
    /// Pull service images.
    Pull(PullArgs),
    /// Push service images.
    Push(PushArgs),
    /// Run a one-off command on a service.
    Run(RunArgs),
    /// Parse, resolve and render the compose file in canonical format.
    Config(ConfigArgs),
    /// Receive real time events from containers.
    Events(EventsArgs),
    /// Execute a command in a running container.
    Exec(ExecArgs),
    /// List images used by the created containers.
    Images(ImagesArgs),
    /// Force stop service containers.
    Kill(KillArgs),
    /// View output from containers.
    Logs(LogsArgs),
    /// List running compose projects.
    Ls(LsArgs),
    /// Pause services.
    Pause(ServicesArgs),
    /// Print the public port for a port binding.
    Port(PortArgs),
    /// List containers.
    Ps(PsArgs),
    /// Removes stopped service containers.
    Rm(RmArgs),
    /// Display the running processes.
    Top(ServicesArgs),
    /// Unpause services.
    Unpause(ServicesArgs),
    /// Show the Docker Compose version information.
    Version(VersionArgs),
}

#[derive(Args, Debug, Default, Clone)]
pub struct UpArgs {
    /// Detached mode: run containers in the background.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Build images before starting containers.
    #[arg(long)]
    pub build: bool,
    /// Don't build an image, even if it's policy.
    #[arg(long, conflicts_with = "build")]
    pub no_build: bool,
    /// Pull image before running ("always"|"missing"|"never").
    #[arg(long, value_parser = ["always", "missing", "never", "build"])]
    pub pull: Option<String>,
    /// Recreate containers even if their configuration and image haven't changed.
    #[arg(long)]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them.
    #[arg(long, conflicts_with = "force_recreate")]
    pub no_recreate: bool,
    /// Remove containers for services not defined in the compose file.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Wait for services to be running|healthy. Implies detached mode.
    #[arg(long)]
    pub wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy.
    #[arg(long)]
    pub wait_timeout: Option<u64>,
    /// Scale SERVICE to NUM instances. Overrides the `scale` setting in the compose file.
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Don't start linked services.
    #[arg(long)]
    pub no_deps: bool,
    /// Don't start the services after creating them.
    #[arg(long)]
    pub no_start: bool,
    /// Use this timeout in seconds for container shutdown when attached or when containers are
    /// already running.
    #[arg(short = 't', long)]
    pub timeout: Option<i64>,
    /// Stops all containers if any container was stopped. Incompatible with -d.
    #[arg(long, conflicts_with = "detach")]
    pub abort_on_container_exit: bool,
    /// Return the exit code of the selected service container. Implies --abort-on-container-exit.
    #[arg(long, conflicts_with = "detach")]
    pub exit_code_from: Option<String>,
    /// Restrict attaching to the specified services.
    #[arg(long)]
    pub attach: Vec<String>,
    /// Do not attach (stream logs) to the specified services.
    #[arg(long)]
    pub no_attach: Vec<String>,
    /// Produce monochrome output.
    #[arg(long)]
    pub no_color: bool,
    /// Don't print prefix in logs.
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Show timestamps.
    #[arg(long)]
    pub timestamps: bool,
    /// Recreate anonymous volumes instead of retrieving data from the previous containers.
    #[arg(short = 'V', long)]
    pub renew_anon_volumes: bool,
    /// Recreate dependent containers. Incompatible with --no-recreate.
    #[arg(long)]
    pub always_recreate_deps: bool,
    /// Pull without printing progress information.
    #[arg(long)]
    pub quiet_pull: bool,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section of the compose file and anonymous
    /// volumes attached to containers.
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Remove images used by services: "local" only those without a custom tag, "all" all.
    #[arg(long, value_parser = ["local", "all"])]
    pub rmi: Option<String>,
    /// Remove containers for services not defined in the compose file.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Specify a shutdown timeout in seconds.
    #[arg(short = 't', long)]
    pub timeout: Option<i64>,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct BuildArgs {
    /// Do not use cache when building the image.
    #[arg(long)]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the image.
    #[arg(long)]
    pub pull: bool,
    /// Don't print anything to STDOUT.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Set build-time variables for services.
    #[arg(long = "build-arg")]
    pub build_args: Vec<String>,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct PullArgs {
    /// Pull without printing progress information.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Pull what it can and ignores images with pull failures.
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// Also pull services declared as dependencies.
    #[arg(long)]
    pub include_deps: bool,
    /// Apply pull policy ("missing"|"always").
    #[arg(long, value_parser = ["missing", "always"])]
    pub policy: Option<String>,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct PushArgs {
    /// Push what it can and ignores images with push failures.
    #[arg(long)]
    pub ignore_push_failures: bool,
    /// Also push images of services declared as dependencies.
    #[arg(long)]
    pub include_deps: bool,
    /// Push without printing progress information.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct ConfigArgs {
    /// Format the output. Values: [yaml | json].
    #[arg(long, value_parser = ["yaml", "json"])]
    pub format: Option<String>,
    /// Only validate the configuration, don't print anything.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Print the service names, one per line.
    #[arg(long)]
    pub services: bool,
    /// Print the volume names, one per line.
    #[arg(long)]
    pub volumes: bool,
    /// Print the network names, one per line.
    #[arg(long)]
    pub networks: bool,
    /// Print the profile names, one per line.
    #[arg(long = "profiles", id = "list_profiles")]
    pub profiles: bool,
    /// Print the image names, one per line.
    #[arg(long)]
    pub images: bool,
    /// Print the service config hash, one per line ("*" for every service).
    #[arg(long)]
    pub hash: Option<String>,
    /// Save to file (default to stdout).
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    pub services_filter: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct CreateArgs {
    /// Build images before starting containers.
    #[arg(long)]
    pub build: bool,
    /// Don't build an image, even if it's policy.
    #[arg(long, conflicts_with = "build")]
    pub no_build: bool,
    /// Recreate containers even if their configuration and image haven't changed.
    #[arg(long)]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them.
    #[arg(long, conflicts_with = "force_recreate")]
    pub no_recreate: bool,
    /// Pull image before running ("always"|"missing"|"never").
    #[arg(long, value_parser = ["always", "missing", "never", "build"])]
    pub pull: Option<String>,
    /// Remove containers for services not defined in the compose file.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances.
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct TimeoutArgs {
    /// Specify a shutdown timeout in seconds.
    #[arg(short = 't', long)]
    pub timeout: Option<i64>,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct RestartArgs {
    /// Specify a shutdown timeout in seconds.
    #[arg(short = 't', long)]
    pub timeout: Option<i64>,
    /// Don't restart dependent services.
    #[arg(long)]
    pub no_deps: bool,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct RunArgs {
    /// Run container in background and print container ID.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Automatically remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Add or override a label.
    #[arg(short = 'l', long = "label")]
    pub labels: Vec<String>,
    /// Assign a name to the container.
    #[arg(long)]
    pub name: Option<String>,
    /// Don't start linked services.
    #[arg(long)]
    pub no_deps: bool,
    /// Run command with all service's ports enabled and mapped to the host.
    #[arg(long)]
    pub service_ports: bool,
    /// Publish a container's port(s) to the host.
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Override the entrypoint of the image.
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Disable pseudo-TTY allocation (default: auto-detected).
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Run as specified username or uid.
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Bind mount a volume.
    #[arg(short = 'v', long = "volume")]
    pub volumes: Vec<String>,
    /// Build image before starting container.
    #[arg(long)]
    pub build: bool,
    /// Pull image before running ("always"|"missing"|"never").
    #[arg(long, value_parser = ["always", "missing", "never"])]
    pub pull: Option<String>,
    /// Use the service's network aliases in the network(s) the container connects to.
    #[arg(long)]
    pub use_aliases: bool,
    /// Remove containers for services not defined in the compose file.
    #[arg(long)]
    pub remove_orphans: bool,
    pub service: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}
