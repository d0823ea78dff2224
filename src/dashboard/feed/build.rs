//! A build the dashboard starts (the build form, rebuild), sent as `berth build` sends it: the
//! context directory resolved on this machine (`~` and relative paths, as the import prompt
//! resolves them), walked and tarred by `client::build_context` (`.dockerignore` applied, the
//! tar produced while it is sent), `POST /build` by `client::api::build` with the directory in
//! `X-Berth-Build-Context` (so the record can be rebuilt), the config file's proxies as build
//! args and the stored registry credentials for FROM pulls. The engine's messages go to the
//! task's stream as they come (`Step 3/7 : RUN make`, output, the final tags or error).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use tokio::sync::mpsc::Sender;

use crate::client::api::build::{registry_config, BuildParams};
use crate::client::build_context::{prepare, ContextSpec};
use crate::client::credentials::CredStore;
use crate::client::Client;
use crate::commands::build::flags::add_proxy_args;
use crate::dashboard::msg::{BuildRequest, BuildSpec, Msg, StreamItem};

/// Sends the build and forwards its messages until the engine ends the stream. An error before
/// the build starts (no such directory, no Dockerfile, the engine refusing the parameters) is
/// the task's failure; an error inside the build arrives as an `errorDetail` message like any
/// other, and fails the task there.
pub async fn run(client: &Client, req: &BuildRequest, items: &Sender<Msg>) -> Result<()> {
    let dir = resolve_dir(
        &req.spec.context_dir,
        home().as_deref(),
        &std::env::current_dir()?,
    )?;
    let spec = context_spec(&req.spec, &dir);
    let host = format!("unix://{}", client.socket().display());
    let mut params = params(&req.spec);
    // Walking the directory, reading the config file and asking credential helpers are
    // blocking I/O.
    let (prepared, params, auths) = tokio::task::spawn_blocking(move || {
        let prepared = prepare(&spec, Box::new(std::io::empty()))?;
        // A config that cannot be read costs the build its proxies and the FROM pulls their
        // login, nothing more, as with docker.
        let store = CredStore::from_env().ok();
        if let Some(cfg) = store.as_ref().and_then(|s| s.config().ok()) {
            add_proxy_args(&cfg, &host, &mut params.build_args);
        }
        let auths = store.and_then(|s| s.all().ok()).unwrap_or_default();
        params.dockerfile = Some(prepared.dockerfile.clone()).filter(|d| !d.is_empty());
        params.context_dir = prepared.dir.clone();
        anyhow::Ok((prepared, params, auths))
    })
    .await
    .context("preparing the build context")??;
    let (body, upload) = prepared.into_body();
    let mut messages = match client.build(&params, registry_config(&auths), body).await {
        Ok(m) => m,
        Err(e) => {
            // When producing the context failed, that is why the request did.
            if upload.is_finished() {
                if let Ok(Err(up)) = upload.await {
                    return Err(anyhow!("error sending build context: {up}"));
                }
            } else {
                upload.abort();
            }
            return Err(e);
        }
    };
    match upload.await {
        Ok(Ok(_)) => {}
        // The engine stopped reading: its answer (in the stream) says why.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Ok(Err(e)) => bail!("error sending build context: {e}"),
        Err(e) => bail!("sending build context: {e}"),
    }
    while let Some(v) = messages.next().await? {
        let msg = Msg::Stream {
            key: req.key.clone(),
            item: StreamItem::Json(v),
        };
        if items.send(msg).await.is_err() {
            // The dashboard is gone; the engine sees the connection close.
            return Ok(());
        }
    }
    Ok(())
}

/// What `berth build` gets for the same build: the directory, and the Dockerfile as a path
/// inside it (the form and the record name it relative to the context; the CLI's `-f` is
/// relative to the current directory).
fn context_spec(spec: &BuildSpec, dir: &Path) -> ContextSpec {
    ContextSpec {
        dir: Some(dir.to_path_buf()),
        dockerfile: spec.dockerfile.as_ref().map(|d| dir.join(d)),
        dockerfile_stdin: None,
    }
}

