//! Registry credentials the way the docker CLI keeps them: `$DOCKER_CONFIG/config.json` (default
//! `~/.docker/config.json`) with `auths` entries (`auth` = base64 "user:pass", `identitytoken`),
//! and credential helpers (`credsStore` for every registry, `credHelpers` per registry) run as
//! `docker-credential-<name> get|store|erase` with JSON on stdin/stdout.
//!
//! The file is rewritten atomically (temp file + rename) with mode 0600, keeping every field we do
//! not manage (proxies, aliases, …) as it was. Credentials travel to the engine in the
//! `X-Registry-Auth` header: base64url of the JSON AuthConfig.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Docker Hub's key in `auths` (and what helpers are asked for it).
pub const INDEX_SERVER: &str = "https://index.docker.io/v1/";

/// What a helper answers when it has nothing for a server (docker-credential-helpers'
/// `credentials.NewErrCredentialsNotFound`).
const HELPER_NOT_FOUND: &str = "credentials not found in native keychain";

/// Docker's AuthConfig, as sent in `X-Registry-Auth` and to `POST /auth`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub serveraddress: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identitytoken: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registrytoken: String,
}

impl AuthConfig {
    fn is_empty(&self) -> bool {
        self.username.is_empty()
            && self.password.is_empty()
            && self.identitytoken.is_empty()
            && self.registrytoken.is_empty()
    }
}

/// docker's `credentials.ConvertToHostname`: drop the scheme and any path.
pub fn convert_to_hostname(server: &str) -> &str {
    let s = server
        .strip_prefix("http://")
        .or_else(|| server.strip_prefix("https://"))
        .unwrap_or(server);
    s.split('/').next().unwrap_or(s)
}

/// The key `login`/`logout SERVER` use: Docker Hub (no server, "docker.io", its index and
/// registry hosts) is `INDEX_SERVER`; anything else is its bare hostname[:port].
pub fn server_key(server: Option<&str>) -> String {
    let Some(s) = server.map(str::trim).filter(|s| !s.is_empty()) else {
        return INDEX_SERVER.to_string();
    };
    let host = convert_to_hostname(s);
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => INDEX_SERVER.to_string(),
        _ => host.to_string(),
    }
}

/// The key credentials for pulling or pushing `image` are stored under.
pub fn key_for_image(image: &str) -> Result<String> {
    let r = berth_engine::image::reference::Reference::parse(image).map_err(|e| anyhow!("{e}"))?;
    Ok(server_key(Some(&r.domain)))
}

/// `X-Registry-Auth` value: base64url (padded, like Go's URLEncoding) of the JSON AuthConfig.
pub fn encode_auth_header(auth: &AuthConfig) -> Result<String> {
    let json = serde_json::to_vec(auth)?;
    Ok(base64::engine::general_purpose::URL_SAFE.encode(json))
}

/// The `X-Registry-Auth` header for pulling or pushing `image_reference`, from the user's
/// config and helpers; None when nothing is stored for its registry.
pub fn registry_auth_header(image_reference: &str) -> Result<Option<String>> {
    let key = key_for_image(image_reference)?;
    match CredStore::from_env()?.get(&key)? {
        Some(a) => Ok(Some(encode_auth_header(&a)?)),
        None => Ok(None),
    }
}

