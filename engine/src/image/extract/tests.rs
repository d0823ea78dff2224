//! Unit tests of layer extraction: whiteouts of "." and "..", the header byte budget.

use super::*;

fn raw_tar(entries: &[(EntryType, &[u8], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (kind, name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

fn extract(tar: &[u8]) -> (tempfile::TempDir, Result<LayerStats>) {
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("layer/diff");
    std::fs::create_dir_all(&dest).unwrap();
    let r = extract_layer(tar, None, &dest);
    (d, r)
}

#[test]
fn extract_rejects_whiteouts_of_dot_and_dotdot() {
    for name in [&b".wh..."[..], b"sub/.wh...", b"sub/.wh..", b".wh."] {
        let tar = raw_tar(&[
            (EntryType::Directory, b"sub", b""),
            (EntryType::Regular, name, b""),
        ]);
        let (d, r) = extract(&tar);
        let err = r.expect_err("whiteout accepted").to_string();
        assert!(err.contains("whiteout of '.' or '..'"), "{err}");
        // The layer dir and its parent are still there.
        assert!(d.path().join("layer/diff/sub").is_dir());
    }
}

#[test]
fn extract_bounds_header_bytes() {
    let mut name = vec![b'a'; (MAX_ENTRY_HEADER_BYTES + 10) as usize];
    name.push(0);
    let tar = raw_tar(&[
        (EntryType::GNULongName, b"././@LongLink", &name),
        (EntryType::Regular, b"f", b"x"),
    ]);
    let (_d, r) = extract(&tar);
    let err = r.expect_err("huge long name accepted").to_string();
    assert!(err.contains("headers exceed"), "{err}");
    // Big file data is not header data.
    let big = vec![1u8; (MAX_ENTRY_HEADER_BYTES * 3) as usize];
    let tar = raw_tar(&[
        (EntryType::Regular, b"big", &big),
        (EntryType::Regular, b"small", b"s"),
    ]);
    let (d, r) = extract(&tar);
    let stats = r.unwrap();
    assert_eq!(stats.content_size, big.len() as u64 + 1);
    assert_eq!(
        std::fs::read(d.path().join("layer/diff/small")).unwrap(),
        b"s"
    );
}
