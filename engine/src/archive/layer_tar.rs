//! An overlay upper directory → a docker layer tar: how a build step's filesystem change becomes a
//! layer.
//!
//! The tar is what dockerd's overlay2 driver produces (pkg/archive TarWithOptions with the overlay
//! whiteout converter), so the same change gives the same entries: the walk visits each directory
//! before its contents, names sorted byte-wise at every level (filepath.Walk's order); names are
//! relative without "./", directories end in "/"; ustar headers, with PAX records for long names
//! and link targets, big ids and xattrs (`SCHILY.xattr.*`: `security.capability`, which docker
//! keeps, and `user.*`); owner, mode and mtime (whole seconds) as on disk; a file seen again under
//! another name (same inode) is a hard link to its first name. overlayfs' own markers become
//! docker's: a whiteout (a 0/0 character device) is an empty `.wh.<name>`, mode 0600, and an opaque
//! directory (`trusted.overlay.opaque=y`, or `user.overlay.opaque=y` on userxattr mounts) is the
//! directory's entry followed by `<dir>/.wh..wh..opq`. Sockets have no tar form and are skipped.
//!
//! Everything is read by directory fd and name with O_NOFOLLOW (the upper dir holds whatever the
//! RUN step wrote, symlinks to host paths included), and a regular file contributes exactly the
//! size its header announced. Upper dirs written with overlay's redirect_dir or metacopy features
//! do not hold the full content of what they show, so they are refused rather than archived wrong.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use tar::{EntryType, Header};

use crate::fs_at::{
    fstatat_nofollow, is_whiteout_stat, list_dir, open_dir_path, openat, readlinkat,
};

const WHITEOUT_PREFIX: &str = ".wh.";
const WHITEOUT_OPAQUE: &str = ".wh..wh..opq";
/// Largest value of an 8-byte octal ustar field (uid, gid); beyond it Go writes PAX records.
const MAX_ID: u64 = 0o7777777;
/// Largest size of the 12-byte octal ustar field.
const MAX_SIZE: u64 = 0o77777777777;

/// Write the layer tar of the overlay upper directory `upper` to `out`, returning `out`.
pub fn write_layer_tar<W: Write>(upper: &Path, out: W) -> io::Result<W> {
    let root = open_dir_path(upper)?;
    let mut w = LayerWriter {
        out,
        links: HashMap::new(),
    };
    w.walk_dir(&root, "")?;
    // End of archive: two zero blocks.
    w.out.write_all(&[0u8; 1024])?;
    Ok(w.out)
}

struct LayerWriter<W: Write> {
    out: W,
    /// (dev, ino) → name of its first entry, for hard links.
    links: HashMap<(u64, u64), String>,
}

impl<W: Write> LayerWriter<W> {
    /// Entries of the directory `dir` (whose own entry, if any, is already written), `prefix`
    /// being its name in the archive ("" for the root, else ending in "/").
    fn walk_dir(&mut self, dir: &OwnedFd, prefix: &str) -> io::Result<()> {
        for child in list_dir(dir)? {
            let st = match fstatat_nofollow(dir, &child) {
                Ok(st) => st,
                // Removed since the listing (the layer is written from a stopped container, but
                // stay robust): nothing to archive.
                Err(Errno::ENOENT) => continue,
                Err(e) => return Err(e.into()),
            };
            let name = String::from_utf8_lossy(child.to_bytes()).into_owned();
            let arch = format!("{prefix}{name}");
            self.entry(dir.as_fd(), &child, &st, &arch, prefix, &name)?;
        }
        Ok(())
    }

