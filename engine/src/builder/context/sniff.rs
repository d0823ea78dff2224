//! What a build request body is, from its first bytes: a compressed stream (docker's
//! DecompressStream magics: gzip, bzip2, xz, zstd), a tar, or neither (then it is a Dockerfile).

use std::io::{self, Read};

/// Compression of a body, by magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Compression {
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b, 0x08]) {
            Compression::Gzip
        } else if head.starts_with(b"BZh") {
            Compression::Bzip2
        } else if head.starts_with(&[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) {
            Compression::Xz
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Read up to `n` bytes from `r` (fewer only at the end of the stream).
pub fn read_head(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

/// The decompressing reader for `c` over `r`. Concatenated streams are read through, as Go's
/// readers (and the xz tool docker runs) do.
pub fn decompress<'a>(
    c: Compression,
    r: Box<dyn Read + Send + 'a>,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match c {
        Compression::None => r,
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(r)),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(r)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(r)?),
    })
}

/// Whether a stream starting with `head` (up to 512 bytes, fewer only if the stream is that
/// short) is a tar: an empty stream or a zero block (an empty archive), or a first header whose
/// checksum is right (Go's tar reader accepts any such header, ustar magic or not).
pub fn is_tar(head: &[u8]) -> bool {
    if head.is_empty() {
        return true;
    }
    if head.len() < 512 {
        return false;
    }
    let block = &head[..512];
    if block.iter().all(|b| *b == 0) {
        return true;
    }
    let Some(stored) = parse_octal(&block[148..156]) else {
        return false;
    };
    // The checksum counts the checksum field as spaces; old writers summed signed bytes.
    let unsigned: u64 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                *b as u64
            }
        })
        .sum();
    let signed: i64 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                *b as i8 as i64
            }
        })
        .sum();
    stored == unsigned || stored as i64 == signed
}

/// A tar numeric field: octal digits, padded with spaces or NULs.
fn parse_octal(field: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(field).ok()?;
    let t = s.trim_matches(|c| c == ' ' || c == '\0');
    if t.is_empty() {
        return None;
    }
    u64::from_str_radix(t, 8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(Compression::detect(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(
            Compression::detect(&[0xfd, b'7', b'z', b'X', b'Z', 0, 0]),
            Compression::Xz
        );
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
        assert_eq!(Compression::detect(b"FROM busybox\n"), Compression::None);
    }

    #[test]
    fn tar_or_not() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_old();
        h.set_size(1);
        h.set_mode(0o644);
        b.append_data(&mut h, "f", &b"x"[..]).unwrap();
        let v7 = b.into_inner().unwrap();
        assert!(is_tar(&v7[..512]));
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(0);
        b.append_data(&mut h, "d/", io::empty()).unwrap();
        assert!(is_tar(&b.into_inner().unwrap()[..512]));
        assert!(is_tar(&[]));
        assert!(is_tar(&[0u8; 1024]));
        assert!(!is_tar(b"FROM busybox\nRUN true\n"));
        let mut long = b"FROM busybox\n".to_vec();
        long.resize(600, b'#');
        assert!(!is_tar(&long));
    }
}
