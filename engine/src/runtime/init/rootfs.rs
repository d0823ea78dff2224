//! The container's root: overlay mount, the standard mounts inside it, pivot_root.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::devices;
use super::mounts::{mount_on_fd, remount_readonly};
use super::{ErrnoCtx, InitError, InitResult};
use crate::fs_at::in_root::{create_file_in_root, mkdir_all_in_root};
use crate::runtime::spec::{files, NetworkNamespace, RootfsSpec, RuntimeSpec, SharedNamespace};

/// Overlay options longer than this do not fit in the page mount(2) copies.
const MAX_MOUNT_DATA: usize = 4000;

/// Make the mount holding `path` private in our namespace.
fn parent_mount_private(path: &Path) -> InitResult<()> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ctx("read mountinfo")?;
    let parent = crate::util::mountinfo::mount_of(&info, path)
        .map(|(mp, _)| mp)
        .unwrap_or_else(|| PathBuf::from("/"));
    mount(
        None::<&str>,
        &parent,
        None::<&str>,
        MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .ctx(format!("make {} private", parent.display()))
}

/// `--ipc container:<id>`: the donor's /dev/shm, cloned (open_tree) from inside its mount
/// namespace and attached on ours. A mount cannot be bound across namespaces by path, so we
/// visit: setns there (our root becomes the donor's, so "/dev/shm" is its), clone, setns back
/// (root and cwd return to our namespace's root: nothing relative is held across), move_mount.
fn donor_shm(donor: &Path, target: &OwnedFd) -> InitResult<()> {
    use nix::sched::{setns, CloneFlags};
    let ours = std::fs::File::open("/proc/self/ns/mnt").ctx("open own mount namespace")?;
    let theirs = std::fs::File::open(donor).ctx(format!("open {}", donor.display()))?;
    setns(&theirs, CloneFlags::CLONE_NEWNS).ctx("enter the IPC donor's mount namespace")?;
    let tree = crate::archive::volumes::open_tree(Path::new("/dev/shm"));
    setns(&ours, CloneFlags::CLONE_NEWNS).ctx("return to the container's mount namespace")?;
    let tree = tree.ctx("clone the IPC donor's /dev/shm")?;
    crate::archive::volumes::move_mount(&tree, target).ctx("mount the IPC donor's /dev/shm")
}

/// /dev/shm: a tmpfs of `--shm-size` (docker's default 64 MiB); the host's own with `--ipc host`
/// (its POSIX shared memory goes with its IPC namespace); none at all with `--ipc none`.
fn mount_shm(r: RawFd, spec: &RuntimeSpec) -> InitResult<()> {
    if spec.namespaces.no_shm {
        return Ok(());
    }
    let shm = dir(r, "/dev/shm")?;
    if let Some(donor) = &spec.namespaces.shm_from {
        return donor_shm(donor, &shm);
    }
    if spec.namespaces.ipc == SharedNamespace::Host {
        return mount_on_fd(
            Some("/dev/shm"),
            &shm,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )
        .ctx("bind the host's /dev/shm");
    }
    // In KiB rounded up, as tmpfs takes it.
    let shm_kib = spec.shm_size.unwrap_or(64 << 20).div_ceil(1024);
    mount_on_fd(
        Some("shm"),
        &shm,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
        Some(&format!("mode=1777,size={shm_kib}k")),
    )
    .ctx("mount /dev/shm")
}

