//! Flags of the image commands: pull, push, save, load, import, images, rmi, tag, history, prune,
//! and registry logins.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::FormatNames;

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
