//! Remote build contexts as the docker CLI takes them (`GetContextFromURL`): an http(s) URL
//! that is not a git repository is downloaded by the client (into an unlinked temporary file,
//! so a large archive never sits in memory), then read like a context on stdin: a tar, plain or
//! compressed, or a lone Dockerfile.

use std::io::{Seek, Write};

use anyhow::{anyhow, Result};

/// docker's `urlutil.IsURL`.
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// A finished download: the file (at its start), the bytes received and the size the server
/// announced.
#[derive(Debug)]
pub struct Download {
    pub file: std::fs::File,
    pub size: u64,
    pub announced: Option<u64>,
}

/// Download `url`, with docker's wording for a failed GET.
pub async fn download(url: &str) -> Result<Download> {
    let fail = |e: String| {
        anyhow!("unable to prepare context: unable to download remote context {url}: {e}")
    };
    let mut resp = reqwest::get(url).await.map_err(|e| fail(e.to_string()))?;
    let status = resp.status();
    if status.as_u16() >= 400 {
        let body = resp.text().await.unwrap_or_default();
        return Err(fail(format!(
            "failed to GET {url} with status {status}: {}",
            body.trim()
        )));
    }
    let announced = resp.content_length();
    let mut file = anonymous_file().map_err(|e| fail(e.to_string()))?;
    let mut n = 0u64;
    while let Some(chunk) = resp.chunk().await.map_err(|e| fail(e.to_string()))? {
        file.write_all(&chunk).map_err(|e| fail(e.to_string()))?;
        n += chunk.len() as u64;
    }
    file.rewind().map_err(|e| fail(e.to_string()))?;
    Ok(Download {
        file,
        size: n,
        announced,
    })
}

/// A read-write file in the temporary directory with no name (removed once closed, whatever
/// way the process ends).
fn anonymous_file() -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = std::env::temp_dir();
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o600)
        .open(&dir)
    {
        Ok(f) => Ok(f),
        // A file system without O_TMPFILE: a named file, unlinked at once.
        Err(_) => {
            let path = dir.join(format!(
                "berth-build-context-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0)
            ));
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)?;
            std::fs::remove_file(&path)?;
            Ok(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn urls() {
        assert!(is_url("https://example.com/ctx.tar.gz"));
        assert!(is_url("http://127.0.0.1:8000/Dockerfile"));
        assert!(!is_url("./https"));
        assert!(!is_url("-"));
    }

    /// A real download from a one-shot HTTP server on localhost, and a 404.
    #[tokio::test]
    async fn downloads_to_a_nameless_file_and_reports_http_errors() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            for (status, body) in [
                ("200 OK", "FROM busybox\n"),
                ("404 Not Found", "no such file\n"),
            ] {
                let (mut s, _) = listener.accept().unwrap();
                let mut req = [0u8; 4096];
                let _ = s.read(&mut req).unwrap();
                write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
            }
        });
        let url = format!("http://127.0.0.1:{port}/Dockerfile");
        let mut d = download(&url).await.unwrap();
        assert_eq!((d.size, d.announced), (13, Some(13)));
        let mut text = String::new();
        d.file.read_to_string(&mut text).unwrap();
        assert_eq!(text, "FROM busybox\n");
        let err = download(&url).await.unwrap_err().to_string();
        assert_eq!(
            err,
            format!("unable to prepare context: unable to download remote context {url}: failed to GET {url} with status 404 Not Found: no such file")
        );
        server.join().unwrap();
    }
}
