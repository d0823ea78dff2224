//! `POST /build` (docker's "version 1" builder protocol): the query the docker CLI sends
//! (`client/image_build.go`'s `imageBuildOptionsToQuery`), the headers (registry auths for the
//! FROM pulls, and berth's context directory and secrets), and the NDJSON message stream the
//! engine answers with, read one message at a time.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use base64::Engine as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::Method;
use serde_json::Value;

use super::{Endpoint, Query};
use crate::client::credentials::AuthConfig;
use crate::client::{Client, ReqBody};

/// Everything `berth build` asks of the engine besides the context itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildParams {
    /// `-t`, repeatable.
    pub tags: Vec<String>,
    /// The Dockerfile's path inside the context (`dockerfile=`); None = "Dockerfile".
    pub dockerfile: Option<String>,
    /// `--build-arg K=V`; None for a `K` that is not in the environment (docker sends null:
    /// the ARG keeps its Dockerfile default).
    pub build_args: Vec<(String, Option<String>)>,
    pub labels: Vec<(String, String)>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub pull: bool,
    pub quiet: bool,
    /// Remove intermediate containers after a successful build (docker's default).
    pub rm: bool,
    pub force_rm: bool,
    pub network: Option<String>,
    /// `host:ip`, as `--add-host` normalised them.
    pub extra_hosts: Vec<String>,
    pub cache_from: Vec<String>,
    pub memory: Option<i64>,
    pub memory_swap: Option<i64>,
    pub shm_size: Option<i64>,
    pub cpu_shares: Option<i64>,
    pub cpu_period: Option<i64>,
    pub cpu_quota: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub platform: Option<String>,
    /// `--secret`: id and content, sent in `X-Berth-Build-Secrets`.
    pub secrets: Vec<(String, Vec<u8>)>,
    /// The client's context directory, for the engine's build record.
    pub context_dir: Option<PathBuf>,
}

/// JSON object of ordered pairs, later keys winning as in docker's map conversion.
fn json_map<V: serde::Serialize>(pairs: &[(String, V)]) -> String {
    let map: BTreeMap<&str, &V> = pairs.iter().map(|(k, v)| (k.as_str(), v)).collect();
    serde_json::to_string(&map).expect("a map of strings serializes to JSON")
}

/// The call, its query in the order docker's client builds it.
pub fn build(p: &BuildParams) -> Endpoint {
    let mut q = Query::new();
    for t in &p.tags {
        q = q.set("t", t.as_str());
    }
    for h in &p.extra_hosts {
        q = q.set("extrahosts", h.as_str());
    }
    q = q
        .flag("q", p.quiet)
        .flag("nocache", p.no_cache)
        // The engine removes intermediate containers unless told not to, so only the opt-out
        // travels.
        .opt("rm", (!p.rm).then_some("0"))
        .flag("forcerm", p.force_rm)
        .flag("pull", p.pull)
        .opt("cpusetcpus", p.cpuset_cpus.as_deref())
        .opt(
            "networkmode",
            p.network.as_deref().filter(|n| *n != "default"),
        )
        .opt("cpusetmems", p.cpuset_mems.as_deref())
        .opt("cpushares", nonzero(p.cpu_shares))
        .opt("cpuquota", nonzero(p.cpu_quota))
        .opt("cpuperiod", nonzero(p.cpu_period))
        .opt("memory", nonzero(p.memory))
        .opt("memswap", nonzero(p.memory_swap))
        .opt("shmsize", nonzero(p.shm_size))
        .opt(
            "dockerfile",
            p.dockerfile.as_deref().filter(|d| !d.is_empty()),
        )
        .opt("target", p.target.as_deref().filter(|t| !t.is_empty()));
    if !p.build_args.is_empty() {
        q = q.set("buildargs", json_map(&p.build_args));
    }
    if !p.labels.is_empty() {
        q = q.set("labels", json_map(&p.labels));
    }
    if !p.cache_from.is_empty() {
        q = q.set(
            "cachefrom",
            serde_json::to_string(&p.cache_from).expect("strings serialize to JSON"),
        );
    }
    q = q
        .opt(
            "platform",
            p.platform
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(str::to_lowercase),
        )
        .set("version", "1");
    Endpoint::post(format!("/build{}", q.encode()))
}

fn nonzero(v: Option<i64>) -> Option<String> {
    v.filter(|v| *v != 0).map(|v| v.to_string())
}

