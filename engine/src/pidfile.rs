//! `<data-root>/engine.pid`: which process is the engine of a data root.
//!
//! Contents, one value per line:
//!
//! ```text
//! 12345
//! /run/berth/berth.sock
//! ```
//!
//! Line 1 is the engine's pid, line 2 the socket it serves (the inherited one when socket
//! activated). The file is written atomically right after the data-root lock is taken, so it
//! always names the lock holder, and removed on a clean shutdown. A `kill -9` leaves a stale
//! file behind, which the next engine overwrites; readers must check the pid is alive.
//! `berth engine status` and `berth engine stop` read it when the API cannot tell them the pid.

use std::path::{Path, PathBuf};

use crate::error::Result;

pub const FILE_NAME: &str = "engine.pid";

pub fn path_in(data_root: &Path) -> PathBuf {
    data_root.join(FILE_NAME)
}

/// What a pid file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidFileContents {
    pub pid: u32,
    pub socket: Option<PathBuf>,
}

impl PidFileContents {
    pub fn render(&self) -> String {
        match &self.socket {
            Some(s) => format!("{}\n{}\n", self.pid, s.display()),
            None => format!("{}\n", self.pid),
        }
    }

    /// `None` when the first line is not a pid (an empty or foreign file).
    pub fn parse(text: &str) -> Option<PidFileContents> {
        let mut lines = text.lines();
        let pid = lines
            .next()?
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|p| *p > 0)?;
        let socket = lines
            .next()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        Some(PidFileContents { pid, socket })
    }
}

/// Read the pid file of `data_root`; `Ok(None)` when there is none or it is not a pid file.
pub fn read(data_root: &Path) -> std::io::Result<Option<PidFileContents>> {
    match std::fs::read_to_string(path_in(data_root)) {
        Ok(text) => Ok(PidFileContents::parse(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The pid file of the running engine; dropping it removes the file (clean shutdown, or a
/// start-up that failed after the lock was taken).
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Write this process's pid file. The caller must hold the data-root lock.
    pub fn write(data_root: &Path, socket: &Path) -> Result<PidFile> {
        let path = path_in(data_root);
        let contents = PidFileContents {
            pid: std::process::id(),
            socket: Some(socket.to_path_buf()),
        };
        crate::store::atomic::write_atomic(&path, contents.render().as_bytes())?;
        Ok(PidFile { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only our own: the lock makes another writer impossible, but a hand-edited file is
        // not ours to delete.
        let ours = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| PidFileContents::parse(&t))
            .is_some_and(|c| c.pid == std::process::id());
        if ours {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot remove the pid file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pid_and_socket() {
        assert_eq!(
            PidFileContents::parse("42\n/run/berth/berth.sock\n"),
            Some(PidFileContents {
                pid: 42,
                socket: Some("/run/berth/berth.sock".into())
            })
        );
        assert_eq!(
            PidFileContents::parse(" 7 \n"),
            Some(PidFileContents {
                pid: 7,
                socket: None
            })
        );
    }

    #[test]
    fn rejects_what_is_not_a_pid() {
        for text in ["", "\n", "abc\n/x", "0\n", "-3\n", "12x\n"] {
            assert_eq!(PidFileContents::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn render_round_trips() {
        let c = PidFileContents {
            pid: 99,
            socket: Some("/tmp/a b.sock".into()),
        };
        assert_eq!(PidFileContents::parse(&c.render()), Some(c));
    }

    #[test]
    fn written_then_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let file = PidFile::write(dir.path(), Path::new("/tmp/s.sock")).unwrap();
        let read_back = read(dir.path()).unwrap().unwrap();
        assert_eq!(read_back.pid, std::process::id());
        assert_eq!(read_back.socket.as_deref(), Some(Path::new("/tmp/s.sock")));
        drop(file);
        assert!(!path_in(dir.path()).exists());
        assert_eq!(read(dir.path()).unwrap(), None);
    }
}
