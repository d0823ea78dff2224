//! What a file to import is: an image archive (`docker save`, an OCI layout as a tar) goes to
//! `POST /images/load`; any other tar is a root file system for `POST /images/create?fromSrc=-`.
//! Compression is what the engine reads (plain, gzip, zstd: the engine's own decompressor does
//! the reading here, so the two can't disagree); bzip2 and xz are refused with the command that
//! unpacks them. Only the first entries are read: the first name that only an image archive
//! has, or that no image archive has, decides.

use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// `docker save` (either format) or an OCI image layout: loaded with its names and layers.
    Image,
    /// A root file system: imported as a one-layer image under a name the user gives.
    Rootfs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn label(self) -> &'static str {
        match self {
            Compression::None => "tar",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// A file that the engine can take, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Archive {
    pub path: PathBuf,
    pub kind: ArchiveKind,
    pub compression: Compression,
    pub size: u64,
}

/// Entries read at most before giving up on deciding (an archive's telling names come early).
const MAX_ENTRIES: usize = 10_000;

/// Opens `path` and tells what it is, or says plainly why it can't be imported.
pub fn inspect(path: &Path) -> Result<Archive, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("no such file: {shown}"),
        _ => format!("cannot read {shown}: {e}"),
    })?;
    if meta.is_dir() {
        return Err(format!(
            "{shown} is a directory: choose a tar file (from docker save, or a rootfs tarball)"
        ));
    }
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut magic = [0u8; 6];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let magic = &magic[..n];
    if magic.is_empty() {
        return Err(format!("{shown} is empty"));
    }
    let compression = if magic.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else if magic.starts_with(b"BZh") {
        return Err(unsupported(path, "bzip2", "bunzip2 -k"));
    } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return Err(unsupported(path, "xz", "unxz -k"));
    } else {
        Compression::None
    };
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let reader = berth_engine::image::import::decompressed(std::io::BufReader::new(file))
        .map_err(|e| format!("{shown}: {e}"))?;
    let kind = kind_of_tar(reader).map_err(|e| format!("{shown}: {e}"))?;
    Ok(Archive {
        path: path.to_path_buf(),
        kind,
        compression,
        size: meta.len(),
    })
}