/// The container's terminal (and its /dev/console bind) is made after pivot_root, inside the
/// new devpts: see `console`.
pub fn prepare_rootfs(spec: &RuntimeSpec) -> InitResult<()> {
    // Nothing we mount may propagate back to the host: our copy of its mounts is private, or,
    // when a bind asks for shared or slave propagation (`root_propagation`), slave or still
    // shared as runc leaves it; then the mount the rootfs sits on is made private (runc's
    // rootfsParentMountPrivate), so the overlay and everything under it stay ours.
    let root = spec.root_propagation();
    let flags = super::user_mounts::propagation_flags(root);
    mount(None::<&str>, "/", None::<&str>, flags, None::<&str>).ctx(format!("make / {root}"))?;
    if root == "shared" {
        parent_mount_private(&spec.rootfs.mount_point)?;
    }
    mount_overlay(&spec.rootfs)?;

    let root = std::fs::File::open(&spec.rootfs.mount_point)
        .ctx(format!("open rootfs {}", spec.rootfs.mount_point.display()))?;
    let root: OwnedFd = root.into();
    let r = root.as_raw_fd();

    let nosuid_noexec_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    let proc_fd = dir(r, "/proc")?;
    mount_on_fd(
        Some("proc"),
        &proc_fd,
        Some("proc"),
        nosuid_noexec_nodev,
        None,
    )
    .ctx("mount proc")?;

    let dev = dir(r, "/dev")?;
    mount_on_fd(
        Some("tmpfs"),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )
    .ctx("mount /dev")?;
    devices::populate_dev(r)?;
    if spec.host_devices {
        devices::copy_host_devices(r)?;
    }
    let pts = dir(r, "/dev/pts")?;
    mount_on_fd(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
    )
    .ctx("mount /dev/pts")?;
    mount_shm(r, spec)?;
    let mq = dir(r, "/dev/mqueue")?;
    mount_on_fd(
        Some("mqueue"),
        &mq,
        Some("mqueue"),
        nosuid_noexec_nodev,
        None,
    )
    .ctx("mount /dev/mqueue")?;
    mount_sys(r, &spec.network)?;

    for (name, target) in [
        (files::HOSTNAME, "/etc/hostname"),
        (files::HOSTS, "/etc/hosts"),
        (files::RESOLV_CONF, "/etc/resolv.conf"),
    ] {
        let src = spec.etc_dir.as_ref().unwrap_or(&spec.dir).join(name);
        if !src.exists() {
            continue;
        }
        let fd = create_file_in_root(r, Path::new(target)).ctx(format!("create {target}"))?;
        let src = src.to_string_lossy().into_owned();
        mount_on_fd(Some(src.as_str()), &fd, None, MsFlags::MS_BIND, None)
            .ctx(format!("bind {target}"))?;
    }
    Ok(())
}

fn dir(root: RawFd, path: &str) -> InitResult<OwnedFd> {
    mkdir_all_in_root(root, Path::new(path)).ctx(format!("create {path}"))
}

/// /sys read-only, with an empty read-only tmpfs over /sys/fs/cgroup so the host's writable
/// cgroupfs is never reachable.
fn mount_sys(root: RawFd, network: &NetworkNamespace) -> InitResult<()> {
    let sys = dir(root, "/sys")?;
    let flags = MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    match mount_on_fd(Some("sysfs"), &sys, Some("sysfs"), flags, None) {
        Ok(()) => {}
        Err(e) if *network == NetworkNamespace::Host => {
            // sysfs cannot be mounted without owning the network namespace in some setups;
            // docker then rbinds the host's /sys read-only.
            tracing::debug!("sysfs mount failed ({e}), binding host /sys");
            mount_on_fd(
                Some("/sys"),
                &sys,
                None,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None,
            )
            .ctx("bind /sys")?;
            let sys = dir(root, "/sys")?;
            remount_readonly(&sys).ctx("remount /sys read-only")?;
        }
        Err(e) => return Err(e).ctx("mount sysfs"),
    }
    match mkdir_all_in_root(root, Path::new("/sys/fs/cgroup")) {
        Ok(cg) => mount_on_fd(
            Some("tmpfs"),
            &cg,
            Some("tmpfs"),
            flags,
            Some("mode=755,size=0"),
        )
        .ctx("mount /sys/fs/cgroup")?,
        // A read-only sysfs without fs/cgroup has nothing to hide.
        Err(Errno::ENOENT) | Err(Errno::EROFS) => {}
        Err(e) => return Err(e).ctx("open /sys/fs/cgroup"),
    }
    Ok(())
}

