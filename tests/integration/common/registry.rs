//! Test registries: Debian's docker-registry on 127.0.0.1:<free port> with temp storage, plain,
//! with htpasswd basic auth, or with token auth served by a small token endpoint written here
//! (JWTs signed RS256 with a key and self-signed certificate made by the openssl CLI). Images
//! go in with skopeo from OCI layouts built by [`OciImage`].
//!
//! Requires: apt-get install docker-registry skopeo apache2-utils openssl.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::free_port;
pub use super::oci_layout::{
    host_arch, write_multiarch_layout, Compression, Layer, OciImage, Written,
};

/// Credentials a protected test registry accepts.
pub const USER: &str = "tester";
pub const PASSWORD: &str = "s3cret-pass";

pub enum Auth {
    None,
    Basic,
    Token,
}

pub struct Registry {
    /// "127.0.0.1:PORT"
    pub addr: String,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    token: Option<TokenServer>,
    /// For a registry that asks for client certificates: a directory with `client.cert` and
    /// `client.key` that skopeo presents.
    client_certs: Option<PathBuf>,
}

/// The TLS side of a test registry.
pub struct RegistryTls<'a> {
    /// Server certificate and key (PEM).
    pub cert: &'a Path,
    pub key: &'a Path,
    /// CA that client certificates must chain to, and a client certificate (certificate, key)
    /// skopeo uses to seed the registry; None: no client certificate asked for.
    pub client: Option<(&'a Path, (&'a Path, &'a Path))>,
}

impl Registry {
    pub fn start() -> Registry {
        Self::start_with(Auth::None)
    }

    pub fn start_with(auth: Auth) -> Registry {
        Self::start_at(auth, "127.0.0.1")
    }

    /// Listen on `host` (e.g. a non-loopback address of this machine, for insecure-registry
    /// tests) instead of 127.0.0.1.
    pub fn start_at(auth: Auth, host: &str) -> Registry {
        Self::start_full(auth, host, None)
    }

    /// Serve HTTPS on `host` with `tls`.
    pub fn start_tls(auth: Auth, host: &str, tls: RegistryTls) -> Registry {
        Self::start_full(auth, host, Some(tls))
    }

