//! Reading and writing a container's filesystem from the engine (`docker cp`, `export`, `diff`)
//! without ever leaving the container's root.
//!
//! The root is a directory fd: `/proc/<pid>/root` for a running container (that view includes the
//! container's own mounts), or a detached overlay mount (fsopen/fsmount: never attached anywhere, so
//! nothing to clean up and nothing visible on the host) for a stopped one. Every path is resolved
//! with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) relative to that fd, and everything below
//! the resolved object is reached by name with O_NOFOLLOW, so a symlink inside the container can
//! never point the engine at a host file (CVE-2018-15664 class).

pub mod changes;
pub mod layer_dir;
pub mod layer_tar;
pub mod tar_in;
pub mod tar_out;
pub mod volumes;

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use serde::Serialize;

use crate::error::{EngineError, Result};
use crate::fs_at::in_root::open_in_root;
use crate::fs_at::{fstatat_nofollow, open_path, readlinkat};

/// How many symlinks one resolution may follow (the kernel's limit is 40; docker's 255).
const MAX_LINKS: usize = 255;

/// A container's root directory as an O_PATH fd.
pub struct ContainerRoot {
    fd: OwnedFd,
}

impl ContainerRoot {
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The root of a running container: its init process's root, which includes its mounts.
    pub fn of_process(pid: i32) -> Result<Self> {
        let p = format!("/proc/{pid}/root");
        let fd = open_path(Path::new(&p), libc::O_PATH | libc::O_DIRECTORY)
            .map_err(|e| EngineError::internal(format!("opening {p}: {e}")))?;
        Ok(ContainerRoot { fd })
    }

    /// A detached overlay of a stopped container's layers. `upper_work` = None gives a read-only
    /// view with the upper dir stacked as the top lower layer (no work dir is touched, so this can
    /// never conflict with a start in progress); Some((upper, work)) gives the writable view.
    pub fn overlay(lowers: &[PathBuf], upper: &Path, work: Option<&Path>) -> Result<Self> {
        let mut layers: Vec<&Path> = Vec::new();
        if work.is_none() {
            layers.push(upper);
        }
        layers.extend(lowers.iter().map(PathBuf::as_path));
        if layers.is_empty() {
            return Err(EngineError::internal("container has no layers"));
        }
        let fs = fsopen("overlay").map_err(|e| internal_errno("fsopen overlay", e))?;
        // "lowerdir+" (Linux 6.8) adds one layer per call, so no page-size limit on the option
        // string; older kernels take the classic colon-separated list.
        let mut per_layer = true;
        for l in &layers {
            if let Err(e) = fsconfig_str(&fs, "lowerdir+", &l.to_string_lossy()) {
                if e == Errno::EINVAL && std::ptr::eq(*l, layers[0]) {
                    per_layer = false;
                    break;
                }
                return Err(internal_errno("overlay lowerdir", e));
            }
        }
        if !per_layer {
            let joined: Vec<String> = layers
                .iter()
                .map(|l| l.to_string_lossy().into_owned())
                .collect();
            fsconfig_str(&fs, "lowerdir", &joined.join(":"))
                .map_err(|e| internal_errno("overlay lowerdir", e))?;
        }
        if let Some(work) = work {
            fsconfig_str(&fs, "upperdir", &upper.to_string_lossy())
                .map_err(|e| internal_errno("overlay upperdir", e))?;
            fsconfig_str(&fs, "workdir", &work.to_string_lossy())
                .map_err(|e| internal_errno("overlay workdir", e))?;
        }
        fsconfig_create(&fs).map_err(|e| internal_errno("creating the overlay", e))?;
        let attrs = if work.is_none() { MOUNT_ATTR_RDONLY } else { 0 };
        let mnt = fsmount(&fs, attrs).map_err(|e| internal_errno("fsmount overlay", e))?;
        Ok(ContainerRoot { fd: mnt })
    }

    /// Open `path` (container-absolute) inside the root, following symlinks inside it.
    pub fn open(&self, path: &str, flags: i32) -> std::result::Result<OwnedFd, Errno> {
        open_in_root(self.fd(), Path::new(path), flags, 0)
    }
}

fn internal_errno(what: &str, e: Errno) -> EngineError {
    EngineError::internal(format!("{what}: {e}"))
}

