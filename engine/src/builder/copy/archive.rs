//! ADD's local archives: detected by content and extracted into the destination, as dockerd 20.10
//! does (`isArchivePath` + `UntarPath`).
//!
//! A source is an archive when, after gzip/bzip2/xz decompression chosen by magic bytes (the
//! formats 20.10's `DecompressStream` knows; zstd came later), a first tar header reads cleanly.
//! Extraction keeps the archive's owners, modes and mtimes (dockerd applies neither `--chown` nor
//! the root identity to extracted entries), and goes through [`Sink`], so entry names and hard
//! links cannot climb out of the destination and symlinks in it are never followed.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek};

use crate::fs_at::beneath::clean_components;

use super::sink::{Attrs, Node, Sink};

/// A reader over the decompressed content of `file`, chosen by its first bytes.
fn decompressed(mut file: File) -> io::Result<Box<dyn Read>> {
    let mut magic = [0u8; 6];
    let mut n = 0;
    while n < magic.len() {
        match file.read(&mut magic[n..])? {
            0 => break,
            k => n += k,
        }
    }
    file.rewind()?;
    let magic = &magic[..n];
    let r = BufReader::new(file);
    Ok(if magic.starts_with(&[0x1f, 0x8b, 0x08]) {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    } else if magic.starts_with(b"BZh") {
        Box::new(bzip2::read::MultiBzDecoder::new(r))
    } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Box::new(liblzma::read::XzDecoder::new_multi_decoder(r))
    } else {
        Box::new(r)
    })
}

/// Whether `file` is a (possibly compressed) tar archive: its first header parses.
pub fn is_archive(file: File) -> bool {
    let Ok(r) = decompressed(file) else {
        return false;
    };
    let mut ar = tar::Archive::new(r);
    let Ok(mut entries) = ar.entries() else {
        return false;
    };
    matches!(entries.next(), Some(Ok(_)))
}

/// Extract the archive `file` into the sink's base directory.
pub fn extract(file: File, sink: &mut Sink) -> io::Result<()> {
    let mut ar = tar::Archive::new(decompressed(file)?);
    for entry in ar.entries()? {
        let mut entry = entry?;
        let name = entry.path_bytes().into_owned();
        let comps = clean_components(&name).ok_or_else(|| breakout(&name))?;
        let capability = entry.pax_extensions()?.and_then(|mut exts| {
            exts.find_map(|e| {
                let e = e.ok()?;
                (e.key_bytes() == b"SCHILY.xattr.security.capability")
                    .then(|| e.value_bytes().to_vec())
            })
        });
        let h = entry.header();
        // Go's tar reader reads an empty numeric field as 0; so do we.
        let attrs = Attrs {
            perm: h.mode().unwrap_or(0) & 0o7777,
            uid: h.uid().unwrap_or(0) as u32,
            gid: h.gid().unwrap_or(0) as u32,
            mtime: h.mtime().unwrap_or(0) as i64,
            capability,
        };
        let ty = h.entry_type();
        let dev = libc::makedev(
            h.device_major().ok().flatten().unwrap_or(0),
            h.device_minor().ok().flatten().unwrap_or(0),
        );
        use tar::EntryType as T;
        match ty {
            T::Directory => sink.put(&comps, Node::Dir, &attrs)?,
            T::Regular | T::Continuous | T::GNUSparse => {
                sink.put(&comps, Node::File(&mut entry), &attrs)?
            }
            T::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                // dockerd refuses a relative target that climbs out of the destination (an
                // absolute one is read inside it, so it is fine).
                let mut joined = comps[..comps.len().saturating_sub(1)].join(&b'/');
                joined.push(b'/');
                joined.extend_from_slice(&target);
                if clean_components(&joined).is_none() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "invalid symlink {:?} -> {:?}",
                            String::from_utf8_lossy(&name),
                            String::from_utf8_lossy(&target)
                        ),
                    ));
                }
                sink.put(&comps, Node::Symlink(&target), &attrs)?
            }
            T::Link => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                let tcomps = clean_components(&target).ok_or_else(|| breakout(&target))?;
                sink.put(&comps, Node::HardLink(&tcomps), &attrs)?
            }
            T::Char => sink.put(&comps, Node::Char(dev), &attrs)?,
            T::Block => sink.put(&comps, Node::Block(dev), &attrs)?,
            T::Fifo => sink.put(&comps, Node::Fifo, &attrs)?,
            T::XGlobalHeader => {}
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "unhandled tar header type {}",
                        other.as_byte() as char as u32
                    ),
                ))
            }
        }
    }
    Ok(())
}

fn breakout(name: &[u8]) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{:?} is outside of the destination",
            String::from_utf8_lossy(name)
        ),
    )
}
