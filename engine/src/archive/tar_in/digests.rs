//! Content hashes taken while a tar is extracted (the bytes are in hand then), for callers
//! that would otherwise read the files again to hash them (COPY's cache key over a context).

use std::collections::HashMap;

/// The BLAKE3 hash of each regular file's content, computed while extracting it (the bytes are in
/// hand then), by (device, inode): COPY's cache key then needs no second read of the files.
/// An inode that was replaced since has another number; a spill to another filesystem makes
/// every number stale, so the index empties and stays off.
#[derive(Debug, Default)]
pub struct FileDigests {
    by_inode: HashMap<(u64, u64), (u64, [u8; 32])>,
    off: bool,
}

impl FileDigests {
    /// The content hash of the file (dev, ino) if it is still the `size` bytes extracted.
    pub fn get(&self, dev: u64, ino: u64, size: u64) -> Option<[u8; 32]> {
        match self.by_inode.get(&(dev, ino)) {
            Some((n, sha)) if *n == size => Some(*sha),
            _ => None,
        }
    }

    pub(super) fn record(&mut self, st: &libc::stat, size: u64, sha: [u8; 32]) {
        if !self.off {
            self.by_inode.insert((st.st_dev, st.st_ino), (size, sha));
        }
    }

    pub(super) fn turn_off(&mut self) {
        self.by_inode.clear();
        self.off = true;
    }
}