const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
const MOUNT_ATTR_RDONLY: u64 = 1;

fn fsopen(fstype: &str) -> std::result::Result<OwnedFd, Errno> {
    let c = CString::new(fstype).map_err(|_| Errno::EINVAL)?;
    // SAFETY: valid NUL-terminated string; FSOPEN_CLOEXEC = 1.
    let fd = unsafe { libc::syscall(libc::SYS_fsopen, c.as_ptr(), 1 as libc::c_uint) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel returned a new fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn fsconfig_str(fs: &OwnedFd, key: &str, value: &str) -> std::result::Result<(), Errno> {
    let k = CString::new(key).map_err(|_| Errno::EINVAL)?;
    let v = CString::new(value).map_err(|_| Errno::EINVAL)?;
    // SAFETY: valid fd and NUL-terminated strings.
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_SET_STRING,
            k.as_ptr(),
            v.as_ptr(),
            0 as libc::c_int,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

fn fsconfig_create(fs: &OwnedFd) -> std::result::Result<(), Errno> {
    // SAFETY: valid fd; the command takes no key or value.
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0 as libc::c_int,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

fn fsmount(fs: &OwnedFd, attrs: u64) -> std::result::Result<OwnedFd, Errno> {
    // SAFETY: valid fd; FSMOUNT_CLOEXEC = 1.
    let fd = unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), 1 as libc::c_uint, attrs) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel returned a new fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Docker's `ContainerPathStat` (the X-Docker-Container-Path-Stat header, base64 JSON).
#[derive(Debug, Clone, Serialize)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    /// Go's os.FileMode bits: permissions plus type flags.
    pub mode: u32,
    pub mtime: String,
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

impl PathStat {
    pub fn header_value(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// Go os.FileMode type bits.
pub mod go_mode {
    pub const DIR: u32 = 1 << 31;
    pub const SYMLINK: u32 = 1 << 27;
    pub const DEVICE: u32 = 1 << 26;
    pub const NAMED_PIPE: u32 = 1 << 25;
    pub const SOCKET: u32 = 1 << 24;
    pub const SETUID: u32 = 1 << 23;
    pub const SETGID: u32 = 1 << 22;
    pub const CHAR_DEVICE: u32 = 1 << 21;
    pub const STICKY: u32 = 1 << 20;
}

/// A Linux st_mode as Go's os.FileMode (what docker's stat header and the CLI speak).
pub fn go_file_mode(st_mode: u32) -> u32 {
    use go_mode::*;
    let mut m = st_mode & 0o777;
    match st_mode & libc::S_IFMT {
        libc::S_IFDIR => m |= DIR,
        libc::S_IFLNK => m |= SYMLINK,
        libc::S_IFBLK => m |= DEVICE,
        libc::S_IFCHR => m |= DEVICE | CHAR_DEVICE,
        libc::S_IFIFO => m |= NAMED_PIPE,
        libc::S_IFSOCK => m |= SOCKET,
        _ => {}
    }
    if st_mode & libc::S_ISUID != 0 {
        m |= SETUID;
    }
    if st_mode & libc::S_ISGID != 0 {
        m |= SETGID;
    }
    if st_mode & libc::S_ISVTX != 0 {
        m |= STICKY;
    }
    m
}

/// A container path made absolute and cleaned lexically (docker's filepath.Join("/", p)), plus
/// whether it asked for the directory itself (trailing "/" or "/.": the last symlink is then
/// followed, and for archives the contents are rebased under ".").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPath {
    /// Cleaned, absolute, no trailing slash (except "/").
    pub clean: String,
    pub trailing_slash: bool,
    pub trailing_dot: bool,
}

impl ContainerPath {
    pub fn parse(raw: &str) -> Result<Self> {
        if raw.is_empty() {
            return Err(EngineError::invalid("path cannot be empty"));
        }
        if raw.contains('\0') {
            return Err(EngineError::invalid("path contains a NUL byte"));
        }
        let mut stack: Vec<&str> = Vec::new();
        for c in raw.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    stack.pop();
                }
                c => stack.push(c),
            }
        }
        let clean = format!("/{}", stack.join("/"));
        Ok(ContainerPath {
            trailing_dot: raw == "." || raw.ends_with("/."),
            trailing_slash: raw.ends_with('/'),
            clean,
        })
    }

    /// Whether the final symlink is followed.
    pub fn follow_last(&self) -> bool {
        self.trailing_dot || self.trailing_slash || self.clean == "/"
    }

    /// The base name archive entries are rooted at: "." for "dir/." and the root, else the last
    /// component.
    pub fn archive_base(&self) -> String {
        if self.trailing_dot || self.clean == "/" {
            ".".into()
        } else {
            self.clean.rsplit('/').next().unwrap_or(".").to_string()
        }
    }

    /// (parent, last component); None for "/".
    pub fn split(&self) -> Option<(&str, &str)> {
        if self.clean == "/" {
            return None;
        }
        let (p, n) = self.clean.rsplit_once('/')?;
        Some((if p.is_empty() { "/" } else { p }, n))
    }
}

/// The resolved object behind a container path: an fd for reading (O_PATH) and its lstat.
pub struct Resolved {
    /// O_PATH fd of the parent directory (None when the object is the root or was followed).
    pub parent: Option<OwnedFd>,
    /// The final name inside `parent`.
    pub name: CString,
    pub stat: libc::stat,
}

impl Resolved {
    pub fn is_dir(&self) -> bool {
        self.stat.st_mode & libc::S_IFMT == libc::S_IFDIR
    }
    pub fn is_symlink(&self) -> bool {
        self.stat.st_mode & libc::S_IFMT == libc::S_IFLNK
    }
}

fn not_found(path: &str, container: &str) -> EngineError {
    EngineError::not_found(format!(
        "Could not find the file {path} in container {container}"
    ))
}

/// Resolve `p` inside `root` like docker's ResolvePath: every symlink but the last is followed
/// (the last too with a trailing slash or dot). `container` names the container in errors.
pub fn resolve(
    root: &ContainerRoot,
    p: &ContainerPath,
    raw: &str,
    container: &str,
) -> Result<Resolved> {
    let map = |e: Errno| match e {
        Errno::ENOENT | Errno::ENOTDIR => not_found(raw, container),
        Errno::ELOOP => EngineError::invalid(format!("too many levels of symbolic links: {raw}")),
        Errno::EXDEV => EngineError::invalid(format!("path {raw} crosses into a magic link")),
        e => EngineError::internal(format!("resolving {raw}: {e}")),
    };
    if p.follow_last() {
        let fd = root.open(&p.clean, libc::O_PATH).map_err(map)?;
        let st = nix::sys::stat::fstat(&fd).map_err(map)?;
        if (p.trailing_slash || p.trailing_dot) && st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(EngineError::invalid(format!("not a directory: {raw}")));
        }
        // The object itself is the parent of "." (lstat of "." inside it is the same object).
        return Ok(Resolved {
            parent: Some(fd),
            name: c".".to_owned(),
            stat: st,
        });
    }
    let (parent, name) = p.split().expect("non-root path has a parent");
    let pfd = root
        .open(parent, libc::O_PATH | libc::O_DIRECTORY)
        .map_err(map)?;
    let name_c = CString::new(name).map_err(|_| EngineError::invalid("NUL byte in path"))?;
    let st = fstatat_nofollow(&pfd, &name_c).map_err(map)?;
    Ok(Resolved {
        parent: Some(pfd),
        name: name_c,
        stat: st,
    })
}

