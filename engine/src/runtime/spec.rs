//! The contract between the engine and a container's shim: everything the shim needs to create,
//! supervise and log one container. The engine writes it as `bundle.json` in the container
//! directory before it execs the shim; the shim never asks the engine for anything else.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// File names inside a container directory (`<data-root>/containers/<id>/`).
pub mod files {
    /// The `RuntimeSpec` for the shim, written by the engine before each start.
    pub const BUNDLE: &str = "bundle.json";
    /// Unix socket the shim listens on so a restarted engine can reconnect.
    pub const SHIM_SOCKET: &str = "shim.sock";
    /// `ExitRecord`, written atomically by the shim when the container's process has been reaped.
    pub const EXIT_RECORD: &str = "exit.json";
    /// The shim's own diagnostics (not the container's output).
    pub const SHIM_LOG: &str = "shim.log";
    /// Container output, docker's json-file format.
    pub const CONTAINER_LOG: &str = "container-json.log";
    pub const HOSTNAME: &str = "hostname";
    pub const HOSTS: &str = "hosts";
    pub const RESOLV_CONF: &str = "resolv.conf";
    /// overlayfs upper and work dirs, and the mount point of the merged rootfs.
    pub const UPPER: &str = "upper";
    pub const WORK: &str = "work";
    pub const ROOTFS: &str = "rootfs";
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuntimeSpec {
    /// Full 64-hex container id.
    pub id: String,
    /// The container directory; every relative file in `files` lives here.
    pub dir: PathBuf,
    pub rootfs: RootfsSpec,
    pub process: ProcessSpec,
    pub hostname: String,
    pub network: NetworkNamespace,
    /// Docker's masked paths (files get /dev/null bound over them, dirs an empty read-only tmpfs).
    pub masked_paths: Vec<String>,
    /// Docker's read-only paths (bind-remounted read-only).
    pub readonly_paths: Vec<String>,
    /// Compiled seccomp BPF program (raw `struct sock_filter` array) to install; None = unconfined.
    pub seccomp_bpf: Option<PathBuf>,
    pub cgroup: CgroupSpec,
    pub log: LogSpec,
    /// Run a minimal init as PID 1 that forwards signals and reaps zombies (`--init`).
    pub init: bool,
    /// User mounts (volumes, binds, tmpfs), in order; performed after the standard mounts and
    /// before pivot_root, each destination resolved inside the rootfs.
    #[serde(default)]
    pub mounts: Vec<MountSpec>,
    /// Size of /dev/shm in bytes (`--shm-size`; docker's default is 64 MiB).
    #[serde(default)]
    pub shm_size: Option<u64>,
    /// Where /etc/hostname, hosts and resolv.conf come from when not `dir`: the directory of the
    /// container whose network this one joins (`--network container:<id>`), so both see one set.
    #[serde(default)]
    pub etc_dir: Option<PathBuf>,
    /// `--privileged`: the host's device nodes are made in the container's /dev too, as runc
    /// does for docker's privileged containers.
    #[serde(default)]
    pub host_devices: bool,
    /// The PID, IPC and UTS namespaces (docker's `PidMode`, `IpcMode`, `UTSMode`).
    #[serde(default)]
    pub namespaces: Namespaces,
}

/// Where the container's PID, IPC and UTS namespaces come from. The network namespace has its
/// own `NetworkNamespace`, as it is configured by the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespaces {
    /// Joined (or unshared) by the shim before it forks the init, so the init is in it.
    #[serde(default)]
    pub pid: SharedNamespace,
    #[serde(default)]
    pub ipc: SharedNamespace,
    /// Only `Private` or `Host`: docker has no `container:` UTS mode.
    #[serde(default)]
    pub uts: SharedNamespace,
    /// `--ipc none`: a private IPC namespace and no /dev/shm at all.
    #[serde(default)]
    pub no_shm: bool,
    /// `--ipc container:<id>`: the donor's mount namespace, whose /dev/shm is cloned into the
    /// container's (POSIX shared memory goes with the IPC namespace, as in docker).
    #[serde(default)]
    pub shm_from: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharedNamespace {
    /// A new namespace of the container's own.
    #[default]
    Private,
    /// The host's (the engine's) namespace: nothing is unshared.
    Host,
    /// Another container's, joined with setns(2) through its init's `/proc/<pid>/ns/<kind>`.
    Path(PathBuf),
}

/// One user mount for the container init.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MountSpec {
    pub kind: MountKind,
    /// Host path to bind (binds and volumes); unused for tmpfs.
    #[serde(default)]
    pub source: PathBuf,
    /// Absolute path inside the container; resolved with RESOLVE_IN_ROOT, never followed out.
    pub destination: String,
    #[serde(default)]
    pub readonly: bool,
    /// tmpfs: mount data such as "size=65536k,mode=1777".
    #[serde(default)]
    pub data: String,
    /// tmpfs: extra flags ("nosuid", "nodev", "noexec", "noatime", ...).
    #[serde(default)]
    pub flags: Vec<String>,
    /// Volumes: when the source directory is empty, copy the image's content at `destination`
    /// into it first (docker's copy-up), preserving owners, modes and symlinks.
    #[serde(default)]
    pub copy_up: bool,
    /// Binds: docker's propagation ("rprivate" when empty; "private", "shared", "rshared",
    /// "slave", "rslave"), applied to the bind once it is mounted.
    #[serde(default)]
    pub propagation: String,
}