    fn entry(
        &mut self,
        dir: BorrowedFd<'_>,
        cname: &CStr,
        st: &libc::stat,
        arch: &str,
        prefix: &str,
        name: &str,
    ) -> io::Result<()> {
        if is_whiteout_stat(st) {
            let mut m = Meta::of(st, EntryType::Regular);
            m.mode = 0o600;
            m.type_bits = 0;
            return self.write_entry(
                &format!("{prefix}{WHITEOUT_PREFIX}{name}"),
                &m,
                None,
                &[],
                None,
            );
        }
        let fmt = st.st_mode & libc::S_IFMT;
        if fmt == libc::S_IFDIR {
            return self.dir(dir, cname, st, arch);
        }
        if fmt == libc::S_IFSOCK {
            return Ok(());
        }
        let xattrs = read_xattrs(dir, cname, fmt)?;
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let m = Meta::of(st, EntryType::Link);
                return self.write_entry(arch, &m, Some(first.as_bytes()), &xattrs, None);
            }
            self.links.insert(key, arch.to_string());
        }
        match fmt {
            libc::S_IFREG => {
                let fd = openat(
                    dir,
                    cname,
                    libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
                )?;
                let now = nix::sys::stat::fstat(&fd).map_err(io::Error::from)?;
                if now.st_mode & libc::S_IFMT != libc::S_IFREG {
                    return Err(io::Error::other(format!(
                        "{arch}: changed type while archiving"
                    )));
                }
                refuse_metacopy(&fd, arch)?;
                let mut m = Meta::of(st, EntryType::Regular);
                m.size = st.st_size.max(0) as u64;
                let mut data = Exact {
                    inner: File::from(fd),
                    left: m.size,
                };
                self.write_entry(arch, &m, None, &xattrs, Some(&mut data))
            }
            libc::S_IFLNK => {
                let target = readlinkat(dir, cname).map_err(io::Error::from)?;
                let m = Meta::of(st, EntryType::Symlink);
                self.write_entry(arch, &m, Some(&target), &xattrs, None)
            }
            libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                let kind = match fmt {
                    libc::S_IFCHR => EntryType::Char,
                    libc::S_IFBLK => EntryType::Block,
                    _ => EntryType::Fifo,
                };
                let mut m = Meta::of(st, kind);
                if kind != EntryType::Fifo {
                    m.dev = Some((libc::major(st.st_rdev), libc::minor(st.st_rdev)));
                }
                self.write_entry(arch, &m, None, &xattrs, None)
            }
            _ => Ok(()),
        }
    }

    fn dir(
        &mut self,
        dir: BorrowedFd<'_>,
        cname: &CStr,
        st: &libc::stat,
        arch: &str,
    ) -> io::Result<()> {
        let fd = openat(
            dir,
            cname,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
        )?;
        if get_xattr(&fd, c"trusted.overlay.redirect")?.is_some() {
            return Err(io::Error::other(format!(
                "{arch}: overlay redirect_dir is in use; the upper dir does not hold the layer"
            )));
        }
        let xattrs = fd_xattrs(&fd)?;
        let dname = format!("{arch}/");
        let m = Meta::of(st, EntryType::Directory);
        self.write_entry(&dname, &m, None, &xattrs, None)?;
        let opaque = |v: Option<Vec<u8>>| v.as_deref() == Some(b"y");
        if opaque(get_xattr(&fd, c"trusted.overlay.opaque")?)
            || opaque(get_xattr(&fd, c"user.overlay.opaque")?)
        {
            // docker's marker inherits the directory's owner and permission bits.
            let mut wo = Meta::of(st, EntryType::Regular);
            wo.mode = st.st_mode & 0o777;
            wo.type_bits = 0;
            wo.mtime = 0;
            self.write_entry(&format!("{dname}{WHITEOUT_OPAQUE}"), &wo, None, &[], None)?;
        }
        self.walk_dir(&fd, &dname)
    }

    /// One entry: PAX records first when the ustar header cannot hold everything.
    fn write_entry(
        &mut self,
        name: &str,
        m: &Meta,
        link: Option<&[u8]>,
        xattrs: &[(String, Vec<u8>)],
        data: Option<&mut dyn Read>,
    ) -> io::Result<()> {
        let mut h = Header::new_ustar();
        h.set_entry_type(m.kind);
        h.set_mode(m.mode | m.type_bits);
        // Go's writer fills the device fields of every ustar header (with zeros).
        h.set_device_major(0)?;
        h.set_device_minor(0)?;
        h.set_mtime(m.mtime);
        let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
        h.set_uid(m.uid.min(MAX_ID));
        h.set_gid(m.gid.min(MAX_ID));
        if m.uid > MAX_ID {
            pax.push(("uid".into(), m.uid.to_string().into_bytes()));
        }
        if m.gid > MAX_ID {
            pax.push(("gid".into(), m.gid.to_string().into_bytes()));
        }
        h.set_size(m.size.min(MAX_SIZE));
        if m.size > MAX_SIZE {
            pax.push(("size".into(), m.size.to_string().into_bytes()));
        }
        if let Some((major, minor)) = m.dev {
            h.set_device_major(major)?;
            h.set_device_minor(minor)?;
        }
        if !set_ustar_name(&mut h, name.as_bytes()) {
            pax.push(("path".into(), name.as_bytes().to_vec()));
            let cut = truncate_utf8(name.as_bytes(), 100);
            h.as_ustar_mut()
                .ok_or_else(|| io::Error::other("ustar header"))?
                .name[..cut.len()]
                .copy_from_slice(cut);
        }
        if let Some(t) = link {
            if t.len() > 100 {
                pax.push(("linkpath".into(), t.to_vec()));
            }
            let cut = truncate_utf8(t, 100);
            h.as_old_mut().linkname[..cut.len()].copy_from_slice(cut);
        }
        for (k, v) in xattrs {
            pax.push((format!("SCHILY.xattr.{k}"), v.clone()));
        }
        if !pax.is_empty() {
            self.write_pax(name, &pax)?;
        }
        h.set_cksum();
        self.out.write_all(h.as_bytes())?;
        if let Some(r) = data {
            let n = io::copy(r, &mut self.out)?;
            pad(&mut self.out, n)?;
        }
        Ok(())
    }

    /// A PAX extended header ('x') for the next entry, named like Go's writer names it.
    fn write_pax(&mut self, name: &str, records: &[(String, Vec<u8>)]) -> io::Result<()> {
        let mut body = Vec::new();
        let mut sorted: Vec<&(String, Vec<u8>)> = records.iter().collect();
        // Go writes path, linkpath, ids and size in a fixed order, then xattrs sorted by key.
        sorted.sort_by_key(|(k, _)| (k.starts_with("SCHILY."), k.clone()));
        for (k, v) in sorted {
            body.extend_from_slice(&pax_record(k, v));
        }
        let (dir, file) = match name.trim_end_matches('/').rsplit_once('/') {
            Some((d, f)) => (format!("{d}/"), f),
            None => (String::new(), name.trim_end_matches('/')),
        };
        let pname = format!("{dir}PaxHeaders.0/{file}");
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::XHeader);
        h.set_mode(0o644);
        h.set_size(body.len() as u64);
        let cut = truncate_utf8(pname.as_bytes(), 100);
        h.as_old_mut().name[..cut.len()].copy_from_slice(cut);
        h.set_cksum();
        self.out.write_all(h.as_bytes())?;
        self.out.write_all(&body)?;
        pad(&mut self.out, body.len() as u64)
    }
}

