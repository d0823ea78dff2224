//! Device access control on cgroup v2: v2 has no devices controller, so the allowlist is a
//! `BPF_PROG_TYPE_CGROUP_DEVICE` program attached to the container's cgroup (as runc's
//! devicefilter does). The program is generated here from [`DEFAULT_DEVICE_RULES`] and loaded
//! with the raw `bpf(2)` syscall; no BPF crate is needed for a dozen instructions per rule.
//!
//! The program sees `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`
//! (access_type: device type in the low 16 bits, BPF_DEVCG_ACC_* in the high 16 bits) and
//! returns 1 to allow, 0 to deny.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::{DeviceKind, DeviceRule, DEFAULT_DEVICE_RULES, DEV_ACC_ALL};
use crate::error::{EngineError, IoContext, Result};

/// BPF_DEVCG_DEV_* as seen in the low half of `access_type`.
const DEVCG_DEV_BLOCK: i32 = 1;
const DEVCG_DEV_CHAR: i32 = 2;

// bpf(2) commands, program and attach types, flags (include/uapi/linux/bpf.h).
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Several programs may sit on one cgroup and all must allow; ancestors' programs keep running
/// too. Same flag as runc, so nested runtimes and systemd's own device programs compose.
const BPF_F_ALLOW_MULTI: u32 = 2;

/// One eBPF instruction (`struct bpf_insn`): registers packed dst in the low nibble.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

// Opcode parts.
const BPF_LDX: u8 = 0x01;
const BPF_ALU: u8 = 0x04;
const BPF_JMP: u8 = 0x05;
const BPF_JMP32: u8 = 0x06;
const BPF_ALU64: u8 = 0x07;
const BPF_W: u8 = 0x00;
const BPF_MEM: u8 = 0x60;
const BPF_K: u8 = 0x00;
const BPF_X: u8 = 0x08;
const BPF_AND: u8 = 0x50;
const BPF_RSH: u8 = 0x70;
const BPF_MOV: u8 = 0xb0;
const BPF_JNE: u8 = 0x50;
const BPF_EXIT: u8 = 0x90;

// Registers: r0 return value, r1 context on entry, r2..r5 scratch.
const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R5: u8 = 5;

