//! Extracting with owners and modes kept, and refusing every way out of the destination.

use super::*;
use std::fs::File;

fn tar_of(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(0o640);
        h.set_uid(1234);
        h.set_gid(5678);
        match kind {
            EntryType::Symlink | EntryType::Link => {
                h.set_size(0);
                b.append_link(&mut h, name, data).unwrap();
            }
            _ => {
                h.set_size(data.len() as u64);
                // Raw names: append_data would refuse "..".
                let bytes = name.as_bytes();
                h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
                h.set_cksum();
                b.append(&h, data.as_bytes()).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn dest(dir: &std::path::Path) -> OwnedFd {
    OwnedFd::from(File::open(dir).unwrap())
}

#[test]
fn extracts_with_owner_and_mode() {
    use std::os::unix::fs::MetadataExt;
    let d = tempfile::tempdir().unwrap();
    let t = tar_of(&[
        ("a/", EntryType::Directory, ""),
        ("a/f", EntryType::Regular, "hello"),
        ("a/l", EntryType::Link, "a/f"),
    ]);
    extract(&t[..], &dest(d.path()), &ExtractOptions::default()).unwrap();
    let m = std::fs::metadata(d.path().join("a/f")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1234, 5678, 0o640));
    assert_eq!(std::fs::read(d.path().join("a/l")).unwrap(), b"hello");
    let opts = ExtractOptions {
        chown: Some((7, 8)),
        ..Default::default()
    };
    extract(&t[..], &dest(d.path()), &opts).unwrap();
    let m = std::fs::metadata(d.path().join("a/f")).unwrap();
    assert_eq!((m.uid(), m.gid()), (7, 8));
}

#[test]
fn refuses_escapes() {
    let d = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let o = outside.path().display().to_string();
    // ".." above the destination.
    let t = tar_of(&[("../evil", EntryType::Regular, "x")]);
    assert!(extract(&t[..], &dest(d.path()), &ExtractOptions::default()).is_err());
    // A symlink to the outside, then a write through it.
    let t = tar_of(&[
        ("s", EntryType::Symlink, o.as_str()),
        ("s/pwned", EntryType::Regular, "x"),
    ]);
    assert!(extract(&t[..], &dest(d.path()), &ExtractOptions::default()).is_err());
    // A hard link to a host file.
    let host = format!("{o}/hostfile");
    std::fs::write(&host, "secret").unwrap();
    let t = tar_of(&[("h", EntryType::Link, host.as_str())]);
    assert!(extract(&t[..], &dest(d.path()), &ExtractOptions::default()).is_err());
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
    // noOverwriteDirNonDir.
    std::fs::create_dir(d.path().join("dir")).unwrap();
    let t = tar_of(&[("dir", EntryType::Regular, "x")]);
    let opts = ExtractOptions {
        no_overwrite_dir_non_dir: true,
        ..Default::default()
    };
    let e = extract(&t[..], &dest(d.path()), &opts).unwrap_err();
    assert!(e.to_string().contains("cannot overwrite directory"), "{e}");
    // A stream cut right after an entry's data: an error, unless lenient_end (Go's reading).
    let d2 = tempfile::tempdir().unwrap();
    let full = tar_of(&[("f", EntryType::Regular, "abc")]);
    let cut = &full[..512 + 3];
    assert!(extract(cut, &dest(d2.path()), &ExtractOptions::default()).is_err());
    let lenient = ExtractOptions {
        lenient_end: true,
        ..Default::default()
    };
    assert_eq!(extract(cut, &dest(d2.path()), &lenient).unwrap(), 1);
    assert_eq!(std::fs::read(d2.path().join("f")).unwrap(), b"abc");
    extract(&t[..], &dest(d.path()), &ExtractOptions::default()).unwrap();
    assert!(d.path().join("dir").is_file());
}
