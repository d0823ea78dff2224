//! Docker's `User` resolution against the container's own /etc/passwd and /etc/group.

use super::{InitError, InitResult};

/// The credentials the container process runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups from the container's /etc/group (never the engine's).
    pub groups: Vec<u32>,
    /// From passwd; "/" when the user has no entry.
    pub home: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// name:password:uid:gid:gecos:home:shell; malformed lines are skipped (as libc does).
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].trim().parse().ok()?,
                gid: f[3].trim().parse().ok()?,
                home: f.get(5).map(|s| s.to_string()).unwrap_or_default(),
            })
        })
        .collect()
}

/// name:password:gid:member,member
pub fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].trim().parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Resolve docker's user spec ("", "name", "uid", "name:group", "uid:gid", "name:gid", ...)
/// like runc's user.GetExecUser: a numeric user without a passwd entry is fine, an unknown name
/// is an error; without an explicit group the passwd primary group is used and supplementary
/// groups are every group listing the user.
pub fn resolve(spec: &str, passwd: &[PasswdEntry], groups: &[GroupEntry]) -> InitResult<Identity> {
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };

    let entry = match user_part.parse::<u32>() {
        Ok(uid) => passwd
            .iter()
            .find(|e| e.uid == uid)
            .cloned()
            .or(Some(PasswdEntry {
                name: String::new(),
                uid,
                gid: 0,
                home: "/".into(),
            })),
        Err(_) => passwd.iter().find(|e| e.name == user_part).cloned(),
    };
    let entry = entry.ok_or_else(|| {
        InitError::setup(format!(
            "unable to find user {user_part}: no matching entries in passwd file"
        ))
    })?;

    let gid = match group_part {
        None | Some("") => entry.gid,
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => groups
                .iter()
                .find(|e| e.name == g)
                .map(|e| e.gid)
                .ok_or_else(|| {
                    InitError::setup(format!(
                        "unable to find group {g}: no matching entries in group file"
                    ))
                })?,
        },
    };

    // An explicit group replaces the supplementary list, as in docker (runc: only when no
    // group was given are the user's memberships added).
    let mut sup = Vec::new();
    if group_part.is_none_or(|g| g.is_empty()) && !entry.name.is_empty() {
        for g in groups {
            if g.members.iter().any(|m| m == &entry.name) && !sup.contains(&g.gid) {
                sup.push(g.gid);
            }
        }
    }
    if !sup.contains(&gid) {
        sup.insert(0, gid);
    }

    let home = if entry.home.is_empty() {
        "/".to_string()
    } else {
        entry.home.clone()
    };
    Ok(Identity {
        uid: entry.uid,
        gid,
        groups: sup,
        home,
    })
}

/// Add docker's `HostConfig.GroupAdd` to the supplementary groups, as runc's
/// GetAdditionalGroups does for dockerd: a name or number found in the group file is that
/// group; another number is taken as is; an unknown name fails the start in runc's words.
pub fn add_groups(ident: &mut Identity, add: &[String], groups: &[GroupEntry]) -> InitResult<()> {
    for ag in add {
        let gid = match groups
            .iter()
            .find(|e| e.name == *ag || e.gid.to_string() == *ag)
        {
            Some(e) => e.gid,
            None => ag
                .parse::<u32>()
                .ok()
                .filter(|g| *g <= i32::MAX as u32)
                .ok_or_else(|| {
                    InitError::setup(format!(
                        "Unable to find group {ag}: no matching entries in group file"
                    ))
                })?,
        };
        if !ident.groups.contains(&gid) {
            ident.groups.push(gid);
        }
    }
    Ok(())
}

/// Resolve against the container's files; runs after pivot_root so "/etc/passwd" is the
/// container's (a symlink in it cannot reach the host any more). Missing files are empty.
/// `group_add` is the container's `HostConfig.GroupAdd`, which execs get too (as in docker).
pub fn resolve_in_container(spec: &str, group_add: &[String]) -> InitResult<Identity> {
    let read = |p: &str| {
        // Bound the read: a hostile image could ship a huge passwd file.
        use std::io::Read;
        let mut s = String::new();
        if let Ok(f) = std::fs::File::open(p) {
            let _ = f.take(16 << 20).read_to_string(&mut s);
        }
        s
    };
    let passwd = parse_passwd(&read("/etc/passwd"));
    let groups = parse_group(&read("/etc/group"));
    let mut ident = resolve(spec, &passwd, &groups)?;
    add_groups(&mut ident, group_add, &groups)?;
    Ok(ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        # comment\n\
        broken line\n\
        app:x:1000:1000:App:/home/app:/bin/sh\n\
        nohome:x:1001:1001::::\n";
    const GROUP: &str = "root:x:0:\n\
        wheel:x:10:root,app\n\
        app:x:1000:\n\
        audio:x:29:app\n\
        staff:x:50:\n";

    fn r(spec: &str) -> InitResult<Identity> {
        resolve(spec, &parse_passwd(PASSWD), &parse_group(GROUP))
    }

    #[test]
    fn parses_files() {
        let p = parse_passwd(PASSWD);
        assert_eq!(p.len(), 4);
        assert_eq!(p[2].home, "/home/app");
        let g = parse_group(GROUP);
        assert_eq!(g[1].members, vec!["root", "app"]);
        assert!(g[0].members.is_empty());
    }

    #[test]
    fn empty_is_root_with_groups() {
        let id = r("").unwrap();
        assert_eq!((id.uid, id.gid), (0, 0));
        assert_eq!(id.groups, vec![0, 10]);
        assert_eq!(id.home, "/root");
    }

    #[test]
    fn by_name_and_uid() {
        let id = r("app").unwrap();
        assert_eq!(
            (id.uid, id.gid, id.home.as_str()),
            (1000, 1000, "/home/app")
        );
        assert_eq!(id.groups, vec![1000, 10, 29]);
        assert_eq!(r("1000").unwrap(), id);
    }

    #[test]
    fn explicit_group() {
        let id = r("app:staff").unwrap();
        assert_eq!((id.uid, id.gid), (1000, 50));
        assert_eq!(id.groups, vec![50]);
        let id = r("1000:77").unwrap();
        assert_eq!((id.uid, id.gid), (1000, 77));
        assert!(r("app:nosuch")
            .unwrap_err()
            .msg
            .contains("unable to find group nosuch"));
    }

    #[test]
    fn unknown_numeric_and_names() {
        let id = r("4242:4343").unwrap();
        assert_eq!((id.uid, id.gid, id.home.as_str()), (4242, 4343, "/"));
        let id = resolve("4242", &[], &[]).unwrap();
        assert_eq!((id.uid, id.gid), (4242, 0));
        let e = r("ghost").unwrap_err();
        assert_eq!(
            e.msg,
            "unable to find user ghost: no matching entries in passwd file"
        );
        assert_eq!(r("nohome").unwrap().home, "/");
    }

    #[test]
    fn group_add_by_name_and_number() {
        let groups = parse_group(GROUP);
        let mut id = r("").unwrap();
        let add = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        add_groups(&mut id, &add(&["1234", "staff", "10", "50"]), &groups).unwrap();
        assert_eq!(id.groups, vec![0, 10, 1234, 50]);
        let e = add_groups(&mut id, &add(&["nosuch"]), &groups).unwrap_err();
        assert_eq!(
            e.msg,
            "Unable to find group nosuch: no matching entries in group file"
        );
    }
}
