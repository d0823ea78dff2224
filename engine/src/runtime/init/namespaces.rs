//! New mount, UTS, IPC (and network) namespaces for the container; loopback up in a new netns,
//! or the engine's pre-configured netns joined with setns(2). `--ipc container:<id>` joins the
//! target's IPC namespace the same way; `--ipc host` and `--uts host` keep the host's. (The PID
//! namespace is the shim's business: it must be chosen before the fork.)

use std::path::Path;

use nix::errno::Errno;
use nix::sched::{setns, unshare, CloneFlags};

use super::{ErrnoCtx, InitResult};
use crate::runtime::spec::{Namespaces, NetworkNamespace, SharedNamespace};

/// setns(2) into the namespace of kind `flag` at `path`.
pub(crate) fn join(path: &Path, flag: CloneFlags, what: &str) -> InitResult<()> {
    let ns = std::fs::File::open(path).ctx(format!("open {what} namespace {}", path.display()))?;
    setns(&ns, flag).ctx(format!("join {what} namespace"))
}

pub fn unshare_namespaces(network: &NetworkNamespace, modes: &Namespaces) -> InitResult<()> {
    if let NetworkNamespace::Path(path) = network {
        // Joined before the other unshares so the namespace's owner is the init user namespace
        // the engine configured it from.
        join(path, CloneFlags::CLONE_NEWNET, "network")?;
    }
    let mut flags = CloneFlags::CLONE_NEWNS;
    match &modes.ipc {
        SharedNamespace::Private => flags |= CloneFlags::CLONE_NEWIPC,
        SharedNamespace::Host => {}
        SharedNamespace::Path(path) => join(path, CloneFlags::CLONE_NEWIPC, "IPC")?,
    }
    if modes.uts == SharedNamespace::Private {
        flags |= CloneFlags::CLONE_NEWUTS;
    }
    if *network == NetworkNamespace::Isolated {
        flags |= CloneFlags::CLONE_NEWNET;
    }
    unshare(flags).ctx("unshare namespaces")?;
    if *network == NetworkNamespace::Isolated {
        loopback_up().ctx("bring up loopback")?;
    }
    Ok(())
}
/// SIOCGIFFLAGS/SIOCSIFFLAGS on "lo": a fresh network namespace has loopback down.
fn loopback_up() -> Result<(), Errno> {
    // SAFETY: plain socket creation.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        return Err(Errno::last());
    }
    // SAFETY: ifreq is plain old data; zeroed is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: ioctls on a socket we own with a properly sized ifreq.
    let res = unsafe {
        if libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut req) < 0 {
            Err(Errno::last())
        } else {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(sock, libc::SIOCSIFFLAGS, &req) < 0 {
                Err(Errno::last())
            } else {
                Ok(())
            }
        }
    };
    // SAFETY: closing our socket.
    unsafe { libc::close(sock) };
    res
}
