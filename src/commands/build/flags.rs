//! The checks and conversions docker's CLI applies to `build` flag values before they reach the
//! API: `--build-arg` (`opts.ValidateEnv`: `K` alone takes its value from the environment),
//! `--label` (`opts.ValidateLabel`), `--add-host` (`opts.ValidateExtraHost`), sizes
//! (`opts.MemBytes`), and BuildKit's `--secret id=…,src=…|env=…` (buildx's `parseSecret` and
//! the secrets provider's store).

use std::net::IpAddr;
use std::path::PathBuf;

/// The largest secret BuildKit's provider accepts (500 KiB).
pub const MAX_SECRET_SIZE: u64 = 500 * 1024;

/// `--build-arg K=V` → (K, Some(V)); `K` → its environment value, or None (docker sends null:
/// the Dockerfile's default applies).
pub fn build_arg(
    value: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(String, Option<String>), String> {
    let (key, val) = match value.split_once('=') {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (value, None),
    };
    if key.is_empty() {
        return Err(format!("invalid environment variable: {value}"));
    }
    let val = val.or_else(|| env(key));
    Ok((key.to_string(), val))
}

/// `--label K=V` (`K` alone is an empty label).
pub fn label(value: &str) -> Result<(String, String), String> {
    let (key, val) = value.split_once('=').unwrap_or((value, ""));
    let trimmed = key.trim();
    if trimmed.is_empty() {
        return Err(format!("invalid label '{value}': empty name"));
    }
    if trimmed.contains(char::is_whitespace) {
        return Err(format!("label '{trimmed}' contains whitespaces"));
    }
    Ok((key.to_string(), val.to_string()))
}

/// `--add-host host:ip` or `host=ip` → "host:ip"; the address is checked (IPv6 may be in
/// brackets) unless it is the special `host-gateway`.
pub fn extra_host(value: &str) -> Result<String, String> {
    let (host, addr) = value
        .split_once('=')
        .or_else(|| value.split_once(':'))
        .filter(|(h, _)| !h.is_empty() && !h.contains(':'))
        .ok_or_else(|| format!("bad format for add-host: {value:?}"))?;
    if addr != "host-gateway" {
        let bare = if addr.len() > 2 && addr.starts_with('[') && addr.ends_with(']') {
            &addr[1..addr.len() - 1]
        } else {
            addr
        };
        if bare.trim().parse::<IpAddr>().is_err() {
            return Err(format!("invalid IP address in add-host: {bare:?}"));
        }
        return Ok(format!("{host}:{bare}"));
    }
    Ok(format!("{host}:{addr}"))
}

/// docker's `ParseProxyConfig`: the config file's `proxies` for this engine (`host` as docker
/// names it, "unix:///path"), else its `default`, become build args (upper- and lower-case)
/// unless the user set them.
pub fn add_proxy_args(
    config: &serde_json::Map<String, serde_json::Value>,
    host: &str,
    args: &mut Vec<(String, Option<String>)>,
) {
    let proxies = config.get("proxies");
    let Some(p) = proxies
        .and_then(|p| p.get(host))
        .or_else(|| proxies.and_then(|p| p.get("default")))
    else {
        return;
    };
    for (key, field) in [
        ("HTTP_PROXY", "httpProxy"),
        ("HTTPS_PROXY", "httpsProxy"),
        ("NO_PROXY", "noProxy"),
        ("FTP_PROXY", "ftpProxy"),
        ("ALL_PROXY", "allProxy"),
    ] {
        let Some(value) = p
            .get(field)
            .and_then(serde_json::Value::as_str)
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        for k in [key.to_string(), key.to_lowercase()] {
            if !args.iter().any(|(have, _)| *have == k) {
                args.push((k, Some(value.to_string())));
            }
        }
    }
}

/// Where a secret's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpec {
    pub id: String,
    pub source: SecretSource,
}

