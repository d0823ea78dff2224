//! Installing a precompiled seccomp BPF program with a raw seccomp(2) call (no libseccomp in
//! the container's init).

use std::path::Path;

use nix::errno::Errno;

use super::{ErrnoCtx, InitError, InitResult};

/// Size of one `struct sock_filter` (u16 code, u8 jt, u8 jf, u32 k).
const INSN_SIZE: usize = 8;
/// The kernel's BPF_MAXINSNS.
const MAX_INSNS: usize = 4096;

/// Read and validate a program file (host path; read before pivot_root).
pub fn read_program(path: &Path) -> InitResult<Vec<libc::sock_filter>> {
    let bytes = std::fs::read(path).ctx(format!("read seccomp program {}", path.display()))?;
    parse_program(&bytes)
}

pub fn parse_program(bytes: &[u8]) -> InitResult<Vec<libc::sock_filter>> {
    if bytes.is_empty()
        || !bytes.len().is_multiple_of(INSN_SIZE)
        || bytes.len() / INSN_SIZE > MAX_INSNS
    {
        return Err(InitError::setup(format!(
            "invalid seccomp program ({} bytes)",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(INSN_SIZE)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

pub fn set_no_new_privs() -> InitResult<()> {
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
        return Err(Errno::last()).ctx("prctl PR_SET_NO_NEW_PRIVS");
    }
    Ok(())
}

/// seccomp(SECCOMP_SET_MODE_FILTER, 0, prog). We are single-threaded, so no TSYNC. Without
/// no_new_privs this needs CAP_SYS_ADMIN, hence the caller's ordering.
pub fn load(prog: &[libc::sock_filter]) -> InitResult<()> {
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: fprog points to `prog`, which outlives the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &fprog as *const libc::sock_fprog,
        )
    };
    if r < 0 {
        return Err(Errno::last()).ctx("load seccomp filter");
    }
    Ok(())
}