impl Insn {
    const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Self {
        Insn {
            code,
            regs: (src << 4) | (dst & 0x0f),
            off,
            imm,
        }
    }
    /// dst = *(u32 *)(src + off)
    const fn load_u32(dst: u8, src: u8, off: i16) -> Self {
        Self::new(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
    }
    /// dst = (u32)dst & imm (32-bit ops zero the upper half)
    const fn and32(dst: u8, imm: i32) -> Self {
        Self::new(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm)
    }
    const fn rsh32(dst: u8, imm: i32) -> Self {
        Self::new(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm)
    }
    const fn mov32_reg(dst: u8, src: u8) -> Self {
        Self::new(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
    }
    const fn mov64_imm(dst: u8, imm: i32) -> Self {
        Self::new(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
    }
    /// if (u32)dst != (u32)imm goto +off. 32-bit compare so majors/minors above 2^31 are not
    /// sign-extended against the zero-extended register.
    const fn jne32_imm(dst: u8, imm: u32, off: i16) -> Self {
        Self::new(BPF_JMP32 | BPF_JNE | BPF_K, dst, 0, off, imm as i32)
    }
    const fn jne32_reg(dst: u8, src: u8, off: i16) -> Self {
        Self::new(BPF_JMP32 | BPF_JNE | BPF_X, dst, src, off, 0)
    }
    const fn exit() -> Self {
        Self::new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
    }
}

/// The instructions of one rule: every check jumps past the block when it does not match;
/// falling through all of them returns "allow".
fn rule_block(rule: &DeviceRule) -> Vec<Insn> {
    // Jumps are built with off = 0 and patched once the block length is known.
    let mut block = Vec::new();
    let ty = match rule.kind {
        DeviceKind::Char => DEVCG_DEV_CHAR,
        DeviceKind::Block => DEVCG_DEV_BLOCK,
    };
    block.push(Insn::jne32_imm(R2, ty as u32, 0));
    if rule.access & DEV_ACC_ALL != DEV_ACC_ALL {
        // Allowed only if every requested access bit is in the rule: (req & rule) == req.
        block.push(Insn::mov32_reg(R1, R3));
        block.push(Insn::and32(R1, rule.access as i32));
        block.push(Insn::jne32_reg(R1, R3, 0));
    }
    if let Some(major) = rule.major {
        block.push(Insn::jne32_imm(R4, major, 0));
    }
    if let Some(minor) = rule.minor {
        block.push(Insn::jne32_imm(R5, minor, 0));
    }
    block.push(Insn::mov64_imm(R0, 1));
    block.push(Insn::exit());
    let len = block.len();
    for (i, insn) in block.iter_mut().enumerate() {
        if insn.code & 0x07 == BPF_JMP32 {
            // Relative to the next instruction: land on the first one after this block.
            insn.off = (len - i - 1) as i16;
        }
    }
    block
}

/// The whole program for `rules` (allowlist; anything unmatched is denied).
pub fn generate(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut prog = vec![
        // r2 = type, r3 = requested access, r4 = major, r5 = minor. r1 (the context) is free
        // for scratch use afterwards.
        Insn::load_u32(R2, R1, 0),
        Insn::and32(R2, 0xffff),
        Insn::load_u32(R3, R1, 0),
        Insn::rsh32(R3, 16),
        Insn::load_u32(R4, R1, 4),
        Insn::load_u32(R5, R1, 8),
    ];
    for rule in rules {
        prog.extend(rule_block(rule));
    }
    prog.push(Insn::mov64_imm(R0, 0));
    prog.push(Insn::exit());
    prog
}

/// `union bpf_attr` as used by BPF_PROG_LOAD (the leading fields; the kernel zero-fills the
/// rest because we pass our size).
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// `union bpf_attr` for BPF_PROG_ATTACH.
#[repr(C)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// `union bpf_attr` for BPF_PROG_QUERY.
#[repr(C)]
#[derive(Default)]
struct ProgQueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
}

fn sys_bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::io::Result<libc::c_long> {
    // SAFETY: attr is a live, correctly laid out bpf_attr prefix of size_of::<T>() bytes, and
    // every pointer inside it refers to memory that outlives the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Load `insns` as a cgroup device program; on failure the verifier log is in the error.
pub fn load(insns: &[Insn]) -> Result<OwnedFd> {
    let license = c"Apache-2.0";
    let mut name = [0u8; 16];
    name[..13].copy_from_slice(b"berth_devices");
    let attr = |log: &mut [u8]| ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: u32::from(!log.is_empty()),
        log_size: log.len() as u32,
        log_buf: if log.is_empty() {
            0
        } else {
            log.as_mut_ptr() as u64
        },
        prog_name: name,
        expected_attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    match sys_bpf(BPF_PROG_LOAD, &mut attr(&mut [])) {
        // SAFETY: BPF_PROG_LOAD returns a new fd that nothing else owns.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) }),
        Err(e) => {
            // Load again with the verifier log only to explain the failure.
            let mut log = vec![0u8; 64 * 1024];
            let detail = match sys_bpf(BPF_PROG_LOAD, &mut attr(&mut log)) {
                Ok(fd) => {
                    // SAFETY: as above; closes the unexpected second program.
                    drop(unsafe { OwnedFd::from_raw_fd(fd as i32) });
                    String::new()
                }
                Err(_) => {
                    let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
                    String::from_utf8_lossy(&log[..end]).trim().to_string()
                }
            };
            Err(EngineError::internal(format!(
                "loading the cgroup device BPF program: {e}{}",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!("; verifier: {detail}")
                }
            )))
        }
    }
}

fn open_dir(dir: &Path) -> Result<OwnedFd> {
    let c = CString::new(dir.as_os_str().as_encoded_bytes())
        .map_err(|_| EngineError::invalid(format!("cgroup path {} has a NUL", dir.display())))?;
    // SAFETY: c is a valid NUL-terminated path.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error())
            .io_context(|| format!("opening cgroup {}", dir.display()));
    }
    // SAFETY: open returned a new fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Attach a program allowing only `rules` to the cgroup2 directory `dir`. The attachment keeps
/// the program alive until the cgroup is removed, so no fd is kept.
pub fn attach(dir: &Path, rules: &[DeviceRule]) -> Result<()> {
    let prog = load(&generate(rules))?;
    let cg = open_dir(dir)?;
    let mut attr = ProgAttachAttr {
        target_fd: cg.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        replace_bpf_fd: 0,
    };
    sys_bpf(BPF_PROG_ATTACH, &mut attr).map_err(|e| {
        EngineError::internal(format!(
            "attaching the device BPF program to cgroup {}: {e}",
            dir.display()
        ))
    })?;
    tracing::debug!(cgroup = %dir.display(), rules = rules.len(), "device BPF program attached");
    Ok(())
}

/// Attach Docker's default device allowlist to the cgroup2 directory `dir`.
pub fn attach_default(dir: &Path) -> Result<()> {
    attach(dir, DEFAULT_DEVICE_RULES)
}

/// How many device programs are attached directly to the cgroup2 directory `dir`.
pub fn attached_count(dir: &Path) -> Result<u32> {
    let cg = open_dir(dir)?;
    let mut attr = ProgQueryAttr {
        target_fd: cg.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    sys_bpf(BPF_PROG_QUERY, &mut attr).map_err(|e| {
        EngineError::internal(format!(
            "querying device BPF programs of cgroup {}: {e}",
            dir.display()
        ))
    })?;
    Ok(attr.prog_cnt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::cgroups::{DEV_ACC_MKNOD, DEV_ACC_READ, DEV_ACC_WRITE};

    /// A tiny interpreter for exactly the instructions `generate` emits, to check the program's
    /// decisions over many inputs without the kernel.
    fn run(prog: &[Insn], ctx: [u32; 3]) -> u64 {
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            let (dst, src) = ((i.regs & 0x0f) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                0x61 => {
                    assert_eq!(src, 1, "loads only from the context");
                    r[dst] = u64::from(ctx[i.off as usize / 4]);
                }
                0x54 => r[dst] = (r[dst] as u32 & i.imm as u32) as u64,
                0x74 => r[dst] = ((r[dst] as u32) >> i.imm) as u64,
                0xbc => r[dst] = r[src] as u32 as u64,
                0xb7 => r[dst] = i.imm as i64 as u64,
                0x56 => {
                    if r[dst] as u32 != i.imm as u32 {
                        pc += i.off as usize;
                    }
                }
                0x5e => {
                    if r[dst] as u32 != r[src] as u32 {
                        pc += i.off as usize;
                    }
                }
                0x95 => return r[0],
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    fn allowed(ty: i32, acc: u32, major: u32, minor: u32) -> bool {
        let prog = generate(DEFAULT_DEVICE_RULES);
        run(&prog, [(acc << 16) | ty as u32, major, minor]) == 1
    }

    #[test]
    fn program_decides_like_the_docker_allowlist() {
        let (c, b) = (DEVCG_DEV_CHAR, DEVCG_DEV_BLOCK);
        let (m, r, w) = (DEV_ACC_MKNOD, DEV_ACC_READ, DEV_ACC_WRITE);
        // mknod of anything.
        assert!(allowed(c, m, 4, 1));
        assert!(allowed(b, m, 7, 0));
        assert!(allowed(b, m, 254, 0));
        // The standard nodes, any access.
        for (ma, mi) in [
            (1, 3),
            (1, 5),
            (1, 7),
            (1, 8),
            (1, 9),
            (5, 0),
            (5, 1),
            (5, 2),
        ] {
            for acc in [r, w, r | w, m | r | w] {
                assert!(allowed(c, acc, ma, mi), "c {ma}:{mi} {acc}");
                assert!(!allowed(b, acc, ma, mi), "b {ma}:{mi} {acc}");
            }
        }
        assert!(allowed(c, r | w, 136, 0));
        assert!(allowed(c, r | w, 136, 4242));
        assert!(allowed(c, r | w, 10, 200));
        // Denied: block read/write, other chars, mixed requests including a denied bit.
        assert!(!allowed(b, r, 7, 0));
        assert!(!allowed(b, r | w, 254, 0));
        assert!(!allowed(c, r, 4, 1));
        assert!(!allowed(c, w, 10, 201));
        assert!(!allowed(c, m | r, 4, 1));
        assert!(!allowed(c, r, 1, 1)); // /dev/mem
        assert!(!allowed(c, r, 137, 0));
        // No sign-extension mishaps with huge numbers.
        assert!(!allowed(c, r, 0x8000_0001, 3));
        // An empty rule list denies everything.
        assert_eq!(run(&generate(&[]), [(r << 16) | c as u32, 1, 3]), 0);
    }

    #[test]
    fn jumps_stay_inside_the_program() {
        let prog = generate(DEFAULT_DEVICE_RULES);
        for (i, insn) in prog.iter().enumerate() {
            if insn.code & 0x07 == BPF_JMP32 {
                let target = i + 1 + insn.off as usize;
                assert!(target < prog.len(), "insn {i} jumps to {target}");
                assert!(insn.off > 0);
            }
        }
        assert_eq!(prog.last(), Some(&Insn::exit()));
    }

    #[test]
    fn kernel_accepts_the_program() {
        let fd = load(&generate(DEFAULT_DEVICE_RULES)).unwrap();
        assert!(fd.as_raw_fd() >= 0);
        // A program the verifier rejects (no exit) is a clean error carrying the log.
        let bad = [Insn::mov64_imm(R0, 1)];
        let e = load(&bad).unwrap_err().to_string();
        assert!(e.contains("loading the cgroup device BPF program"), "{e}");
    }

    /// Major and minor of the device holding `/`, from mountinfo (None for virtual roots).
    fn root_device() -> Option<(u32, u32)> {
        let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let line = info
            .lines()
            .find(|l| l.split_whitespace().nth(4) == Some("/"))?;
        let (ma, mi) = line.split_whitespace().nth(2)?.split_once(':')?;
        let dev = (ma.parse().ok()?, mi.parse().ok()?);
        (dev.0 != 0).then_some(dev)
    }

    fn errno_of(r: libc::c_int) -> i32 {
        if r < 0 {
            std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
        } else {
            0
        }
    }

    /// Open `path` and close it again: 0 or the errno.
    fn try_open(path: &CString, flags: libc::c_int) -> i32 {
        // SAFETY: valid C string; the fd is closed right away. Async-signal-safe (used after fork).
        let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_NOCTTY | libc::O_CLOEXEC) };
        let e = errno_of(fd);
        if fd >= 0 {
            // SAFETY: fd was just opened here.
            unsafe { libc::close(fd) };
        }
        e
    }

    /// The real thing: a cgroup2 directory with the program attached, and a child process that
    /// joins it and tries device nodes. Runs as root on any kernel with cgroup2 (a private
    /// cgroup2 mount of the one unified hierarchy is used, so the host layout does not matter).
    #[test]
    fn kernel_enforces_the_allowlist_in_a_real_cgroup() {
        let mnt = tempfile::tempdir().unwrap();
        if let Err(e) = nix::mount::mount(
            Some("none"),
            mnt.path(),
            Some("cgroup2"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        ) {
            eprintln!("skipping: cannot mount cgroup2 ({e})");
            return;
        }
        struct Unmount<'a>(&'a Path);
        impl Drop for Unmount<'_> {
            fn drop(&mut self) {
                let _ = nix::mount::umount2(self.0, nix::mount::MntFlags::MNT_DETACH);
            }
        }
        let _unmount = Unmount(mnt.path());
        let cg = mnt
            .path()
            .join(format!("berth-test-{}-devbpf", std::process::id()));
        std::fs::create_dir(&cg).unwrap();
        struct Rmdir(std::path::PathBuf);
        impl Drop for Rmdir {
            fn drop(&mut self) {
                if let Err(e) = crate::runtime::cgroups::rmdir_retry(&self.0) {
                    eprintln!("cleanup: {e}");
                }
            }
        }
        let _rmdir = Rmdir(cg.clone());

        assert_eq!(attached_count(&cg).unwrap(), 0);
        attach_default(&cg).unwrap();
        assert_eq!(attached_count(&cg).unwrap(), 1);

        let nodes = tempfile::tempdir().unwrap();
        let cstr = |p: &Path| CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        let procs = cstr(&cg.join("cgroup.procs"));
        let dev_null = CString::new("/dev/null").unwrap();
        let null = cstr(&nodes.path().join("null"));
        let loop0 = cstr(&nodes.path().join("loop0"));
        let rootdisk = cstr(&nodes.path().join("rootdisk"));
        let tty1 = cstr(&nodes.path().join("tty1"));
        let (root_ma, root_mi) = root_device().unwrap_or((7, 1));
        let char_dev = libc::S_IFCHR | 0o600;
        let block_dev = libc::S_IFBLK | 0o600;

        let mut pipe = [0; 2];
        // SAFETY: pipe fills two fds.
        assert_eq!(
            unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) },
            0
        );
        // SAFETY: the child only makes async-signal-safe calls (open, write, mknod, close,
        // _exit) on data prepared before the fork.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
        if pid == 0 {
            let mut res = [-1i32; 9];
            unsafe {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                // "0" moves the writing process itself.
                res[0] = errno_of(if fd < 0 {
                    fd
                } else {
                    libc::write(fd, b"0".as_ptr().cast(), 1) as libc::c_int
                });
                if res[0] == 0 {
                    res[1] = try_open(&dev_null, libc::O_RDWR);
                    res[2] = errno_of(libc::mknod(null.as_ptr(), char_dev, libc::makedev(1, 3)));
                    res[3] = try_open(&null, libc::O_RDWR);
                    res[4] = errno_of(libc::mknod(loop0.as_ptr(), block_dev, libc::makedev(7, 0)));
                    res[5] = try_open(&loop0, libc::O_RDONLY);
                    res[6] = errno_of(libc::mknod(
                        rootdisk.as_ptr(),
                        block_dev,
                        libc::makedev(root_ma, root_mi),
                    ));
                    res[7] = try_open(&rootdisk, libc::O_RDONLY);
                    res[8] = errno_of(libc::mknod(tty1.as_ptr(), char_dev, libc::makedev(4, 1)));
                }
                libc::write(pipe[1], res.as_ptr().cast(), std::mem::size_of_val(&res));
                libc::_exit(0);
            }
        }
        // SAFETY: our copy of the write end; the read end is read below.
        unsafe { libc::close(pipe[1]) };
        let mut res = [-1i32; 9];
        // SAFETY: reading at most size_of_val(&res) bytes into res.
        let n = unsafe {
            libc::read(
                pipe[0],
                res.as_mut_ptr().cast(),
                std::mem::size_of_val(&res),
            )
        };
        unsafe { libc::close(pipe[0]) };
        let mut status = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(n as usize, std::mem::size_of_val(&res), "child report");
        let eperm = libc::EPERM;
        assert_eq!(res[0], 0, "joining the cgroup");
        assert_eq!(res[1], 0, "open /dev/null");
        assert_eq!(res[2], 0, "mknod c 1:3 (c *:* m)");
        assert_eq!(res[3], 0, "open own c 1:3 node");
        assert_eq!(res[4], 0, "mknod b 7:0 (b *:* m)");
        assert_eq!(res[5], eperm, "open b 7:0 must be denied");
        assert_eq!(res[6], 0, "mknod b {root_ma}:{root_mi}");
        assert_eq!(res[8], 0, "mknod c 4:1");

        // tty1 is opened by a second child below; first the controls: outside the cgroup the
        // same nodes are not refused by a device policy, so EPERM above came from our program.
        assert_ne!(try_open(&loop0, libc::O_RDONLY), eperm, "control b 7:0");
        // Some hosts (this VM's sandbox included) refuse the mounted root disk to everyone; the
        // in-cgroup result is only attributable to our program when the host allows it.
        if try_open(&rootdisk, libc::O_RDONLY) == eperm {
            eprintln!("note: host denies b {root_ma}:{root_mi} outside the cgroup too");
        } else {
            assert_eq!(
                res[7], eperm,
                "open root disk b {root_ma}:{root_mi} must be denied"
            );
        }
        assert_ne!(try_open(&tty1, libc::O_RDWR), eperm, "control c 4:1");

        // A child that joins and opens tty1 (c 4:1 is not in the allowlist).
        // SAFETY: as above, async-signal-safe calls only.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            unsafe {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    libc::_exit(100);
                }
                let e = try_open(&tty1, libc::O_RDWR);
                libc::_exit(if e == libc::EPERM { 0 } else { 101 });
            }
        }
        let mut status = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(libc::WIFEXITED(status), "status {status}");
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "open c 4:1 in the cgroup must be EPERM"
        );
    }
}
