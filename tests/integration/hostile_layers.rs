//! A corpus of hostile layer tars driven through real imports (`POST /images/create?fromSrc=-`
//! and `berth import`): path traversal with `..` and absolute names, hard links to outside and
//! through `..`, symlink-then-write-through, symlinked parents, whiteouts of `..`, and oversized
//! headers must write nothing outside the layer dir (a canary dir sits next to the data root) and
//! leave the store intact; the legitimate tricks (absolute names, opaque dirs, device nodes,
//! fifos, setuid bits, xattrs, GNU and PAX long names, replacing a symlink by a file) must come
//! out right, checked inside a running container.

use crate::common;

use std::path::{Path, PathBuf};

use common::{image, stderr, stdout, TestEngine};
use tar::EntryType;

/// Raw tar writer: names are put in the header as given (the tar crate's own path setters
/// refuse `..`, which is the point here).
struct Raw {
    out: Vec<u8>,
}

impl Raw {
    fn new() -> Raw {
        Raw { out: Vec::new() }
    }

    /// Start from the busybox rootfs so the result runs.
    fn busybox() -> Raw {
        let mut out = image::busybox_rootfs_tar();
        out.truncate(out.len() - 1024); // drop the end-of-archive blocks
        Raw { out }
    }

    fn header(kind: EntryType, name: &[u8], link: &[u8], size: u64, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        {
            let g = h.as_gnu_mut().unwrap();
            assert!(name.len() <= g.name.len() && link.len() <= g.linkname.len());
            g.name[..name.len()].copy_from_slice(name);
            g.linkname[..link.len()].copy_from_slice(link);
        }
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        h
    }

    fn push(&mut self, h: &tar::Header, data: &[u8]) {
        self.out.extend_from_slice(h.as_bytes());
        self.out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.out.extend(std::iter::repeat_n(0u8, pad));
    }

    fn file(mut self, name: &str, data: &[u8], mode: u32) -> Raw {
        let h = Self::header(
            EntryType::Regular,
            name.as_bytes(),
            b"",
            data.len() as u64,
            mode,
        );
        self.push(&h, data);
        self
    }

    fn dir(mut self, name: &str) -> Raw {
        let h = Self::header(EntryType::Directory, name.as_bytes(), b"", 0, 0o755);
        self.push(&h, b"");
        self
    }

    fn link(mut self, kind: EntryType, name: &str, target: &str) -> Raw {
        let h = Self::header(kind, name.as_bytes(), target.as_bytes(), 0, 0o777);
        self.push(&h, b"");
        self
    }

    fn device(mut self, kind: EntryType, name: &str, major: u32, minor: u32) -> Raw {
        let mut h = Self::header(kind, name.as_bytes(), b"", 0, 0o644);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        h.set_cksum();
        self.push(&h, b"");
        self
    }

    /// A GNU long-name member ('L') naming the next entry.
    fn gnu_long_name(mut self, name: &[u8]) -> Raw {
        let mut data = name.to_vec();
        data.push(0);
        let h = Self::header(
            EntryType::GNULongName,
            b"././@LongLink",
            b"",
            data.len() as u64,
            0o644,
        );
        self.push(&h, &data);
        self
    }

    /// A PAX extended header ('x') for the next entry.
    fn pax(mut self, records: &[(&str, &[u8])]) -> Raw {
        let mut data = Vec::new();
        for (k, v) in records {
            // "LEN KEY=VALUE\n" where LEN counts the whole record, itself included.
            let body = k.len() + v.len() + 3;
            let mut len = body + 1;
            while len.to_string().len() + body != len {
                len += 1;
            }
            data.extend_from_slice(format!("{len} {k}=").as_bytes());
            data.extend_from_slice(v);
            data.push(b'\n');
        }
        let h = Self::header(
            EntryType::XHeader,
            b"PaxHeader",
            b"",
            data.len() as u64,
            0o644,
        );
        self.push(&h, &data);
        self
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.extend(std::iter::repeat_n(0u8, 1024));
        self.out
    }
}

/// Every file under `dir` with its content, to prove the canary is untouched.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            let data = if m.is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            out.push((e.path(), data));
        }
    }
    out.sort();
    out
}

fn import(e: &TestEngine, tar: &[u8], tag: &str) -> Result<String, String> {
    // The engine stops reading a body it has rejected, so a big one can end in a broken pipe
    // before the answer is read: that is a rejection too (its log says why).
    let r = common::http::request(
        &e.socket,
        "POST",
        &format!("/images/create?fromSrc=-&repo=hostile&tag={tag}"),
        Some(tar),
    )
    .map_err(|err| format!("request failed: {err}\n{}", e.log()))?;
    let text = r.text();
    if r.status != 200 {
        return Err(text);
    }
    let v: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    match v["status"].as_str() {
        Some(id) if v.get("error").is_none() => Ok(id.to_owned()),
        _ => Err(text),
    }
}

