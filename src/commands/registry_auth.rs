//! The `X-Registry-Auth` header for a push: the credentials `docker login` stored for the image's
//! registry in `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`), `auths.<server>.auth`
//! ("user:password" in base64). Anonymous (`{}`) when there are none.

use anyhow::{Context, Result};
use base64::Engine as _;
use serde_json::{json, Value};

const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The registry part of an image name, docker's way: the first component when it has a '.' or
/// ':' or is "localhost", else Docker Hub.
fn registry_of(image: &str) -> Option<&str> {
    let (first, _) = image.split_once('/')?;
    (first.contains('.') || first.contains(':') || first == "localhost").then_some(first)
}

fn config_path() -> Option<std::path::PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG") {
        return Some(std::path::PathBuf::from(d).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".docker/config.json"))
}

/// Base64url JSON for `X-Registry-Auth`.
pub fn header_for(image: &str) -> Result<String> {
    let server = registry_of(image).unwrap_or(DOCKER_HUB_KEY);
    let config = match config_path() {
        Some(p) => match std::fs::read(&p) {
            Ok(d) => Some(
                serde_json::from_slice::<Value>(&d)
                    .with_context(|| format!("reading {}", p.display()))?,
            ),
            Err(_) => None,
        },
        None => None,
    };
    let auth = config
        .as_ref()
        .and_then(|c| c.get("auths"))
        .and_then(|auths| {
            [
                server.to_string(),
                format!("https://{server}"),
                format!("http://{server}"),
            ]
            .iter()
            .find_map(|k| auths.get(k.as_str()))
        })
        .and_then(|e| e.get("auth"))
        .and_then(Value::as_str)
        .and_then(|a| base64::engine::general_purpose::STANDARD.decode(a).ok())
        .and_then(|d| String::from_utf8(d).ok());
    let value = match auth.as_deref().and_then(|a| a.split_once(':')) {
        Some((user, password)) => json!({
            "username": user,
            "password": password,
            "serveraddress": server,
        }),
        None => json!({}),
    };
    Ok(base64::engine::general_purpose::URL_SAFE.encode(serde_json::to_vec(&value)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_auth_registry_of_names() {
        assert_eq!(registry_of("busybox"), None);
        assert_eq!(registry_of("user/app"), None);
        assert_eq!(registry_of("127.0.0.1:5000/app"), Some("127.0.0.1:5000"));
        assert_eq!(registry_of("localhost/app"), Some("localhost"));
        assert_eq!(registry_of("ghcr.io/o/app"), Some("ghcr.io"));
    }
}