    fn start_full(auth: Auth, host: &str, tls: Option<RegistryTls>) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("berth-registry-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let addr = format!("{host}:{port}");
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        let mut token = None;
        let auth_yaml = match auth {
            Auth::None => String::new(),
            Auth::Basic => {
                let file = dir.path().join("htpasswd");
                let o = Command::new("htpasswd")
                    .args(["-Bbc"])
                    .arg(&file)
                    .args([USER, PASSWORD])
                    .output()
                    .expect("htpasswd (apache2-utils)");
                assert!(o.status.success(), "htpasswd: {o:?}");
                format!(
                    "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                    file.display()
                )
            }
            Auth::Token => {
                let t = TokenServer::start(dir.path());
                let y = format!(
                    "auth:\n  token:\n    realm: http://{}/token\n    service: berth-test-registry\n    issuer: berth-test-issuer\n    rootcertbundle: {}\n",
                    t.addr,
                    t.cert.display()
                );
                token = Some(t);
                y
            }
        };
        let mut client_certs = None;
        let tls_yaml = match &tls {
            None => String::new(),
            Some(t) => {
                let mut y = format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    t.cert.display(),
                    t.key.display()
                );
                if let Some((ca, (cert, key))) = t.client {
                    y += &format!("    clientcas:\n      - {}\n", ca.display());
                    let d = dir.path().join("skopeo-certs");
                    std::fs::create_dir_all(&d).unwrap();
                    std::fs::copy(cert, d.join("client.cert")).unwrap();
                    std::fs::copy(key, d.join("client.key")).unwrap();
                    client_certs = Some(d);
                }
                y
            }
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n{tls_yaml}{auth_yaml}",
            storage.display()
        );
        let cfg_path = dir.path().join("config.yml");
        std::fs::write(&cfg_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry (apt-get install docker-registry)");
        let r = Registry {
            addr,
            dir,
            child: Some(child),
            token,
            client_certs,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if TcpStream::connect(&r.addr).is_ok() {
                return r;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        panic!("docker-registry did not listen; log:\n{}", r.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Run skopeo (e.g. to inspect or copy what was pushed here).
    pub fn skopeo(&self, args: &[&str]) -> std::process::Output {
        Command::new("skopeo")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("skopeo")
    }

    /// Token requests the token server answered: (had valid credentials, scope).
    pub fn token_requests(&self) -> Vec<(bool, String)> {
        self.token
            .as_ref()
            .map(|t| t.requests.lock().unwrap().clone())
            .unwrap_or_default()
    }

    /// Copy an OCI layout into the registry as `repo:tag` with skopeo (all platforms of an
    /// index, digests preserved).
    pub fn push_layout(&self, layout: &Path, repo_tag: &str) {
        let mut cmd = Command::new("skopeo");
        cmd.args([
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
        ]);
        if self.token.is_some() || self.dir.path().join("htpasswd").exists() {
            cmd.arg(format!("--dest-creds={USER}:{PASSWORD}"));
        }
        if let Some(d) = &self.client_certs {
            cmd.arg(format!("--dest-cert-dir={}", d.display()));
        }
        let o = cmd
            .arg(format!("oci:{}", layout.display()))
            .arg(format!("docker://{}/{repo_tag}", self.addr))
            .output()
            .expect("skopeo (apt-get install skopeo)");
        assert!(
            o.status.success(),
            "skopeo copy: {}\n{}\nregistry log:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            self.log()
        );
    }

    /// Path of a blob's data file in the registry's storage (to corrupt it in tests).
    pub fn blob_data_path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir.path().join(format!(
            "storage/docker/registry/v2/blobs/sha256/{}/{hex}/data",
            &hex[..2]
        ))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(t) = &self.token {
            t.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect(&t.addr);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Token server

struct TokenServer {
    addr: String,
    cert: PathBuf,
    stop: Arc<AtomicBool>,
    requests: Arc<std::sync::Mutex<Vec<(bool, String)>>>,
}

fn b64url(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

impl TokenServer {
    fn start(dir: &Path) -> TokenServer {
        let key = dir.join("token.key");
        let cert = dir.join("token.crt");
        let o = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args(["-subj", "/CN=berth-test-token"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl");
        assert!(o.status.success(), "openssl req: {o:?}");
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .unwrap()
            .stdout;
        let x5c = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(der)
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (s2, r2, key2) = (stop.clone(), requests.clone(), key.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let _ = serve_token(conn, &key2, &x5c, &r2);
            }
        });
        TokenServer {
            addr,
            cert,
            stop,
            requests,
        }
    }
}

fn serve_token(
    mut conn: TcpStream,
    key: &Path,
    x5c: &str,
    log: &std::sync::Mutex<Vec<(bool, String)>>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut authorization = None;
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                authorization = Some(v.trim().to_string());
            }
            if k.eq_ignore_ascii_case("content-length") {
                content_length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let scopes: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .collect();
    let expected = {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        )
    };
    let authed = authorization.as_deref() == Some(expected.as_str());
    log.lock().unwrap().push((authed, scopes.join(" ")));
    if authorization.is_some() && !authed {
        let msg = r#"{"details":"incorrect username or password"}"#;
        write!(
            conn,
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
            msg.len()
        )?;
        return Ok(());
    }
    // Anonymous users get nothing granted (the registry then answers 401/denied); the test
    // user gets what it asks for.
    let access: Vec<serde_json::Value> = if authed {
        scopes
            .iter()
            .filter_map(|s| {
                let mut p = s.splitn(3, ':');
                let (t, n, a) = (p.next()?, p.next()?, p.next()?);
                Some(serde_json::json!({"type": t, "name": n, "actions": a.split(',').collect::<Vec<_>>()}))
            })
            .collect()
    } else {
        Vec::new()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": "berth-test-issuer",
        "sub": if authed { USER } else { "" },
        "aud": "berth-test-registry",
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("{now}-{}", rand_id()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut sign = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    sign.stdin
        .take()
        .unwrap()
        .write_all(signing_input.as_bytes())?;
    let sig = sign.wait_with_output()?.stdout;
    let token = format!("{signing_input}.{}", b64url(&sig));
    let body = serde_json::json!({"token": token, "expires_in": 300}).to_string();
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    Ok(())
}

fn rand_id() -> u64 {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst) ^ (std::process::id() as u64) << 32
}

/// `X-Registry-Auth` value for the test user on `addr`.
pub fn registry_auth(addr: &str, user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE.encode(
        serde_json::json!({"username": user, "password": password, "serveraddress": addr})
            .to_string(),
    )
}
