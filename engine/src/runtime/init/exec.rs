//! Stdio, environment, working directory, executable lookup and the final execve.

use std::ffi::CString;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::user::Identity;
use super::{ErrnoCtx, InitError, InitResult, InitStdio};
use crate::fs_at::in_root::mkdir_all_in_root;
use crate::runtime::defaults::DEFAULT_PATH;

/// New session; with a TTY make it our controlling terminal; stdio onto 0, 1, 2.
pub fn setup_stdio(stdio: InitStdio) -> InitResult<()> {
    nix::unistd::setsid().ctx("setsid")?;
    // Move the three fds above 2 first so overlapping numbers cannot clobber each other.
    let mut high = [0; 3];
    for (i, fd) in [stdio.stdin, stdio.stdout, stdio.stderr]
        .into_iter()
        .enumerate()
    {
        // SAFETY: fcntl on fds the shim gave us.
        let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if d < 0 {
            return Err(Errno::last()).ctx("dup stdio");
        }
        high[i] = d;
    }
    for (i, fd) in high.into_iter().enumerate() {
        // dup2 clears CLOEXEC on the new fd.
        // SAFETY: plain dup2/close.
        if unsafe { libc::dup2(fd, i as RawFd) } < 0 {
            return Err(Errno::last()).ctx("dup2 stdio");
        }
        unsafe { libc::close(fd) };
    }
    // With a console socket the terminal does not exist yet (init makes it after pivot_root).
    if stdio.tty && stdio.console_socket.is_none() {
        // SAFETY: ioctl on our stdin, the PTY slave.
        if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
            return Err(Errno::last()).ctx("set controlling terminal");
        }
    }
    Ok(())
}

/// The process env plus HOME from the user's passwd entry when the image/user set none.
pub fn build_env(env: &[String], id: &Identity) -> Vec<String> {
    let mut out = env.to_vec();
    if !out.iter().any(|e| e.starts_with("HOME=")) {
        out.push(format!("HOME={}", id.home));
    }
    out
}

/// Create the working dir when missing (as docker does), enter it through an fd resolved inside
/// the root, and make sure the kernel sees it inside our root (CVE-2024-21626: a leaked host fd
/// as cwd shows up as "(unreachable)").
pub fn enter_workdir(cwd: &str, _id: &Identity) -> InitResult<()> {
    let cwd = if cwd.is_empty() { "/" } else { cwd };
    let root = std::fs::File::open("/").ctx("open /")?;
    let fd = mkdir_all_in_root(root.as_raw_fd(), Path::new(cwd))
        .ctx(format!("create working directory {cwd}"))?;
    nix::unistd::fchdir(&fd).ctx(format!("chdir to {cwd}"))?;
    let real = nix::unistd::getcwd().ctx("getcwd")?;
    if !real.as_os_str().as_bytes().starts_with(b"/") {
        return Err(InitError::setup(format!(
            "working directory {cwd} is outside the container"
        )));
    }
    Ok(())
}

fn env_value<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find_map(|e| e.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn is_executable(p: &Path) -> Result<bool, Errno> {
    let st = nix::sys::stat::stat(p)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Ok(false);
    }
    Ok(nix::unistd::access(p, nix::unistd::AccessFlags::X_OK).is_ok())
}

/// Docker's lookup: args[0] with a '/' is used as is, otherwise searched in the container env's
/// PATH. Errors carry docker's exit codes and wording (127 not found, 126 not executable).
pub fn find_executable(args: &[String], env: &[String]) -> InitResult<PathBuf> {
    let name = args
        .first()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| InitError::new(127, "exec: no command specified"))?;
    if name.contains('/') {
        let p = PathBuf::from(name);
        return match is_executable(&p) {
            Ok(true) => Ok(p),
            Ok(false) => Err(InitError::new(
                126,
                format!("exec: \"{name}\": permission denied"),
            )),
            Err(Errno::EACCES) => Err(InitError::new(
                126,
                format!("exec: \"{name}\": permission denied"),
            )),
            Err(e) => Err(InitError::new(
                127,
                format!("exec: \"{name}\": stat {name}: {}", e.desc().to_lowercase()),
            )),
        };
    }
    let path = env_value(env, "PATH").unwrap_or(DEFAULT_PATH);
    let mut denied = false;
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let cand = Path::new(dir).join(name);
        match is_executable(&cand) {
            Ok(true) => return Ok(cand),
            Ok(false) => {
                denied |= nix::sys::stat::stat(&cand)
                    .map(|s| s.st_mode & libc::S_IFMT == libc::S_IFREG)
                    .unwrap_or(false)
            }
            Err(_) => {}
        }
    }
    if denied {
        return Err(InitError::new(
            126,
            format!("exec: \"{name}\": permission denied"),
        ));
    }
    Err(InitError::new(
        127,
        format!("exec: \"{name}\": executable file not found in $PATH"),
    ))
}