/// `X-Registry-Config`: base64url of the JSON map registry → credentials (docker's
/// `AuthConfigs`); None when the user has none stored.
pub fn registry_config(auths: &BTreeMap<String, AuthConfig>) -> Option<String> {
    if auths.is_empty() {
        return None;
    }
    let json = serde_json::to_vec(auths).expect("auth configs serialize to JSON");
    Some(base64::engine::general_purpose::URL_SAFE.encode(json))
}

/// `X-Berth-Build-Secrets`: base64 of the JSON `{"<id>": "<base64 content>"}`.
pub fn secrets_header(secrets: &[(String, Vec<u8>)]) -> Option<String> {
    if secrets.is_empty() {
        return None;
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let map: BTreeMap<&str, String> = secrets
        .iter()
        .map(|(id, data)| (id.as_str(), b64.encode(data)))
        .collect();
    let json = serde_json::to_vec(&map).expect("a map of strings serializes to JSON");
    Some(b64.encode(json))
}

/// The headers of the call, besides the body's content type.
pub fn headers(p: &BuildParams, registry_config: Option<String>) -> Vec<(&'static str, String)> {
    let mut h = vec![("content-type", "application/x-tar".to_string())];
    if let Some(rc) = registry_config {
        h.push(("X-Registry-Config", rc));
    }
    // The engine only keeps the directory for display: a name with control characters (which
    // no header can carry) is left out rather than mangled.
    if let Some(dir) = p.context_dir.as_ref().map(|d| d.display().to_string()) {
        if !dir.chars().any(char::is_control) {
            h.push(("X-Berth-Build-Context", dir));
        }
    }
    if let Some(s) = secrets_header(&p.secrets) {
        h.push(("X-Berth-Build-Secrets", s));
    }
    h
}

impl Client {
    /// Send `POST /build` with `body` (the context tar, streamed) and return the engine's
    /// message stream. A refusal before the build starts (bad parameters, no such network)
    /// comes back as the usual [`crate::client::DaemonError`].
    pub async fn build(
        &self,
        p: &BuildParams,
        registry_config: Option<String>,
        body: ReqBody,
    ) -> Result<MessageStream> {
        let e = build(p);
        let hs = headers(p, registry_config);
        let hs: Vec<(&str, &str)> = hs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = self.request(Method::POST, &e.path, body, &hs).await?;
        Ok(MessageStream::new(resp.into_body()))
    }
}

/// A newline-delimited JSON message stream, read one message at a time. `next` is
/// cancel-safe (a `select!` with a redraw timer may drop it between frames without losing data).
pub struct MessageStream {
    body: Incoming,
    buf: Vec<u8>,
    done: bool,
}

impl MessageStream {
    pub fn new(body: Incoming) -> MessageStream {
        MessageStream {
            body,
            buf: Vec::new(),
            done: false,
        }
    }

    /// The next message, None at the end of the stream.
    pub async fn next(&mut self) -> Result<Option<Value>> {
        loop {
            if let Some(v) = take_message(&mut self.buf, self.done)? {
                return Ok(Some(v));
            }
            if self.done {
                return Ok(None);
            }
            match self.body.frame().await {
                Some(frame) => {
                    let frame = frame.context("reading the build output")?;
                    if let Some(data) = frame.data_ref() {
                        self.buf.extend_from_slice(data);
                    }
                }
                None => self.done = true,
            }
        }
    }
}

/// Split the first complete message off `buf` (at the end of the stream, whatever is left).
/// Blank lines are skipped.
fn take_message(buf: &mut Vec<u8>, at_end: bool) -> Result<Option<Value>> {
    loop {
        let line: Vec<u8> = match buf.iter().position(|b| *b == b'\n') {
            Some(pos) => buf.drain(..=pos).collect(),
            None if at_end && !buf.is_empty() => std::mem::take(buf),
            None => return Ok(None),
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let v = serde_json::from_slice(&line).with_context(|| {
            format!(
                "decoding the engine's build output: {}",
                String::from_utf8_lossy(&line).trim()
            )
        })?;
        return Ok(Some(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_as_the_docker_cli_sends_it() {
        let p = BuildParams {
            tags: vec!["a:1".into(), "b".into()],
            dockerfile: Some("sub/Dockerfile".into()),
            build_args: vec![("X".into(), Some("1 2".into())), ("Y".into(), None)],
            labels: vec![("l".into(), "v".into())],
            target: Some("final".into()),
            no_cache: true,
            pull: true,
            quiet: true,
            rm: false,
            force_rm: true,
            network: Some("host".into()),
            extra_hosts: vec!["h:1.2.3.4".into()],
            cache_from: vec!["img:cache".into()],
            memory: Some(1 << 20),
            shm_size: Some(2 << 20),
            platform: Some("Linux/AMD64".into()),
            ..Default::default()
        };
        let path = build(&p).path;
        let (base, query) = path.split_once('?').unwrap();
        assert_eq!(base, "/build");
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| -> Vec<&str> {
            pairs
                .iter()
                .filter(|(pk, _)| pk == k)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        assert_eq!(get("t"), ["a:1", "b"]);
        assert_eq!(get("dockerfile"), ["sub/Dockerfile"]);
        assert_eq!(get("buildargs"), [r#"{"X":"1 2","Y":null}"#]);
        assert_eq!(get("labels"), [r#"{"l":"v"}"#]);
        assert_eq!(get("cachefrom"), [r#"["img:cache"]"#]);
        assert_eq!(get("extrahosts"), ["h:1.2.3.4"]);
        for (k, v) in [
            ("q", "1"),
            ("nocache", "1"),
            ("pull", "1"),
            ("rm", "0"),
            ("forcerm", "1"),
            ("networkmode", "host"),
            ("memory", "1048576"),
            ("shmsize", "2097152"),
            ("target", "final"),
            ("platform", "linux/amd64"),
            ("version", "1"),
        ] {
            assert_eq!(get(k), [v], "{k}");
        }

        // The defaults send nothing but the protocol version.
        let plain = BuildParams {
            rm: true,
            network: Some("default".into()),
            memory: Some(0),
            ..Default::default()
        };
        assert_eq!(build(&plain).path, "/build?version=1");
    }

    #[test]
    fn headers_carry_auths_context_and_secrets() {
        let p = BuildParams {
            secrets: vec![("tok".into(), b"s3cret".to_vec())],
            context_dir: Some("/home/me/app dir".into()),
            ..Default::default()
        };
        let mut auths = BTreeMap::new();
        auths.insert(
            "reg:5000".to_string(),
            AuthConfig {
                username: "u".into(),
                password: "p".into(),
                serveraddress: "reg:5000".into(),
                ..Default::default()
            },
        );
        let h = headers(&p, registry_config(&auths));
        let get = |k: &str| h.iter().find(|(hk, _)| *hk == k).map(|(_, v)| v.clone());
        assert_eq!(get("content-type").unwrap(), "application/x-tar");
        let b64 = base64::engine::general_purpose::STANDARD;
        let rc = base64::engine::general_purpose::URL_SAFE
            .decode(get("X-Registry-Config").unwrap())
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&rc).unwrap(),
            serde_json::json!({"reg:5000": {"username":"u","password":"p","serveraddress":"reg:5000"}})
        );
        assert_eq!(get("X-Berth-Build-Context").unwrap(), "/home/me/app dir");
        let secrets: Value =
            serde_json::from_slice(&b64.decode(get("X-Berth-Build-Secrets").unwrap()).unwrap())
                .unwrap();
        assert_eq!(
            b64.decode(secrets["tok"].as_str().unwrap()).unwrap(),
            b"s3cret"
        );
        assert!(registry_config(&BTreeMap::new()).is_none());
        assert_eq!(headers(&BuildParams::default(), None).len(), 1);
    }

    #[test]
    fn messages_split_on_newlines_across_frames() {
        let mut buf = br#"{"stream":"Step 1/2 : FROM x"}"#.to_vec();
        assert!(take_message(&mut buf, false).unwrap().is_none());
        buf.extend_from_slice(b"\n\n{\"stream\":\"\\n\"}\n{\"aux\":");
        assert_eq!(
            take_message(&mut buf, false).unwrap().unwrap()["stream"],
            "Step 1/2 : FROM x"
        );
        assert_eq!(
            take_message(&mut buf, false).unwrap().unwrap()["stream"],
            "\n"
        );
        assert!(take_message(&mut buf, false).unwrap().is_none());
        buf.extend_from_slice(br#"{"ID":"sha256:1"}}"#);
        assert_eq!(
            take_message(&mut buf, true).unwrap().unwrap()["aux"]["ID"],
            "sha256:1"
        );
        assert!(take_message(&mut buf, true).unwrap().is_none());
        let mut bad = b"not json\n".to_vec();
        assert!(take_message(&mut bad, false).is_err());
    }
}
