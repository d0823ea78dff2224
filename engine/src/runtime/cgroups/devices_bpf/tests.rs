//! Unit tests of the device filter: the generated program run by a tiny interpreter over many
//! inputs, and (as root, where the kernel allows) loading and attaching it.

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