fn layer_leftovers(e: &TestEngine) -> Vec<String> {
    std::fs::read_dir(e.data_path("image/layers"))
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn hostile_layers_are_rejected_and_nothing_escapes() {
    let e = TestEngine::start();
    let base = e.import_busybox("busybox:latest");
    let canary = e.dir.path().join("canary");
    std::fs::create_dir_all(canary.join("sub")).unwrap();
    std::fs::write(canary.join("secret"), b"keep me").unwrap();
    std::fs::write(canary.join("sub/inner"), b"keep me too").unwrap();
    let before = snapshot(&canary);
    let c = canary.to_str().unwrap().to_owned();
    let up = "../../../../../../../../../../..";

    let huge_name = vec![b'a'; 16 << 20];
    let huge_pax_value = vec![b'v'; 2 << 20];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "dotdot",
            Raw::new()
                .file(&format!("{up}{c}/pwned"), b"x", 0o644)
                .finish(),
        ),
        (
            "dotdot-inside",
            Raw::new()
                .file("a/../../canary/pwned", b"x", 0o644)
                .finish(),
        ),
        (
            "hardlink-absolute-outside",
            Raw::new()
                .link(EntryType::Link, "evil", &format!("{c}/secret"))
                .finish(),
        ),
        (
            "hardlink-dotdot",
            Raw::new()
                .link(EntryType::Link, "evil", &format!("{up}{c}/secret"))
                .finish(),
        ),
        (
            "hardlink-not-earlier",
            Raw::new()
                .link(EntryType::Link, "evil", "etc/passwd")
                .finish(),
        ),
        (
            "symlink-write-through",
            Raw::new()
                .link(EntryType::Symlink, "esc", &c)
                .file("esc/pwned", b"x", 0o644)
                .finish(),
        ),
        (
            "symlinked-parent-dir",
            Raw::new()
                .link(EntryType::Symlink, "d", &format!("{up}{c}"))
                .dir("d/sub2")
                .finish(),
        ),
        (
            "symlinked-parent-deep",
            Raw::new()
                .dir("x")
                .link(EntryType::Symlink, "x/y", &format!("{up}{c}/sub"))
                .file("x/y/inner", b"owned", 0o644)
                .finish(),
        ),
        (
            "hardlink-through-symlinked-parent",
            Raw::new()
                .dir("d")
                .file("d/f", b"x", 0o644)
                .link(EntryType::Symlink, "d", &c)
                .link(EntryType::Link, "h", "d/f")
                .finish(),
        ),
        (
            "whiteout-dotdot-root",
            Raw::new().file(".wh...", b"", 0o644).finish(),
        ),
        (
            "whiteout-dotdot-sub",
            Raw::new()
                .dir("sub")
                .file("sub/.wh...", b"", 0o644)
                .finish(),
        ),
        (
            "whiteout-dot",
            Raw::new().dir("sub").file("sub/.wh..", b"", 0o644).finish(),
        ),
        (
            "whiteout-outside",
            Raw::new()
                .file(&format!("{up}{c}/.wh.secret"), b"", 0o644)
                .finish(),
        ),
        (
            "pax-path-dotdot",
            Raw::new()
                .pax(&[("path", format!("{up}{c}/pwned").as_bytes())])
                .file("harmless", b"x", 0o644)
                .finish(),
        ),
        (
            "pax-linkpath-outside",
            Raw::new()
                .pax(&[("linkpath", format!("{up}{c}/secret").as_bytes())])
                .link(EntryType::Link, "evil", "harmless")
                .finish(),
        ),
        (
            "gnu-longname-dotdot",
            Raw::new()
                .gnu_long_name(format!("{up}/{up}{c}/pwned-long").as_bytes())
                .file("short", b"x", 0o644)
                .finish(),
        ),
        (
            "huge-gnu-longname",
            Raw::new()
                .gnu_long_name(&huge_name)
                .file("short", b"x", 0o644)
                .finish(),
        ),
        (
            "huge-pax-header",
            Raw::new()
                .pax(&[("comment", &huge_pax_value)])
                .file("short", b"x", 0o644)
                .finish(),
        ),
        ("truncated", {
            let mut t = Raw::new().file("big", &vec![7u8; 4096], 0o644).finish();
            t.truncate(1024);
            t
        }),
    ];
    for (name, tar) in &cases {
        let res = import(&e, tar, name);
        assert!(
            res.is_err(),
            "{name}: the hostile layer was accepted: {res:?}"
        );
        let msg = res.unwrap_err();
        if name.starts_with("huge") {
            assert!(msg.contains("exceed"), "{name}: {msg}");
        }
        assert_eq!(snapshot(&canary), before, "{name}: the canary changed");
        assert!(
            layer_leftovers(&e).is_empty(),
            "{name}: {:?}",
            layer_leftovers(&e)
        );
        let r = e.api("GET", &format!("/images/hostile:{name}/json"), None);
        assert_eq!(r.status, 404, "{name}");
    }
    // Nothing appeared next to the data root either, and the store still works.
    let mut siblings: Vec<String> = std::fs::read_dir(e.dir.path())
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    siblings.sort();
    assert!(
        siblings
            .iter()
            .all(|s| ["berth.sock", "canary", "engine.log", "root"].contains(&s.as_str())),
        "{siblings:?}"
    );
    let list = e.api_json("GET", "/images/json", None);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["Id"], base.as_str());
    let o = e.docker(&["run", "--rm", "busybox", "cat", "/etc/group"]);
    assert!(
        o.status.success() && stdout(&o).contains("staff"),
        "{}",
        stderr(&o)
    );
}

