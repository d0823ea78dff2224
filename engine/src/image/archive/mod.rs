//! Image archives: what `docker save` writes and `docker load` reads.
//!
//! Reading ([`read`]) walks the archive tar once, in whatever member order it comes: layer tars are
//! handed to a sink as they stream past (so they go straight into the store), small metadata files
//! are kept in memory under hard bounds. [`plan`] then works out the images from whichever index
//! the archive has: docker's `manifest.json` (docker ≥ 1.10, including docker ≥ 25's OCI layout
//! variant), an OCI `index.json` (skopeo's oci-archive, nested indexes), or the pre-1.10
//! `repositories` + `<id>/json` chains. [`write`] produces docker ≥ 25's save format.
//!
//! Member names are untrusted: absolute names, `..` and links that leave the archive are refused.

pub mod plan;
pub mod read;
pub mod write;

use crate::error::{EngineError, Result};

/// Largest metadata file (manifest.json, index.json, a config, a v1 json) read into memory.
pub const MAX_META_FILE: u64 = 8 << 20;
/// Largest sum of metadata files of one archive.
pub const MAX_META_TOTAL: u64 = 64 << 20;
/// Most members an archive may have (a save of many images has a few per layer).
pub const MAX_MEMBERS: usize = 100_000;
/// How deep OCI indexes may nest and links may chain.
pub const MAX_DEPTH: usize = 8;

pub use crate::registry::manifest::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
pub use oci_spec::image::ANNOTATION_REF_NAME;
/// containerd's (and docker ≥ 25's) full image name annotation; not an OCI one, so oci-spec has
/// no constant for it.
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";

/// Normalise an archive member name ("./a//b/" → "a/b"), refusing names that could point outside
/// the archive (absolute, `..`) or are not UTF-8. Returns None for the archive root itself.
pub fn clean_member_name(raw: &[u8]) -> Result<Option<String>> {
    let s = std::str::from_utf8(raw)
        .map_err(|_| EngineError::invalid("invalid archive: a member name is not UTF-8"))?;
    if s.starts_with('/') {
        return Err(EngineError::invalid(format!(
            "invalid archive: member name {s:?} is absolute"
        )));
    }
    join_clean("", s).map_err(|_| {
        EngineError::invalid(format!(
            "invalid archive: member name {s:?} points outside the archive"
        ))
    })
}

/// `base/rel` normalised, or Err(()) when `..` climbs above the archive root.
fn join_clean(base: &str, rel: &str) -> std::result::Result<Option<String>, ()> {
    let mut parts: Vec<&str> = Vec::new();
    for c in base.split('/').chain(rel.split('/')) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or(())?;
            }
            c if c.contains('\0') => return Err(()),
            c => parts.push(c),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// Where a link member points, as a cleaned member name. Symlinks are relative to the link's
/// directory; hard links name a member from the archive root. Absolute or escaping targets are
/// refused.
pub fn link_target(member: &str, target: &[u8], symlink: bool) -> Result<String> {
    let t = std::str::from_utf8(target)
        .map_err(|_| EngineError::invalid("invalid archive: a link target is not UTF-8"))?;
    let bad = || {
        EngineError::invalid(format!(
            "invalid archive: link {member:?} points outside the archive ({t:?})"
        ))
    };
    if t.starts_with('/') {
        return Err(bad());
    }
    let base = if symlink {
        member.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
    } else {
        ""
    };
    join_clean(base, t).map_err(|_| bad())?.ok_or_else(bad)
}

/// "blobs/sha256/<hex>" → "sha256:<hex>".
pub fn blob_member_digest(member: &str) -> Option<String> {
    let hex = member.strip_prefix("blobs/sha256/")?;
    crate::image::reference::is_full_hex_id(hex).then(|| format!("sha256:{hex}"))
}

/// "sha256:<hex>" → "blobs/sha256/<hex>" (OCI layout path of a descriptor).
pub fn blob_member_name(digest: &str) -> Result<String> {
    let hex = crate::store::blobs::digest_hex(digest).map_err(|_| {
        EngineError::invalid(format!(
            "invalid archive: unsupported or invalid digest {digest:?}"
        ))
    })?;
    Ok(format!("blobs/sha256/{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_member_names_are_cleaned_and_confined() {
        assert_eq!(
            clean_member_name(b"./blobs//sha256/ab/")
                .unwrap()
                .as_deref(),
            Some("blobs/sha256/ab")
        );
        assert_eq!(clean_member_name(b"./").unwrap(), None);
        assert_eq!(clean_member_name(b"a/../b").unwrap().as_deref(), Some("b"));
        assert!(clean_member_name(b"../etc/passwd").is_err());
        assert!(clean_member_name(b"a/../../x").is_err());
        assert!(clean_member_name(b"/etc/passwd").is_err());
        assert!(clean_member_name(&[0xff, b'a']).is_err());
        assert_eq!(
            link_target("abc/layer.tar", b"../def/layer.tar", true).unwrap(),
            "def/layer.tar"
        );
        assert_eq!(
            link_target("abc/layer.tar", b"def/layer.tar", false).unwrap(),
            "def/layer.tar"
        );
        assert!(link_target("abc/layer.tar", b"../../x", true).is_err());
        assert!(link_target("abc/layer.tar", b"/etc/shadow", true).is_err());
        let hex = "a".repeat(64);
        assert_eq!(
            blob_member_digest(&format!("blobs/sha256/{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(blob_member_digest("blobs/sha256/zz"), None);
        assert!(blob_member_name("sha512:abc").is_err());
    }
}