/// Parse `--secret id=x[,type=file|env][,src=path|source=path][,env=VAR]` as buildx does: the
/// value is one CSV record of key=value fields; with neither src nor env the id names an
/// environment variable if one is set, else a file.
pub fn secret(value: &str, env_has: impl Fn(&str) -> bool) -> Result<SecretSpec, String> {
    let mut id = String::new();
    let mut typ: Option<String> = None;
    let mut src = String::new();
    let mut env = String::new();
    for field in csv_fields(value)? {
        let (key, val) = field
            .split_once('=')
            .ok_or_else(|| format!("invalid field '{field}' must be a key=value pair"))?;
        match key.to_lowercase().as_str() {
            "type" => {
                if val != "file" && val != "env" {
                    return Err(format!("unsupported secret type {val:?}"));
                }
                typ = Some(val.to_string());
            }
            "id" => id = val.to_string(),
            "source" | "src" => src = val.to_string(),
            "env" => env = val.to_string(),
            other => return Err(format!("unexpected key '{other}' in '{field}'")),
        }
    }
    if typ.as_deref() == Some("env") && env.is_empty() {
        env = std::mem::take(&mut src);
    }
    if id.is_empty() {
        return Err("secret ID missing".into());
    }
    let source = if !env.is_empty() {
        SecretSource::Env(env)
    } else if !src.is_empty() {
        SecretSource::File(PathBuf::from(src))
    } else if env_has(&id) {
        SecretSource::Env(id.clone())
    } else {
        SecretSource::File(PathBuf::from(&id))
    };
    Ok(SecretSpec { id, source })
}