/// The container-absolute path `path` leads to with every symlink followed inside the root (Go's
/// FollowSymlinkInScope): the `linkTarget` of docker's stat. Missing components are kept as is.
pub fn follow_in_scope(root: &ContainerRoot, path: &str) -> String {
    let mut pending: Vec<String> = path
        .split('/')
        .filter(|c| !c.is_empty())
        .rev()
        .map(String::from)
        .collect();
    let mut cur: Vec<String> = Vec::new();
    let mut links = 0usize;
    while let Some(comp) = pending.pop() {
        match comp.as_str() {
            "." => continue,
            ".." => {
                cur.pop();
                continue;
            }
            _ => {}
        }
        let parent = format!("/{}", cur.join("/"));
        let target = root
            .open(&parent, libc::O_PATH | libc::O_DIRECTORY)
            .ok()
            .and_then(|pfd| {
                let c = CString::new(comp.as_str()).ok()?;
                readlinkat(&pfd, &c).ok()
            });
        match target {
            Some(t) if links < MAX_LINKS => {
                links += 1;
                let t = String::from_utf8_lossy(&t).into_owned();
                if t.starts_with('/') {
                    cur.clear();
                }
                pending.extend(
                    t.split('/')
                        .filter(|c| !c.is_empty())
                        .rev()
                        .map(String::from),
                );
            }
            _ => cur.push(comp),
        }
    }
    format!("/{}", cur.join("/"))
}