/// overlay on `mount_point`: lowerdir top-first, then upper and work. When the option string
/// would not fit in a page, chdir to the common parent and use relative paths (the kernel
/// resolves them against our cwd).
fn mount_overlay(rootfs: &RootfsSpec) -> InitResult<()> {
    if rootfs.lower_dirs.is_empty() {
        return Err(InitError::setup("rootfs has no layers"));
    }
    let opts = |dirs: &[PathBuf], upper: &Path, work: &Path| {
        let lower: Vec<String> = dirs
            .iter()
            .map(|d| d.to_string_lossy().into_owned())
            .collect();
        format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.join(":"),
            upper.display(),
            work.display()
        )
    };
    let mut data = opts(&rootfs.lower_dirs, &rootfs.upper_dir, &rootfs.work_dir);
    let mut old_cwd = None;
    if data.len() > MAX_MOUNT_DATA {
        let mut all: Vec<&Path> = rootfs.lower_dirs.iter().map(|p| p.as_path()).collect();
        all.push(&rootfs.upper_dir);
        all.push(&rootfs.work_dir);
        let base = common_parent(&all);
        let rel = |p: &Path| {
            p.strip_prefix(&base)
                .map(|r| r.to_path_buf())
                .unwrap_or(p.into())
        };
        let lowers: Vec<PathBuf> = rootfs.lower_dirs.iter().map(|p| rel(p)).collect();
        data = opts(&lowers, &rel(&rootfs.upper_dir), &rel(&rootfs.work_dir));
        if data.len() > MAX_MOUNT_DATA {
            return Err(InitError::setup(format!(
                "overlay options too long ({} layers)",
                rootfs.lower_dirs.len()
            )));
        }
        old_cwd = Some(std::env::current_dir().ctx("getcwd")?);
        std::env::set_current_dir(&base).ctx(format!("chdir {}", base.display()))?;
    }
    let res = mount(
        Some("overlay"),
        &rootfs.mount_point,
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    );
    if let Some(cwd) = old_cwd {
        let _ = std::env::set_current_dir(cwd);
    }
    res.ctx("mount overlay rootfs")
}

/// Longest common ancestor directory of absolute paths.
pub(crate) fn common_parent(paths: &[&Path]) -> PathBuf {
    let mut base: Vec<_> = match paths.first() {
        Some(p) => p.parent().unwrap_or(p).components().collect(),
        None => return PathBuf::from("/"),
    };
    for p in &paths[1..] {
        let comps: Vec<_> = p.components().collect();
        let n = base.iter().zip(&comps).take_while(|(a, b)| a == b).count();
        base.truncate(n);
    }
    let out: PathBuf = base.iter().collect();
    if out.as_os_str().is_empty() {
        PathBuf::from("/")
    } else {
        out
    }
}

/// runc's pivot_root: pivot onto "." with the old root stacked on top, then detach it.
pub fn pivot_root(new_root: &Path) -> InitResult<()> {
    let old = std::fs::File::open("/").ctx("open old root")?;
    let new = std::fs::File::open(new_root).ctx("open new root")?;
    nix::unistd::fchdir(&new).ctx("fchdir new root")?;
    nix::unistd::pivot_root(".", ".").ctx("pivot_root")?;
    nix::unistd::fchdir(&old).ctx("fchdir old root")?;
    // The old root must not propagate its unmount anywhere.
    mount(
        None::<&str>,
        ".",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .ctx("make old root slave")?;
    umount2(".", MntFlags::MNT_DETACH).ctx("detach old root")?;
    nix::unistd::chdir("/").ctx("chdir /")?;
    // Both fds are O_CLOEXEC (std opens them so) and closed here anyway.
    drop(old);
    drop(new);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_parent_of_layer_dirs() {
        let a = Path::new("/var/lib/berth/layers/aaa/fs");
        let b = Path::new("/var/lib/berth/layers/bbb/fs");
        let c = Path::new("/var/lib/berth/containers/x/upper");
        assert_eq!(
            common_parent(&[a, b]),
            PathBuf::from("/var/lib/berth/layers")
        );
        assert_eq!(common_parent(&[a, b, c]), PathBuf::from("/var/lib/berth"));
        assert_eq!(
            common_parent(&[a]),
            PathBuf::from("/var/lib/berth/layers/aaa")
        );
    }
}
