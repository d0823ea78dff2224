//! `docker exec`: the helper process that enters a running container and execs a command in it.
//!
//! The engine is multithreaded and must never fork, so it execs this binary (from the sealed
//! memfd copy, CVE-2019-5736) in the hidden mode `__berth-exec` with the process's stdio already
//! in place (pipes or a PTY slave) and fd 3 = a socket to the engine. Protocol on that socket:
//! the engine writes an [`ExecSpec`] as JSON and shuts its write side; we answer with lines:
//! `pid <host pid>` once the process is forked, then `<code> <message>` if setup fails
//! (127 command not found, 126 not executable, 1 anything else). EOF without an error line means
//! the command was exec'd. Our exit status is the command's (128 + signal when killed).
//!
//! Steps: open the namespace files of the container's PID 1, its cgroup.procs files and the
//! seccomp program (all host paths, so before entering the mount namespace); setns into ipc,
//! uts, net, pid and mnt; fork (joining a PID namespace only takes effect for children); the
//! child joins the cgroup, makes its stdio (a TTY becomes its controlling terminal), resolves the
//! user against the container's /etc/passwd and /etc/group, builds the env, enters the working
//! dir, applies the container's seccomp filter and capabilities and execs. The parent waits.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;

use serde::{Deserialize, Serialize};

use crate::runtime::cgroups::ContainerCgroup;
use crate::runtime::init::exec as iexec;
use crate::runtime::init::{caps, report_and_exit, seccomp_load, user};
use crate::runtime::init::{ErrnoCtx, InitError, InitResult, InitStdio};
use crate::runtime::spec::RuntimeSpec;

/// The status socket to the engine.
pub const STATUS_FD: RawFd = 3;
/// Largest spec accepted (the container's spec plus argv and env).
const MAX_SPEC: u64 = 16 << 20;
/// Namespaces joined, in this order (mnt last: after it, host paths are gone). The cgroup
/// namespace is not used by our containers; user namespaces neither.
const NAMESPACES: &[(&str, libc::c_int)] = &[
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("net", libc::CLONE_NEWNET),
    ("pid", libc::CLONE_NEWPID),
    ("mnt", libc::CLONE_NEWNS),
];

/// What the engine sends the helper.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecSpec {
    /// Host PID of the container's main process: the namespaces to join.
    pub pid: i32,
    /// The container's spec (`bundle.json`): env, user, cwd, caps, seccomp, cgroup.
    pub container: RuntimeSpec,
    pub args: Vec<String>,
    /// KEY=VALUE overrides on top of the container's env.
    pub env: Vec<String>,
    /// Empty = the container's working dir.
    pub cwd: String,
    /// Empty = the container's user.
    pub user: String,
    pub tty: bool,
    /// Every capability, as `docker exec --privileged` gives.
    pub privileged: bool,
}

/// What the engine learns from the status socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecStatus {
    pub pid: Option<i32>,
    /// Setup failure: (code, message).
    pub error: Option<(i32, String)>,
}

/// Parse everything the helper wrote on the status socket.
pub fn parse_status(raw: &[u8]) -> ExecStatus {
    let mut st = ExecStatus::default();
    for line in String::from_utf8_lossy(raw).lines() {
        if let Some(p) = line.strip_prefix("pid ") {
            st.pid = p.trim().parse().ok();
            continue;
        }
        if line.trim().is_empty() || line == "pty" {
            continue;
        }
        let (code, msg) = match line.split_once(' ') {
            Some((c, m)) if c.parse::<i32>().is_ok() => (c.parse().unwrap_or(1), m.to_string()),
            _ => (1, line.to_string()),
        };
        st.error.get_or_insert((code, msg));
    }
    st
}

/// `KEY=VALUE` list with `overrides` replacing same-key entries (docker's exec env merge).
pub fn merge_env(base: &[String], overrides: &[String]) -> Vec<String> {
    let key = |e: &str| e.split_once('=').map_or(e, |(k, _)| k).to_string();
    let mut out: Vec<String> = base.to_vec();
    for o in overrides {
        let k = key(o);
        if let Some(slot) = out.iter_mut().find(|e| key(e) == k) {
            *slot = o.clone();
        } else {
            out.push(o.clone());
        }
    }
    out
}