fn unsupported(path: &Path, what: &str, command: &str) -> String {
    format!(
        "{} is {what}-compressed, which the engine does not read: unpack it first ({command} {}) \
         and import the .tar",
        path.display(),
        path.display()
    )
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// What one member name says about the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Image,
    Rootfs,
    /// Could be either so far (`blobs/`, a layer directory of the old format).
    Undecided,
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Image archives hold only `manifest.json`, `index.json`, `oci-layout`, `repositories`,
/// `blobs/<algorithm>/<digest>`, and (the old format) `<id>/{VERSION,json,layer.tar}` and
/// `<id>.json`; any other name is a root file system's.
fn verdict(name: &str) -> Verdict {
    let mut n = name;
    while let Some(rest) = n.strip_prefix("./") {
        n = rest;
    }
    let n = n.trim_start_matches('/').trim_end_matches('/');
    if n.is_empty() || n == "." {
        return Verdict::Undecided;
    }
    let parts: Vec<&str> = n.split('/').collect();
    match parts.as_slice() {
        ["manifest.json" | "index.json" | "oci-layout" | "repositories"] => Verdict::Image,
        ["blobs"] | ["blobs", _] => Verdict::Undecided,
        ["blobs", _, _] => Verdict::Image,
        [id] if is_hex64(id) => Verdict::Undecided,
        [file] if file.strip_suffix(".json").is_some_and(is_hex64) => Verdict::Undecided,
        [id, "VERSION" | "json" | "layer.tar"] if is_hex64(id) => Verdict::Image,
        _ => Verdict::Rootfs,
    }
}

/// Reads members until one decides; an archive that ends undecided has only layer directories
/// and no index: not something the engine can load.
fn kind_of_tar(reader: impl Read) -> Result<ArchiveKind, String> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|e| format!("not a tar archive ({e})"))?;
    let mut seen = 0usize;
    for entry in entries.take(MAX_ENTRIES) {
        let entry = entry.map_err(|e| {
            if seen == 0 {
                "not a tar archive (nor a gzip- or zstd-compressed one)".to_string()
            } else {
                format!("a broken tar archive: {e}")
            }
        })?;
        seen += 1;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        match verdict(&name) {
            Verdict::Image => return Ok(ArchiveKind::Image),
            Verdict::Rootfs => return Ok(ArchiveKind::Rootfs),
            Verdict::Undecided => {}
        }
    }
    if seen == 0 {
        Err("the tar archive is empty".into())
    } else {
        Err(
            "it has image layers but no manifest.json or index.json: not a complete \
             docker save or OCI archive"
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            if name.ends_with('/') {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o755);
                b.append_data(&mut h, name, std::io::empty()).unwrap();
            } else {
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, name, *data).unwrap();
            }
        }
        b.into_inner().unwrap()
    }

    fn rootfs() -> Vec<u8> {
        tar_of(&[
            ("./", b""),
            ("./bin/", b""),
            ("./bin/sh", b"#!binary"),
            ("./etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
        ])
    }

    /// `docker save` before docker 25: layer directories, the config, then manifest.json.
    fn legacy_save() -> Vec<u8> {
        let id = "a".repeat(64);
        tar_of(&[
            (&format!("{id}/"), b""),
            (&format!("{id}/VERSION"), b"1.0"),
            (&format!("{id}/layer.tar"), &rootfs()),
            (&format!("{}.json", "b".repeat(64)), b"{}"),
            ("manifest.json", b"[]"),
            ("repositories", b"{}"),
        ])
    }

    /// docker ≥ 25 and skopeo: an OCI layout.
    fn oci_save() -> Vec<u8> {
        tar_of(&[
            ("blobs/", b""),
            ("blobs/sha256/", b""),
            (&format!("blobs/sha256/{}", "c".repeat(64)), b"{}"),
            ("index.json", b"{}"),
            ("oci-layout", b"{}"),
        ])
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    }

    fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    #[test]
    fn tells_rootfs_tarballs_from_image_archives_in_every_compression() {
        let dir = tempfile::tempdir().unwrap();
        let zst = zstd::encode_all(&rootfs()[..], 3).unwrap();
        for (name, data, kind, compression) in [
            (
                "rootfs.tar",
                rootfs(),
                ArchiveKind::Rootfs,
                Compression::None,
            ),
            (
                "rootfs.tar.gz",
                gzip(&rootfs()),
                ArchiveKind::Rootfs,
                Compression::Gzip,
            ),
            (
                "rootfs.tar.zst",
                zst,
                ArchiveKind::Rootfs,
                Compression::Zstd,
            ),
            (
                "save.tar",
                legacy_save(),
                ArchiveKind::Image,
                Compression::None,
            ),
            (
                "save.tar.gz",
                gzip(&legacy_save()),
                ArchiveKind::Image,
                Compression::Gzip,
            ),
            ("oci.tar", oci_save(), ArchiveKind::Image, Compression::None),
        ] {
            let p = write(dir.path(), name, &data);
            let a = inspect(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!((a.kind, a.compression), (kind, compression), "{name}");
            assert_eq!(a.size, data.len() as u64);
        }
        // A bare manifest.json first decides as well.
        let p = write(dir.path(), "m.tar", &tar_of(&[("manifest.json", b"[]")]));
        assert_eq!(inspect(&p).unwrap().kind, ArchiveKind::Image);
    }

    #[test]
    fn what_cannot_be_imported_is_said_plainly() {
        let dir = tempfile::tempdir().unwrap();
        let e = inspect(&dir.path().join("missing.tar")).unwrap_err();
        assert!(e.starts_with("no such file: "), "{e}");
        let e = inspect(dir.path()).unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
        let e = inspect(&write(dir.path(), "empty.tar", b"")).unwrap_err();
        assert!(e.ends_with("is empty"), "{e}");
        let e = inspect(&write(dir.path(), "notes.txt", &[b'x'; 2048])).unwrap_err();
        assert!(e.contains("not a tar archive"), "{e}");
        let e = inspect(&write(dir.path(), "zeros.tar", &[0u8; 1024])).unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let xz = write(dir.path(), "a.tar.xz", b"\xfd7zXZ\x00rest");
        let e = inspect(&xz).unwrap_err();
        assert!(e.contains("xz-compressed") && e.contains("unxz -k"), "{e}");
        let e = inspect(&write(dir.path(), "a.tar.bz2", b"BZh91AY")).unwrap_err();
        assert!(e.contains("bunzip2 -k"), "{e}");
        let layers_only = tar_of(&[("blobs/", b""), ("blobs/sha256/", b"")]);
        let e = inspect(&write(dir.path(), "partial.tar", &layers_only)).unwrap_err();
        assert!(e.contains("no manifest.json"), "{e}");
    }

    #[test]
    fn member_names_decide() {
        assert_eq!(verdict("./"), Verdict::Undecided);
        assert_eq!(verdict("bin/"), Verdict::Rootfs);
        assert_eq!(verdict("./etc/passwd"), Verdict::Rootfs);
        assert_eq!(verdict("manifest.json"), Verdict::Image);
        assert_eq!(verdict("./index.json"), Verdict::Image);
        assert_eq!(verdict("blobs/sha256/"), Verdict::Undecided);
        assert_eq!(
            verdict(&format!("blobs/sha256/{}", "1".repeat(64))),
            Verdict::Image
        );
        assert_eq!(verdict(&format!("{}/json", "f".repeat(64))), Verdict::Image);
        assert_eq!(verdict(&format!("{}/", "f".repeat(64))), Verdict::Undecided);
        // A rootfs's own file called manifest.json is not at the top.
        assert_eq!(verdict("app/manifest.json"), Verdict::Rootfs);
    }
}
