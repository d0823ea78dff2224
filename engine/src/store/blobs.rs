//! Content-addressed blobs: `<image>/blobs/sha256/<hex>`, kept as the exact bytes that were hashed.
//! Writes go to `blobs/tmp/` and are renamed into place, so a blob path exists only when complete.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{EngineError, IoContext, Result};
use crate::store::atomic::sync_dir;

pub struct BlobStore {
    dir: PathBuf,
    tmp: PathBuf,
}

/// A blob being written; removed on drop unless committed.
pub struct BlobWriter {
    file: Option<BufWriter<File>>,
    path: PathBuf,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None => Err(std::io::Error::other("blob writer already committed")),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// "sha256:<64 hex>" → "<hex>", or InvalidArgument.
pub fn digest_hex(digest: &str) -> Result<&str> {
    match digest.strip_prefix("sha256:") {
        Some(h) if crate::image::reference::is_full_hex_id(h) => Ok(h),
        _ => Err(EngineError::invalid(format!("invalid digest {digest:?}"))),
    }
}

pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

impl BlobStore {
    /// Create the directories and drop what interrupted writes left in `tmp/`.
    pub fn open(root: &Path) -> Result<Self> {
        let dir = root.join("sha256");
        let tmp = root.join("tmp");
        for d in [root, &dir, &tmp] {
            ensure_private_dir(d)?;
        }
        for e in fs::read_dir(&tmp).io_context(|| format!("reading {}", tmp.display()))? {
            let e = e.io_context(|| format!("reading {}", tmp.display()))?;
            tracing::info!(path = %e.path().display(), "removing leftover blob upload");
            let _ = fs::remove_file(e.path());
        }
        Ok(BlobStore { dir, tmp })
    }

    pub fn path(&self, digest: &str) -> Result<PathBuf> {
        Ok(self.dir.join(digest_hex(digest)?))
    }

    pub fn exists(&self, digest: &str) -> bool {
        self.path(digest).map(|p| p.is_file()).unwrap_or(false)
    }

    pub fn writer(&self) -> Result<BlobWriter> {
        let path = self.tmp.join(crate::util::new_id());
        let file = File::create(&path).io_context(|| format!("creating {}", path.display()))?;
        Ok(BlobWriter {
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            path,
        })
    }

    /// Move a finished upload into place under `digest` (computed by the caller while the bytes
    /// streamed through). Layer-sized blobs are not fsynced, like docker's layer content: the
    /// rename makes them appear only when complete, which keeps the store consistent however the
    /// engine dies (the page cache outlives the process). Syncing 200 MiB costs ~0.7 s on these
    /// disks, more than the rest of a pull. After a power loss, `berth system check` re-hashes
    /// every blob and `--repair` drops torn ones.
    pub fn commit(&self, w: BlobWriter, digest: &str) -> Result<()> {
        self.commit_with(w, digest, false)
    }

    fn commit_with(&self, mut w: BlobWriter, digest: &str, durable: bool) -> Result<()> {
        let target = self.path(digest)?;
        let ctx = || format!("writing blob {digest}");
        let file = w.file.take().expect("uncommitted writer has a file");
        let file = file
            .into_inner()
            .map_err(|e| e.into_error())
            .io_context(ctx)?;
        if durable {
            file.sync_all().io_context(ctx)?;
        }
        drop(file);
        if target.exists() {
            let _ = fs::remove_file(&w.path);
            return Ok(());
        }
        fs::rename(&w.path, &target).io_context(ctx)?;
        if durable {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Store small bytes (config, manifest) durably and return their digest: image records
    /// name them, and they are cheap to sync.
    pub fn put(&self, data: &[u8]) -> Result<String> {
        let digest = sha256_digest(data);
        if self.exists(&digest) {
            return Ok(digest);
        }
        let mut w = self.writer()?;
        w.write_all(data)
            .io_context(|| format!("writing blob {digest}"))?;
        self.commit_with(w, &digest, true)?;
        Ok(digest)
    }

    /// Read a blob, refusing anything larger than `max` bytes (configs and manifests are small;
    /// a huge one is corruption or an attack).
    pub fn read(&self, digest: &str, max: u64) -> Result<Vec<u8>> {
        let p = self.path(digest)?;
        let len = fs::metadata(&p)
            .io_context(|| format!("reading blob {digest}"))?
            .len();
        if len > max {
            return Err(EngineError::internal(format!(
                "blob {digest} is {len} bytes, more than the {max} allowed"
            )));
        }
        let data = fs::read(&p).io_context(|| format!("reading blob {digest}"))?;
        if sha256_digest(&data) != digest {
            return Err(EngineError::internal(format!(
                "blob {digest} is corrupt (content does not match its digest)"
            )));
        }
        Ok(data)
    }

    pub fn size(&self, digest: &str) -> Result<u64> {
        let p = self.path(digest)?;
        Ok(fs::metadata(&p)
            .io_context(|| format!("reading blob {digest}"))?
            .len())
    }

    pub fn remove(&self, digest: &str) -> Result<()> {
        let p = self.path(digest)?;
        match fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).io_context(|| format!("removing blob {digest}"))
            }
            _ => Ok(()),
        }
    }

    /// Digests of every stored blob.
    pub fn list(&self) -> Result<Vec<String>> {
        list_digest_names(&self.dir)
    }
}

/// Create `dir` (and parents) with mode 0700, and tighten it to 0700 if it already exists: the data
/// root must not be readable by other users (CVE-2021-41091).
pub fn ensure_private_dir(dir: &std::path::Path) -> crate::error::Result<()> {
    use crate::error::IoContext;
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .io_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .io_context(|| format!("setting permissions on {}", dir.display()))
}

/// "sha256:<hex>" for every entry of `dir` named by a full hex digest (blobs and layers are
/// both stored that way); temporary and foreign names are skipped.
pub(crate) fn list_digest_names(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).io_context(|| format!("reading {}", dir.display()))? {
        let e = e.io_context(|| format!("reading {}", dir.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if crate::image::reference::is_full_hex_id(&name) {
            out.push(format!("sha256:{name}"));
        }
    }
    Ok(out)
}
