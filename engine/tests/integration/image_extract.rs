//! Safe layer extraction against a corpus of hostile tars built with the tar crate's raw header
//! API. Each hostile case checks that a sentinel directory outside the layer stays unchanged.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use berth_engine::error::EngineError;
use berth_engine::image::extract::{extract_layer, LayerStats};
use sha2::{Digest, Sha256};
use tar::{EntryType, Header};

const MTIME: u64 = 1_600_000_000;

struct Tar {
    b: tar::Builder<Vec<u8>>,
}

impl Tar {
    fn new() -> Self {
        Tar {
            b: tar::Builder::new(Vec::new()),
        }
    }

    /// An entry with a raw name (no validation: `..` and absolute names go in as written).
    fn raw(
        &mut self,
        name: &str,
        kind: EntryType,
        link: Option<&str>,
        data: &[u8],
        mode: u32,
    ) -> &mut Self {
        let mut h = Header::new_gnu();
        let n = name.as_bytes();
        assert!(n.len() < 100, "raw names must fit the old header");
        h.as_old_mut().name[..n.len()].copy_from_slice(n);
        if let Some(l) = link {
            let l = l.as_bytes();
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l);
        }
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(MTIME);
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.raw(name, EntryType::Regular, None, data, 0o644)
    }

    fn dir(&mut self, name: &str) -> &mut Self {
        self.raw(name, EntryType::Directory, None, b"", 0o755)
    }

    fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.raw(name, EntryType::Symlink, Some(target), b"", 0o777)
    }

    fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.raw(name, EntryType::Link, Some(target), b"", 0o644)
    }

    /// A PAX extended header applying to the next entry.
    fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut data = Vec::new();
        for (k, v) in records {
            let body_len = 1 + k.len() + 1 + v.len() + 1;
            let mut len = body_len + 1;
            while len != body_len + len.to_string().len() {
                len = body_len + len.to_string().len();
            }
            data.extend_from_slice(format!("{len} {k}=").as_bytes());
            data.extend_from_slice(v);
            data.push(b'\n');
        }
        self.raw("././@PaxHeader", EntryType::XHeader, None, &data, 0o644)
    }

    fn bytes(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.b, tar::Builder::new(Vec::new()))
            .into_inner()
            .unwrap()
    }
}

/// A layer dir and a sentinel dir (holding one file) side by side in a temp dir.
struct Fixture {
    _tmp: tempfile::TempDir,
    layer: PathBuf,
    sentinel: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let layer = tmp.path().join("layer");
    let sentinel = tmp.path().join("sentinel");
    fs::create_dir(&layer).unwrap();
    fs::create_dir(&sentinel).unwrap();
    fs::write(sentinel.join("keep"), b"original").unwrap();
    Fixture {
        layer,
        sentinel,
        _tmp: tmp,
    }
}

/// Every path below `dir` with its content (or symlink target) and mode.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            let content = if m.file_type().is_symlink() {
                fs::read_link(&p)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else if m.is_file() {
                fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            if m.is_dir() {
                stack.push(p.clone());
            }
            out.insert(p, (content, m.mode()));
        }
    }
    out
}

fn extract(f: &Fixture, tar: &[u8]) -> Result<LayerStats, EngineError> {
    extract_layer(tar, None, &f.layer)
}

/// Extract a hostile tar: it must fail and leave the sentinel as it was.
fn assert_rejected(name: &str, tar: &[u8]) {
    let f = fixture();
    let before = snapshot(&f.sentinel);
    let err = extract(&f, tar).expect_err(name);
    assert!(
        matches!(err, EngineError::InvalidArgument(_)),
        "{name}: expected InvalidArgument, got {err:?}"
    );
    assert_eq!(snapshot(&f.sentinel), before, "{name}: sentinel changed");
}

