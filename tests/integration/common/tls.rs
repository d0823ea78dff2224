//! Test certificates made with the openssl CLI: a certificate authority, a server certificate it
//! signs for an IP address (so no name resolution is needed), and a client certificate.
//!
//! Requires: apt-get install openssl.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA and what it signed, as PEM files in `dir`.
pub struct TestCa {
    pub dir: tempfile::TempDir,
    pub name: String,
}

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (apt-get install openssl)");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

impl TestCa {
    /// A new self-signed CA called `name`.
    pub fn new(name: &str) -> TestCa {
        let dir = tempfile::Builder::new()
            .prefix("berth-ca-")
            .tempdir()
            .unwrap();
        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN={name}"),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ],
        );
        TestCa {
            dir,
            name: name.into(),
        }
    }

    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// Sign a certificate `<stem>.crt` with key `<stem>.key` for `cn`, with the given extensions
    /// (e.g. `subjectAltName=IP:10.0.0.1` and `extendedKeyUsage=serverAuth`).
    fn sign(&self, stem: &str, cn: &str, extensions: &[&str]) -> (PathBuf, PathBuf) {
        let d = self.dir.path();
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                &format!("/CN={cn}"),
                "-keyout",
                &format!("{stem}.key"),
                "-out",
                &format!("{stem}.csr"),
            ],
        );
        std::fs::write(d.join(format!("{stem}.ext")), extensions.join("\n") + "\n").unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{stem}.csr"),
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &format!("{stem}.ext"),
                "-out",
                &format!("{stem}.crt"),
            ],
        );
        (d.join(format!("{stem}.crt")), d.join(format!("{stem}.key")))
    }

    /// A server certificate for `ip`: (certificate, key).
    pub fn server_cert(&self, ip: &str) -> (PathBuf, PathBuf) {
        self.sign(
            "server",
            ip,
            &[
                &format!("subjectAltName=IP:{ip}"),
                "extendedKeyUsage=serverAuth",
            ],
        )
    }

    /// A client certificate: (certificate, key).
    pub fn client_cert(&self) -> (PathBuf, PathBuf) {
        self.sign(
            "client",
            "berth-test-client",
            &["extendedKeyUsage=clientAuth"],
        )
    }
}
