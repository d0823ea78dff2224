//! Per-registry TLS trust, the way docker reads it: a directory named after the registry's
//! `host[:port]` under a certs directory (`/etc/docker/certs.d`, and berth's own, first) holds
//! `*.crt` files (extra certificate authorities, trusted on top of the built-in roots) and
//! `*.cert`/`*.key` pairs (a client certificate the registry may ask for).
//!
//! The files are read when a pull, push or login picks its endpoints, so a certificate dropped in
//! place works without restarting the engine, and the HTTP client built from them is kept until
//! the files change (a client per request would throw away pooled connections).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use super::error::{RegResult, RegistryError};

/// The trust files of one registry host, as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTls {
    /// The directory they came from (for error messages).
    pub dir: PathBuf,
    /// PEM certificate authorities (`*.crt`).
    pub cas: Vec<Vec<u8>>,
    /// PEM client certificate followed by its key (`NAME.cert` + `NAME.key`), the first pair by
    /// name.
    pub identity: Option<Vec<u8>>,
    /// Names, sizes and modification times of the files: what the cached client was built from.
    stamp: Vec<(String, u64, Option<SystemTime>)>,
}

/// The certs directory of `host` (a reference domain, `host:port`), if any of `roots` has one.
/// Docker allows no path tricks in the name: a domain with `/` or `..` has none.
pub fn host_dir(roots: &[PathBuf], host: &str) -> Option<PathBuf> {
    if host.is_empty() || host.contains('/') || host.contains("..") {
        return None;
    }
    roots.iter().map(|r| r.join(host)).find(|d| d.is_dir())
}

/// Read `dir` as docker does (registry.ReadCertsDirectory): a `.cert` without its `.key`, or a
/// `.key` without its `.cert`, is an error that names both files.
pub fn read_dir(dir: &Path) -> RegResult<HostTls> {
    let read_err = |e: std::io::Error| {
        RegistryError::other(format!("reading certificates in {}: {e}", dir.display()))
    };
    let mut names: Vec<(String, std::fs::Metadata)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        // Follows symlinks, as docker's ioutil.ReadFile does (certs are often links).
        let Ok(meta) = std::fs::metadata(entry.path()) else {
            continue;
        };
        if meta.is_file() {
            names.push((entry.file_name().to_string_lossy().into_owned(), meta));
        }
    }
    names.sort_by(|a, b| a.0.cmp(&b.0));
    let has = |n: &str| names.iter().any(|(m, _)| m == n);
    let mut cas = Vec::new();
    let mut identity = None;
    for (name, _) in &names {
        if name.ends_with(".crt") {
            cas.push(std::fs::read(dir.join(name)).map_err(read_err)?);
        } else if let Some(stem) = name.strip_suffix(".cert") {
            let key = format!("{stem}.key");
            if !has(&key) {
                return Err(RegistryError::other(format!(
                    "missing key {key} for client certificate {name}. CA certificates must use the extension .crt"
                )));
            }
            if identity.is_none() {
                let mut pem = std::fs::read(dir.join(name)).map_err(read_err)?;
                pem.push(b'\n');
                pem.extend(std::fs::read(dir.join(&key)).map_err(read_err)?);
                identity = Some(pem);
            }
        } else if let Some(stem) = name.strip_suffix(".key") {
            let cert = format!("{stem}.cert");
            if !has(&cert) {
                return Err(RegistryError::other(format!(
                    "missing client certificate {cert} for key {name}"
                )));
            }
        }
    }
    let stamp = names
        .iter()
        .map(|(n, m)| (n.clone(), m.len(), m.modified().ok()))
        .collect();
    Ok(HostTls {
        dir: dir.to_owned(),
        cas,
        identity,
        stamp,
    })
}

/// HTTP clients built from certs directories, by (host, skip verification).
#[derive(Default)]
pub struct TlsClients {
    built: Mutex<HashMap<(String, bool), (HostTls, reqwest::Client)>>,
}

impl TlsClients {
    /// The client for `host` trusting `tls`, reusing the one built from the same files.
    pub fn client(
        &self,
        host: &str,
        tls: &HostTls,
        skip_verify: bool,
        build: impl FnOnce(reqwest::ClientBuilder) -> RegResult<reqwest::Client>,
    ) -> RegResult<reqwest::Client> {
        let key = (host.to_string(), skip_verify);
        let mut built = self.built.lock().unwrap();
        if let Some((had, client)) = built.get(&key) {
            if had.stamp == tls.stamp && had.dir == tls.dir {
                return Ok(client.clone());
            }
        }
        let mut builder = reqwest::Client::builder();
        for pem in &tls.cas {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                RegistryError::other(format!(
                    "invalid CA certificate in {}: {e}",
                    tls.dir.display()
                ))
            })?;
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        if let Some(pem) = &tls.identity {
            let id = reqwest::Identity::from_pem(pem).map_err(|e| {
                RegistryError::other(format!(
                    "invalid client certificate in {}: {e}",
                    tls.dir.display()
                ))
            })?;
            builder = builder.identity(id);
        }
        let client = build(builder)?;
        built.insert(key, (tls.clone(), client.clone()));
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_dirs_are_looked_up_in_order_and_never_outside() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir(b.path().join("reg.example:5000")).unwrap();
        let roots = vec![a.path().to_owned(), b.path().to_owned()];
        assert_eq!(
            host_dir(&roots, "reg.example:5000"),
            Some(b.path().join("reg.example:5000"))
        );
        std::fs::create_dir(a.path().join("reg.example:5000")).unwrap();
        assert_eq!(
            host_dir(&roots, "reg.example:5000"),
            Some(a.path().join("reg.example:5000"))
        );
        assert_eq!(host_dir(&roots, "other:5000"), None);
        assert_eq!(host_dir(&roots, ".."), None);
        assert_eq!(host_dir(&roots, "a/../reg.example:5000"), None);
    }

    #[test]
    fn files_are_read_as_docker_reads_them() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("ca.crt"), "CA1").unwrap();
        std::fs::write(d.path().join("other.crt"), "CA2").unwrap();
        std::fs::write(d.path().join("README"), "ignored").unwrap();
        let t = read_dir(d.path()).unwrap();
        assert_eq!(t.cas, vec![b"CA1".to_vec(), b"CA2".to_vec()]);
        assert_eq!(t.identity, None);

        std::fs::write(d.path().join("client.cert"), "CERT").unwrap();
        let e = read_dir(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("missing key client.key for client certificate client.cert"),
            "{e}"
        );
        std::fs::write(d.path().join("client.key"), "KEY").unwrap();
        let t = read_dir(d.path()).unwrap();
        assert_eq!(t.identity.as_deref(), Some(&b"CERT\nKEY"[..]));

        std::fs::write(d.path().join("lone.key"), "KEY").unwrap();
        let e = read_dir(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("missing client certificate lone.cert for key lone.key"),
            "{e}"
        );
    }
}
