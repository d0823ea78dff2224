//! Bind propagation is applied inside the container, not only checked: a mount made on the host
//! under an `rslave` or `rshared` bind's source appears in the container, one made by the
//! container under an `rshared` bind appears on the host, and a default (rprivate) bind sees
//! neither. The source is a tmpfs this test makes shared, so the check at start passes.

use std::path::Path;
use std::process::Command;

use crate::common::{ok, TestEngine};

fn sh(cmd: &str) {
    let o = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(
        o.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Unmounts what the test mounted, innermost first, whatever happens.
struct Mounts(Vec<String>);

impl Drop for Mounts {
    fn drop(&mut self) {
        for m in self.0.iter().rev() {
            let _ = Command::new("umount").args(["-l", m]).status();
        }
    }
}

#[test]
fn rslave_and_rshared_binds_receive_host_mounts_and_rshared_gives_back() {
    let e = TestEngine::with_busybox();
    let base = e.dir.path().join("prop");
    let src = base.join("src");
    std::fs::create_dir_all(&base).unwrap();
    let b = base.display().to_string();
    let mut mounts = Mounts(Vec::new());
    sh(&format!(
        "mount -t tmpfs tmpfs {b} && mount --make-shared {b}"
    ));
    mounts.0.push(b.clone());
    std::fs::create_dir_all(&src).unwrap();
    let s = src.display().to_string();
    for (name, mode, extra) in [
        ("slave", ":rslave", &[][..]),
        ("shared", ":rshared", &["--cap-add", "SYS_ADMIN"][..]),
        ("private", "", &[][..]),
    ] {
        let mut args = vec!["run", "-d", "--name", name];
        args.extend_from_slice(extra);
        let bind = format!("{s}:/mnt{mode}");
        args.extend_from_slice(&["-v", &bind, "busybox", "sleep", "600"]);
        ok(&e.docker(&args));
    }
    let sub = src.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let sub_s = sub.display().to_string();
    sh(&format!(
        "mount -t tmpfs tmpfs {sub_s} && echo from-host > {sub_s}/f"
    ));
    mounts.0.push(sub_s);
    let read = |c: &str| {
        let o = e.docker(&["exec", c, "cat", "/mnt/sub/f"]);
        crate::common::stdout(&o)
    };
    assert_eq!(read("slave"), "from-host\n");
    assert_eq!(read("shared"), "from-host\n");
    assert_eq!(
        read("private"),
        "",
        "a private bind does not receive host mounts"
    );

    // The rshared container mounts under its bind: the host sees it; not the other way for
    // the rslave one.
    ok(&e.docker(&[
        "exec",
        "shared",
        "sh",
        "-c",
        "mkdir -p /mnt/back && mount -t tmpfs tmpfs /mnt/back && echo from-container > /mnt/back/g",
    ]));
    mounts.0.push(src.join("back").display().to_string());
    assert_eq!(
        std::fs::read_to_string(src.join("back/g")).unwrap_or_default(),
        "from-container\n"
    );
    assert!(Path::new(&format!("{s}/back")).exists());
    ok(&e.docker(&["rm", "-f", "slave", "shared", "private"]));
}