/// Everything execve needs, built before the point of no return.
pub struct Prepared {
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    name: String,
}

impl Prepared {
    pub fn new(program: &Path, args: &[String], env: &[String]) -> InitResult<Self> {
        let c = |s: &[u8]| {
            CString::new(s).map_err(|_| InitError::setup("argument or env contains a NUL byte"))
        };
        Ok(Prepared {
            program: c(program.as_os_str().as_bytes())?,
            argv: args
                .iter()
                .map(|a| c(a.as_bytes()))
                .collect::<InitResult<_>>()?,
            envp: env
                .iter()
                .map(|e| c(e.as_bytes()))
                .collect::<InitResult<_>>()?,
            name: args.first().cloned().unwrap_or_default(),
        })
    }
}

/// Signal state a new program must start with: nothing blocked, nothing ignored (the shim is a
/// Rust program, and Rust ignores SIGPIPE; exec keeps SIG_IGN).
pub fn reset_signals() {
    for sig in 1..libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: resetting a disposition to SIG_DFL.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
}

/// Point of no return: docker's umask, every fd ≥ 3 close-on-exec, execve.
pub fn exec(p: &Prepared) -> InitResult<std::convert::Infallible> {
    reset_signals();
    // SAFETY: umask and close_range have no memory effects.
    unsafe {
        libc::umask(0o022);
        if libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        ) < 0
        {
            return Err(Errno::last()).ctx("close_range");
        }
    }
    let err = nix::unistd::execve(&p.program, &p.argv, &p.envp).unwrap_err();
    let name = &p.name;
    Err(match err {
        Errno::EACCES | Errno::EPERM => {
            InitError::new(126, format!("exec: \"{name}\": permission denied"))
        }
        Errno::ENOENT => {
            InitError::new(127, format!("exec: \"{name}\": no such file or directory"))
        }
        Errno::ENOEXEC => InitError::new(126, format!("exec: \"{name}\": exec format error")),
        e => InitError::setup(format!("exec {name}: {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn lookup_codes() {
        let d = tempfile::tempdir().unwrap();
        let exe = d.path().join("tool");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let noexec = d.path().join("data");
        std::fs::write(&noexec, "x").unwrap();
        std::fs::set_permissions(&noexec, std::fs::Permissions::from_mode(0o644)).unwrap();
        let env = vec![format!("PATH=/nonexistent:{}", d.path().display())];

        assert_eq!(find_executable(&["tool".into()], &env).unwrap(), exe);
        let e = find_executable(&["missing".into()], &env).unwrap_err();
        assert_eq!(e.code, 127);
        assert_eq!(
            e.msg,
            "exec: \"missing\": executable file not found in $PATH"
        );
        let e = find_executable(&[noexec.display().to_string()], &env).unwrap_err();
        assert_eq!(e.code, 126);
        assert!(e.msg.ends_with("permission denied"));
        let e = find_executable(&[d.path().display().to_string()], &env).unwrap_err();
        assert_eq!(e.code, 126, "a directory is not executable");
        let e = find_executable(&["/no/such".into()], &env).unwrap_err();
        assert_eq!(e.code, 127);
        // Default PATH when the env has none.
        assert_eq!(
            find_executable(&["sh".into()], &[])
                .unwrap()
                .file_name()
                .unwrap(),
            "sh"
        );
    }

    #[test]
    fn home_from_passwd_only_when_missing() {
        let id = Identity {
            uid: 1,
            gid: 1,
            groups: vec![1],
            home: "/home/u".into(),
        };
        assert!(build_env(&["A=1".into()], &id).contains(&"HOME=/home/u".to_string()));
        let env = build_env(&["HOME=/x".into()], &id);
        assert_eq!(env, vec!["HOME=/x".to_string()]);
    }
}
