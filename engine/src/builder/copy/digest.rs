//! The cache key and history text of a COPY/ADD.
//!
//! The key is BuildKit-like: a sha256 over what will be written — each entry's path, type, mode
//! (after `--chmod`), size, owner (when it is the source's own), content hash, link target and
//! hard-link structure — plus the destination, `--chown`, `--chmod` and the command. Never mtime:
//! touching a file keeps the cache. Contents are hashed by streaming, once per selection.
//!
//! The history text is the legacy builder's: `COPY file:<hash> in /dst ` (`dir:` for a directory,
//! `multi:` over several sources, a bare hash for a download), with our per-source digests.

use std::collections::HashMap;
use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{EngineError, Result};

use super::source::Kind;
use super::{Item, Origin, Selection};

/// Below this many bytes a tree's files are hashed on the calling thread.
const PARALLEL_HASH_MIN_BYTES: u64 = 8 << 20;

/// The read size for hashing (below malloc's mmap threshold, so a buffer per file is cheap).
const HASH_BUF: usize = 64 << 10;

/// Feed everything `r` gives to `h`, in large reads (io::copy's 8 KiB would be a syscall per
/// 8 KiB of a big tree).
fn hash_into(r: &mut dyn io::Read, h: &mut blake3::Hasher, buf: &mut [u8]) -> io::Result<()> {
    loop {
        match r.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                h.update(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A length-prefixed field, so no two different field lists hash alike.
fn field(h: &mut Sha256, b: &[u8]) {
    h.update((b.len() as u64).to_le_bytes());
    h.update(b);
}

impl Selection {
    /// Per-source digests (hex), computed once.
    fn item_hashes(&self) -> Result<&[String]> {
        if let Some(v) = self.hashes.get() {
            return Ok(v);
        }
        let v = self
            .items
            .iter()
            .map(|i| self.item_hash(i))
            .collect::<io::Result<Vec<_>>>()
            .map_err(|e| EngineError::Io {
                context: format!("{} failed: hashing sources", self.cmd),
                source: e,
            })?;
        Ok(self.hashes.get_or_init(|| v))
    }

    fn item_hash(&self, item: &Item) -> io::Result<String> {
        let mut h = Sha256::new();
        let mut links: HashMap<(u64, u64), usize> = HashMap::new();
        let mut reader = match (&item.origin, item.is_dir) {
            (Origin::Tree(p), true) => Some(self.tree()?.item_reader(p)?),
            _ => None,
        };
        let mut contents = match (&item.origin, item.is_dir) {
            (Origin::Tree(p), true) => self.tree_contents(item, p)?,
            _ => Vec::new(),
        };
        let mut content_sha = |i: usize, e: &super::source::Entry| match contents.get_mut(i) {
            Some(done) if done.is_some() => Ok(done.take().unwrap_or_default()),
            _ => self.content_sha(item, e, reader.as_mut()),
        };
        for (i, e) in item.entries.iter().enumerate() {
            let attrs = self.attrs(&e.meta, (!self.preserve_ownership).then_some((0, 0)));
            field(&mut h, &e.rel_bytes());
            let (tag, extra): (&[u8], Vec<u8>) = match &e.meta.kind {
                Kind::Dir => (b"d", Vec::new()),
                Kind::File => {
                    if e.meta.nlink > 1 && matches!(item.origin, Origin::Tree(_)) {
                        if let Some(first) = links.get(&(e.meta.dev, e.meta.ino)) {
                            (b"h", first.to_le_bytes().to_vec())
                        } else {
                            links.insert((e.meta.dev, e.meta.ino), i);
                            (b"f", content_sha(i, e)?)
                        }
                    } else {
                        (b"f", content_sha(i, e)?)
                    }
                }
                Kind::Symlink(t) => (b"l", t.clone()),
                Kind::Fifo => (b"p", Vec::new()),
                Kind::Char(d) => (b"c", d.to_le_bytes().to_vec()),
                Kind::Block(d) => (b"b", d.to_le_bytes().to_vec()),
            };
            field(&mut h, tag);
            field(&mut h, &extra);
            h.update(attrs.perm.to_le_bytes());
            h.update(e.meta.size.to_le_bytes());
            if self.preserve_ownership {
                h.update(e.meta.uid.to_le_bytes());
                h.update(e.meta.gid.to_le_bytes());
            }
        }
        Ok(hex::encode(h.finalize()))
    }

    /// The content hash of every regular file of the directory item at `p`, by entry index,
    /// read on several threads when there is enough to read: hashing is most of the time of a
    /// big COPY whose result comes from the cache.
    fn tree_contents(&self, item: &Item, p: &Path) -> io::Result<Vec<Option<Vec<u8>>>> {
        let mut out = vec![None; item.entries.len()];
        let mut files = Vec::new();
        for (i, e) in item.entries.iter().enumerate() {
            if e.meta.kind == Kind::File {
                match self.known(&e.meta) {
                    Some(sha) => out[i] = Some(sha),
                    None => files.push(i),
                }
            }
        }
        let bytes: u64 = files.iter().map(|&i| item.entries[i].meta.size).sum();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        if bytes < PARALLEL_HASH_MIN_BYTES || workers < 2 {
            return Ok(out);
        }
        // Contiguous runs, so each reader keeps opening siblings in the directory it has open.
        let run = files.len().div_ceil(workers);
        std::thread::scope(|scope| -> io::Result<()> {
            let handles: Vec<_> = files
                .chunks(run)
                .map(|run| {
                    scope.spawn(move || -> io::Result<Vec<(usize, Vec<u8>)>> {
                        let mut reader = self.tree()?.item_reader(p)?;
                        let mut buf = vec![0u8; HASH_BUF];
                        run.iter()
                            .map(|&i| {
                                let mut h = blake3::Hasher::new();
                                hash_into(
                                    &mut reader.open(&item.entries[i].rel)?,
                                    &mut h,
                                    &mut buf,
                                )?;
                                Ok((i, h.finalize().as_bytes().to_vec()))
                            })
                            .collect()
                    })
                })
                .collect();
            for handle in handles {
                let done = handle
                    .join()
                    .map_err(|_| io::Error::other("a hashing thread panicked"))??;
                for (i, sha) in done {
                    out[i] = Some(sha);
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The content hash of a file taken when it was received, if it is one of those.
    fn known(&self, meta: &super::source::Meta) -> Option<Vec<u8>> {
        self.known_digests
            .as_ref()?
            .get(meta.dev, meta.ino, meta.size)
            .map(|sha| sha.to_vec())
    }

    /// The hash of one file entry's content, streamed: BLAKE3 (several times sha256's speed on
    /// big trees, and only ever compared with itself), or a download's sha256.
    fn content_sha(
        &self,
        item: &Item,
        e: &super::source::Entry,
        reader: Option<&mut super::source::ItemReader>,
    ) -> io::Result<Vec<u8>> {
        if let Origin::Remote(r) = &item.origin {
            return hex::decode(&r.sha256)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad sha256"));
        }
        if let (Origin::Tree(_), Some(sha)) = (&item.origin, self.known(&e.meta)) {
            return Ok(sha);
        }
        let mut h = blake3::Hasher::new();
        let mut buf = vec![0u8; HASH_BUF];
        match reader {
            Some(reader) => hash_into(&mut reader.open(&e.rel)?, &mut h, &mut buf)?,
            None => hash_into(&mut self.open(item, e)?, &mut h, &mut buf)?,
        };
        Ok(h.finalize().as_bytes().to_vec())
    }

    /// The content part of the step's cache key, `sha256:<hex>`. `uid_gid` is the resolved
    /// `--chown` when the caller has it (the chown string is part of the key either way).
    pub fn digest(&self, uid_gid: Option<(u32, u32)>) -> Result<String> {
        let hashes = self.item_hashes()?;
        let mut h = Sha256::new();
        // v2: contents hashed with BLAKE3.
        field(&mut h, b"berth-copy/2");
        field(&mut h, self.cmd.as_bytes());
        field(&mut h, self.dest_path.as_bytes());
        field(&mut h, self.chown.as_deref().unwrap_or("").as_bytes());
        field(
            &mut h,
            uid_gid
                .map(|(u, g)| format!("{u}:{g}"))
                .unwrap_or_default()
                .as_bytes(),
        );
        field(
            &mut h,
            self.chmod
                .map(|m| format!("{m:o}"))
                .unwrap_or_default()
                .as_bytes(),
        );
        field(&mut h, &[self.preserve_ownership as u8]);
        for (item, ih) in self.items.iter().zip(hashes) {
            let origin: &[u8] = match &item.origin {
                Origin::Tree(_) => b"tree",
                Origin::Remote(_) => b"url",
                Origin::Inline(_) => b"inline",
            };
            field(&mut h, origin);
            field(&mut h, &item.name);
            field(&mut h, &[item.is_dir as u8, item.archive as u8]);
            field(&mut h, ih.as_bytes());
        }
        Ok(format!("sha256:{}", hex::encode(h.finalize())))
    }

    /// The legacy builder's history comment for this step, e.g. `COPY file:<hash> in /dst/ `
    /// (`kind` is "COPY" or "ADD", `dest` as written); the caller prefixes the shell and
    /// `#(nop) ` as dockerd's `withCmdCommentString` does.
    pub fn history_summary(&self, kind: &str, dest: &str) -> Result<String> {
        let hashes = self.item_hashes()?;
        let one = |item: &Item, h: &str| match (&item.origin, item.is_dir) {
            (Origin::Remote(_), _) => h.to_string(),
            (_, true) => format!("dir:{h}"),
            (_, false) => format!("file:{h}"),
        };
        let src = match (self.items.as_slice(), hashes) {
            ([item], [h]) => one(item, h),
            (items, hs) => {
                let all: Vec<String> = items.iter().zip(hs).map(|(i, h)| one(i, h)).collect();
                format!(
                    "multi:{}",
                    hex::encode(Sha256::digest(all.join(",").as_bytes()))
                )
            }
        };
        let chown = self
            .chown
            .as_deref()
            .map(|c| format!("--chown={c}"))
            .unwrap_or_default();
        // dockerd writes the chown flag and the hash with no space between them.
        Ok(format!("{kind} {chown}{src} in {dest} "))
    }

    /// The destination as written (for callers that print it).
    pub fn dest(&self) -> &str {
        &self.dest
    }
}
