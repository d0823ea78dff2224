//! Layer compression for push: multithreaded gzip (pigz-style) and zstd, producing the digest and
//! size of the compressed stream while it is written, plus the per-layer record of compressed
//! digests so a layer is compressed once and every later push reuses the stored blob.
//!
//! Gzip: the input is cut into chunks that worker threads deflate independently, each ending with
//! a sync flush (so it ends on a byte boundary with no final-block bit); the chunks are written in
//! order between one gzip header and trailer, with the CRC-32s combined. The result is one ordinary
//! gzip member any decoder reads (pigz's `--independent` layout). Independent chunks lose the
//! 32 KiB window across chunk boundaries: with 1 MiB chunks that costs well under 1% of ratio.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{EngineError, IoContext, Result};
use crate::store::atomic::write_json_atomic;
use crate::store::blobs::{digest_hex, ensure_private_dir};

/// Size of the pieces compressed in parallel.
const CHUNK: usize = 1 << 20;

/// Default gzip level: zlib's level 1 ("deflate_fast") runs at several hundred MB/s per core and
/// still shrinks text layers to roughly a third; higher levels cost 3-5× the CPU for a few
/// percent. Configurable with `BERTH_PUSH_GZIP_LEVEL` (0-9).
pub const DEFAULT_GZIP_LEVEL: u32 = 1;
/// zstd's default level 3 is faster than gzip -1 and compresses better.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    /// `compression=` query values (and the engine option).
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "" | "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            other => Err(EngineError::invalid(format!(
                "unsupported compression {other:?}: use gzip or zstd"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// Layer media type in an OCI manifest.
    pub fn oci_media_type(self) -> &'static str {
        match self {
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// Which compression a stored layer blob already has, from its first bytes.
    pub fn detect(head: &[u8]) -> Option<Self> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }
}

/// Digest and size of a compressed stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compressed {
    pub digest: String,
    pub size: u64,
}

/// A writer that hashes and counts what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    pub fn finish(self) -> (W, Compressed) {
        let digest = format!("sha256:{}", hex::encode(self.hasher.finalize()));
        (
            self.inner,
            Compressed {
                digest,
                size: self.count,
            },
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Compression settings.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub compression: Compression,
    /// Worker threads (at least 1).
    pub threads: usize,
    pub gzip_level: u32,
    pub zstd_level: i32,
}

impl Options {
    /// Defaults: every core, levels from the environment or the defaults above.
    pub fn new(compression: Compression) -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let gzip_level = std::env::var("BERTH_PUSH_GZIP_LEVEL")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|l| *l <= 9)
            .unwrap_or(DEFAULT_GZIP_LEVEL);
        Options {
            compression,
            threads,
            gzip_level,
            zstd_level: DEFAULT_ZSTD_LEVEL,
        }
    }
}

/// Compress all of `input` into `out`; returns the digest and size of what was written.
/// `progress` is called with the number of input bytes consumed so far.
pub fn compress(
    input: &mut (dyn Read + Send),
    out: &mut dyn Write,
    opts: &Options,
    progress: &mut dyn FnMut(u64),
) -> Result<Compressed> {
    let mut w = HashingWriter::new(out);
    match opts.compression {
        Compression::Gzip => parallel_gzip(input, &mut w, opts, progress)?,
        Compression::Zstd => zstd_stream(input, &mut w, opts, progress)?,
    }
    w.flush()
        .io_context(|| "writing the compressed layer".into())?;
    Ok(w.finish().1)
}