/// Header fields of one entry.
struct Meta {
    kind: EntryType,
    /// Permission bits (with setuid, setgid, sticky).
    mode: u32,
    /// The file type bits Go's tar.FileInfoHeader adds to the mode field (c_ISDIR, ...); none
    /// for docker's whiteout markers.
    type_bits: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    size: u64,
    dev: Option<(u32, u32)>,
}

impl Meta {
    fn of(st: &libc::stat, kind: EntryType) -> Meta {
        Meta {
            kind,
            mode: st.st_mode & 0o7777,
            type_bits: st.st_mode & libc::S_IFMT,
            uid: st.st_uid as u64,
            gid: st.st_gid as u64,
            mtime: st.st_mtime.max(0) as u64,
            size: 0,
            dev: None,
        }
    }
}

/// Put `name` in the ustar name field, split into prefix and name at a '/' if needed (Go's
/// splitUSTARPath: ASCII names only, a trailing '/' stays with the name); false when it does not
/// fit.
fn set_ustar_name(h: &mut Header, name: &[u8]) -> bool {
    let Some(u) = h.as_ustar_mut() else {
        return false;
    };
    if name.len() <= 100 {
        u.name[..name.len()].copy_from_slice(name);
        return true;
    }
    if !name.is_ascii() {
        return false;
    }
    let mut length = name.len();
    if length > 155 + 1 {
        length = 155 + 1;
    } else if name[length - 1] == b'/' {
        length -= 1;
    }
    let Some(i) = name[..length].iter().rposition(|b| *b == b'/') else {
        return false;
    };
    let nlen = name.len() - i - 1;
    if i == 0 || nlen > 100 || nlen == 0 || i > 155 {
        return false;
    }
    u.prefix[..i].copy_from_slice(&name[..i]);
    u.name[..nlen].copy_from_slice(&name[i + 1..]);
    true
}