/// A new PTY pair from the `/dev/ptmx` of the current mount namespace, both ends close-on-exec.
/// The helper calls it inside the container, so the slave is a `/dev/pts/N` of the container's
/// own devpts (`tty` and `ttyname` work there, as with runc's console socket).
pub fn open_pty_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: plain libc calls on fds we own.
    unsafe {
        let m = libc::posix_openpt(flags);
        if m < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let master = OwnedFd::from_raw_fd(m);
        if libc::grantpt(m) < 0 || libc::unlockpt(m) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let s = libc::ioctl(m, libc::TIOCGPTPEER, flags);
        if s < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok((master, OwnedFd::from_raw_fd(s)))
    }
}

/// Hand the PTY master to the engine: the line "pty" with the fd attached (SCM_RIGHTS).
fn send_master(master: &OwnedFd) -> InitResult<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let iov = [std::io::IoSlice::new(b"pty\n")];
    let fds = [master.as_raw_fd()];
    sendmsg::<()>(
        STATUS_FD,
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .ctx("send the PTY to the engine")?;
    Ok(())
}

/// Entry point of the hidden exec mode. Never returns.
pub fn main() -> ! {
    match run() {
        Ok(code) => std::process::exit(code),
        Err(e) => report_and_exit(STATUS_FD, &e),
    }
}

fn read_spec() -> InitResult<ExecSpec> {
    // SAFETY: fd 3 is the status socket the engine passed; ManuallyDrop keeps it open for the
    // status lines we write later.
    let file = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(STATUS_FD) });
    let mut raw = Vec::new();
    (&*file)
        .take(MAX_SPEC)
        .read_to_end(&mut raw)
        .ctx("read exec spec")?;
    serde_json::from_slice(&raw).map_err(|e| InitError::setup(format!("invalid exec spec: {e}")))
}

/// Namespace files of `pid` that differ from ours (joining our own namespace is pointless, and
/// `--network host` containers share the host's network namespace).
fn open_namespaces(pid: i32) -> InitResult<Vec<(OwnedFd, libc::c_int)>> {
    let mut out = Vec::new();
    for (name, flag) in NAMESPACES {
        let theirs = File::open(format!("/proc/{pid}/ns/{name}"))
            .map_err(|e| InitError::new(126, format!("container process {pid} is gone: {e}")))?;
        let ours = std::fs::metadata(format!("/proc/self/ns/{name}")).ctx("stat own ns")?;
        let meta = theirs.metadata().ctx(format!("stat {name} namespace"))?;
        if meta.ino() == ours.ino() && meta.dev() == ours.dev() {
            if *name == "pid" || *name == "mnt" {
                // A container always has its own PID and mount namespaces: this pid is not it.
                return Err(InitError::setup(format!(
                    "process {pid} is not a container process"
                )));
            }
            continue;
        }
        out.push((OwnedFd::from(theirs), *flag));
    }
    Ok(out)
}

fn open_cgroup(spec: &RuntimeSpec) -> InitResult<Vec<File>> {
    let cg = ContainerCgroup::open(&spec.cgroup.path)
        .map_err(|e| InitError::setup(format!("container cgroup: {e}")))?;
    cg.procs_files()
        .into_iter()
        .map(|p| {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .ctx(format!("open {}", p.display()))
        })
        .collect()
}

fn write_status(line: &str) {
    // SAFETY: fd 3 stays open until we close it; ManuallyDrop avoids closing it here.
    let mut f = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(STATUS_FD) });
    let _ = f.write_all(line.as_bytes());
}

