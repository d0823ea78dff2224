//! One streaming pass over an image archive tar.
//!
//! Layer tars (recognised by content: a tar header, or gzip/zstd magic) go to a [`LayerSink`] as
//! they stream past, so a load never spools the archive; everything else is metadata and is read
//! into memory, bounded per file and in total. Links between members (docker's legacy saves link
//! duplicate `layer.tar`s) are recorded and resolved by name later.

use std::collections::HashMap;
use std::io::{self, Cursor, Read};

use tar::EntryType;

use super::{
    blob_member_digest, clean_member_name, link_target, MAX_DEPTH, MAX_MEMBERS, MAX_META_FILE,
    MAX_META_TOTAL,
};
use crate::error::{EngineError, Result};

/// What is known about a layer member before its bytes are read.
#[derive(Debug, Clone)]
pub struct LayerHint {
    /// Expected blob digest, from an OCI layout member name ("blobs/sha256/<hex>").
    pub digest: Option<String>,
    /// Size from the tar header.
    pub size: u64,
    /// OCI media type matching the member's compression (from its magic bytes).
    pub media_type: &'static str,
}

/// The OCI layer media type for a layer stream starting with `head`.
pub fn layer_media_type(head: &[u8]) -> &'static str {
    if head.starts_with(&[0x1f, 0x8b]) {
        "application/vnd.oci.image.layer.v1.tar+gzip"
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        "application/vnd.oci.image.layer.v1.tar+zstd"
    } else {
        crate::image::import::LAYER_TAR_MEDIA_TYPE
    }
}

/// Receives each layer member's bytes (exactly as stored in the archive).
pub trait LayerSink {
    fn layer(&mut self, member: &str, reader: &mut dyn Read, hint: LayerHint) -> Result<()>;
}

/// What the pass found.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Metadata members by cleaned name.
    pub files: HashMap<String, Vec<u8>>,
    /// Members handed to the layer sink.
    pub layers: Vec<String>,
    /// Link members → the member they point at.
    pub links: HashMap<String, String>,
}

impl Scanned {
    /// Follow links from `name` to a real member name.
    pub fn resolve(&self, name: &str) -> Result<String> {
        let mut cur = name.to_string();
        for _ in 0..MAX_DEPTH {
            match self.links.get(&cur) {
                Some(next) => cur = next.clone(),
                None => return Ok(cur),
            }
        }
        Err(EngineError::invalid(format!(
            "invalid archive: too many links from {name:?}"
        )))
    }

    /// A metadata file by name (after links), if present.
    pub fn file(&self, name: &str) -> Result<Option<&[u8]>> {
        let real = self.resolve(name)?;
        Ok(self.files.get(&real).map(Vec::as_slice))
    }
}

/// sha256 of no bytes: the diff id (and blob) of an empty layer.
const EMPTY_DIGEST: &str =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Whether the first bytes of a member are a layer (a tar stream, possibly compressed) rather
/// than metadata. `len` is the member size.
fn looks_like_layer(head: &[u8], len: u64) -> bool {
    if head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return true;
    }
    if head.len() < 512 {
        return false;
    }
    // ustar ("ustar\0") and GNU ("ustar ") headers both carry "ustar" at offset 257; an empty
    // layer is just the two zero end-of-archive blocks.
    &head[257..262] == b"ustar" || (len >= 1024 && head.iter().all(|b| *b == 0))
}

/// Read the archive (an uncompressed tar stream) to its end.
pub fn scan(reader: &mut dyn Read, sink: &mut dyn LayerSink) -> Result<Scanned> {
    let mut archive = tar::Archive::new(reader);
    let mut out = Scanned::default();
    let mut meta_total = 0u64;
    let mut members = 0usize;
    let entries = archive.entries().map_err(not_a_tar)?;
    for entry in entries {
        let mut entry = entry.map_err(not_a_tar)?;
        members += 1;
        if members > MAX_MEMBERS {
            return Err(EngineError::invalid(format!(
                "invalid archive: more than {MAX_MEMBERS} members"
            )));
        }
        let raw_name = entry.path_bytes().into_owned();
        let Some(name) = clean_member_name(&raw_name)? else {
            continue;
        };
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Directory => continue,
            EntryType::Symlink | EntryType::Link => {
                let target = entry.link_name_bytes().ok_or_else(|| {
                    EngineError::invalid(format!("invalid archive: link {name:?} has no target"))
                })?;
                let target = link_target(&name, &target, kind == EntryType::Symlink)?;
                out.links.insert(name, target);
                continue;
            }
            EntryType::Regular | EntryType::Continuous => {}
            // pax/GNU extension headers are consumed by the tar reader; anything else (devices,
            // fifos) has no place in an image archive.
            other => {
                return Err(EngineError::invalid(format!(
                    "invalid archive: member {name:?} has unsupported type {other:?}"
                )))
            }
        }
        let size = entry.header().size().map_err(not_a_tar)?;
        let mut head = Vec::with_capacity(512);
        (&mut entry)
            .take(512)
            .read_to_end(&mut head)
            .map_err(not_a_tar)?;
        // A zero-byte member is an empty layer when it is named as one: the blob of the empty
        // digest (what an empty `docker import` stores) or a v1 `layer.tar`.
        let empty_layer = size == 0
            && (blob_member_digest(&name).as_deref() == Some(EMPTY_DIGEST)
                || name.ends_with("/layer.tar"));
        if empty_layer || looks_like_layer(&head, size) {
            let hint = LayerHint {
                digest: blob_member_digest(&name),
                size,
                media_type: layer_media_type(&head),
            };
            let mut r = Cursor::new(head).chain(&mut entry);
            sink.layer(&name, &mut r, hint)?;
            // A sink that stopped early must not leave bytes that the tar reader would take for
            // the next header.
            io::copy(&mut r, &mut io::sink()).map_err(not_a_tar)?;
            out.layers.push(name);
            continue;
        }
        if size > MAX_META_FILE {
            return Err(EngineError::invalid(format!(
                "invalid archive: member {name:?} is {size} bytes, neither a layer nor metadata of at most {MAX_META_FILE} bytes"
            )));
        }
        meta_total += size;
        if meta_total > MAX_META_TOTAL {
            return Err(EngineError::invalid(format!(
                "invalid archive: more than {MAX_META_TOTAL} bytes of metadata"
            )));
        }
        let mut data = head;
        (&mut entry)
            .take(MAX_META_FILE + 1 - data.len() as u64)
            .read_to_end(&mut data)
            .map_err(not_a_tar)?;
        out.files.insert(name, data);
    }
    Ok(out)
}

