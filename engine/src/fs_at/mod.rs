//! One home for fd-relative filesystem code: everything the engine does inside a directory it does
//! not trust (a container's root, an uploaded tar's destination, a layer being extracted, an
//! overlay upper dir) goes through here, so the rules against symlink and `..` escapes are written
//! once.
//!
//! Two ways of reaching an object below a root fd, each for its own job:
//! - [`in_root`]: openat2(2) with RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, for paths that must resolve
//!   as the container sees them (symlinks followed, but clamped to the root, `..` too). The
//!   container init (mount targets), `docker cp` path resolution and copy-up use it.
//! - [`beneath`]: a walk one component at a time with O_NOFOLLOW|O_DIRECTORY, for writing and
//!   reading trees (tar extraction, archiving, layer diffs): no symlink is ever followed, a symlink
//!   or non-directory where a directory is expected fails with ELOOP/ENOTDIR, and names that would
//!   climb above the root are refused before any syscall ([`beneath::clean_components`]).
//!
//! [`remove`] deletes by fd and name without following symlinks, and [`at`] holds the thin `*at`
//! syscall wrappers (every open O_CLOEXEC, every stat, chown and utimes AT_SYMLINK_NOFOLLOW) both
//! build on.

pub mod at;
pub mod beneath;
pub mod in_root;
pub mod remove;

#[cfg(test)]
mod tests;

pub use at::*;