fn read_chunk(input: &mut dyn Read, size: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; size];
    let mut filled = 0;
    while filled < size {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// One chunk, deflated raw and ending with a sync flush, with its CRC-32 and length.
struct Deflated {
    data: Vec<u8>,
    crc: crc32fast::Hasher,
    len: u64,
}

fn deflate_chunk(input: &[u8], level: u32) -> io::Result<Deflated> {
    use flate2::{Compress, FlushCompress, Status};
    let mut c = Compress::new(flate2::Compression::new(level), false);
    // Worst case for deflate is a little over the input (stored blocks of 5 bytes per 64 KiB).
    let mut data = Vec::with_capacity(input.len() + input.len() / 100 + 64);
    loop {
        let consumed = c.total_in() as usize;
        if data.capacity() - data.len() < 64 {
            data.reserve(data.capacity() / 2 + 64);
        }
        let status = c
            .compress_vec(&input[consumed..], &mut data, FlushCompress::Sync)
            .map_err(io::Error::other)?;
        // The flush is complete once all input is in and the output was not filled to the brim.
        if c.total_in() as usize == input.len()
            && data.len() < data.capacity()
            && status == Status::Ok
        {
            break;
        }
        if status == Status::BufError && data.len() < data.capacity() {
            return Err(io::Error::other("deflate made no progress"));
        }
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(input);
    Ok(Deflated {
        data,
        crc,
        len: input.len() as u64,
    })
}

fn parallel_gzip(
    input: &mut (dyn Read + Send),
    out: &mut dyn Write,
    opts: &Options,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let ctx = || "compressing the layer".to_string();
    let threads = opts.threads.max(1);
    let level = opts.gzip_level;
    // Gzip header: magic, deflate, no flags, mtime 0, xfl 0, os 255 (unknown), as Go writes it, so
    // identical input gives identical bytes whatever the host.
    out.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])
        .io_context(ctx)?;

    let (job_tx, job_rx) = sync_channel::<(u64, Vec<u8>)>(threads);
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (res_tx, res_rx) = sync_channel::<(u64, io::Result<Deflated>)>(threads * 2);

    let mut crc = crc32fast::Hasher::new();
    let mut total: u64 = 0;
    std::thread::scope(|s| -> Result<()> {
        for _ in 0..threads {
            let job_rx = job_rx.clone();
            let res_tx = res_tx.clone();
            s.spawn(move || loop {
                let job = job_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok((seq, chunk)) = job else { return };
                if res_tx.send((seq, deflate_chunk(&chunk, level))).is_err() {
                    return;
                }
            });
        }
        drop(res_tx);

        // The reader feeds jobs from this thread's scope; results are consumed below, in order.
        let reader = s.spawn(move || -> io::Result<u64> {
            let mut seq = 0u64;
            loop {
                let chunk = read_chunk(input, CHUNK)?;
                if chunk.is_empty() {
                    return Ok(seq);
                }
                if job_tx.send((seq, chunk)).is_err() {
                    return Ok(seq);
                }
                seq += 1;
            }
        });

        let written = write_in_order(res_rx, out, &mut crc, &mut total, progress);
        // On a write error the receiver is dropped above, so workers and reader stop.
        let read = reader
            .join()
            .map_err(|_| EngineError::internal("layer reader thread panicked"))?;
        written?;
        read.io_context(|| "reading the layer".into())?;
        Ok(())
    })?;

    // Final empty fixed-Huffman block (BFINAL=1), then CRC-32 and ISIZE (length mod 2^32).
    let mut trailer = vec![0x03, 0x00];
    trailer.extend_from_slice(&crc.finalize().to_le_bytes());
    trailer.extend_from_slice(&(total as u32).to_le_bytes());
    out.write_all(&trailer).io_context(ctx)
}

fn write_in_order(
    res_rx: Receiver<(u64, io::Result<Deflated>)>,
    out: &mut dyn Write,
    crc: &mut crc32fast::Hasher,
    total: &mut u64,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let ctx = || "compressing the layer".to_string();
    let mut pending: BTreeMap<u64, Deflated> = BTreeMap::new();
    let mut next = 0u64;
    for (seq, res) in res_rx {
        pending.insert(seq, res.io_context(ctx)?);
        while let Some(d) = pending.remove(&next) {
            out.write_all(&d.data).io_context(ctx)?;
            *total += d.len;
            crc.combine(&d.crc);
            progress(*total);
            next += 1;
        }
    }
    if !pending.is_empty() {
        return Err(EngineError::internal("a compression worker stopped early"));
    }
    Ok(())
}

