//! Registry credentials and authentication challenges.
//!
//! Credentials reach the engine in the `X-Registry-Auth` header (base64url JSON, as the docker CLI
//! sends it) or in the body of `POST /auth`. Registries answer 401 with a `WWW-Authenticate`
//! challenge: `Bearer realm=..,service=..,scope=..` (token servers, Docker Hub) or `Basic realm=..`
//! (htpasswd registries).

use std::collections::HashMap;

use base64::Engine as _;
use serde::Deserialize;

use crate::error::{EngineError, Result};
use crate::model::go_json::null_as_default;

/// What `X-Registry-Auth` / `POST /auth` carry. Every field is optional: the CLI sends `{}` for
/// anonymous pulls; `null` is an empty field, as in Go (`model::go_json`; docker-py's login sends
/// `"email": null`).
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Credentials {
    #[serde(deserialize_with = "null_as_default")]
    pub username: String,
    #[serde(deserialize_with = "null_as_default")]
    pub password: String,
    #[serde(deserialize_with = "null_as_default")]
    pub serveraddress: String,
    /// OAuth refresh token from an earlier login (exchanged at the token realm).
    #[serde(deserialize_with = "null_as_default")]
    pub identitytoken: String,
    /// A ready bearer token, sent as is.
    #[serde(deserialize_with = "null_as_default")]
    pub registrytoken: String,
}

// Never print secrets: tracing and error paths may format credentials.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("serveraddress", &self.serveraddress)
            .field("password", &(!self.password.is_empty()).then_some("<set>"))
            .field(
                "identitytoken",
                &(!self.identitytoken.is_empty()).then_some("<set>"),
            )
            .field(
                "registrytoken",
                &(!self.registrytoken.is_empty()).then_some("<set>"),
            )
            .finish()
    }
}

/// A base64 header value as docker's clients write them: base64url (the CLI), or padded standard
/// base64 (older clients).
pub fn decode_header_base64(value: &str) -> Option<Vec<u8>> {
    let engines = [
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    engines.iter().find_map(|e| e.decode(value).ok())
}

impl Credentials {
    /// True when nothing usable is set (anonymous access).
    pub fn is_anonymous(&self) -> bool {
        self.username.is_empty()
            && self.password.is_empty()
            && self.identitytoken.is_empty()
            && self.registrytoken.is_empty()
    }

    /// Decode an `X-Registry-Auth` header. The CLI uses base64url; older clients padded standard
    /// base64, so both are accepted. An empty header means anonymous.
    pub fn from_header(value: &str) -> Result<Option<Credentials>> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        let raw = decode_header_base64(value)
            .ok_or_else(|| EngineError::invalid("invalid X-Registry-Auth header: not base64"))?;
        // `{}` or `null` are anonymous too.
        if raw.iter().all(u8::is_ascii_whitespace) || raw == b"null" {
            return Ok(None);
        }
        let creds: Credentials = serde_json::from_slice(&raw)
            .map_err(|e| EngineError::invalid(format!("invalid X-Registry-Auth header: {e}")))?;
        Ok((!creds.is_anonymous()).then_some(creds))
    }

    /// `Authorization: Basic ...` value for username/password credentials.
    pub fn basic_header(&self) -> Option<String> {
        if self.username.is_empty() && self.password.is_empty() {
            return None;
        }
        let pair = format!("{}:{}", self.username, self.password);
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    }
}

/// One parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

/// Parse a `WWW-Authenticate` header value (`Scheme k="v", k2="v2"`). Unknown schemes give `None`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = match header.split_once(char::is_whitespace) {
        Some((s, r)) => (s, r),
        None => (header, ""),
    };
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    Some(Challenge::Bearer {
        realm: params.get("realm")?.clone(),
        service: params.get("service").cloned(),
        scope: params.get("scope").cloned(),
    })
}

/// `k="v", k2=v2` with quoted values that may contain commas (scopes do: `pull,push`).
fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next().is_none() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    out
}

/// A token server's answer (`token` in the distribution spec, `access_token` in OAuth2).
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl TokenResponse {
    pub fn into_token(self) -> Option<String> {
        if !self.token.is_empty() {
            Some(self.token)
        } else if !self.access_token.is_empty() {
            Some(self.access_token)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_with_quoted_commas() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull,push".into()),
            }
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(
            parse_challenge("Bearer service=x"),
            None,
            "realm is required"
        );
    }

    #[test]
    fn registry_auth_header_forms() {
        let json = r#"{"username":"u","password":"p:w","serveraddress":"127.0.0.1:5000"}"#;
        let url = base64::engine::general_purpose::URL_SAFE.encode(json);
        let c = Credentials::from_header(&url).unwrap().unwrap();
        assert_eq!(c.username, "u");
        assert_eq!(c.basic_header().unwrap(), "Basic dTpwOnc=");
        assert!(
            !format!("{c:?}").contains("p:w"),
            "Debug must hide the password"
        );
        let anon = base64::engine::general_purpose::URL_SAFE.encode("{}");
        assert_eq!(Credentials::from_header(&anon).unwrap(), None);
        assert_eq!(Credentials::from_header("").unwrap(), None);
        assert!(Credentials::from_header("%%%").is_err());
    }
}
