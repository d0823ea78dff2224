//! Capabilities and credentials: bounding set, supplementary groups, gid, uid, then permitted
//! and effective = the configured list, inheritable and ambient empty (CVE-2022-24769).

use std::str::FromStr;

use ::caps::{CapSet, Capability, CapsHashSet};
use nix::unistd::{Gid, Uid};

use super::user::Identity;
use super::{ErrnoCtx, InitError, InitResult};

/// Parse docker-style names ("CAP_CHOWN" or "CHOWN", any case).
pub fn parse_caps(names: &[String]) -> InitResult<CapsHashSet> {
    let mut set = CapsHashSet::new();
    for n in names {
        let up = n.trim().to_ascii_uppercase();
        let full = if up.starts_with("CAP_") {
            up
        } else {
            format!("CAP_{up}")
        };
        let cap = Capability::from_str(&full)
            .map_err(|_| InitError::setup(format!("unknown capability {n}")))?;
        set.insert(cap);
    }
    Ok(set)
}

fn caps_err(what: &str) -> impl Fn(::caps::errors::CapsError) -> InitError + '_ {
    move |e| InitError::setup(format!("{what}: {e}"))
}

pub fn drop_privileges(names: &[String], id: &Identity) -> InitResult<()> {
    let keep = parse_caps(names)?;

    // Bounding set first: it needs CAP_SETPCAP, which we may be about to lose.
    let supported = ::caps::runtime::thread_all_supported();
    for cap in supported.iter() {
        if !keep.contains(cap) {
            ::caps::drop(None, CapSet::Bounding, *cap).map_err(caps_err("drop bounding cap"))?;
        }
    }

    // Keep permitted caps across setuid to a non-root user; we trim them right after.
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) } < 0 {
        return Err(nix::errno::Errno::last()).ctx("prctl PR_SET_KEEPCAPS");
    }
    let groups: Vec<Gid> = id.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    nix::unistd::setgroups(&groups).ctx("setgroups")?;
    nix::unistd::setresgid(
        Gid::from_raw(id.gid),
        Gid::from_raw(id.gid),
        Gid::from_raw(id.gid),
    )
    .ctx("setgid")?;
    nix::unistd::setresuid(
        Uid::from_raw(id.uid),
        Uid::from_raw(id.uid),
        Uid::from_raw(id.uid),
    )
    .ctx("setuid")?;
    // SAFETY: as above.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) } < 0 {
        return Err(nix::errno::Errno::last()).ctx("prctl PR_SET_KEEPCAPS");
    }

    // Effective must stay a subset of permitted at each step: shrink effective first.
    let keep_effective: CapsHashSet = keep.intersection(&supported).copied().collect();
    ::caps::set(None, CapSet::Effective, &keep_effective)
        .map_err(caps_err("set effective caps"))?;
    ::caps::set(None, CapSet::Permitted, &keep_effective)
        .map_err(caps_err("set permitted caps"))?;
    ::caps::clear(None, CapSet::Inheritable).map_err(caps_err("clear inheritable caps"))?;
    ::caps::clear(None, CapSet::Ambient).map_err(caps_err("clear ambient caps"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_names() {
        let s = parse_caps(&["CAP_CHOWN".into(), "net_raw".into(), "KILL".into()]).unwrap();
        assert!(s.contains(&Capability::CAP_CHOWN));
        assert!(s.contains(&Capability::CAP_NET_RAW));
        assert!(s.contains(&Capability::CAP_KILL));
        assert!(parse_caps(&["CAP_BOGUS".into()]).is_err());
    }
}