fn not_a_tar(e: io::Error) -> EngineError {
    EngineError::invalid(format!("invalid archive: not a readable tar file: {e}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Records layer members and their bytes.
    #[derive(Default)]
    pub struct Collect(pub HashMap<String, (Vec<u8>, LayerHint)>);

    impl LayerSink for Collect {
        fn layer(&mut self, member: &str, r: &mut dyn Read, hint: LayerHint) -> Result<()> {
            let mut v = Vec::new();
            r.read_to_end(&mut v).unwrap();
            self.0.insert(member.to_string(), (v, hint));
            Ok(())
        }
    }

    pub fn layer_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (p, d) in files {
            let mut h = tar::Header::new_ustar();
            h.set_size(d.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, p, *d).unwrap();
        }
        b.into_inner().unwrap()
    }

    pub fn archive(members: &[(&str, &[u8])], links: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (p, d) in members {
            let mut h = tar::Header::new_ustar();
            h.set_size(d.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, p, *d).unwrap();
        }
        for (p, t) in links {
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, p, t).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn archive_scan_splits_layers_from_metadata() {
        let layer = layer_tar(&[("etc/hello", b"hi")]);
        let empty = vec![0u8; 1024];
        let hex = "b".repeat(64);
        let blob = format!("blobs/sha256/{hex}");
        let tar = archive(
            &[
                ("./abc/layer.tar", &layer),
                (&blob, &empty),
                ("manifest.json", b"[]"),
                ("abc/json", b"{}"),
            ],
            &[("def/layer.tar", "../abc/layer.tar")],
        );
        let mut sink = Collect::default();
        let s = scan(&mut Cursor::new(tar), &mut sink).unwrap();
        assert_eq!(s.layers, vec!["abc/layer.tar".to_string(), blob.clone()]);
        assert_eq!(sink.0["abc/layer.tar"].0, layer);
        assert_eq!(sink.0[&blob].1.digest, Some(format!("sha256:{hex}")));
        assert_eq!(s.files["manifest.json"], b"[]");
        assert_eq!(s.resolve("def/layer.tar").unwrap(), "abc/layer.tar");
        assert!(s.file("abc/json").unwrap().is_some());
    }

    #[test]
    fn archive_scan_rejects_hostile_members() {
        let tar = archive(&[("ok", b"{}")], &[("evil", "../../etc/passwd")]);
        let e = scan(&mut Cursor::new(tar), &mut Collect::default()).unwrap_err();
        assert!(e.to_string().contains("outside the archive"), "{e}");

        // A raw header with a ".." name (the tar builder refuses to write one).
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..12].copy_from_slice(b"../escape.js");
        h.set_size(2);
        h.set_cksum();
        let mut raw = h.as_bytes().to_vec();
        raw.extend_from_slice(b"{}");
        raw.resize(512 * 4, 0);
        let e = scan(&mut Cursor::new(raw), &mut Collect::default()).unwrap_err();
        assert!(e.to_string().contains("outside the archive"), "{e}");

        let e = scan(
            &mut Cursor::new(b"this is not a tar archive at all".repeat(40)),
            &mut Collect::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a readable tar"), "{e}");

        let big = vec![b'x'; (MAX_META_FILE + 1) as usize];
        let tar = archive(&[("manifest.json", &big)], &[]);
        let e = scan(&mut Cursor::new(tar), &mut Collect::default()).unwrap_err();
        assert!(e.to_string().contains("neither a layer"), "{e}");
    }
}
