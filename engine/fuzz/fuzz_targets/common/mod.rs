//! What the archive targets share: a tar built from fuzzer bytes with valid header checksums (so
//! the fuzzer explores what extraction does with entries rather than failing checksums), and the
//! check that an extraction wrote nothing outside its root.

use std::collections::BTreeSet;
use std::path::Path;

/// A directory outside every extraction root: hostile entries that escape by an absolute path
/// (`/tmp/berth-fuzz-canary/x`, a symlink to it) would land here. The seeds name it.
pub const CANARY: &str = "/tmp/berth-fuzz-canary";

/// Input → tar. The first byte picks raw (the rest is the stream as it is) or built: the rest
/// is records `type, name_len, name, link_len, link, mode, data_len, data` made into headers
/// with correct checksums, then the end-of-archive blocks.
pub fn tar_from(data: &[u8]) -> Vec<u8> {
    let Some((&mode, mut rest)) = data.split_first() else {
        return Vec::new();
    };
    if mode & 1 == 1 {
        return rest.to_vec();
    }
    let mut out = Vec::new();
    let take = |n: usize, rest: &mut &[u8]| -> Vec<u8> {
        let n = n.min(rest.len());
        let (a, b) = rest.split_at(n);
        *rest = b;
        a.to_vec()
    };
    while !rest.is_empty() {
        let kind = take(1, &mut rest).first().copied().unwrap_or(b'0');
        let n = take(1, &mut rest).first().copied().unwrap_or(0) as usize;
        let name = take(n, &mut rest);
        let n = take(1, &mut rest).first().copied().unwrap_or(0) as usize;
        let link = take(n, &mut rest);
        let perm = take(1, &mut rest).first().copied().unwrap_or(0);
        let n = take(1, &mut rest).first().copied().unwrap_or(0) as usize;
        let body = take(n, &mut rest);
        let mut h = tar::Header::new_ustar();
        {
            let raw = h.as_old_mut();
            let len = name.len().min(raw.name.len());
            raw.name[..len].copy_from_slice(&name[..len]);
            let len = link.len().min(raw.linkname.len());
            raw.linkname[..len].copy_from_slice(&link[..len]);
        }
        h.set_entry_type(tar::EntryType::new(kind));
        h.set_mode(0o600 | (u32::from(perm) << 3 & 0o7777));
        h.set_size(body.len() as u64);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(&body);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// The names directly inside `dir`.
pub fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A fresh, empty canary directory (once per process).
pub fn reset_canary() {
    let _ = std::fs::remove_dir_all(CANARY);
    std::fs::create_dir_all(CANARY).expect("creating the canary directory");
}

/// Nothing was written into the canary directory, nor beside `root` in `base`.
pub fn assert_contained(base: &Path, expected: &[&str]) {
    let want: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    assert_eq!(names(base), want, "an entry was written outside the root");
    assert!(
        names(Path::new(CANARY)).is_empty(),
        "an entry was written into {CANARY}"
    );
    let sentinel = std::fs::read(base.join("sentinel")).expect("the sentinel is still a file");
    assert_eq!(
        sentinel, b"untouched",
        "the sentinel beside the root was changed"
    );
}

/// A base directory holding `root` (where the archive goes) and a sentinel file beside it.
pub fn base_with_root() -> tempfile::TempDir {
    let base = tempfile::Builder::new()
        .prefix("berth-fuzz-")
        .tempdir()
        .expect("temp dir");
    std::fs::create_dir(base.path().join("root")).expect("root");
    std::fs::write(base.path().join("sentinel"), b"untouched").expect("sentinel");
    base
}
