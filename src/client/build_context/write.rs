//! Writing a prepared context: the walked directory as a tar (uid/gid 0, links kept, the
//! synthetic Dockerfile added), a tar from stdin rewritten with another Dockerfile, and the
//! writer that feeds the request body from a blocking thread.

use std::collections::HashMap;
use std::fs::{File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;

use bytes::Bytes;

use super::*;

/// The request body's chunk size.
pub(super) const CHUNK: usize = 256 * 1024;

/// Feeds the request body from the blocking thread.
pub(super) struct ChannelWriter {
    pub(super) tx: Option<http_body_util::channel::Sender<Bytes, io::Error>>,
    pub(super) handle: tokio::runtime::Handle,
    pub(super) buf: Vec<u8>,
}

impl ChannelWriter {
    pub(super) fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        let tx = self
            .tx
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::BrokenPipe))?;
        self.handle.block_on(tx.send_data(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the engine stopped reading the build context",
            )
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

pub(super) struct Counting<W> {
    pub(super) inner: W,
    pub(super) n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl DirContext {
    pub(super) fn write_tar(self, w: impl Write) -> io::Result<()> {
        let mut tar = tar::Builder::new(w);
        let mut synthetic: Vec<Option<Synthetic>> = self.synthetic.into_iter().map(Some).collect();
        // Hard links: the first path seen for an inode with several links carries the data.
        let mut inodes: HashMap<(u64, u64), PathBuf> = HashMap::new();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        for e in &self.entries {
            let rel = PathBuf::from(std::ffi::OsStr::from_bytes(&e.rel));
            let replaced = synthetic
                .iter_mut()
                .find(|s| {
                    s.as_ref()
                        .is_some_and(|s| s.name.as_bytes() == e.rel.as_slice())
                })
                .and_then(Option::take);
            let mut h = header_for(&e.meta);
            if let Some(s) = replaced {
                // docker keeps the entry's header and swaps its content.
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(s.content.len() as u64);
                tar.append_data(&mut h, &rel, s.content.as_slice())?;
                continue;
            }
            let ft = e.meta.file_type();
            let abs = self.root.join(&rel);
            if ft.is_symlink() {
                let target = std::fs::read_link(&abs)?;
                h.set_entry_type(tar::EntryType::Symlink);
                tar.append_link(&mut h, &rel, &target)?;
            } else if ft.is_dir() {
                h.set_entry_type(tar::EntryType::Directory);
                tar.append_data(&mut h, &rel, io::empty())?;
            } else if ft.is_file() {
                if e.meta.nlink() > 1 {
                    let key = (e.meta.dev(), e.meta.ino());
                    if let Some(first) = inodes.get(&key) {
                        h.set_entry_type(tar::EntryType::Link);
                        h.set_size(0);
                        tar.append_link(&mut h, &rel, first)?;
                        continue;
                    }
                    inodes.insert(key, rel.clone());
                }
                h.set_entry_type(tar::EntryType::Regular);
                let size = e.meta.len();
                h.set_size(size);
                match File::open(&abs) {
                    Ok(f) => tar.append_data(&mut h, &rel, ExactSize::new(f, size))?,
                    // Removed since the walk: sent empty rather than failing the build late.
                    Err(err) if err.kind() == io::ErrorKind::NotFound => {
                        h.set_size(0);
                        tar.append_data(&mut h, &rel, io::empty())?
                    }
                    Err(err) => {
                        return Err(io::Error::new(
                            err.kind(),
                            format!("{}: {err}", abs.display()),
                        ))
                    }
                }
            } else {
                let kind = if ft.is_fifo() {
                    tar::EntryType::Fifo
                } else if ft.is_char_device() {
                    tar::EntryType::Char
                } else if ft.is_block_device() {
                    tar::EntryType::Block
                } else {
                    continue;
                };
                h.set_entry_type(kind);
                if kind != tar::EntryType::Fifo {
                    let rdev = e.meta.rdev();
                    h.set_device_major(libc::major(rdev))?;
                    h.set_device_minor(libc::minor(rdev))?;
                }
                tar.append_data(&mut h, &rel, io::empty())?;
            }
        }
        // What replaced nothing is appended, dated now, as docker's AddDockerfileToBuildContext.
        for s in synthetic.into_iter().flatten() {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(s.mode);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(now);
            h.set_size(s.content.len() as u64);
            tar.append_data(&mut h, &s.name, s.content.as_slice())?;
        }
        tar.into_inner()?.flush()
    }
}

/// docker's AddDockerfileToBuildContext on a tar stream: every entry copied, `.dockerignore`
/// (matched by its exact name, as docker does) with the Dockerfile's name appended, then the
/// Dockerfile (0600, now) and, when there was none, a `.dockerignore` hiding both.
pub(super) fn rewrite_tar(
    tar: File,
    name: &str,
    dockerfile: Vec<u8>,
    w: impl Write,
) -> io::Result<()> {
    let mut out = tar::Builder::new(w);
    let mut input = tar::Archive::new(io::BufReader::new(tar));
    let mut had_ignore = false;
    for e in input.entries()? {
        let mut e = e?;
        let mut h = e.header().clone();
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(&e.path_bytes()));
        if e.path_bytes().as_ref() == b".dockerignore" {
            had_ignore = true;
            let mut text = Vec::new();
            e.read_to_end(&mut text)?;
            text.extend_from_slice(format!("\n{name}\n").as_bytes());
            h.set_size(text.len() as u64);
            out.append_data(&mut h, &path, text.as_slice())?;
            continue;
        }
        match e.link_name_bytes() {
            Some(link) if h.entry_type().is_symlink() || h.entry_type().is_hard_link() => {
                let link = PathBuf::from(std::ffi::OsStr::from_bytes(&link));
                out.append_link(&mut h, &path, &link)?;
            }
            _ => out.append_data(&mut h, &path, &mut e)?,
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut add = |file: &str, content: &[u8]| -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o600);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(now);
        h.set_size(content.len() as u64);
        out.append_data(&mut h, file, content)
    };
    add(name, &dockerfile)?;
    if !had_ignore {
        add(
            ".dockerignore",
            format!(".dockerignore\n{name}\n").as_bytes(),
        )?;
    }
    out.into_inner()?.flush()
}

/// A tar header from a file's metadata: its mode bits and mtime, owner 0:0 (docker's
/// `ChownOpts`), no user or group names.
pub(super) fn header_for(meta: &Metadata) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_mode(meta.mode() & 0o7777);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0));
    h.set_size(0);
    h
}

/// Exactly `size` bytes of a file that may have changed since its size was read: cut when it
/// grew, padded with zeros when it shrank, so the tar stays well-formed.
pub(super) struct ExactSize<R> {
    pub(super) inner: io::Take<R>,
    pub(super) left: u64,
}

impl<R: Read> ExactSize<R> {
    pub(super) fn new(r: R, size: u64) -> ExactSize<R> {
        ExactSize {
            inner: r.take(size),
            left: size,
        }
    }
}

impl<R: Read> Read for ExactSize<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.left -= n as u64;
            return Ok(n);
        }
        let pad = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        buf[..pad].fill(0);
        self.left -= pad as u64;
        Ok(pad)
    }
}
