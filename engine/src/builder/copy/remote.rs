//! ADD's remote sources: `ADD https://host/path /dest`, downloaded before the step as dockerd's
//! `downloadSource` does, with BuildKit's `--checksum`.
//!
//! The body is streamed into a private temporary directory while it is hashed, so a large download
//! never sits in memory and the checksum costs no second read. The file name comes from the URL
//! path (or Content-Disposition), the mtime from Last-Modified (the epoch without one), and the
//! file is written 0600 as dockerd writes it; remote files are never extracted.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::Digest;
use tokio::io::AsyncWriteExt;

use crate::error::{EngineError, IoContext, Result};

/// Whether a COPY/ADD source is a URL (dockerd's `urlutil.IsURL`).
pub fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// A downloaded ADD source. Cloning shares the temporary file, removed when the last clone drops.
#[derive(Debug, Clone)]
pub struct RemoteFile {
    pub url: String,
    /// The name the URL gives the file, if any (else `__unnamed__` or an error, by destination).
    pub filename: Option<String>,
    /// Hex sha256 of the content.
    pub sha256: String,
    /// Last-Modified as Unix seconds (0 without one).
    pub mtime: i64,
    dir: Arc<ScratchDir>,
}

impl RemoteFile {
    /// The downloaded content.
    pub fn path(&self) -> PathBuf {
        self.dir.0.join("download")
    }
}

#[derive(Debug)]
struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Download `url` into a new private directory under `scratch`, checking `checksum`
/// (`sha256:<hex>`, also sha384/sha512) when given.
pub async fn fetch_remote(url: &str, scratch: &Path, checksum: Option<&str>) -> Result<RemoteFile> {
    let expected = checksum.map(parse_checksum).transpose()?;
    let parsed = url::Url::parse(url).map_err(|e| EngineError::invalid(format!("{url}: {e}")))?;
    let client = reqwest::Client::new();
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| EngineError::internal(format!("error downloading {url}: {e}")))?;
    let status = resp.status();
    if status.as_u16() >= 400 {
        let body = resp.text().await.unwrap_or_default();
        return Err(EngineError::internal(format!(
            "failed to GET {url} with status {status}: {}",
            body.trim()
        )));
    }
    let filename = filename_for(parsed.path(), resp.headers());
    let mtime = resp
        .headers()
        .get(reqwest::header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
        .unwrap_or(0);

    std::fs::create_dir_all(scratch).io_context(|| format!("creating {}", scratch.display()))?;
    let dir = scratch.join(format!("add-{:016x}", rand::random::<u64>()));
    std::fs::create_dir(&dir).io_context(|| format!("creating {}", dir.display()))?;
    let dir = Arc::new(ScratchDir(dir));
    let path = dir.0.join("download");
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .await
        .io_context(|| format!("creating {}", path.display()))?;
    let mut hashers = Hashers::default();
    let mut resp = resp;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| EngineError::internal(format!("error downloading {url}: {e}")))?
    {
        hashers.update(&chunk);
        file.write_all(&chunk)
            .await
            .io_context(|| format!("writing {}", path.display()))?;
    }
    file.flush()
        .await
        .io_context(|| format!("writing {}", path.display()))?;
    let sha256 = hex::encode(hashers.sha256.finalize());
    if let Some((algo, want)) = expected {
        let got = match algo {
            "sha256" => sha256.clone(),
            "sha384" => hex::encode(hashers.sha384.finalize()),
            _ => hex::encode(hashers.sha512.finalize()),
        };
        if got != want {
            return Err(EngineError::invalid(format!(
                "digest mismatch for {url}: {algo}:{got} (expected: {algo}:{want})"
            )));
        }
    }
    Ok(RemoteFile {
        url: url.to_string(),
        filename,
        sha256,
        mtime,
        dir,
    })
}