fn lgetxattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 4096];
    let r = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            n.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (r >= 0).then(|| buf[..r as usize].to_vec())
}

#[test]
fn hostile_layers_legitimate_tricks_come_out_right() {
    let e = TestEngine::start();
    let canary = e.dir.path().join("canary");
    std::fs::create_dir_all(&canary).unwrap();
    std::fs::write(canary.join("secret"), b"keep me").unwrap();
    let before = snapshot(&canary);
    let c = canary.to_str().unwrap().to_owned();
    let long_gnu = format!("long/{}", "g".repeat(150));
    let long_pax = format!("paxdir/{}/{}", "p".repeat(120), "q".repeat(120));
    let tar = Raw::busybox()
        // An absolute name lands inside the layer, as docker does.
        .file(&format!("{c}/inside"), b"inside the image", 0o644)
        // A symlink pointing outside, then replaced by a file: the file is written, not the target.
        .link(EntryType::Symlink, "f", &format!("{c}/secret"))
        .file("f", b"replaced", 0o644)
        // A hard link to a symlink links the symlink itself.
        .link(EntryType::Symlink, "s", &format!("{c}/secret"))
        .link(EntryType::Link, "h", "s")
        // A hard link to an earlier file of the layer.
        .file("orig", b"linked", 0o644)
        .link(EntryType::Link, "hl", "orig")
        .dir("opq")
        .file("opq/.wh..wh..opq", b"", 0o644)
        .file("opq/kept", b"k", 0o644)
        .file(".wh.gone", b"", 0o644)
        .dir("devs")
        .device(EntryType::Char, "devs/null2", 1, 3)
        .device(EntryType::Block, "devs/loop9", 7, 9)
        .device(EntryType::Fifo, "devs/fifo", 0, 0)
        .file("suid", b"#!/bin/sh\n", 0o6755)
        .file("sgid-dir-file", b"x", 0o2711)
        .pax(&[
            ("SCHILY.xattr.user.note", b"hello"),
            ("SCHILY.xattr.trusted.overlay.redirect", b"/etc"),
        ])
        .file("xattr-file", b"x", 0o644)
        .gnu_long_name(long_gnu.as_bytes())
        .file("placeholder1", b"gnu long", 0o644)
        .pax(&[
            ("path", long_pax.as_bytes()),
            ("uid", b"1000"),
            ("gid", b"1000"),
        ])
        .file("placeholder2", b"pax long", 0o640)
        .finish();
    let path = e.dir.path().join("legit.tar");
    std::fs::write(&path, &tar).unwrap();
    let o = e.berth(&["import", path.to_str().unwrap(), "legit:1"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(snapshot(&canary), before);

    let inspect = e.api_json("GET", "/images/legit:1/json", None);
    let layer = PathBuf::from(inspect["GraphDriver"]["Data"]["UpperDir"].as_str().unwrap());
    assert_eq!(
        lgetxattr(&layer.join("opq"), "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    assert_eq!(
        lgetxattr(&layer.join("xattr-file"), "trusted.overlay.redirect"),
        None,
        "a layer planted an overlay xattr"
    );
    if let Some(v) = lgetxattr(&layer.join("xattr-file"), "user.note") {
        assert_eq!(v, b"hello");
    }
    let gone = std::fs::symlink_metadata(layer.join("gone")).unwrap();
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    assert!(gone.file_type().is_char_device() && gone.rdev() == 0);

    let script = format!(
        "set -e; \
         cat {c}/inside; echo; \
         cat /f; echo; \
         test -L /h && readlink /h; \
         cat /hl; echo; \
         test \"$(stat -c %i /orig)\" = \"$(stat -c %i /hl)\" && echo same-inode; \
         ls /opq; \
         test -c /devs/null2 && stat -c '%t:%T' /devs/null2; \
         test -b /devs/loop9 && stat -c '%t:%T' /devs/loop9; \
         test -p /devs/fifo && echo fifo; \
         stat -c %a /suid /sgid-dir-file; \
         cat /{long_gnu}; echo; \
         cat /{long_pax}; echo; \
         stat -c '%u:%g %a' /{long_pax}; \
         test ! -e /placeholder1 && test ! -e /placeholder2 && echo no-placeholders"
    );
    let o = e.docker(&["run", "--rm", "legit:1", "sh", "-c", &script]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    let expect = format!(
        "inside the image\nreplaced\n{c}/secret\nlinked\nsame-inode\nkept\n1:3\n7:9\nfifo\n6755\n2711\ngnu long\npax long\n1000:1000 640\nno-placeholders\n"
    );
    assert_eq!(out, expect);
    assert_eq!(snapshot(&canary), before);
}
