//! `berth engine …`: without a subcommand, run the engine itself ([`serve`]); with one, manage
//! it from the client side: `status`, `stop`, `install`/`uninstall` (systemd units) and `env`
//! (point the docker CLI at berth). None of these start the engine.

pub mod env;
pub mod install;
pub mod probe;
pub mod serve;
pub mod status;
pub mod stop;
pub mod systemd;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::Ctx;

#[derive(Args, Debug)]
pub struct EngineArgs {
    /// Manage the engine instead of running it (the flags below are for running it).
    #[command(subcommand)]
    pub action: Option<EngineCmd>,
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
    /// Per-registry TLS trust: DIR/HOST[:PORT]/ holds CA certificates (*.crt) and a client
    /// certificate (*.cert + *.key), as docker's /etc/docker/certs.d does (also read, after this).
    #[arg(long, env = "BERTH_CERTS_DIR", default_value = "/etc/berth/certs.d")]
    pub certs_dir: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum EngineCmd {
    /// Show whether the engine runs: pid, uptime, version, socket, data root, containers.
    /// Exits 3 when nothing answers on the socket.
    Status(StatusArgs),
    /// Stop the engine gracefully (SIGTERM); containers keep running.
    Stop(StopArgs),
    /// Write berth.service and berth.socket for systemd and enable them (unless --no-enable).
    Install(InstallArgs),
    /// Stop and disable the systemd units, then remove them.
    Uninstall(UninstallArgs),
    /// Print `export DOCKER_HOST=unix://…` for the socket berth uses: eval "$(berth engine env)".
    Env,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// "json" prints one JSON object instead of the table.
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait for the engine to exit before killing it.
    #[arg(short = 't', long, default_value_t = 30)]
    pub timeout: u64,
    /// Data root whose engine.pid names the engine when the socket does not answer.
    #[arg(long, env = "BERTH_DATA_ROOT", default_value = berth_engine::config::DEFAULT_DATA_ROOT)]
    pub data_root: PathBuf,
}

#[derive(Args, Debug)]
pub struct InstallArgs {
    /// Directory the unit files are written to.
    #[arg(long, default_value = install::DEFAULT_UNIT_DIR)]
    pub unit_dir: PathBuf,
    /// Only write the units: no daemon-reload, enable or start.
    #[arg(long)]
    pub no_enable: bool,
}

#[derive(Args, Debug)]
pub struct UninstallArgs {
    /// Directory the unit files were written to.
    #[arg(long, default_value = install::DEFAULT_UNIT_DIR)]
    pub unit_dir: PathBuf,
}

pub async fn dispatch(ctx: &Ctx, cmd: EngineCmd) -> Result<i32> {
    match cmd {
        EngineCmd::Status(a) => status::status(ctx, a).await,
        EngineCmd::Stop(a) => stop::stop(ctx, a).await,
        EngineCmd::Install(a) => install::install(a).await,
        EngineCmd::Uninstall(a) => install::uninstall(a),
        EngineCmd::Env => env::env(ctx),
    }
}