/// Download every URL among an ADD's `sources` (in order; nothing for COPY, whose URL sources
/// [`super::select`] refuses), for [`super::CopyRequest::remote`].
pub async fn fetch_remotes(
    sources: &[String],
    is_add: bool,
    checksum: Option<&str>,
    scratch: &Path,
) -> Result<Vec<RemoteFile>> {
    let mut out = Vec::new();
    if !is_add {
        return Ok(out);
    }
    for s in sources.iter().filter(|s| is_url(s)) {
        if !out.iter().any(|r: &RemoteFile| r.url == *s) {
            out.push(fetch_remote(s, scratch, checksum).await?);
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Hashers {
    sha256: sha2::Sha256,
    sha384: sha2::Sha384,
    sha512: sha2::Sha512,
}

impl Hashers {
    fn update(&mut self, b: &[u8]) {
        self.sha256.update(b);
        self.sha384.update(b);
        self.sha512.update(b);
    }
}

/// `algo:hex` as go-digest parses it (sha256, sha384, sha512; lowercase hex of the right length).
pub fn parse_checksum(s: &str) -> Result<(&'static str, String)> {
    let bad = || EngineError::invalid(format!("invalid checksum digest format: {s}"));
    let (algo, hex) = s.split_once(':').ok_or_else(bad)?;
    let (algo, len) = match algo {
        "sha256" => ("sha256", 64),
        "sha384" => ("sha384", 96),
        "sha512" => ("sha512", 128),
        _ => return Err(bad()),
    };
    if hex.len() != len
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(bad());
    }
    Ok((algo, hex.to_string()))
}

/// dockerd's `getFilenameForDownload`: the last element of the URL path unless it ends in '/',
/// else Content-Disposition's filename.
fn filename_for(url_path: &str, headers: &reqwest::header::HeaderMap) -> Option<String> {
    let decoded = percent_decode(url_path);
    if !decoded.is_empty() && !decoded.ends_with('/') {
        if let Some(base) = base_name(&decoded) {
            return Some(base);
        }
    }
    let cd = headers
        .get(reqwest::header::CONTENT_DISPOSITION)?
        .to_str()
        .ok()?;
    let name = cd.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("filename")
            .then(|| v.trim().trim_matches('"').to_string())
    })?;
    if name.is_empty() || name.ends_with('/') {
        return None;
    }
    base_name(&name)
}

/// Go's `filepath.Base` for a non-empty path not ending in '/'.
fn base_name(p: &str) -> Option<String> {
    let b = p.rsplit('/').next().unwrap_or(p);
    match b {
        "" => None,
        b => Some(b.to_string()),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hexval = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hexval(b[i + 1]), hexval(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An HTTP date (IMF-fixdate, RFC 850 or asctime, as Go's `http.ParseTime`) as Unix seconds.
fn parse_http_date(s: &str) -> Option<i64> {
    use chrono::NaiveDateTime;
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc2822(s) {
        return Some(t.timestamp());
    }
    for fmt in ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp());
        }
    }
    None
}

#[cfg(test)]
pub(super) fn fake(
    url: &str,
    filename: Option<&str>,
    content: &[u8],
    scratch: &Path,
) -> RemoteFile {
    let dir = scratch.join(format!("fake-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("download"), content).unwrap();
    RemoteFile {
        url: url.into(),
        filename: filename.map(Into::into),
        sha256: hex::encode(sha2::Sha256::digest(content)),
        mtime: 0,
        dir: Arc::new(ScratchDir(dir)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_names() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784111777)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784111777)
        );
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(784111777));
        let h = reqwest::header::HeaderMap::new();
        assert_eq!(filename_for("/a/b%20c.txt", &h), Some("b c.txt".into()));
        assert_eq!(filename_for("/dir/", &h), None);
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            reqwest::header::CONTENT_DISPOSITION,
            "attachment; filename=\"x/y.tgz\"".parse().unwrap(),
        );
        assert_eq!(filename_for("/", &h), Some("y.tgz".into()));
        assert!(parse_checksum("sha256:abc").is_err());
        assert!(parse_checksum(&format!("md5:{}", "0".repeat(32))).is_err());
        assert_eq!(
            parse_checksum(&format!("sha256:{}", "a".repeat(64)))
                .unwrap()
                .0,
            "sha256"
        );
    }
}
