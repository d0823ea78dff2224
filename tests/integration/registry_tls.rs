//! Registries over TLS, trusted the way docker trusts them: a test CA and server certificate made
//! with openssl, Debian's docker-registry serving HTTPS on this machine's own address (loopback
//! would be an insecure registry, verified by nobody), and the CA placed in
//! `<certs dir>/<host:port>/ca.crt` (berth's `--certs-dir`, and docker's /etc/docker/certs.d).
//! Pull, push and login work; no CA, a wrong CA and a missing client certificate are refused.
//! Also: blobs redirected to another host (a CDN, in real life) never get the credentials.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::registry::{host_arch, registry_auth, Auth, OciImage, Registry, RegistryTls};
use common::registry::{PASSWORD, USER};
use common::tls::TestCa;
use common::{http, image, TestEngine};

fn busybox_image() -> OciImage {
    OciImage::new(host_arch()).raw_layer(
        image::busybox_rootfs_tar(),
        common::registry::Compression::Gzip,
    )
}

fn push(reg: &Registry, repo_tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    let tag = repo_tag.rsplit_once(':').unwrap().1;
    busybox_image().write_layout(dir.path(), tag);
    reg.push_layout(dir.path(), repo_tag);
}

fn pull(e: &TestEngine, image: &str, auth: Option<&str>) -> http::Response {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("X-Registry-Auth", a)).into_iter().collect();
    let (name, tag) = image.rsplit_once(':').unwrap();
    http::request_with_headers(
        &e.socket,
        "POST",
        &format!("/images/create?fromImage={name}&tag={tag}"),
        &headers,
        None,
    )
    .unwrap()
}

fn pulled(r: &http::Response) -> bool {
    r.status == 200 && r.text().contains("Downloaded newer image")
}