/// At most `max` bytes of `b`, not cutting a UTF-8 sequence.
fn truncate_utf8(b: &[u8], max: usize) -> &[u8] {
    if b.len() <= max {
        return b;
    }
    let mut end = max;
    while end > 0 && (b[end] & 0xc0) == 0x80 {
        end -= 1;
    }
    &b[..end]
}

/// "<len> <key>=<value>\n", the length counting itself.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let base = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = base + base.to_string().len();
    if (base + len.to_string().len()) != len {
        len = base + len.to_string().len();
    }
    let mut r = format!("{len} {key}=").into_bytes();
    r.extend_from_slice(value);
    r.push(b'\n');
    r
}

fn pad<W: Write>(out: &mut W, n: u64) -> io::Result<()> {
    let rem = (n % 512) as usize;
    if rem != 0 {
        out.write_all(&[0u8; 512][..512 - rem])?;
    }
    Ok(())
}

/// The xattrs a layer records, sorted: `security.capability` (docker's one) and `user.*` except
/// overlayfs' own.
fn keep_xattr(name: &str) -> bool {
    name == "security.capability"
        || (name.starts_with("user.") && !name.starts_with("user.overlay."))
}

/// Xattrs of a non-directory, read without following a symlink. Symlinks cannot carry `user.*`
/// and capabilities only apply to files, so only regular files are asked.
fn read_xattrs(dir: BorrowedFd<'_>, cname: &CStr, fmt: u32) -> io::Result<Vec<(String, Vec<u8>)>> {
    if fmt != libc::S_IFREG {
        return Ok(Vec::new());
    }
    // O_PATH does not allow fgetxattr; a plain O_RDONLY|O_NONBLOCK open of a regular file is
    // harmless (checked to still be one).
    let fd = match openat(
        dir,
        cname,
        libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
    ) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    fd_xattrs(&fd)
}

fn fd_xattrs(fd: &OwnedFd) -> io::Result<Vec<(String, Vec<u8>)>> {
    let names = list_xattrs(fd)?;
    let mut out = Vec::new();
    for n in names {
        let Ok(s) = std::str::from_utf8(n.to_bytes()) else {
            continue;
        };
        if !keep_xattr(s) {
            continue;
        }
        if let Some(v) = get_xattr(fd, &n)? {
            out.push((s.to_string(), v));
        }
    }
    out.sort();
    Ok(out)
}

fn list_xattrs(fd: &OwnedFd) -> io::Result<Vec<CString>> {
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: valid fd and a buffer of the given length.
        let n = unsafe { libc::flistxattr(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            buf.truncate(n as usize);
            break;
        }
        match Errno::last() {
            Errno::ERANGE => buf.resize(buf.len() * 4, 0),
            Errno::ENOTSUP => return Ok(Vec::new()),
            e => return Err(e.into()),
        }
        if buf.len() > 1 << 20 {
            return Err(io::Error::other("xattr list too long"));
        }
    }
    Ok(buf
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .filter_map(|s| CString::new(s).ok())
        .collect())
}

fn get_xattr(fd: &OwnedFd, name: &CStr) -> io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: valid fd, NUL-terminated name and a buffer of the given length.
        let n = unsafe {
            libc::fgetxattr(
                fd.as_raw_fd(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n >= 0 {
            buf.truncate(n as usize);
            return Ok(Some(buf));
        }
        match Errno::last() {
            Errno::ENODATA | Errno::ENOTSUP => return Ok(None),
            Errno::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 16, 0),
            e => return Err(e.into()),
        }
    }
}

/// A metacopy upper file holds only metadata; its data is in a lower layer.
fn refuse_metacopy(fd: &OwnedFd, arch: &str) -> io::Result<()> {
    if get_xattr(fd, c"trusted.overlay.metacopy")?.is_some() {
        return Err(io::Error::other(format!(
            "{arch}: overlay metacopy is in use; the upper dir does not hold the file's data"
        )));
    }
    Ok(())
}

/// Reads exactly `left` bytes: the file's, then zeros if it shrank.
struct Exact {
    inner: File,
    left: u64,
}

impl Read for Exact {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.left as usize);
        let n = match self.inner.read(&mut buf[..want]) {
            Ok(0) => {
                buf[..want].fill(0);
                want
            }
            Ok(n) => n,
            Err(e) => return Err(e),
        };
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
