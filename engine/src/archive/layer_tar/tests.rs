//! Layer tars of real overlay upper dirs, round-tripped through the engine's own layer
//! extraction: the stacked result must look exactly like the overlay did.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::*;
use crate::image::extract::extract_layer;

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_encoded_bytes()).unwrap()
}

fn xset(p: impl AsRef<Path>, name: &str, value: &[u8]) {
    let (cp, cn) = (cpath(p.as_ref()), CString::new(name).unwrap());
    // SAFETY: valid NUL-terminated strings and a buffer of the given length.
    let r = unsafe {
        libc::lsetxattr(
            cp.as_ptr(),
            cn.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(r, 0, "setxattr {name}: {}", io::Error::last_os_error());
}

fn xget(p: &Path, name: &str) -> Vec<u8> {
    let (cp, cn) = (cpath(p), CString::new(name).unwrap());
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid NUL-terminated strings and a buffer of the given length.
    let n =
        unsafe { libc::lgetxattr(cp.as_ptr(), cn.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    assert!(n >= 0, "getxattr {name}");
    buf.truncate(n as usize);
    buf
}

fn xlist(p: &Path) -> Vec<String> {
    let cp = cpath(p);
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid NUL-terminated path and a buffer of the given length.
    let n = unsafe { libc::llistxattr(cp.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    assert!(n >= 0, "listxattr");
    buf.truncate(n as usize);
    buf.split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// What a tree looks like, per path: kind, mode, owner, content or target, user xattrs,
/// hard-link group; mtimes for non-directories.
fn listing(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut inodes: HashMap<u64, String> = HashMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let mut names: Vec<_> = std::fs::read_dir(root.join(&rel))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        for n in names {
            let r = rel.join(&n);
            let p = root.join(&r);
            let m = std::fs::symlink_metadata(&p).unwrap();
            let ft = m.file_type();
            let mut desc = format!(
                "mode={:o} uid={} gid={}",
                m.mode() & 0o7777,
                m.uid(),
                m.gid()
            );
            if ft.is_dir() {
                desc = format!("dir {desc}");
                stack.push(r.clone());
            } else if ft.is_symlink() {
                desc = format!(
                    "link->{} {desc} mtime={}",
                    std::fs::read_link(&p).unwrap().display(),
                    m.mtime()
                );
            } else if ft.is_file() {
                let content = std::fs::read(&p).unwrap();
                desc = format!(
                    "file {:?} {desc} mtime={}",
                    String::from_utf8_lossy(&content),
                    m.mtime()
                );
                if m.nlink() > 1 {
                    let first = inodes
                        .entry(m.ino())
                        .or_insert_with(|| r.display().to_string());
                    desc.push_str(&format!(" linkgroup={first}"));
                }
                let mut xs: Vec<String> = xlist(&p)
                    .into_iter()
                    .filter(|k| keep_xattr(k))
                    .map(|k| {
                        let v = xget(&p, &k);
                        format!("{k}={v:?}")
                    })
                    .collect();
                xs.sort();
                desc.push_str(&format!(" xattrs={xs:?}"));
            } else {
                desc = format!(
                    "special {:o} rdev={} {desc}",
                    m.mode() & libc::S_IFMT,
                    m.rdev()
                );
            }
            out.insert(r.display().to_string(), desc);
        }
    }
    out
}

fn overlay(lowers: &[&Path], upper: Option<(&Path, &Path)>, target: &Path) {
    let lower: Vec<String> = lowers.iter().map(|p| p.display().to_string()).collect();
    let mut opts = format!("lowerdir={}", lower.join(":"));
    if let Some((u, w)) = upper {
        opts.push_str(&format!(
            ",upperdir={},workdir={}",
            u.display(),
            w.display()
        ));
    }
    mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::empty(),
        Some(opts.as_str()),
    )
    .unwrap_or_else(|e| panic!("mount overlay {opts}: {e}"));
}

/// Entries of a tar: (name, type, link target, pax xattr keys).
fn entries(tar_bytes: &[u8]) -> Vec<(String, EntryType, String, Vec<String>)> {
    let mut a = tar::Archive::new(tar_bytes);
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let kind = e.header().entry_type();
        let link = e
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .unwrap_or_default();
        let mut keys = Vec::new();
        if let Some(exts) = e.pax_extensions().unwrap() {
            for x in exts {
                keys.push(x.unwrap().key().unwrap().to_string());
            }
        }
        out.push((name, kind, link, keys));
    }
    out
}

#[test]
fn overlay_round_trip() {
    let d = tempfile::tempdir().unwrap();
    let p = |s: &str| d.path().join(s);
    for s in ["base", "upper", "work", "merged", "l2", "check"] {
        std::fs::create_dir(p(s)).unwrap();
    }
    // The base layer: files, a directory to make opaque, one to delete from.
    let base = p("base");
    std::fs::write(base.join("gone"), "old").unwrap();
    std::fs::write(base.join("kept"), "kept").unwrap();
    std::fs::create_dir_all(base.join("opq/deep")).unwrap();
    std::fs::write(base.join("opq/old"), "old").unwrap();
    std::fs::write(base.join("opq/deep/old2"), "old").unwrap();
    std::fs::create_dir(base.join("dir")).unwrap();
    std::fs::write(base.join("dir/rm"), "rm").unwrap();
    std::fs::write(base.join("dir/stay"), "stay").unwrap();

    overlay(&[&base], Some((&p("upper"), &p("work"))), &p("merged"));
    let m = p("merged");
    let run = || -> () {
        std::fs::remove_file(m.join("gone")).unwrap();
        std::fs::remove_file(m.join("dir/rm")).unwrap();
        std::fs::remove_dir_all(m.join("opq")).unwrap();
        std::fs::create_dir(m.join("opq")).unwrap();
        std::fs::write(m.join("opq/new"), "new").unwrap();
        std::fs::write(m.join("dir/added"), "added").unwrap();
        std::fs::write(m.join("exe"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(m.join("exe"), std::fs::Permissions::from_mode(0o4755)).unwrap();
        std::os::unix::fs::chown(m.join("exe"), Some(1234), Some(5678)).unwrap();
        std::fs::hard_link(m.join("exe"), m.join("exe-link")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", m.join("sym")).unwrap();
        std::os::unix::fs::symlink("../kept", m.join("dir/rel")).unwrap();
        nix::unistd::mkfifo(
            &m.join("fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o640),
        )
        .unwrap();
        nix::sys::stat::mknod(
            &m.join("null"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            libc::makedev(1, 3),
        )
        .unwrap();
        xset(m.join("exe"), "user.note", b"hello");
        // A capability xattr as setcap writes it (v2, cap_net_bind_service).
        let cap: [u8; 20] = [0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        xset(m.join("dir/added"), "security.capability", &cap);
        let long = "n".repeat(120);
        std::fs::create_dir_all(m.join(format!("long/{long}"))).unwrap();
        std::fs::write(m.join(format!("long/{long}/{}", "f".repeat(150))), "deep").unwrap();
    };
    run();
    let expected = listing(&m);
    detach(&m);

    let tar_bytes = write_layer_tar(&p("upper"), Vec::new()).unwrap();
    let es = entries(&tar_bytes);
    let names: Vec<&str> = es.iter().map(|e| e.0.as_str()).collect();
    // Docker's names and order: each directory before its contents, sorted per level.
    let pos = |n: &str| {
        names
            .iter()
            .position(|x| *x == n)
            .unwrap_or_else(|| panic!("{n} missing from {names:?}"))
    };
    assert!(pos("dir/") < pos("dir/.wh.rm"));
    // Sorted by the names on disk, as docker's walk of the upper dir: "added" < "rm".
    assert!(pos("dir/added") < pos("dir/.wh.rm"));
    assert!(pos("dir/.wh.rm") < pos("exe"));
    assert!(pos("dir/") < pos(".wh.gone"));
    assert_eq!(pos("opq/.wh..wh..opq"), pos("opq/") + 1);
    assert!(!names
        .iter()
        .any(|n| n.starts_with("./") || n.starts_with('/')));
    let link = &es[pos("exe-link")];
    assert!(
        (link.1 == EntryType::Link && link.2 == "exe")
            || (es[pos("exe")].1 == EntryType::Link && es[pos("exe")].2 == "exe-link"),
        "{es:?}"
    );
    assert!(es[pos("exe")]
        .3
        .contains(&"SCHILY.xattr.user.note".to_string()));
    assert!(es[pos("dir/added")]
        .3
        .contains(&"SCHILY.xattr.security.capability".to_string()));
    let long_file = format!("long/{}/{}", "n".repeat(120), "f".repeat(150));
    assert!(es[pos(&long_file)].3.contains(&"path".to_string()));
    let wo = tar::Archive::new(&tar_bytes[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().header().clone())
        .find(|h| h.path_bytes().as_ref() == b".wh.gone")
        .unwrap();
    assert_eq!(wo.entry_type(), EntryType::Regular);
    assert_eq!(wo.mode().unwrap(), 0o600);
    assert_eq!(wo.size().unwrap(), 0);

    // Stack the extracted layer on the base: the same tree as the live overlay showed.
    let stats = extract_layer(&tar_bytes[..], None, &p("l2")).unwrap();
    assert_eq!(stats.tar_size, tar_bytes.len() as u64);
    overlay(&[&p("l2"), &base], None, &p("check"));
    let got = listing(&p("check"));
    detach(&p("check"));
    assert_eq!(got, expected);
    assert!(!expected.contains_key("gone"));
    assert!(!expected.contains_key("opq/old"));
    assert!(expected.contains_key("opq/new"));

    // Deterministic: the same upper dir gives the same bytes.
    let again = write_layer_tar(&p("upper"), Vec::new()).unwrap();
    assert_eq!(again, tar_bytes);
}

#[test]
fn userxattr_opaque_and_hostile_links() {
    let d = tempfile::tempdir().unwrap();
    let up = d.path().join("upper");
    std::fs::create_dir_all(up.join("o")).unwrap();
    xset(up.join("o"), "user.overlay.opaque", b"y");
    std::fs::write(up.join("o/f"), "x").unwrap();
    // A symlink to a host path is archived as a link, never followed.
    std::os::unix::fs::symlink("/etc", up.join("etc")).unwrap();
    let t = write_layer_tar(&up, Vec::new()).unwrap();
    let es = entries(&t);
    let names: Vec<&str> = es.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, vec!["etc", "o/", "o/.wh..wh..opq", "o/f"]);
    assert_eq!(es[0].1, EntryType::Symlink);
    // The overlay's own xattr is not carried as a user xattr.
    assert!(es[1].3.is_empty());
}

#[test]
fn metacopy_and_redirect_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let up = d.path().join("upper");
    std::fs::create_dir_all(up.join("moved")).unwrap();
    xset(up.join("moved"), "trusted.overlay.redirect", b"/orig");
    assert!(write_layer_tar(&up, Vec::new()).is_err());
    let up2 = d.path().join("upper2");
    std::fs::create_dir_all(&up2).unwrap();
    std::fs::write(up2.join("f"), "").unwrap();
    xset(up2.join("f"), "trusted.overlay.metacopy", b"");
    assert!(write_layer_tar(&up2, Vec::new()).is_err());
}

#[test]
fn pax_records_count_their_own_length() {
    assert_eq!(pax_record("path", b"a"), b"9 path=a\n");
    // 3 + 4 + 93 = 100 → "100 " would make 104; the record is 104 bytes long.
    let v = vec![b'x'; 92];
    let r = pax_record("path", &v);
    let len: usize = std::str::from_utf8(&r[..r.iter().position(|b| *b == b' ').unwrap()])
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, r.len());
    let mut h = Header::new_ustar();
    let name = format!("{}/{}", "p".repeat(150), "n".repeat(99));
    assert!(set_ustar_name(&mut h, name.as_bytes()));
    assert_eq!(h.path_bytes().as_ref(), name.as_bytes());
    let mut h = Header::new_ustar();
    assert!(!set_ustar_name(&mut h, "x".repeat(101).as_bytes()));
}

/// One line per entry: name, type, mode field, owner, size, link target (not for regular files:
/// dockerd leaves a stale one on hard-linked whiteouts, which extractors ignore), device fields,
/// PAX keys. The long runs of L and F of STEP2 are shortened to {L} and {F}.
fn describe(t: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(t);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let h = e.header().clone();
            let keys: Vec<String> = e
                .pax_extensions()
                .unwrap()
                .map(|x| x.map(|x| x.unwrap().key().unwrap().to_string()).collect())
                .unwrap_or_default();
            let link = match h.entry_type() {
                EntryType::Regular => None,
                _ => e
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned()),
            };
            let line = format!(
                "{} {:?} mode={:o} {}:{} size={} link={:?} dev={:?}/{:?} pax={keys:?}",
                String::from_utf8_lossy(&e.path_bytes()),
                h.entry_type(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                h.size().unwrap(),
                link,
                h.device_major().ok().flatten(),
                h.device_minor().ok().flatten(),
            );
            line.replace(&"L".repeat(122), "{L}")
                .replace(&"F".repeat(144), "{F}")
        })
        .collect()
}

/// The layer dockerd 20.10's overlay2 driver wrote for STEP2 on top of STEP1 (docker save of a
/// legacy build), described by [`describe`] (user names aside: 20.10 looks them up on the host).
const DOCKERD_STEP2: &str = r#"d/ Directory mode=40755 0:0 size=0 link=None dev=Some(0)/Some(0) pax=[]
d/{L}/ Directory mode=40755 0:0 size=0 link=None dev=Some(0)/Some(0) pax=["path"]
d/{L}/x/ Directory mode=40755 0:0 size=0 link=None dev=Some(0)/Some(0) pax=[]
d/{L}/x/{F} Regular mode=100644 0:0 size=0 link=None dev=Some(0)/Some(0) pax=["path"]
d/.wh.a Regular mode=600 0:0 size=0 link=None dev=Some(0)/Some(0) pax=[]
d/fifo Fifo mode=10644 0:0 size=0 link=None dev=Some(0)/Some(0) pax=[]
d/hl Regular mode=100644 0:0 size=2 link=None dev=Some(0)/Some(0) pax=[]
d/hl2 Link mode=100644 0:0 size=0 link=Some("d/hl") dev=Some(0)/Some(0) pax=[]
d/sub/ Directory mode=40755 0:0 size=0 link=None dev=Some(0)/Some(0) pax=[]
d/sub/c Regular mode=104755 0:0 size=2 link=None dev=Some(0)/Some(0) pax=[]
d/sym Symlink mode=120777 0:0 size=0 link=Some("/etc/passwd") dev=Some(0)/Some(0) pax=[]
d/.wh.zz Regular mode=600 0:0 size=0 link=None dev=Some(0)/Some(0) pax=[]
o/ Directory mode=40755 0:0 size=0 link=None dev=Some(0)/Some(0) pax=[]
o/.wh..wh..opq Regular mode=755 0:0 size=0 link=None dev=Some(0)/Some(0) pax=[]
o/n Regular mode=100644 1234:5678 size=2 link=None dev=Some(0)/Some(0) pax=[]"#;

const STEP1: &str = "mkdir -p /d/sub /o/deep && echo a > /d/a && echo b > /d/sub/b && echo x > /o/x && echo y > /o/deep/y && ln /d/a /d/hl && echo z > /d/zz";
const STEP2: &str = "rm /d/a /d/zz && rm -rf /o && mkdir /o && echo n > /o/n && ln -s /etc/passwd /d/sym && echo c > /d/sub/c && chmod 4755 /d/sub/c && busybox mkfifo /d/fifo && ln /d/hl /d/hl2 && L=LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL && mkdir -p /d/$L/x && touch /d/$L/x/FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF && chown 1234:5678 /o/n";

/// Run `cmd` with busybox's sh chrooted in an overlay of `lowers` (top first); the upper dir.
fn run_step(d: &Path, step: &str, lowers: &[&Path], cmd: &str) -> PathBuf {
    let (upper, work, merged) = (
        d.join(format!("{step}-upper")),
        d.join(format!("{step}-work")),
        d.join(format!("{step}-merged")),
    );
    for p in [&upper, &work, &merged] {
        std::fs::create_dir(p).unwrap();
    }
    overlay(lowers, Some((&upper, &work)), &merged);
    let st = std::process::Command::new("chroot")
        .arg(&merged)
        .args(["/bin/sh", "-c", cmd])
        .status();
    detach(&merged);
    assert!(st.unwrap().success(), "{cmd}");
    upper
}

#[test]
fn same_entries_as_dockerd_for_the_same_run() {
    let busybox = Path::new("/bin/busybox");
    if !busybox.exists() {
        eprintln!("skipped: no /bin/busybox to run the steps with");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("base");
    std::fs::create_dir_all(base.join("bin")).unwrap();
    std::fs::copy(busybox, base.join("bin/busybox")).unwrap();
    for a in ["sh", "mkdir", "rm", "ln", "chmod", "chown", "touch"] {
        std::os::unix::fs::symlink("busybox", base.join("bin").join(a)).unwrap();
    }
    // Step 1's layer goes through the tar and the engine's extraction, as a build's would.
    let up1 = run_step(d.path(), "s1", &[&base], STEP1);
    let l1 = d.path().join("l1");
    std::fs::create_dir(&l1).unwrap();
    extract_layer(&write_layer_tar(&up1, Vec::new()).unwrap()[..], None, &l1).unwrap();
    let up2 = run_step(d.path(), "s2", &[&l1, &base], STEP2);
    let got = describe(&write_layer_tar(&up2, Vec::new()).unwrap());
    let want: Vec<&str> = DOCKERD_STEP2.lines().collect();
    assert_eq!(got, want);
}

/// Unmount lazily: a test elsewhere in this process that forks at the wrong moment holds a copy of
/// an fd below the mount until its exec, and a plain umount then fails with EBUSY.
fn detach(path: &std::path::Path) {
    umount2(path, MntFlags::MNT_DETACH).unwrap();
}