fn run() -> InitResult<i32> {
    let spec = read_spec()?;
    let namespaces = open_namespaces(spec.pid)?;
    let cgroup_procs = open_cgroup(&spec.container)?;
    let seccomp_prog = match &spec.container.seccomp_bpf {
        Some(p) => Some(seccomp_load::read_program(p)?),
        None => None,
    };
    for (fd, flag) in &namespaces {
        // SAFETY: setns on a namespace fd we own; we are single-threaded (mnt requires it).
        if unsafe { libc::setns(fd.as_raw_fd(), *flag) } < 0 {
            return Err(nix::errno::Errno::last()).ctx("setns");
        }
    }
    drop(namespaces);
    let pty_slave = if spec.tty {
        let (master, slave) = open_pty_pair().ctx("open a PTY in the container")?;
        send_master(&master)?;
        Some(slave)
    } else {
        None
    };

    // SAFETY: single-threaded (started from main before any thread), so the child may run
    // ordinary code.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(nix::errno::Errno::last()).ctx("fork");
    }
    if child == 0 {
        if let Some(slave) = &pty_slave {
            for fd in 0..3 {
                // SAFETY: dup2 of an fd we own onto our stdio.
                if unsafe { libc::dup2(slave.as_raw_fd(), fd) } < 0 {
                    report_and_exit(
                        STATUS_FD,
                        &InitError::setup(format!("dup PTY: {}", nix::errno::Errno::last())),
                    );
                }
            }
        }
        let err = match child_main(&spec, &cgroup_procs, seccomp_prog.as_deref()) {
            Ok(never) => match never {},
            Err(e) => e,
        };
        report_and_exit(STATUS_FD, &err);
    }

    drop(cgroup_procs);
    drop(pty_slave);
    write_status(&format!("pid {child}\n"));
    // The engine's EOF on the status socket must come from the child's execve (or exit).
    // SAFETY: closing our copy of fd 3.
    unsafe { libc::close(STATUS_FD) };
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child with a valid status pointer.
        let r = unsafe { libc::waitpid(child, &mut status, 0) };
        if r == child {
            break;
        }
        if r < 0 && nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            return Ok(126);
        }
    }
    Ok(crate::runtime::shim::exit_code_from_status(status))
}

fn child_main(
    spec: &ExecSpec,
    cgroup_procs: &[File],
    seccomp_prog: Option<&[libc::sock_filter]>,
) -> InitResult<std::convert::Infallible> {
    // "0" moves the writing process: no PID translation between namespaces involved.
    for mut f in cgroup_procs {
        f.write_all(b"0").ctx("join the container's cgroup")?;
    }
    iexec::setup_stdio(InitStdio {
        stdin: 0,
        stdout: 1,
        stderr: 2,
        tty: spec.tty,
        console_socket: None,
    })?;
    let c = &spec.container;
    let user = if spec.user.is_empty() {
        &c.process.user
    } else {
        &spec.user
    };
    let ident = user::resolve_in_container(user, &c.process.group_add)?;
    let env = iexec::build_env(&merge_env(&c.process.env, &spec.env), &ident);
    let cwd = if spec.cwd.is_empty() {
        &c.process.cwd
    } else {
        &spec.cwd
    };
    iexec::enter_workdir(cwd, &ident)?;

    let cap_names: Vec<String> = if spec.privileged {
        // Every capability we hold ourselves: an engine confined to a smaller set (a sandbox
        // without CAP_SYS_RESOURCE, say) cannot grant more, and capset would refuse.
        ::caps::read(None, ::caps::CapSet::Permitted)
            .map_err(|e| InitError::setup(format!("read own capabilities: {e}")))?
            .iter()
            .map(|c| c.to_string())
            .collect()
    } else {
        c.process.capabilities.clone()
    };
    // Same order as the container's init: without no_new_privileges the filter goes in while
    // we still hold CAP_SYS_ADMIN.
    if !c.process.no_new_privileges {
        if let Some(prog) = seccomp_prog {
            seccomp_load::load(prog)?;
        }
    }
    caps::drop_privileges(&cap_names, &ident)?;
    let program = iexec::find_executable(&spec.args, &env)?;
    if c.process.no_new_privileges {
        seccomp_load::set_no_new_privs()?;
        if let Some(prog) = seccomp_prog {
            seccomp_load::load(prog)?;
        }
    }
    let prepared = iexec::Prepared::new(&program, &spec.args, &env)?;
    iexec::exec(&prepared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b""), ExecStatus::default());
        let st = parse_status(b"pty\npid 42\n");
        assert_eq!(st.pid, Some(42));
        assert!(st.error.is_none());
        let st = parse_status(b"pid 7\n127 exec: \"nope\": executable file not found in $PATH\n");
        assert_eq!(st.pid, Some(7));
        assert_eq!(
            st.error,
            Some((
                127,
                "exec: \"nope\": executable file not found in $PATH".into()
            ))
        );
        assert_eq!(parse_status(b"garbage").error, Some((1, "garbage".into())));
    }

    #[test]
    fn env_overrides_replace_by_key() {
        let base = vec!["PATH=/bin".to_string(), "A=1".into(), "B=2".into()];
        let merged = merge_env(&base, &["A=x".into(), "C=3".into()]);
        assert_eq!(merged, vec!["PATH=/bin", "A=x", "B=2", "C=3"]);
        assert_eq!(merge_env(&base, &[]), base);
    }
}
