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
mod tests;