impl RuntimeSpec {
    /// The propagation the container's copy of the host's mounts needs, as dockerd chooses its
    /// `RootfsPropagation`: shared when a bind is shared (so its mounts can reach the host),
    /// slave when one is a slave (so the host's mounts reach it), else none at all.
    pub fn root_propagation(&self) -> &'static str {
        let has = |names: &[&str]| {
            self.mounts
                .iter()
                .any(|m| names.contains(&m.propagation.as_str()))
        };
        if has(&["shared", "rshared"]) {
            "shared"
        } else if has(&["slave", "rslave"]) {
            "rslave"
        } else {
            "rprivate"
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// Recursive bind (`rbind`, rprivate), used for volumes too.
    Bind,
    Tmpfs,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootfsSpec {
    /// Unpacked image layer directories, top-most layer first (overlayfs `lowerdir` order).
    pub lower_dirs: Vec<PathBuf>,
    pub upper_dir: PathBuf,
    pub work_dir: PathBuf,
    /// Where the shim mounts the merged overlay (inside the container's mount namespace only).
    pub mount_point: PathBuf,
    pub readonly: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessSpec {
    /// argv; args[0] is resolved against the container's PATH when it has no '/'.
    pub args: Vec<String>,
    /// KEY=VALUE, already complete (PATH, HOSTNAME, HOME defaults applied by the engine except HOME,
    /// which the shim fills from the resolved user's passwd entry when absent).
    pub env: Vec<String>,
    /// Absolute working directory inside the container; created when missing, as docker does.
    pub cwd: String,
    /// Docker's `User`: "", "name", "uid", "name:group", "uid:gid"; resolved inside the container
    /// against its /etc/passwd and /etc/group. Empty means root.
    pub user: String,
    /// Docker's `HostConfig.GroupAdd`: supplementary groups by name (the container's
    /// /etc/group) or number, added to the user's, for the process and every exec.
    #[serde(default)]
    pub group_add: Vec<String>,
    pub tty: bool,
    /// Keep stdin open (a pipe, or the PTY) so the engine can forward attach input.
    pub open_stdin: bool,
    /// Capability names as in docker ("CAP_CHOWN", ...): bounding, permitted and effective sets.
    /// Inheritable and ambient stay empty.
    pub capabilities: Vec<String>,
    pub no_new_privileges: bool,
    /// Initial terminal size when `tty`.
    pub console_size: Option<(u16, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkNamespace {
    /// Share the host's network namespace (`--network host`).
    Host,
    /// A new network namespace with only loopback up (`--network none`).
    Isolated,
    /// Join the namespace pinned at this path, already configured by the engine (bridge
    /// networks: veth, address, routes).
    Path(PathBuf),
}

/// The cgroup of container `id`, relative to each hierarchy's root.
pub fn cgroup_path(id: &str) -> String {
    format!("berth/{id}")
}

/// Resource limits, already converted from docker's HostConfig units. `None` = no limit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CgroupSpec {
    /// Path relative to each hierarchy root, e.g. "berth/<id>".
    pub path: String,
    /// Bytes.
    pub memory: Option<i64>,
    /// Docker semantics: memory + swap total in bytes; -1 = unlimited swap.
    pub memory_swap: Option<i64>,
    /// Relative weight, docker's 2..262144 scale (1024 default).
    pub cpu_shares: Option<u64>,
    /// Microseconds per period; with `cpu_period`.
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    pub pids_limit: Option<i64>,
    /// `--privileged`: every device allowed (docker's `a *:* rwm`) instead of the default list.
    #[serde(default)]
    pub all_devices: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSpec {
    pub path: PathBuf,
    /// Rotate when the file reaches this many bytes.
    pub max_size: u64,
    /// Total files kept, including the current one (path, path.1, path.2, ...).
    pub max_files: u32,
    /// `--log-driver none`: no file is written (absent in specs of older engines: false).
    #[serde(default)]
    pub disabled: bool,
    /// Gzip rotated files (`compress=true`; `local`'s default).
    #[serde(default)]
    pub compress: bool,
}

/// What the shim records when the container's main process has been reaped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExitRecord {
    pub exit_code: i32,
    pub oom_killed: bool,
    /// RFC 3339 with nanoseconds.
    pub finished_at: String,
    /// Set when the container could not be started or the shim failed; exit_code is then 127/126/128.
    pub error: Option<String>,
}

/// What the shim reports once the container's process is running.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StartRecord {
    /// Host PID of the container's main process.
    pub pid: i32,
    /// Host PID of the shim.
    pub shim_pid: i32,
    pub started_at: String,
}
