//! Escapes the fd-relative code must refuse: absolute and relative symlinks out of the root, `..`
//! above it, symlink loops, a symlink swapped in for a directory, hard links through a symlink,
//! fifos where a directory is expected, and removal through symlinks. All run without root.

use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

use super::beneath::{clean_components, walk_dirs};
use super::in_root::{mkdir_all_in_root, open_in_root};
use super::remove::remove_at;
use super::*;
use nix::errno::Errno;

fn dir_fd(p: &Path) -> OwnedFd {
    OwnedFd::from(File::open(p).unwrap())
}

fn errno(e: std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(0)
}

/// What an O_NOFOLLOW|O_DIRECTORY open of a symlink fails with (Linux says ENOTDIR).
fn refused_symlink(e: std::io::Error) -> bool {
    matches!(errno(e), libc::ELOOP | libc::ENOTDIR)
}

/// An empty directory outside the root, and a check that it stayed untouched.
struct Outside(tempfile::TempDir);

impl Outside {
    fn new() -> Self {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("secret"), "host").unwrap();
        Outside(d)
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn assert_untouched(&self) {
        let names: Vec<_> = std::fs::read_dir(self.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secret"], "something was written outside the root");
        assert_eq!(std::fs::read(self.path().join("secret")).unwrap(), b"host");
    }
}

#[test]
fn clean_components_refuses_dotdot_above_the_root() {
    let comps = |raw: &[u8]| clean_components(raw).map(|v| v.concat());
    assert_eq!(comps(b"/a/./b/../c//"), Some(b"ac".to_vec()));
    assert_eq!(clean_components(b"a/.."), Some(vec![]));
    assert_eq!(clean_components(b"./"), Some(vec![]));
    for bad in [
        &b".."[..],
        b"../x",
        b"a/../../x",
        b"/../etc/passwd",
        b"a/b/../../..",
    ] {
        assert_eq!(
            clean_components(bad),
            None,
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn walk_never_follows_absolute_or_relative_symlinks_out() {
    let root = tempfile::tempdir().unwrap();
    let outside = Outside::new();
    symlink(outside.path(), root.path().join("abs")).unwrap();
    let depth = root.path().components().count();
    let rel = format!("{}{}", "../".repeat(depth), outside.path().display());
    symlink(&rel, root.path().join("rel")).unwrap();
    let r = dir_fd(root.path());
    for link in ["abs", "rel"] {
        for create in [false, true] {
            let e = walk_dirs(&r, &[link, "sub"], create).unwrap_err();
            assert!(!e.creating);
            assert!(refused_symlink(e.source), "{link}");
        }
    }
    outside.assert_untouched();
    // Plain directories are walked, and created with create.
    let fd = walk_dirs(&r, &["new", "deep"], true).unwrap();
    assert!(is_dir_stat(&fstatat_nofollow(&fd, c"").unwrap()));
    assert!(root.path().join("new/deep").is_dir());
    let e = walk_dirs(&r, &["missing"], false).unwrap_err();
    assert_eq!(errno(e.source), libc::ENOENT);
}

#[test]
fn walk_refuses_a_symlink_swapped_in_for_a_directory() {
    let root = tempfile::tempdir().unwrap();
    let outside = Outside::new();
    std::fs::create_dir_all(root.path().join("a/b")).unwrap();
    let r = dir_fd(root.path());
    walk_dirs(&r, &["a", "b"], false).unwrap();
    // The directory is replaced by a symlink to the outside between two walks.
    std::fs::remove_dir_all(root.path().join("a")).unwrap();
    symlink(outside.path(), root.path().join("a")).unwrap();
    let e = walk_dirs(&r, &["a", "b"], true).unwrap_err();
    assert!(refused_symlink(e.source));
    outside.assert_untouched();
}

#[test]
fn walk_refuses_files_fifos_and_nul_bytes_as_directories() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("file"), "x").unwrap();
    let r = dir_fd(root.path());
    mknodat(&r, c"fifo", libc::S_IFIFO | 0o600, 0).unwrap();
    for name in ["file", "fifo"] {
        let e = walk_dirs(&r, &[name, "x"], true).unwrap_err();
        assert_eq!(errno(e.source), libc::ENOTDIR, "{name}");
    }
    let e = walk_dirs(&r, &[&b"a\0b"[..]], true).unwrap_err();
    assert_eq!(e.source.kind(), std::io::ErrorKind::InvalidInput);
    assert!(!root.path().join("a").exists());
}

#[test]
fn symlink_loops_fail_with_eloop() {
    let root = tempfile::tempdir().unwrap();
    symlink("loop2", root.path().join("loop1")).unwrap();
    symlink("/loop1", root.path().join("loop2")).unwrap();
    symlink("self", root.path().join("self")).unwrap();
    let r = dir_fd(root.path());
    for p in ["/loop1", "/self/x"] {
        let e = open_in_root(r.as_raw_fd(), Path::new(p), libc::O_PATH, 0).unwrap_err();
        assert_eq!(e, Errno::ELOOP, "{p}");
    }
    let e = mkdir_all_in_root(r.as_raw_fd(), Path::new("/self/x")).unwrap_err();
    assert_eq!(e, Errno::ELOOP);
    let e = walk_dirs(&r, &["loop1"], true).unwrap_err();
    assert!(refused_symlink(e.source));
}

#[test]
fn in_root_clamps_dotdot_and_relative_links_to_the_root() {
    let root = tempfile::tempdir().unwrap();
    let outside = Outside::new();
    std::fs::create_dir(root.path().join("etc")).unwrap();
    let depth = root.path().components().count();
    let rel = format!("{}{}", "../".repeat(depth + 2), outside.path().display());
    symlink(&rel, root.path().join("rel")).unwrap();
    let r = dir_fd(root.path());
    let raw = r.as_raw_fd();
    // The secret exists only outside: through ".." or the link it is not found inside.
    let up = format!("/../../..{}/secret", outside.path().display());
    assert_eq!(
        open_in_root(raw, Path::new(&up), libc::O_RDONLY, 0).unwrap_err(),
        Errno::ENOENT
    );
    assert_eq!(
        open_in_root(raw, Path::new("/rel/secret"), libc::O_RDONLY, 0).unwrap_err(),
        Errno::ENOENT
    );
    // Creating through the link lands inside the root, or fails.
    if let Ok(fd) = mkdir_all_in_root(raw, Path::new("/rel/made")) {
        let real = std::fs::read_link(in_root::fd_path(&fd)).unwrap();
        assert!(real.starts_with(root.path()), "{}", real.display());
    }
    outside.assert_untouched();
}

#[test]
fn hard_link_of_a_symlink_links_the_symlink_not_its_target() {
    let root = tempfile::tempdir().unwrap();
    let outside = Outside::new();
    symlink(outside.path().join("secret"), root.path().join("s")).unwrap();
    let r = dir_fd(root.path());
    linkat(&r, c"s", &r, c"h").unwrap();
    let st = fstatat_nofollow(&r, c"h").unwrap();
    assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFLNK);
    let host = std::fs::metadata(outside.path().join("secret")).unwrap();
    assert_eq!(host.nlink(), 1, "the host file got a second link");
    // lchown, utimes and stat act on the link itself.
    set_times_at(&r, c"h", 1_000_000).unwrap();
    assert_eq!(fstatat_nofollow(&r, c"h").unwrap().st_mtime, 1_000_000);
    assert_ne!(host.mtime(), 1_000_000);
    assert_eq!(
        std::fs::metadata(outside.path().join("secret"))
            .unwrap()
            .mtime(),
        host.mtime()
    );
    outside.assert_untouched();
}

#[test]
fn remove_never_follows_symlinks() {
    let root = tempfile::tempdir().unwrap();
    let outside = Outside::new();
    let d = root.path().join("d");
    std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
    std::fs::write(d.join("sub/deeper/f"), "x").unwrap();
    symlink(outside.path(), d.join("to_dir")).unwrap();
    symlink(outside.path().join("secret"), d.join("sub/to_file")).unwrap();
    let r = dir_fd(root.path());
    let dfd = dir_fd(&d);
    mknodat(&dfd, c"fifo", libc::S_IFIFO | 0o600, 0).unwrap();
    remove_at(&r, c"d", true).unwrap();
    assert!(!d.exists());
    outside.assert_untouched();

    // A symlink swapped in where a directory was seen: nothing is removed through it.
    symlink(outside.path(), root.path().join("was_dir")).unwrap();
    let e = remove_at(&r, c"was_dir", true).unwrap_err();
    assert!(refused_symlink(e));
    outside.assert_untouched();
    // As a non-directory, the symlink itself goes.
    remove_at(&r, c"was_dir", false).unwrap();
    assert!(fstatat_nofollow(&r, c"was_dir").is_err());
    outside.assert_untouched();
}

#[test]
fn open_dir_path_does_not_follow_a_final_symlink() {
    let root = tempfile::tempdir().unwrap();
    let outside = Outside::new();
    symlink(outside.path(), root.path().join("l")).unwrap();
    let e = open_dir_path(&root.path().join("l")).unwrap_err();
    assert!(refused_symlink(e));
    assert!(open_dir_path(root.path()).is_ok());
    let names = list_dir(&open_dir_path(outside.path()).unwrap()).unwrap();
    assert_eq!(names, [c"secret".to_owned()]);
}
