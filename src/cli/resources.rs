//! The `berth network …`, `berth volume …` and `berth system …` subcommands; each command's
//! flags live beside it in commands/.

use clap::Subcommand;

use super::{
    FormatNames, NetworkConnectArgs, NetworkCreateArgs, NetworkDisconnectArgs, NetworkLsArgs,
    NetworkPruneArgs, NetworkRmArgs, SystemCheckArgs, SystemDfArgs, VolumeCreateArgs, VolumeLsArgs,
    VolumePruneArgs, VolumeRmArgs,
};

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
