//! A busybox rootfs as a tar, from Debian's busybox-static (/bin/busybox): the image every test
//! runs. Includes passwd/group entries for user tests.

use std::sync::OnceLock;

pub fn busybox_path() -> &'static str {
    for p in ["/bin/busybox", "/usr/bin/busybox"] {
        if std::path::Path::new(p).exists() {
            return p;
        }
    }
    panic!("busybox-static is required (apt-get install busybox-static)");
}

fn append_file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8], mode: u32) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(mode);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, data).unwrap();
}

fn append_dir(b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32) {
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(mode);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::Directory);
    b.append_data(&mut h, path, std::io::empty()).unwrap();
}

fn append_symlink(b: &mut tar::Builder<Vec<u8>>, path: &str, target: &str) {
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(0o777);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::Symlink);
    b.append_link(&mut h, path, target).unwrap();
}

pub fn busybox_rootfs_tar() -> Vec<u8> {
    static TAR: OnceLock<Vec<u8>> = OnceLock::new();
    TAR.get_or_init(|| {
        let bb = std::fs::read(busybox_path()).expect("read busybox");
        let list = std::process::Command::new(busybox_path())
            .arg("--list")
            .output()
            .expect("busybox --list");
        let mut b = tar::Builder::new(Vec::new());
        for d in ["bin", "etc", "tmp", "root", "home", "home/app", "var", "usr", "usr/bin"] {
            append_dir(&mut b, d, if d == "tmp" { 0o1777 } else { 0o755 });
        }
        append_file(&mut b, "bin/busybox", &bb, 0o755);
        for applet in String::from_utf8_lossy(&list.stdout).lines() {
            if applet != "busybox" && !applet.is_empty() {
                append_symlink(&mut b, &format!("bin/{applet}"), "busybox");
            }
        }
        append_file(
            &mut b,
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App User:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
            0o644,
        );
        append_file(
            &mut b,
            "etc/group",
            b"root:x:0:\nstaff:x:50:app\naudio:x:29:app,root\napp:x:1000:\nnogroup:x:65534:\n",
            0o644,
        );
        b.into_inner().unwrap()
    })
    .clone()
}