/// A certs directory trusting `files` (name → source file) for `addr`.
fn certs_dir(addr: &str, files: &[(&str, &Path)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let host = d.path().join(addr);
    std::fs::create_dir_all(&host).unwrap();
    for (name, src) in files {
        std::fs::copy(src, host.join(name)).unwrap();
    }
    d
}

fn engine_trusting(dir: &Path) -> TestEngine {
    TestEngine::start_with_args(&["--certs-dir", dir.to_str().unwrap()])
}

struct TlsRegistry {
    ca: TestCa,
    reg: Registry,
}

fn tls_registry(auth: Auth, client_certs: bool) -> TlsRegistry {
    let ip = common::host_ipv4().expect("a non-loopback IPv4 address");
    tls_registry_at(&ip, auth, client_certs)
}

fn tls_registry_at(ip: &str, auth: Auth, client_certs: bool) -> TlsRegistry {
    let ca = TestCa::new("berth test CA");
    let (cert, key) = ca.server_cert(ip);
    let client = ca.client_cert();
    let ca_cert = ca.cert();
    let reg = Registry::start_tls(
        auth,
        ip,
        RegistryTls {
            cert: &cert,
            key: &key,
            client: client_certs
                .then_some((ca_cert.as_path(), (client.0.as_path(), client.1.as_path()))),
        },
    );
    TlsRegistry { ca, reg }
}

#[test]
fn pull_push_and_login_over_tls_with_the_ca_in_berths_certs_dir() {
    let t = tls_registry(Auth::Basic, false);
    let addr = t.reg.addr.clone();
    push(&t.reg, "secure:v1");
    let creds = registry_auth(&addr, USER, PASSWORD);
    let image = format!("{addr}/secure:v1");

    let trusted = certs_dir(&addr, &[("ca.crt", &t.ca.cert())]);
    let e = engine_trusting(trusted.path());
    let r = pull(&e, &image, Some(&creds));
    assert!(pulled(&r), "{}\n{}", r.text(), e.log());
    let o = e.docker(&["run", "--rm", &image, "echo", "over tls"]);
    assert_eq!(common::ok(&o), "over tls\n");

    // Login is checked over the same trust.
    let body = |p: &str| {
        serde_json::json!({"username": USER, "password": p, "serveraddress": addr}).to_string()
    };
    let r = e.api("POST", "/auth", Some(&body(PASSWORD)));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = e.api("POST", "/auth", Some(&body("wrong")));
    assert_eq!(r.status, 401, "{}", r.text());

    // Push: the stock docker CLI, credentials from its config; the registry has it afterwards.
    let cfg = e.dir.path().join("docker-cfg");
    std::fs::create_dir_all(&cfg).unwrap();
    let auth = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    };
    std::fs::write(
        cfg.join("config.json"),
        serde_json::json!({"auths": {addr.clone(): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let pushed = format!("{addr}/pushed:v2");
    common::ok(&e.docker(&["tag", &image, &pushed]));
    let o = e
        .docker_command(&["push", &pushed])
        .env("DOCKER_CONFIG", &cfg)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        common::stdout(&o),
        common::stderr(&o)
    );
    let o = t.reg.skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("--creds={USER}:{PASSWORD}"),
        &format!("docker://{pushed}"),
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
}

#[test]
fn no_ca_or_a_wrong_ca_is_refused() {
    let t = tls_registry(Auth::None, false);
    let addr = t.reg.addr.clone();
    push(&t.reg, "secure:v1");
    let image = format!("{addr}/secure:v1");

    // Positive first: the right CA works, so the refusals below are about trust alone.
    let right = certs_dir(&addr, &[("ca.crt", &t.ca.cert())]);
    let e = engine_trusting(right.path());
    assert!(pulled(&pull(&e, &image, None)), "{}", e.log());
    drop(e);

    let empty = tempfile::tempdir().unwrap();
    let other = TestCa::new("some other CA");
    let wrong = certs_dir(&addr, &[("ca.crt", &other.cert())]);
    for dir in [empty.path(), wrong.path()] {
        let e = engine_trusting(dir);
        let r = pull(&e, &image, None);
        assert!(!pulled(&r), "{}", r.text());
        let text = r.text();
        // Says why, and where the CA goes.
        assert!(text.contains("TLS handshake failed"), "{text}");
        assert!(
            text.contains(&format!("{}/{addr}/ca.crt", dir.display())),
            "{text}"
        );
        assert!(e.docker(&["image", "inspect", &image]).status.code() != Some(0));
    }
}

/// Loopback registries are insecure registries to docker: HTTPS is tried without verification
/// after plain HTTP, so a TLS registry on 127.0.0.1 works with no CA anywhere.
#[test]
fn a_tls_registry_on_loopback_needs_no_ca() {
    let t = tls_registry_at("127.0.0.1", Auth::Basic, false);
    push(&t.reg, "local:v1");
    let empty = tempfile::tempdir().unwrap();
    let e = engine_trusting(empty.path());
    let image = format!("{}/local:v1", t.reg.addr);
    // Without credentials the registry's own refusal is what is reported.
    let r = pull(&e, &image, None);
    assert_eq!(r.status, 404, "{}", r.text());
    let creds = registry_auth(&t.reg.addr, USER, PASSWORD);
    let r = pull(&e, &image, Some(&creds));
    assert!(pulled(&r), "{}\n{}", r.text(), e.log());
}

/// Removes a directory made under /etc/docker/certs.d when the test ends.
struct Cleanup(PathBuf);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn dockers_certs_d_is_trusted_too() {
    let t = tls_registry(Auth::None, false);
    let addr = t.reg.addr.clone();
    push(&t.reg, "secure:v1");
    // The port is this test's own, so no other registry's trust is touched.
    let dir = Path::new("/etc/docker/certs.d").join(&addr);
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = Cleanup(dir.clone());
    std::fs::copy(t.ca.cert(), dir.join("ca.crt")).unwrap();

    let own_empty = tempfile::tempdir().unwrap();
    let e = engine_trusting(own_empty.path());
    let r = pull(&e, &format!("{addr}/secure:v1"), None);
    assert!(pulled(&r), "{}\n{}", r.text(), e.log());
}

#[test]
fn a_registry_asking_for_a_client_certificate_gets_the_one_in_the_certs_dir() {
    let t = tls_registry(Auth::None, true);
    let addr = t.reg.addr.clone();
    push(&t.reg, "mtls:v1");
    let image = format!("{addr}/mtls:v1");
    let (cert, key) = (
        t.ca.dir.path().join("client.crt"),
        t.ca.dir.path().join("client.key"),
    );

    let with_client = certs_dir(
        &addr,
        &[
            ("ca.crt", &t.ca.cert()),
            ("client.cert", &cert),
            ("client.key", &key),
        ],
    );
    let e = engine_trusting(with_client.path());
    let r = pull(&e, &image, None);
    assert!(pulled(&r), "{}\n{}", r.text(), e.log());
    drop(e);

    // The CA alone is not enough: the registry refuses the handshake.
    let ca_only = certs_dir(&addr, &[("ca.crt", &t.ca.cert())]);
    let e = engine_trusting(ca_only.path());
    assert!(!pulled(&pull(&e, &image, None)));
    drop(e);

    // A certificate without its key is docker's error, naming both files.
    let half = certs_dir(&addr, &[("ca.crt", &t.ca.cert()), ("client.cert", &cert)]);
    let e = engine_trusting(half.path());
    let text = pull(&e, &image, None).text();
    assert!(
        text.contains("missing key client.key for client certificate client.cert"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Redirects

/// What the blob host was asked: each request's header lines.
type Seen = Arc<Mutex<Vec<Vec<String>>>>;

fn read_head(stream: &mut BufReader<TcpStream>) -> Option<(String, Vec<String>)> {
    let mut first = String::new();
    if stream.read_line(&mut first).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        stream.read_line(&mut l).ok()?;
        let l = l.trim_end().to_string();
        if l.is_empty() {
            break;
        }
        headers.push(l);
    }
    Some((first.trim_end().to_string(), headers))
}

/// A registry front on 127.0.0.1 that passes everything to `upstream` but answers blob GETs
/// with a 307 to `blob_host` (another host name: `localhost`), as registries backed by object
/// storage do.
fn redirecting_front(upstream: String, blob_host: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let auth_seen = Arc::new(Mutex::new(Vec::new()));
    let seen = auth_seen.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { break };
            let (upstream, blob_host, seen) = (upstream.clone(), blob_host.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let Some((line, headers)) = read_head(&mut r) else {
                    return;
                };
                let mut out = conn;
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                if let Some(a) = headers
                    .iter()
                    .find(|h| h.to_ascii_lowercase().starts_with("authorization:"))
                {
                    seen.lock().unwrap().push(format!("{path} {a}"));
                }
                if line.starts_with("GET ") && path.contains("/blobs/sha256:") {
                    let digest = path.rsplit('/').next().unwrap();
                    let _ = write!(
                        out,
                        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{blob_host}/blob/{digest}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    return;
                }
                // Pass the request on as is (pulls send no bodies), one connection per request.
                let mut up = TcpStream::connect(&upstream).unwrap();
                let mut req = format!("{line}\r\n");
                for h in headers
                    .iter()
                    .filter(|h| !h.to_ascii_lowercase().starts_with("connection:"))
                {
                    req += &format!("{h}\r\n");
                }
                req += "Connection: close\r\n\r\n";
                up.write_all(req.as_bytes()).unwrap();
                let mut resp = Vec::new();
                let _ = up.read_to_end(&mut resp);
                let _ = out.write_all(&resp);
            });
        }
    });
    (addr, auth_seen)
}

/// The blob host: serves blobs out of the registry's storage and records what it was sent.
fn blob_host(storage: impl Fn(&str) -> PathBuf + Send + 'static) -> (u16, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { break };
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let Some((line, headers)) = read_head(&mut r) else {
                continue;
            };
            s.lock().unwrap().push(headers);
            let digest = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            let mut out = conn;
            match std::fs::read(storage(&digest)) {
                Ok(data) => {
                    let _ = write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n", data.len());
                    let _ = out.write_all(&data);
                }
                Err(_) => {
                    let _ = write!(
                        out,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    (port, seen)
}

#[test]
fn blobs_redirected_to_another_host_get_no_credentials() {
    let reg = Arc::new(Registry::start_with(Auth::Basic));
    push(&reg, "private:v1");
    let r2 = reg.clone();
    let (blob_port, blob_seen) = blob_host(move |d| r2.blob_data_path(d));
    let (front, front_auth) = redirecting_front(reg.addr.clone(), format!("localhost:{blob_port}"));

    let e = TestEngine::start();
    let creds = registry_auth(&front, USER, PASSWORD);
    let r = pull(&e, &format!("{front}/private:v1"), Some(&creds));
    assert!(pulled(&r), "{}\n{}", r.text(), e.log());

    // The registry itself got the credentials (so there were some to leak)...
    assert!(
        front_auth
            .lock()
            .unwrap()
            .iter()
            .any(|a| a.contains("/manifests/")),
        "{:?}",
        front_auth.lock().unwrap()
    );
    // ...and every blob came from the other host, which never saw them.
    let seen = blob_seen.lock().unwrap();
    assert!(
        seen.len() >= 2,
        "config and layer fetched from the blob host: {seen:?}"
    );
    for headers in seen.iter() {
        assert!(
            !headers
                .iter()
                .any(|h| h.to_ascii_lowercase().starts_with("authorization:")),
            "credentials leaked to the blob host: {headers:?}"
        );
    }
}