#[test]
fn extract_legitimate_corpus() {
    let f = fixture();
    let long_dir = "d".repeat(80);
    let long_name = format!("{long_dir}/{}", "f".repeat(90));
    let mut t = Tar::new();
    t.dir("etc/")
        .file("etc/hostname", b"box\n")
        .raw("bin/su", EntryType::Regular, None, b"#!suid", 0o4755)
        .raw("bin/sg", EntryType::Regular, None, b"#!sgid", 0o2711)
        .symlink("bin/sh", "busybox")
        .symlink("abs", "/etc/hostname")
        .hardlink("etc/hostname.link", "etc/hostname")
        .raw("dev/null", EntryType::Char, None, b"", 0o666)
        .raw("run/fifo", EntryType::Fifo, None, b"", 0o600)
        .dir("opaque/")
        .file("opaque/.wh..wh..opq", b"")
        .file("opaque/kept", b"k")
        .file(".wh.removed", b"")
        .file("sub/.wh.gone", b"")
        .pax(&[
            ("SCHILY.xattr.user.berth", b"yes"),
            ("uid", b"1234"),
            ("gid", b"5678"),
        ])
        .file("owned", b"owned by 1234");
    // Long names go through the builder's GNU long-name support.
    let mut h = Header::new_gnu();
    h.set_size(4);
    h.set_mode(0o640);
    h.set_mtime(MTIME);
    h.set_entry_type(EntryType::Regular);
    t.b.append_data(&mut h, &long_name, &b"long"[..]).unwrap();
    // dev/null here has device 0/0; extract_device_numbers_preserved checks real numbers.
    let data = t.bytes();
    let stats = extract(&f, &data).unwrap();

    let l = &f.layer;
    assert_eq!(fs::read(l.join("etc/hostname")).unwrap(), b"box\n");
    let su = fs::metadata(l.join("bin/su")).unwrap();
    assert_eq!(su.mode() & 0o7777, 0o4755, "setuid kept");
    assert_eq!(
        fs::metadata(l.join("bin/sg")).unwrap().mode() & 0o7777,
        0o2711
    );
    assert_eq!(
        fs::read_link(l.join("bin/sh")).unwrap(),
        Path::new("busybox")
    );
    assert_eq!(
        fs::read_link(l.join("abs")).unwrap(),
        Path::new("/etc/hostname")
    );
    let a = fs::metadata(l.join("etc/hostname")).unwrap();
    let b = fs::metadata(l.join("etc/hostname.link")).unwrap();
    assert_eq!(a.ino(), b.ino(), "hard link shares the inode");
    assert_eq!(a.mtime(), MTIME as i64);
    assert!(fs::symlink_metadata(l.join("dev/null"))
        .unwrap()
        .file_type()
        .is_char_device());
    assert!(fs::symlink_metadata(l.join("run/fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    // Whiteouts become overlay whiteouts: char device 0/0 named after the removed file.
    for w in ["removed", "sub/gone"] {
        let m = fs::symlink_metadata(l.join(w)).unwrap();
        assert!(m.file_type().is_char_device(), "{w}");
        assert_eq!(m.rdev(), 0, "{w}");
    }
    assert!(!l.join(".wh.removed").exists());
    assert!(!l.join("opaque/.wh..wh..opq").exists());
    assert_eq!(
        xattr_get(&l.join("opaque"), "trusted.overlay.opaque").as_deref(),
        Some(&b"y"[..])
    );
    assert_eq!(fs::read(l.join("opaque/kept")).unwrap(), b"k");
    let owned = fs::metadata(l.join("owned")).unwrap();
    assert_eq!((owned.uid(), owned.gid()), (1234, 5678));
    assert_eq!(
        xattr_get(&l.join("owned"), "user.berth").as_deref(),
        Some(&b"yes"[..])
    );
    let lm = fs::metadata(l.join(&long_name)).unwrap();
    assert_eq!(fs::read(l.join(&long_name)).unwrap(), b"long");
    assert_eq!(lm.permissions().mode() & 0o777, 0o640);
    // Directory mtimes are applied after their children were created.
    assert_eq!(
        fs::metadata(l.join("opaque")).unwrap().mtime(),
        MTIME as i64
    );

    assert_eq!(
        stats.diff_id,
        format!("sha256:{}", hex::encode(Sha256::digest(&data)))
    );
    assert_eq!(stats.tar_size, data.len() as u64);
}

fn xattr_get(p: &Path, name: &str) -> Option<Vec<u8>> {
    use std::ffi::CString;
    let cp = CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let cn = CString::new(name).unwrap();
    let mut buf = vec![0u8; 256];
    let n =
        unsafe { libc::lgetxattr(cp.as_ptr(), cn.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (n >= 0).then(|| {
        buf.truncate(n as usize);
        buf
    })
}

#[test]
fn extract_device_numbers_preserved() {
    let f = fixture();
    let mut h = Header::new_gnu();
    h.set_path("dev/null").unwrap();
    h.set_entry_type(EntryType::Char);
    h.set_device_major(1).unwrap();
    h.set_device_minor(3).unwrap();
    h.set_mode(0o666);
    h.set_size(0);
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&h, &b""[..]).unwrap();
    let data = b.into_inner().unwrap();
    extract(&f, &data).unwrap();
    let m = fs::symlink_metadata(f.layer.join("dev/null")).unwrap();
    assert!(m.file_type().is_char_device());
    assert_eq!(m.rdev(), libc::makedev(1, 3));
    assert_eq!(m.mode() & 0o777, 0o666);
}

#[test]
fn extract_rejects_dotdot_escapes() {
    assert_rejected("../ escape", &Tar::new().file("../escape", b"x").bytes());
    assert_rejected(
        "nested ../ escape",
        &Tar::new().file("a/../../escape", b"x").bytes(),
    );
    // A `..` that stays inside is just a path.
    let f = fixture();
    extract(&f, &Tar::new().file("a/../b", b"x").bytes()).unwrap();
    assert_eq!(fs::read(f.layer.join("b")).unwrap(), b"x");
}

#[test]
fn extract_absolute_names_become_relative() {
    let f = fixture();
    let before = snapshot(&f.sentinel);
    let target = format!("{}/keep", f.sentinel.display());
    extract(&f, &Tar::new().file(&target, b"overwritten?").bytes()).unwrap();
    assert_eq!(snapshot(&f.sentinel), before);
    let inside = f.layer.join(target.trim_start_matches('/'));
    assert_eq!(fs::read(inside).unwrap(), b"overwritten?");
}

#[test]
fn extract_never_writes_through_symlinks() {
    let f = fixture();
    let abs = f.sentinel.display().to_string();
    assert_rejected(
        "absolute symlink then write",
        &Tar::new()
            .symlink("evil", &abs)
            .file("evil/file", b"x")
            .bytes(),
    );
    assert_rejected(
        "absolute symlink then overwrite existing",
        &Tar::new()
            .symlink("evil", &abs)
            .file("evil/keep", b"x")
            .bytes(),
    );
    let rel = format!("../../../../../../../..{abs}");
    assert_rejected(
        "relative escaping symlink then write",
        &Tar::new()
            .symlink("evil", &rel)
            .file("evil/file", b"x")
            .bytes(),
    );
    assert_rejected(
        "symlink then mkdir below",
        &Tar::new().symlink("evil", &abs).dir("evil/sub/").bytes(),
    );
    assert_rejected(
        "symlink in a deeper parent",
        &Tar::new()
            .dir("a/")
            .symlink("a/b", &abs)
            .file("a/b/c/d", b"x")
            .bytes(),
    );
    assert_rejected(
        "hard link through a symlinked parent",
        &Tar::new()
            .file("f", b"data")
            .symlink("evil", &abs)
            .hardlink("evil/new", "f")
            .bytes(),
    );
}

#[test]
fn extract_replaces_symlinks_instead_of_following() {
    let f = fixture();
    let before = snapshot(&f.sentinel);
    let abs = f.sentinel.display().to_string();
    let keep = format!("{abs}/keep");
    let tar = Tar::new()
        .symlink("d", &abs)
        .file("d", b"now a file")
        .symlink("k", &keep)
        .file("k", b"not through the link")
        .symlink("dir", &abs)
        .dir("dir/")
        .file("dir/inner", b"in")
        .bytes();
    extract(&f, &tar).unwrap();
    assert_eq!(snapshot(&f.sentinel), before);
    assert!(fs::symlink_metadata(f.layer.join("d")).unwrap().is_file());
    assert_eq!(
        fs::read(f.layer.join("k")).unwrap(),
        b"not through the link"
    );
    assert!(fs::symlink_metadata(f.layer.join("dir")).unwrap().is_dir());
    assert_eq!(fs::read(f.layer.join("dir/inner")).unwrap(), b"in");
}

#[test]
fn extract_rejects_outside_hard_links() {
    assert_rejected(
        "hard link to /etc/passwd",
        &Tar::new().hardlink("passwd", "/etc/passwd").bytes(),
    );
    let f = fixture();
    let keep = format!("{}/keep", f.sentinel.display());
    assert_rejected(
        "hard link to an absolute outside path",
        &Tar::new().hardlink("k", &keep).bytes(),
    );
    assert_rejected(
        "hard link escaping with ..",
        &Tar::new().hardlink("k", "../sentinel/keep").bytes(),
    );
    assert_rejected(
        "hard link to a later entry",
        &Tar::new()
            .hardlink("k", "later")
            .file("later", b"x")
            .bytes(),
    );
    // A hard link to an earlier symlink links the symlink itself, never its target.
    let f = fixture();
    let before = snapshot(&f.sentinel);
    let tar = Tar::new()
        .symlink("s", &keep)
        .hardlink("h", "s")
        .file("h", b"replaced")
        .bytes();
    extract(&f, &tar).unwrap();
    assert_eq!(snapshot(&f.sentinel), before);
    assert_eq!(fs::read_link(f.layer.join("s")).unwrap(), Path::new(&keep));
    assert_eq!(fs::read(f.layer.join("h")).unwrap(), b"replaced");
}

#[test]
fn extract_file_replaced_by_directory_and_back() {
    let f = fixture();
    let tar = Tar::new()
        .file("x", b"file")
        .dir("x/")
        .file("x/y", b"y")
        .file("z/a", b"a")
        .file("z", b"now a file")
        .bytes();
    extract(&f, &tar).unwrap();
    assert_eq!(fs::read(f.layer.join("x/y")).unwrap(), b"y");
    assert_eq!(fs::read(f.layer.join("z")).unwrap(), b"now a file");
}

#[test]
fn extract_rejects_garbage() {
    let f = fixture();
    let mut bad = vec![0xffu8; 1024];
    bad[0] = b'a';
    assert!(extract(&f, &bad).is_err());
}