fn zstd_stream(
    input: &mut (dyn Read + Send),
    out: &mut dyn Write,
    opts: &Options,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let ctx = || "compressing the layer (zstd)".to_string();
    let mut enc = zstd::stream::write::Encoder::new(out, opts.zstd_level).io_context(ctx)?;
    if opts.threads > 1 {
        enc.multithread(opts.threads as u32).io_context(ctx)?;
    }
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).io_context(|| "reading the layer".into()),
        };
        enc.write_all(&buf[..n]).io_context(ctx)?;
        total += n as u64;
        progress(total);
    }
    enc.finish().io_context(ctx)?;
    Ok(())
}

/// What is remembered about one layer: its compressed forms by compression.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LayerRecord {
    #[serde(default)]
    compressed: BTreeMap<Compression, Compressed>,
}

/// `<image>/compressed/<diff_id hex>.json`: the compressed blobs made for a layer. The blobs
/// themselves are in the blob store; the image service's garbage collection counts them as used
/// while the layer lives (`blobs_of`).
pub struct CompressedIndex {
    dir: PathBuf,
    cache: Mutex<HashMap<String, LayerRecord>>,
}

impl CompressedIndex {
    pub fn open(image_root: &Path) -> Result<Self> {
        let dir = image_root.join("compressed");
        ensure_private_dir(&dir)?;
        let mut cache = HashMap::new();
        for e in fs::read_dir(&dir).io_context(|| format!("reading {}", dir.display()))? {
            let e = e.io_context(|| format!("reading {}", dir.display()))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(hex) = name.strip_suffix(".json") else {
                if name.starts_with('.') && name.contains(".tmp-") {
                    let _ = fs::remove_file(e.path());
                }
                continue;
            };
            if !crate::image::reference::is_full_hex_id(hex) {
                continue;
            }
            let parsed = fs::read(e.path())
                .ok()
                .and_then(|d| serde_json::from_slice::<LayerRecord>(&d).ok());
            match parsed {
                Some(r) => {
                    cache.insert(format!("sha256:{hex}"), r);
                }
                None => {
                    tracing::warn!(path = %e.path().display(), "dropping unreadable compressed-layer record");
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        Ok(CompressedIndex {
            dir,
            cache: Mutex::new(cache),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LayerRecord>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The remembered compressed blob of a layer, if any.
    pub fn get(&self, diff_id: &str, c: Compression) -> Option<Compressed> {
        self.lock()
            .get(diff_id)
            .and_then(|r| r.compressed.get(&c).cloned())
    }

    /// Remember a compressed form of a layer (written atomically before the cache changes).
    pub fn remember(&self, diff_id: &str, c: Compression, blob: Compressed) -> Result<()> {
        let path = self.dir.join(format!("{}.json", digest_hex(diff_id)?));
        let mut cache = self.lock();
        let mut rec = cache.get(diff_id).cloned().unwrap_or_default();
        rec.compressed.insert(c, blob);
        write_json_atomic(&path, &rec)?;
        cache.insert(diff_id.to_string(), rec);
        Ok(())
    }

    /// Blob digests remembered for these layers (garbage collection keeps them).
    pub fn blobs_of<'a>(&self, diff_ids: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        let cache = self.lock();
        diff_ids
            .into_iter()
            .filter_map(|d| cache.get(d))
            .flat_map(|r| r.compressed.values().map(|c| c.digest.clone()))
            .collect()
    }

    /// Forget the records of layers that are gone.
    pub fn retain_layers(&self, live: &std::collections::HashSet<String>) -> Result<()> {
        let mut cache = self.lock();
        let dead: Vec<String> = cache
            .keys()
            .filter(|d| !live.contains(*d))
            .cloned()
            .collect();
        for d in dead {
            let path = self.dir.join(format!("{}.json", digest_hex(&d)?));
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(e).io_context(|| format!("removing {}", path.display()))
                }
                _ => {}
            }
            cache.remove(&d);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        // Half text-like, half pseudo-random: exercises both compressible and stored blocks.
        let mut v = Vec::with_capacity(len);
        let mut x: u64 = 0x9e3779b97f4a7c15;
        while v.len() < len {
            if (v.len() / 70_000) % 2 == 0 {
                v.extend_from_slice(b"the quick brown fox jumps over the lazy dog 0123456789\n");
            } else {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.extend_from_slice(&x.to_le_bytes());
            }
        }
        v.truncate(len);
        v
    }

    fn roundtrip(c: Compression, len: usize, threads: usize) {
        let input = sample(len);
        let mut out = Vec::new();
        let mut opts = Options::new(c);
        opts.threads = threads;
        let mut last = 0;
        let got = compress(&mut &input[..], &mut out, &opts, &mut |n| last = n).unwrap();
        assert_eq!(got.size, out.len() as u64);
        assert_eq!(got.digest, crate::store::blobs::sha256_digest(&out));
        assert_eq!(Compression::detect(&out), Some(c));
        let mut back = Vec::new();
        match c {
            Compression::Gzip => {
                // A single-member decoder: the output must be one ordinary gzip member.
                flate2::read::GzDecoder::new(&out[..])
                    .read_to_end(&mut back)
                    .unwrap();
            }
            Compression::Zstd => {
                zstd::stream::read::Decoder::new(&out[..])
                    .unwrap()
                    .read_to_end(&mut back)
                    .unwrap();
            }
        }
        assert_eq!(back.len(), input.len());
        assert!(back == input, "roundtrip differs");
        assert_eq!(last, len as u64);
    }

    #[test]
    fn compress_gzip_roundtrips_across_chunk_counts() {
        for len in [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 12345] {
            roundtrip(Compression::Gzip, len, 3);
        }
        roundtrip(Compression::Gzip, 3 * CHUNK + 7, 1);
    }

    #[test]
    fn compress_gzip_is_deterministic_and_shrinks_text() {
        let input = sample(4 * CHUNK);
        let run = |threads| {
            let mut out = Vec::new();
            let mut opts = Options::new(Compression::Gzip);
            opts.threads = threads;
            compress(&mut &input[..], &mut out, &opts, &mut |_| {}).unwrap()
        };
        let a = run(1);
        assert_eq!(a, run(4), "thread count must not change the bytes");
        assert!(a.size < input.len() as u64 * 3 / 4, "{a:?}");
    }

    #[test]
    fn compress_zstd_roundtrips() {
        roundtrip(Compression::Zstd, 0, 2);
        roundtrip(Compression::Zstd, 3 * CHUNK + 5, 2);
        roundtrip(Compression::Zstd, 1234, 1);
    }

    #[test]
    fn compress_reports_read_errors() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = buf.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
        }
        for c in [Compression::Gzip, Compression::Zstd] {
            let err = compress(
                &mut Failing(3 * CHUNK),
                &mut Vec::new(),
                &Options::new(c),
                &mut |_| {},
            )
            .unwrap_err();
            assert!(err.to_string().contains("disk on fire"), "{err}");
        }
    }

    #[test]
    fn compress_index_remembers_and_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let layer = format!("sha256:{}", "a".repeat(64));
        let other = format!("sha256:{}", "b".repeat(64));
        let blob = Compressed {
            digest: format!("sha256:{}", "c".repeat(64)),
            size: 42,
        };
        {
            let idx = CompressedIndex::open(dir.path()).unwrap();
            idx.remember(&layer, Compression::Gzip, blob.clone())
                .unwrap();
        }
        let idx = CompressedIndex::open(dir.path()).unwrap();
        assert_eq!(idx.get(&layer, Compression::Gzip), Some(blob.clone()));
        assert_eq!(idx.get(&layer, Compression::Zstd), None);
        assert_eq!(idx.blobs_of([&layer]), vec![blob.digest.clone()]);
        assert!(idx.blobs_of([&other]).is_empty());
        idx.retain_layers(&[other.clone()].into_iter().collect())
            .unwrap();
        assert_eq!(idx.get(&layer, Compression::Gzip), None);
        let reopened = CompressedIndex::open(dir.path()).unwrap();
        assert_eq!(reopened.get(&layer, Compression::Gzip), None);
        assert!(Compression::parse("brotli").is_err());
        assert_eq!(Compression::parse("zstd").unwrap(), Compression::Zstd);
    }
}
