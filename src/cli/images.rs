//! The `berth image …` subcommands (pull, push, save, load, import, ls, rm, tag, history,
//! prune); each command's flags live beside it in commands/.

use clap::Subcommand;

use super::{
    BuildArgs, FormatNames, HistoryArgs, ImagePruneArgs, ImagesArgs, ImportArgs, LoadArgs,
    PullArgs, PushArgs, RmiArgs, SaveArgs, TagArgs,
};

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
    /// Build an image from a Dockerfile.
    Build(Box<BuildArgs>),
    /// Save one or more images to a tar archive (streamed to STDOUT by default).
    Save(SaveArgs),
    /// Load an image from a tar archive or STDIN.
    Load(LoadArgs),
    /// Remove unused images (untagged ones; all unused with -a).
    Prune(ImagePruneArgs),
    /// Show the history of an image.
    History(HistoryArgs),
}
