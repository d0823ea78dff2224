//! The dashboard's own file system work, for importing images from files: completing a typed
//! path and telling what kind of archive a file is. Dialogs ask for it with `Effect::Files`; the
//! session runs it on a blocking thread (a slow or network-mounted directory never freezes the
//! screen) and the answer comes back as `Msg::Files`, tagged with the text it was asked about so
//! a late answer to text the user has since changed is dropped.

pub mod complete;
pub mod sniff;

use std::path::{Path, PathBuf};

pub use complete::Completion;
pub use sniff::{Archive, ArchiveKind, Compression};

#[derive(Debug, Clone, PartialEq)]
pub enum FileRequest {
    /// Complete the path typed so far (Tab in a path prompt).
    Complete { typed: String },
    /// Open the file and tell an image archive from a rootfs tarball.
    Inspect { typed: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum FileAnswer {
    Completed {
        typed: String,
        result: Result<Completion, String>,
    },
    Inspected {
        typed: String,
        result: Result<Archive, String>,
    },
}

/// Carries out a request (blocking: directory reads, file reads).
pub fn run(req: FileRequest) -> FileAnswer {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let answer = match req {
        FileRequest::Complete { typed } => FileAnswer::Completed {
            result: complete::complete(&typed, home.as_deref(), &cwd),
            typed,
        },
        FileRequest::Inspect { typed } => FileAnswer::Inspected {
            result: sniff::inspect(&expand(&typed, home.as_deref(), &cwd)),
            typed,
        },
    };
    tracing::debug!(?answer, "file request answered");
    answer
}

/// The path a typed text means: `~` and `~/…` are the home directory, relative paths start at
/// the dashboard's working directory. Surrounding spaces and quotes (a pasted path) are dropped.
pub fn expand(typed: &str, home: Option<&Path>, cwd: &Path) -> PathBuf {
    let t = typed.trim();
    let t = t
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| t.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
        .unwrap_or(t);
    if let Some(home) = home {
        if t == "~" {
            return home.to_path_buf();
        }
        if let Some(rest) = t.strip_prefix("~/") {
            return home.join(rest);
        }
    }
    cwd.join(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_home_and_relative_paths() {
        let home = Path::new("/home/ann");
        let cwd = Path::new("/work");
        assert_eq!(expand("~", Some(home), cwd), PathBuf::from("/home/ann"));
        assert_eq!(
            expand("~/images/a.tar", Some(home), cwd),
            PathBuf::from("/home/ann/images/a.tar")
        );
        assert_eq!(
            expand("a.tar", Some(home), cwd),
            PathBuf::from("/work/a.tar")
        );
        assert_eq!(expand("/abs/a.tar", None, cwd), PathBuf::from("/abs/a.tar"));
        assert_eq!(
            expand(" '/with space/a.tar' ", None, cwd),
            PathBuf::from("/with space/a.tar")
        );
        // Without a home, "~" is a name like any other.
        assert_eq!(expand("~/x", None, cwd), PathBuf::from("/work/~/x"));
    }
}