/// A helper's JSON (docker-credential-helpers' `credentials.Credentials`).
#[derive(Debug, Serialize, Deserialize)]
struct HelperCreds {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// The user's docker config directory and the credentials in it.
pub struct CredStore {
    dir: PathBuf,
}

impl CredStore {
    /// `$DOCKER_CONFIG`, else `$HOME/.docker`.
    pub fn from_env() -> Result<CredStore> {
        if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
            return Ok(CredStore::at(PathBuf::from(d)));
        }
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                anyhow!("cannot find the docker config: neither DOCKER_CONFIG nor HOME is set")
            })?;
        Ok(CredStore::at(PathBuf::from(home).join(".docker")))
    }

    pub fn at(dir: PathBuf) -> CredStore {
        CredStore { dir }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    fn load(&self) -> Result<Map<String, Value>> {
        let p = self.path();
        match std::fs::read(&p) {
            Ok(d) if d.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
            Ok(d) => match serde_json::from_slice(&d) {
                Ok(Value::Object(m)) => Ok(m),
                Ok(_) => bail!("{}: not a JSON object", p.display()),
                Err(e) => bail!("loading config file {}: {e}", p.display()),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
            Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
        }
    }

    /// Write the config atomically with mode 0600 (it holds secrets).
    fn save(&self, cfg: &Map<String, Value>) -> Result<()> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let target = self.path();
        let tmp = self
            .dir
            .join(format!(".config.json.tmp-{}", std::process::id()));
        let data = serde_json::to_vec_pretty(cfg)?;
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&data)?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, &target)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            anyhow!("writing {}: {e}", target.display())
        })
    }

    /// The helper for `server`: its `credHelpers` entry, else `credsStore`.
    fn helper_for(cfg: &Map<String, Value>, server: &str) -> Option<String> {
        let per = cfg
            .get("credHelpers")
            .and_then(|h| h.get(server).or_else(|| h.get(convert_to_hostname(server))))
            .and_then(Value::as_str);
        per.or_else(|| cfg.get("credsStore").and_then(Value::as_str))
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
    }

    /// The name of the helper `server`'s credentials go to, if any.
    pub fn helper_name(&self, server: &str) -> Result<Option<String>> {
        Ok(Self::helper_for(&self.load()?, server))
    }

    /// Stored credentials for `server` (a key as `server_key` makes it).
    pub fn get(&self, server: &str) -> Result<Option<AuthConfig>> {
        let cfg = self.load()?;
        if let Some(helper) = Self::helper_for(&cfg, server) {
            if let Some(a) = helper_get(&helper, server)? {
                return Ok(Some(a));
            }
        }
        let auths = cfg.get("auths").and_then(Value::as_object);
        let entry = auths.and_then(|a| {
            a.get(server).or_else(|| {
                // Older files key entries by URL ("https://host/v1/"): match by hostname.
                a.iter()
                    .find(|(k, _)| convert_to_hostname(k) == server)
                    .map(|(_, v)| v)
            })
        });
        match entry {
            Some(e) => {
                let a = decode_entry(e, server)?;
                Ok((!a.is_empty()).then_some(a))
            }
            None => Ok(None),
        }
    }

    /// The whole config file (an empty object when there is none), for the settings beside the
    /// credentials (`proxies`).
    pub fn config(&self) -> Result<Map<String, Value>> {
        self.load()
    }

    /// Every stored credential, keyed by registry: the `auths` entries, the registries with a
    /// `credHelpers` helper and what the `credsStore` helper lists. What docker's
    /// `GetAllCredentials` hands a build (`X-Registry-Config`) so its FROM pulls can log in; a
    /// registry whose helper fails is left out, as docker does.
    pub fn all(&self) -> Result<BTreeMap<String, AuthConfig>> {
        let cfg = self.load()?;
        let mut keys: Vec<String> = Vec::new();
        for section in ["auths", "credHelpers"] {
            if let Some(m) = cfg.get(section).and_then(Value::as_object) {
                keys.extend(m.keys().cloned());
            }
        }
        if let Some(store) = cfg.get("credsStore").and_then(Value::as_str) {
            if let Ok((true, text)) = run_helper(store, "list", b"") {
                if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&text) {
                    keys.extend(m.keys().cloned());
                }
            }
        }
        let mut all = BTreeMap::new();
        for k in keys {
            if let Ok(Some(mut a)) = self.get(&k) {
                if a.serveraddress.is_empty() {
                    a.serveraddress = k.clone();
                }
                all.insert(k, a);
            }
        }
        Ok(all)
    }

    /// Store credentials for `server`: in its helper when one is configured (the file keeps an
    /// empty entry so `auths` still lists the registry), else base64 in the file.
    pub fn store(&self, server: &str, auth: &AuthConfig) -> Result<()> {
        let mut cfg = self.load()?;
        let helper = Self::helper_for(&cfg, server);
        let entry = match &helper {
            Some(h) => {
                helper_store(h, server, auth)?;
                Value::Object(Map::new())
            }
            None => {
                let mut e = Map::new();
                if !auth.username.is_empty() || !auth.password.is_empty() {
                    let pair = format!("{}:{}", auth.username, auth.password);
                    e.insert(
                        "auth".into(),
                        base64::engine::general_purpose::STANDARD
                            .encode(pair)
                            .into(),
                    );
                }
                if !auth.identitytoken.is_empty() {
                    e.insert("identitytoken".into(), auth.identitytoken.clone().into());
                }
                Value::Object(e)
            }
        };
        let auths = cfg
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !auths.is_object() {
            *auths = Value::Object(Map::new());
        }
        auths
            .as_object_mut()
            .expect("auths is an object")
            .insert(server.to_string(), entry);
        self.save(&cfg)
    }

    /// Forget `server`'s credentials (helper and file). Returns whether anything was stored.
    pub fn erase(&self, server: &str) -> Result<bool> {
        let mut cfg = self.load()?;
        let mut found = false;
        if let Some(h) = Self::helper_for(&cfg, server) {
            found |= helper_erase(&h, server)?;
        }
        if let Some(auths) = cfg.get_mut("auths").and_then(Value::as_object_mut) {
            let keys: Vec<String> = auths
                .keys()
                .filter(|k| *k == server || convert_to_hostname(k) == server)
                .cloned()
                .collect();
            for k in keys {
                auths.remove(&k);
                found = true;
            }
        }
        if found {
            self.save(&cfg)?;
        }
        Ok(found)
    }
}

