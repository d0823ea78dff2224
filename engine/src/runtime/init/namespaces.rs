//! New mount, UTS, IPC (and network) namespaces for the container; loopback up in a new netns,
//! or the engine's pre-configured netns joined with setns(2).

use nix::errno::Errno;
use nix::sched::{setns, unshare, CloneFlags};

use super::{ErrnoCtx, InitResult};
use crate::runtime::spec::NetworkNamespace;

pub fn unshare_namespaces(network: &NetworkNamespace) -> InitResult<()> {
    if let NetworkNamespace::Path(path) = network {
        // Joined before the other unshares so the namespace's owner is the init user namespace
        // the engine configured it from.
        let ns = std::fs::File::open(path).ctx("open network namespace")?;
        setns(&ns, CloneFlags::CLONE_NEWNET).ctx("join network namespace")?;
    }
    let mut flags = CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWIPC;
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
