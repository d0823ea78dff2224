//! Flags of the network, volume and system commands, and of `berth engine` itself.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::FormatNames;
use crate::commands;

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