/// An `auths` entry: `auth` (base64 "user:pass"), or legacy `username`/`password`, plus
/// `identitytoken` / `registrytoken`.
fn decode_entry(e: &Value, server: &str) -> Result<AuthConfig> {
    let field = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut a = AuthConfig {
        username: field("username"),
        password: field("password"),
        serveraddress: server.to_string(),
        identitytoken: field("identitytoken"),
        registrytoken: field("registrytoken"),
    };
    let auth = field("auth");
    if !auth.is_empty() {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| anyhow!("invalid auth configuration file: {e}"))?;
        let text =
            String::from_utf8(raw).map_err(|_| anyhow!("invalid auth configuration file"))?;
        let (u, p) = text
            .split_once(':')
            .ok_or_else(|| anyhow!("invalid auth configuration file"))?;
        a.username = u.to_string();
        a.password = p.trim_end_matches('\0').to_string();
    }
    Ok(a)
}

/// Run `docker-credential-<helper> <action>` with `input` on stdin; (success, stdout).
fn run_helper(helper: &str, action: &str, input: &[u8]) -> Result<(bool, String)> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("error getting credentials - err: exec: \"{program}\""))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading makes this fail with EPIPE; its status says more.
        let _ = stdin.write_all(input);
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("running {program} {action}"))?;
    let mut text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if text.is_empty() {
        text = String::from_utf8_lossy(&out.stderr).trim().to_string();
    }
    Ok((out.status.success(), text))
}

fn helper_get(helper: &str, server: &str) -> Result<Option<AuthConfig>> {
    let (ok, text) = run_helper(helper, "get", server.as_bytes())?;
    if !ok {
        if text.contains(HELPER_NOT_FOUND) {
            return Ok(None);
        }
        bail!("error getting credentials - err: docker-credential-{helper} get: {text}");
    }
    let c: HelperCreds = serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "error getting credentials - err: docker-credential-{helper} answered {text:?}: {e}"
        )
    })?;
    let mut a = AuthConfig {
        serveraddress: server.to_string(),
        ..Default::default()
    };
    // docker-credential-helpers marks identity tokens with the username "<token>".
    if c.username == "<token>" {
        a.identitytoken = c.secret;
    } else {
        a.username = c.username;
        a.password = c.secret;
    }
    Ok((!a.is_empty()).then_some(a))
}

fn helper_store(helper: &str, server: &str, auth: &AuthConfig) -> Result<()> {
    let creds = if auth.identitytoken.is_empty() {
        HelperCreds {
            server_url: server.to_string(),
            username: auth.username.clone(),
            secret: auth.password.clone(),
        }
    } else {
        HelperCreds {
            server_url: server.to_string(),
            username: "<token>".into(),
            secret: auth.identitytoken.clone(),
        }
    };
    let (ok, text) = run_helper(helper, "store", &serde_json::to_vec(&creds)?)?;
    if !ok {
        bail!("error storing credentials - err: docker-credential-{helper} store: {text}");
    }
    Ok(())
}

fn helper_erase(helper: &str, server: &str) -> Result<bool> {
    let (ok, text) = run_helper(helper, "erase", server.as_bytes())?;
    if ok {
        return Ok(true);
    }
    if text.contains(HELPER_NOT_FOUND) {
        return Ok(false);
    }
    bail!("error erasing credentials - err: docker-credential-{helper} erase: {text}")
}

/// Every registry with stored credentials (the keys of `auths`), for diagnostics.
pub fn known_servers(store: &CredStore) -> Result<BTreeMap<String, bool>> {
    let cfg = store.load()?;
    Ok(cfg
        .get("auths")
        .and_then(Value::as_object)
        .map(|a| a.keys().map(|k| (k.clone(), true)).collect())
        .unwrap_or_default())
}

#[cfg(test)]
mod tests;
