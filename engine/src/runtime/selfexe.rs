//! The binary the engine execs shims from.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::error::{EngineError, IoContext, Result};

/// A sealed, read-only memfd copy of our own binary (CVE-2019-5736): a process inside a container
/// that reaches the shim's /proc/PID/exe finds an immutable copy, never the host file.
///
/// The memfd stays open as long as this value lives (keep it for the engine's lifetime); it is
/// O_CLOEXEC, which does not stop exec of `/proc/self/fd/N` for an ELF binary: the kernel opens
/// the file before the close-on-exec fds are closed.
#[derive(Debug)]
pub struct ShimExecutable {
    path: PathBuf,
    _fd: OwnedFd,
}

impl ShimExecutable {
    /// Make the sealed copy of /proc/self/exe once at engine start.
    pub fn create() -> Result<Self> {
        Self::from_file(Path::new("/proc/self/exe"))
    }

    /// Make a sealed copy of another berth binary (tests, which run from a test harness binary).
    pub fn from_file(source: &Path) -> Result<Self> {
        let ctx = || format!("copying {} into a sealed memfd", source.display());
        let mut src = File::open(source).io_context(ctx)?;
        // SAFETY: plain syscall with a valid NUL-terminated name.
        let raw = unsafe {
            libc::memfd_create(
                c"berth-shim".as_ptr(),
                libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
            )
        };
        if raw < 0 {
            return Err(std::io::Error::last_os_error()).io_context(ctx);
        }
        // SAFETY: memfd_create returned a fresh fd that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        {
            let mut dst = File::from(fd.try_clone().io_context(ctx)?);
            std::io::copy(&mut src, &mut dst).io_context(ctx)?;
        }
        let seals =
            libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
        // SAFETY: fcntl on an fd we own.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
            return Err(std::io::Error::last_os_error()).io_context(ctx);
        }
        // SAFETY: as above; reading the seals back proves they are in place.
        let got = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
        if got < 0 || got & seals != seals {
            return Err(EngineError::internal(format!(
                "{}: seals not applied",
                ctx()
            )));
        }
        Ok(ShimExecutable {
            path: PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd())),
            _fd: fd,
        })
    }

    /// Path to exec (e.g. "/proc/self/fd/N" of the memfd).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// argv[1] that selects the hidden shim mode of the berth binary; argv[2] is the container dir.
pub const SHIM_ARG: &str = "__berth-shim";

/// argv[1] that selects the hidden `docker exec` helper mode (see `runtime::exec_helper`).
pub const EXEC_ARG: &str = "__berth-exec";

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn sealed_copy_matches_and_cannot_be_written() {
        let exe = ShimExecutable::create().unwrap();
        let original = std::fs::read("/proc/self/exe").unwrap();
        let copy = std::fs::read(exe.path()).unwrap();
        assert_eq!(original, copy);

        // Reopening the memfd for writing works (it is a file), but every write is refused.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(exe.path())
            .unwrap();
        let err = f.write_all(b"x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
        assert!(f.set_len(0).is_err());
        assert!(f.set_len(copy.len() as u64 + 1).is_err());
        // No seal can be removed and no write mapping made.
        let ret = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_ADD_SEALS, 0) };
        assert!(ret < 0);
    }

    #[test]
    fn sealed_copy_executes_via_proc_fd() {
        // An ELF copy in a CLOEXEC memfd must still be executable through /proc/self/fd/N.
        let exe = ShimExecutable::from_file(Path::new("/bin/true")).unwrap();
        let meta = std::fs::metadata(exe.path()).unwrap();
        assert!(meta.permissions().mode() & 0o111 != 0);
        let status = std::process::Command::new(exe.path()).status().unwrap();
        assert!(status.success());
    }
}