/// The secret's content, read now (the engine gets the value, never the path).
pub fn read_secret(
    spec: &SecretSpec,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<u8>, String> {
    match &spec.source {
        SecretSource::Env(var) => env(var)
            .map(String::into_bytes)
            .ok_or_else(|| format!("secret {}: environment variable {var} is not set", spec.id)),
        SecretSource::File(path) => {
            let meta = std::fs::metadata(path)
                .map_err(|e| format!("failed to stat {}: {e}", path.display()))?;
            if meta.len() > MAX_SECRET_SIZE {
                return Err(format!("secret {} too big. max size 500KB", spec.id));
            }
            std::fs::read(path).map_err(|e| format!("failed to read {}: {e}", path.display()))
        }
    }
}

/// One CSV record (Go's encoding/csv): fields split on commas, a field may be double-quoted
/// with "" for a quote inside.
fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(format!("invalid value {s:?}: unterminated quote")),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(_) => return Err(format!("invalid value {s:?}: extraneous \" in field")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        (k == "HOME_VAR").then(|| "from env".to_string())
    }

    #[test]
    fn build_args_as_docker() {
        assert_eq!(
            build_arg("A=1=2", env).unwrap(),
            ("A".into(), Some("1=2".into()))
        );
        assert_eq!(
            build_arg("A=", env).unwrap(),
            ("A".into(), Some(String::new()))
        );
        assert_eq!(
            build_arg("HOME_VAR", env).unwrap(),
            ("HOME_VAR".into(), Some("from env".into()))
        );
        assert_eq!(build_arg("UNSET", env).unwrap(), ("UNSET".into(), None));
        assert_eq!(
            build_arg("=x", env).unwrap_err(),
            "invalid environment variable: =x"
        );
    }

    #[test]
    fn labels_and_hosts() {
        assert_eq!(label("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(label("flag").unwrap(), ("flag".into(), String::new()));
        assert!(label("=v").is_err());
        assert!(label("a b=v").is_err());
        assert_eq!(extra_host("db:10.0.0.2").unwrap(), "db:10.0.0.2");
        assert_eq!(extra_host("db=10.0.0.2").unwrap(), "db:10.0.0.2");
        assert_eq!(extra_host("v6:::1").unwrap(), "v6:::1");
        assert_eq!(extra_host("v6=[::1]").unwrap(), "v6:::1");
        assert_eq!(extra_host("gw:host-gateway").unwrap(), "gw:host-gateway");
        assert_eq!(
            extra_host("db:nothere").unwrap_err(),
            "invalid IP address in add-host: \"nothere\""
        );
        assert!(extra_host("noaddr").is_err());
        assert!(extra_host(":1.2.3.4").is_err());
    }

    #[test]
    fn proxies_from_the_config_file() {
        let cfg = serde_json::json!({"proxies": {
            "default": {"httpProxy": "http://d:3128", "noProxy": "localhost"},
            "unix:///run/berth.sock": {"httpsProxy": "http://s:3128"}
        }});
        let cfg = cfg.as_object().unwrap();
        let mut args = vec![("no_proxy".to_string(), Some("mine".to_string()))];
        add_proxy_args(cfg, "unix:///other.sock", &mut args);
        assert_eq!(
            args,
            [
                ("no_proxy".to_string(), Some("mine".to_string())),
                ("HTTP_PROXY".to_string(), Some("http://d:3128".to_string())),
                ("http_proxy".to_string(), Some("http://d:3128".to_string())),
                ("NO_PROXY".to_string(), Some("localhost".to_string())),
            ]
        );
        let mut args = Vec::new();
        add_proxy_args(cfg, "unix:///run/berth.sock", &mut args);
        assert_eq!(args.len(), 2);
        assert_eq!(args[0].0, "HTTPS_PROXY");
        let mut args = Vec::new();
        add_proxy_args(&serde_json::Map::new(), "unix:///x", &mut args);
        assert!(args.is_empty());
    }

    #[test]
    fn secrets_as_buildx_parses_them() {
        let none = |_: &str| false;
        assert_eq!(
            secret("id=tok,src=/run/tok", none).unwrap(),
            SecretSpec {
                id: "tok".into(),
                source: SecretSource::File("/run/tok".into())
            }
        );
        assert_eq!(
            secret("id=tok,source=/run/tok,type=file", none)
                .unwrap()
                .source,
            SecretSource::File("/run/tok".into())
        );
        assert_eq!(
            secret("id=tok,env=TOKEN", none).unwrap().source,
            SecretSource::Env("TOKEN".into())
        );
        // type=env takes src as the variable's name.
        assert_eq!(
            secret("type=env,id=tok,src=TOKEN", none).unwrap().source,
            SecretSource::Env("TOKEN".into())
        );
        // With neither, the id is a variable when set, else a file.
        assert_eq!(
            secret("id=TOKEN", |k| k == "TOKEN").unwrap().source,
            SecretSource::Env("TOKEN".into())
        );
        assert_eq!(
            secret("id=tok", none).unwrap().source,
            SecretSource::File("tok".into())
        );
        // CSV quoting lets a path hold a comma.
        assert_eq!(
            secret(r#"id=a,"src=/x,y""z""#, none).unwrap().source,
            SecretSource::File("/x,y\"z".into())
        );
        assert_eq!(secret("src=/x", none).unwrap_err(), "secret ID missing");
        assert_eq!(
            secret("id=a,mode=0400", none).unwrap_err(),
            "unexpected key 'mode' in 'mode=0400'"
        );
        assert_eq!(
            secret("id=a,type=ssh", none).unwrap_err(),
            "unsupported secret type \"ssh\""
        );
        assert!(secret("id=a,bare", none).is_err());
    }

    #[test]
    fn secret_values_are_read_with_buildkits_limit() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, b"s3cret").unwrap();
        let spec = SecretSpec {
            id: "a".into(),
            source: SecretSource::File(small),
        };
        assert_eq!(read_secret(&spec, env).unwrap(), b"s3cret");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![0u8; MAX_SECRET_SIZE as usize + 1]).unwrap();
        let spec = SecretSpec {
            id: "a".into(),
            source: SecretSource::File(big),
        };
        assert_eq!(
            read_secret(&spec, env).unwrap_err(),
            "secret a too big. max size 500KB"
        );
        let spec = SecretSpec {
            id: "e".into(),
            source: SecretSource::Env("HOME_VAR".into()),
        };
        assert_eq!(read_secret(&spec, env).unwrap(), b"from env");
        let spec = SecretSpec {
            id: "e".into(),
            source: SecretSource::Env("NOPE".into()),
        };
        assert!(read_secret(&spec, env).is_err());
    }
}