/// The query `berth build -t … --target … --build-arg …` would send (the Dockerfile's name and
/// the directory come from the prepared context).
fn params(spec: &BuildSpec) -> BuildParams {
    BuildParams {
        tags: spec.tags.clone(),
        build_args: spec
            .build_args
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect(),
        target: spec.target.clone(),
        // docker's default: intermediate containers go after a successful build.
        rm: true,
        ..Default::default()
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The context directory as typed, made absolute as the import prompt makes paths
/// (`files::expand`: `~`, relative to where berth started, quotes dropped), symlinks resolved;
/// it must be a directory.
pub fn resolve_dir(typed: &Path, home: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    let absolute = crate::dashboard::files::expand(&typed.to_string_lossy(), home, cwd);
    let dir = std::fs::canonicalize(&absolute)
        .with_context(|| format!("context directory {}", absolute.display()))?;
    if !dir.is_dir() {
        bail!("context directory {}: not a directory", dir.display());
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::msg::StreamKey;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{UnixListener, UnixStream};

    #[test]
    fn context_dirs_resolve_like_the_import_prompts_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("home/src/app")).unwrap();
        std::fs::write(root.join("file"), "").unwrap();
        let home = root.join("home");
        let cwd = root.join("home/src");
        assert_eq!(
            resolve_dir(Path::new("~/src/app"), Some(&home), &cwd).unwrap(),
            root.join("home/src/app")
        );
        assert_eq!(
            resolve_dir(Path::new("~"), Some(&home), &cwd).unwrap(),
            home
        );
        assert_eq!(
            resolve_dir(Path::new("app"), Some(&home), &cwd).unwrap(),
            root.join("home/src/app")
        );
        assert_eq!(
            resolve_dir(Path::new("."), None, &cwd).unwrap(),
            root.join("home/src")
        );
        let e = resolve_dir(Path::new("nope"), None, &cwd).unwrap_err();
        assert!(format!("{e:#}").contains("nope"), "{e:#}");
        let e = resolve_dir(&root.join("file"), None, &cwd).unwrap_err();
        assert!(format!("{e:#}").contains("not a directory"), "{e:#}");
    }

    /// Reads until `buf` holds `n` bytes; false at the end of the connection.
    async fn fill(conn: &mut UnixStream, buf: &mut Vec<u8>, n: usize) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        while buf.len() < n {
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(k) => buf.extend_from_slice(&chunk[..k]),
            }
        }
        true
    }

    /// Reads up to and including the next CRLF; the line without it.
    async fn line(conn: &mut UnixStream, buf: &mut Vec<u8>) -> Option<String> {
        loop {
            if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
                let l = String::from_utf8_lossy(&buf[..i]).into_owned();
                buf.drain(..i + 2);
                return Some(l);
            }
            let want = buf.len() + 1;
            if !fill(conn, buf, want).await {
                return None;
            }
        }
    }

    /// A stand-in for the engine on a unix socket, speaking just enough HTTP/1.1: `/_ping`
    /// answers with an API version, `POST …/build` gets `answer` (NDJSON) once the whole body is
    /// read. Returns the build request's head and body.
    async fn fake_engine(listener: UnixListener, answer: &'static str) -> (String, Vec<u8>) {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            'requests: loop {
                let mut head = String::new();
                loop {
                    match line(&mut conn, &mut buf).await {
                        None => break 'requests,
                        Some(l) if l.is_empty() => break,
                        Some(l) => {
                            head.push_str(&l);
                            head.push('\n');
                        }
                    }
                }
                let lower = head.to_lowercase();
                let mut body = Vec::new();
                if lower.contains("transfer-encoding: chunked") {
                    loop {
                        let size = line(&mut conn, &mut buf).await.unwrap();
                        let size =
                            usize::from_str_radix(size.split(';').next().unwrap().trim(), 16)
                                .unwrap();
                        if size == 0 {
                            while !line(&mut conn, &mut buf).await.unwrap().is_empty() {}
                            break;
                        }
                        assert!(fill(&mut conn, &mut buf, size + 2).await);
                        body.extend_from_slice(&buf[..size]);
                        buf.drain(..size + 2);
                    }
                } else if let Some(n) = lower
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|n| n.trim().parse::<usize>().ok())
                {
                    assert!(fill(&mut conn, &mut buf, n).await);
                    body = buf.drain(..n).collect();
                }
                if head.contains("/_ping") {
                    conn.write_all(
                        b"HTTP/1.1 200 OK\r\nApi-Version: 1.44\r\nContent-Length: 2\r\n\r\nOK",
                    )
                    .await
                    .unwrap();
                } else if head.contains("/build") {
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                    conn.write_all(resp.as_bytes()).await.unwrap();
                    return (head, body);
                } else {
                    conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                        .await
                        .unwrap();
                }
            }
        }
    }

    /// The form's build, sent as `berth build` sends it: the directory tarred with its
    /// `.dockerignore` applied, the Dockerfile by its path in the context, tags, target and
    /// build args in the query, the directory in `X-Berth-Build-Context`; the engine's messages
    /// come back on the task's stream in order.
    #[tokio::test]
    async fn sends_the_context_as_berth_build_does_and_forwards_the_messages() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let ctx = root.join("shop");
        std::fs::create_dir_all(ctx.join("docker")).unwrap();
        std::fs::write(
            ctx.join("docker/Dockerfile.web"),
            "FROM busybox\nCOPY app.txt /\n",
        )
        .unwrap();
        std::fs::write(ctx.join("app.txt"), "hello").unwrap();
        std::fs::write(ctx.join("secret.txt"), "no").unwrap();
        std::fs::write(ctx.join(".dockerignore"), "secret.txt\n").unwrap();
        let sock = root.join("engine.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let answer = concat!(
            "{\"stream\":\"Step 1/2 : FROM busybox\"}\n{\"stream\":\"\\n\"}\n",
            "{\"stream\":\"Step 2/2 : COPY app.txt /\"}\n",
            "{\"aux\":{\"ID\":\"sha256:9f8e7d6c5b4a\"}}\n",
            "{\"stream\":\"Successfully tagged shop/web:dev\\n\"}\n"
        );
        let engine = tokio::spawn(fake_engine(listener, answer));
        let client = Client::connect(&sock).await.unwrap();
        let req = BuildRequest {
            key: StreamKey::Task(7),
            spec: BuildSpec {
                context_dir: ctx.clone(),
                dockerfile: Some("docker/Dockerfile.web".into()),
                tags: vec!["shop/web:dev".into()],
                target: Some("runtime".into()),
                build_args: vec![("VERSION".into(), "1.2".into())],
            },
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        run(&client, &req, &tx).await.unwrap();
        drop(tx);
        let mut got = Vec::new();
        while let Some(m) = rx.recv().await {
            match m {
                Msg::Stream {
                    key: StreamKey::Task(7),
                    item: StreamItem::Json(v),
                } => got.push(v),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got.len(), 5);
        assert_eq!(got[0]["stream"], "Step 1/2 : FROM busybox");
        assert_eq!(got[4]["stream"], "Successfully tagged shop/web:dev\n");

        let (head, body) = engine.await.unwrap();
        let request_line = head.lines().next().unwrap();
        assert!(request_line.starts_with("POST /v"), "{request_line}");
        let query = request_line
            .split_once('?')
            .unwrap()
            .1
            .split(' ')
            .next()
            .unwrap();
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .filter(|(pk, _)| pk == k)
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("t"), ["shop/web:dev"]);
        assert_eq!(get("dockerfile"), ["docker/Dockerfile.web"]);
        assert_eq!(get("target"), ["runtime"]);
        // (Proxies from the user's docker config may join them, as with berth build.)
        let args: serde_json::Value = serde_json::from_str(&get("buildargs")[0]).unwrap();
        assert_eq!(args["VERSION"], "1.2");
        // Intermediate containers go, as docker's default has it.
        assert!(get("rm").is_empty(), "{query}");
        let lower = head.to_lowercase();
        assert!(
            lower.contains(&format!("x-berth-build-context: {}", ctx.display()).to_lowercase()),
            "{head}"
        );
        assert!(lower.contains("content-type: application/x-tar"), "{head}");
        let mut names: Vec<String> = tar::Archive::new(body.as_slice())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        names.sort();
        assert!(names.contains(&"app.txt".to_string()), "{names:?}");
        assert!(
            names.contains(&"docker/Dockerfile.web".to_string()),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.contains("secret")), "{names:?}");
    }
}
