//! Registry failures: [`RegistryError`] (status, distribution error code, message) and how they
//! map to engine errors.

use reqwest::StatusCode;

use super::read_limited;
use super::unreachable::{self, Unreachable};
use crate::error::EngineError;

/// A registry failure, with the registry's error code when it sent one.
#[derive(Debug, Clone)]
pub struct RegistryError {
    /// HTTP status, when the registry answered.
    pub status: Option<u16>,
    /// Distribution error code ("MANIFEST_UNKNOWN", "DENIED", ...), or "" for transport errors.
    pub code: String,
    pub message: String,
    /// Set when the registry gave no answer at all (see `unreachable`); the message then says
    /// "cannot reach registry HOST: WHY" and pulls add what would fix it.
    pub unreachable: Option<Unreachable>,
}

impl std::fmt::Display for RegistryError {
    /// Docker's errcode format: `manifest unknown: manifest unknown`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.code.is_empty() {
            f.write_str(&self.message)
        } else {
            let code = self.code.to_ascii_lowercase().replace('_', " ");
            if self.message.is_empty() {
                f.write_str(&code)
            } else {
                write!(f, "{code}: {}", self.message)
            }
        }
    }
}

impl std::error::Error for RegistryError {}

impl RegistryError {
    /// Of the errors of the endpoints tried so far (`kept`) and the latest (`new`), the one to
    /// report: an answer from a registry (404, 401, …) says more than a later fallback endpoint
    /// that could not be reached (loopback's HTTPS after its plain HTTP, say).
    pub fn most_telling(kept: Option<RegistryError>, new: RegistryError) -> RegistryError {
        match kept {
            Some(k) if k.unreachable.is_none() && new.unreachable.is_some() => k,
            _ => new,
        }
    }

    pub(super) fn transport(context: &str, e: reqwest::Error) -> Self {
        let kind = unreachable::classify(&e);
        let message = match kind {
            Some(kind) => {
                // The whole chain stays in the log; the message says it in a few words.
                tracing::debug!(error = %unreachable::chain_text(&e), "{context}");
                unreachable::message(kind, &e)
            }
            // reqwest's Display hides the cause chain ("error sending request"); keep it.
            None => format!("{context}: {}", unreachable::chain_text(&e)),
        };
        RegistryError {
            status: None,
            code: String::new(),
            message,
            unreachable: kind,
        }
    }

    pub(super) fn other(message: impl Into<String>) -> Self {
        RegistryError {
            status: None,
            code: String::new(),
            message: message.into(),
            unreachable: None,
        }
    }

    /// True for 401/403 answers (bad or missing credentials).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self.status, Some(401) | Some(403))
            || matches!(self.code.as_str(), "UNAUTHORIZED" | "DENIED")
    }

    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
            || matches!(
                self.code.as_str(),
                "MANIFEST_UNKNOWN" | "NAME_UNKNOWN" | "BLOB_UNKNOWN"
            )
    }

    /// A transport failure (no HTTP answer): the next endpoint may work.
    pub fn is_transport(&self) -> bool {
        self.status.is_none()
    }

    /// Read a non-success response's `{"errors":[{code,message}]}` body (bounded).
    pub async fn from_response(resp: reqwest::Response) -> Self {
        let status = resp.status();
        let body = read_limited(resp, 64 << 10).await.unwrap_or_default();
        #[derive(serde::Deserialize)]
        struct Errs {
            errors: Vec<Err1>,
        }
        #[derive(serde::Deserialize)]
        struct Err1 {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
        }
        if let Ok(errs) = serde_json::from_slice::<Errs>(&body) {
            if let Some(e) = errs.errors.into_iter().next() {
                return RegistryError {
                    status: Some(status.as_u16()),
                    code: e.code,
                    message: e.message,
                    unreachable: None,
                };
            }
        }
        // Token servers and proxies answer with other shapes; docker shows the status text.
        let (code, message) = match status {
            StatusCode::UNAUTHORIZED => ("UNAUTHORIZED", "authentication required".to_string()),
            StatusCode::FORBIDDEN => (
                "DENIED",
                "requested access to the resource is denied".into(),
            ),
            StatusCode::NOT_FOUND => ("NOT_FOUND", "not found".into()),
            s => {
                // The first line of whatever the server said (bounded), for the operator.
                let text = String::from_utf8_lossy(&body);
                let first: String = text
                    .trim()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect();
                let detail = if first.is_empty() {
                    String::new()
                } else {
                    format!(" ({first})")
                };
                ("", format!("unexpected status from registry: {s}{detail}"))
            }
        };
        RegistryError {
            status: Some(status.as_u16()),
            code: code.into(),
            message,
            unreachable: None,
        }
    }
}

impl From<RegistryError> for EngineError {
    fn from(e: RegistryError) -> Self {
        if e.is_not_found() || e.is_unauthorized() {
            EngineError::NotFound(e.to_string())
        } else {
            EngineError::Internal(e.to_string())
        }
    }
}

pub type RegResult<T> = std::result::Result<T, RegistryError>;

pub(super) fn unauthorized(msg: &str) -> RegistryError {
    RegistryError {
        status: Some(401),
        code: "UNAUTHORIZED".into(),
        message: msg.into(),
        unreachable: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_like_docker() {
        let e = RegistryError {
            status: Some(404),
            code: "MANIFEST_UNKNOWN".into(),
            message: "manifest unknown".into(),
            unreachable: None,
        };
        assert_eq!(e.to_string(), "manifest unknown: manifest unknown");
        assert!(e.is_not_found());
    }
}
