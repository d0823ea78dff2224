//! Readers the layer extraction stacks on the tar stream: hashing (the diff_id) with an optional
//! tee into the blob, and a budget on the header bytes of one entry.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::rc::Rc;

use sha2::{Digest, Sha256};

/// Reads through `inner`, hashing every byte and copying it to `tee` when given.
pub struct HashingReader<'a, R> {
    inner: R,
    hasher: Sha256,
    count: u64,
    tee: Option<&'a mut dyn Write>,
}

impl<'a, R: Read> HashingReader<'a, R> {
    pub fn new(inner: R, tee: Option<&'a mut dyn Write>) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
            tee,
        }
    }

    /// ("sha256:<hex>", byte count) of everything read so far.
    pub fn finish(self) -> (String, u64) {
        (
            format!("sha256:{}", hex::encode(self.hasher.finalize())),
            self.count,
        )
    }
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        if let Some(t) = self.tee.as_mut() {
            t.write_all(&buf[..n])?;
        }
        Ok(n)
    }
}

/// Most bytes of tar metadata (header blocks, GNU long names and links, PAX records, sparse maps)
/// one entry may carry. The tar crate buffers long names and PAX records whole; without a bound a
/// layer could claim a multi-gigabyte "long name" and exhaust memory. Real ones are a few KiB
/// (PATH_MAX is 4 KiB; xattr values at most 64 KiB each).
pub const MAX_ENTRY_HEADER_BYTES: u64 = 1 << 20;

/// Whether the tar reader is reading entry data (unbounded) or headers (counted).
#[derive(Debug, Clone, Copy)]
pub(super) enum HeaderBudget {
    Data,
    Headers(u64),
}

/// Counts the bytes the tar crate reads between entries and fails past
/// `MAX_ENTRY_HEADER_BYTES`.
pub(super) struct BudgetReader<R> {
    pub(super) inner: R,
    pub(super) budget: Rc<Cell<HeaderBudget>>,
}

impl<R: Read> Read for BudgetReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let limit = match self.budget.get() {
            HeaderBudget::Data => return self.inner.read(buf),
            HeaderBudget::Headers(used) => MAX_ENTRY_HEADER_BYTES.saturating_sub(used),
        };
        if limit == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("an entry's headers exceed {MAX_ENTRY_HEADER_BYTES} bytes"),
            ));
        }
        let max = buf.len().min(usize::try_from(limit).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        if let HeaderBudget::Headers(used) = self.budget.get() {
            self.budget.set(HeaderBudget::Headers(used + n as u64));
        }
        Ok(n)
    }
}
