//! The arguments of the compose verbs that look at or act on a project's running containers
//! (`ps`, `ls`, `logs`, `top`, `port`, `images`, `events`, `exec`, `kill`, `pause`, `unpause`,
//! `rm`, `version`), flag for flag with docker compose v2.40.3.

use clap::Args;

#[derive(Args, Debug, Default)]
pub struct PsArgs {
    /// Show all stopped containers (including those created by the run command).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Format the output: table, json, or a Go template.
    #[arg(long)]
    pub format: Option<String>,
    /// Display services.
    #[arg(long)]
    pub services: bool,
    /// Only display IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Filter services by status (paused|restarting|removing|running|dead|created|exited).
    #[arg(long)]
    pub status: Vec<String>,
    /// Filter services by a property (status=...).
    #[arg(long)]
    pub filter: Vec<String>,
    /// Don't truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Include orphaned services (not declared by project).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_missing_value = "true")]
    pub orphans: bool,
    #[arg(value_name = "SERVICE")]
    pub service_names: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct LogsArgs {
    /// Follow log output.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs for each container.
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps.
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes).
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a timestamp or relative time.
    #[arg(long)]
    pub until: Option<String>,
    /// Produce monochrome output.
    #[arg(long)]
    pub no_color: bool,
    /// Don't print prefix in logs.
    #[arg(long)]
    pub no_log_prefix: bool,
    /// index of the container if service has multiple replicas.
    #[arg(long)]
    pub index: Option<u32>,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct ServicesArgs {
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct KillArgs {
    /// SIGNAL to send to the container.
    #[arg(short = 's', long, default_value = "SIGKILL")]
    pub signal: String,
    /// Remove containers for services not defined in the compose file.
    #[arg(long)]
    pub remove_orphans: bool,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct RmArgs {
    /// Don't ask to confirm removal.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Stop the containers, if required, before removing.
    #[arg(short = 's', long)]
    pub stop: bool,
    /// Remove any anonymous volumes attached to containers.
    #[arg(short = 'v', long)]
    pub volumes: bool,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct ExecArgs {
    /// Detached mode: Run command in the background.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Disable pseudo-TTY allocation. By default `exec` allocates a TTY.
    #[arg(short = 'T', long = "no-tty", alias = "no-TTY")]
    pub no_tty: bool,
    /// Keep STDIN open (always on; accepted as docker compose accepts it).
    #[arg(short = 'i', long, hide = true)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY (the default; accepted as docker compose accepts it).
    #[arg(short = 't', long, hide = true)]
    pub tty: bool,
    /// Give extended privileges to the process.
    #[arg(long)]
    pub privileged: bool,
    /// Run the command as this user.
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Path to workdir directory for this command.
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Index of the container if service has multiple replicas.
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    pub service: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct PortArgs {
    /// tcp or udp.
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// Index of the container if service has multiple replicas.
    #[arg(long, default_value_t = 0)]
    pub index: u32,
    pub service: String,
    pub private_port: String,
}

#[derive(Args, Debug, Default)]
pub struct ImagesArgs {
    /// Only display IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Format the output. Values: [table | json].
    #[arg(long)]
    pub format: Option<String>,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct EventsArgs {
    /// Output events as a stream of json objects.
    #[arg(long)]
    pub json: bool,
    /// Show all events created since timestamp.
    #[arg(long)]
    pub since: Option<String>,
    /// Stream events until this timestamp.
    #[arg(long)]
    pub until: Option<String>,
    pub services: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct LsArgs {
    /// Show all stopped Compose projects.
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Format the output. Values: [table | json].
    #[arg(long)]
    pub format: Option<String>,
    /// Only display project names.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Filter output based on conditions provided (name=...).
    #[arg(long)]
    pub filter: Vec<String>,
}

#[derive(Args, Debug, Default)]
pub struct VersionArgs {
    /// Format the output. Values: [pretty | json].
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Shows only Compose's version number.
    #[arg(long)]
    pub short: bool,
}