/// Docker's stat of a container path (HEAD/GET archive).
pub fn stat_path(
    root: &ContainerRoot,
    raw: &str,
    container: &str,
) -> Result<(ContainerPath, Resolved, PathStat)> {
    let p = ContainerPath::parse(raw)?;
    let r = resolve(root, &p, raw, container)?;
    let link_target = if r.is_symlink() {
        follow_in_scope(root, &p.clean)
    } else {
        String::new()
    };
    let name = match p.split() {
        None => "/".to_string(),
        Some((_, n)) => n.to_string(),
    };
    let mtime = chrono::DateTime::from_timestamp(r.stat.st_mtime, r.stat.st_mtime_nsec as u32)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let stat = PathStat {
        name,
        size: r.stat.st_size,
        mode: go_file_mode(r.stat.st_mode),
        mtime,
        link_target,
    };
    Ok((p, r, stat))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_clean_like_docker() {
        let p = ContainerPath::parse("/etc/../etc//passwd").unwrap();
        assert_eq!(p.clean, "/etc/passwd");
        assert!(!p.follow_last());
        assert_eq!(p.archive_base(), "passwd");
        let p = ContainerPath::parse("../../tmp/.").unwrap();
        assert_eq!(p.clean, "/tmp");
        assert!(p.trailing_dot && p.follow_last());
        assert_eq!(p.archive_base(), ".");
        let p = ContainerPath::parse("/").unwrap();
        assert_eq!(p.split(), None);
        assert_eq!(p.archive_base(), ".");
        let p = ContainerPath::parse("/a/b/").unwrap();
        assert!(p.trailing_slash && p.follow_last());
        assert_eq!(p.archive_base(), "b");
        assert_eq!(p.split(), Some(("/a", "b")));
        assert!(ContainerPath::parse("").is_err());
    }

    #[test]
    fn go_modes() {
        assert_eq!(go_file_mode(libc::S_IFDIR | 0o755), go_mode::DIR | 0o755);
        assert_eq!(
            go_file_mode(libc::S_IFLNK | 0o777),
            go_mode::SYMLINK | 0o777
        );
        assert_eq!(
            go_file_mode(libc::S_IFREG | 0o4755),
            go_mode::SETUID | 0o755
        );
    }

    #[test]
    fn stat_and_links_stay_in_root() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "host").unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::fs::write(root.path().join("etc/f"), "in").unwrap();
        std::os::unix::fs::symlink("/", root.path().join("escape")).unwrap();
        std::os::unix::fs::symlink(
            format!("../../../../..{}", outside.path().display()),
            root.path().join("link"),
        )
        .unwrap();
        std::os::unix::fs::symlink("etc/f", root.path().join("rel")).unwrap();
        let r = ContainerRoot {
            fd: open_path(root.path(), libc::O_PATH | libc::O_DIRECTORY).unwrap(),
        };
        let (_, _, st) = stat_path(&r, "/rel", "c").unwrap();
        assert_eq!(st.link_target, "/etc/f");
        assert_eq!(st.mode & go_mode::SYMLINK, go_mode::SYMLINK);
        let (_, _, st) = stat_path(&r, "/escape/etc/f", "c").unwrap();
        assert_eq!(st.size, 2);
        // The host file behind the escaping link is never reached.
        let e = stat_path(&r, "/link/secret", "c").err().unwrap();
        assert!(matches!(e, EngineError::NotFound(_)), "{e}");
        assert_eq!(
            e.to_string(),
            "Could not find the file /link/secret in container c"
        );
        let (_, _, st) = stat_path(&r, "/link", "c").unwrap();
        assert!(!st.link_target.contains(".."));
    }
}
