//! Typed engine errors. Every failure the API can report is one of these; `api::response` maps them to
//! HTTP statuses in one place.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum EngineError {
    /// 404: an unknown container, image, exec, ...
    #[error("{0}")]
    NotFound(String),
    /// 409: name conflicts, removing a running container, image in use.
    #[error("{0}")]
    Conflict(String),
    /// 403: an operation the object's state forbids (moby's errdefs.Forbidden: connecting a
    /// running container to a network it is already on).
    #[error("{0}")]
    Forbidden(String),
    /// 400: malformed JSON, bad parameters, invalid references.
    #[error("{0}")]
    InvalidArgument(String),
    /// 304: start of a running container, stop of a stopped one.
    #[error("{0}")]
    NotModified(String),
    /// 503: a feature this node does not offer in its current state (swarm mode).
    #[error("{0}")]
    Unavailable(String),
    /// 501: a feature the container's configuration does not offer (reading a `none` log).
    #[error("{0}")]
    NotImplemented(String),
    /// 500 with a message that says what failed.
    #[error("{0}")]
    Internal(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    pub fn not_found(msg: impl Into<String>) -> Self {
        EngineError::NotFound(msg.into())
    }
    pub fn conflict(msg: impl Into<String>) -> Self {
        EngineError::Conflict(msg.into())
    }
    pub fn invalid(msg: impl Into<String>) -> Self {
        EngineError::InvalidArgument(msg.into())
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        EngineError::Internal(msg.into())
    }

    /// The same error (and so the same HTTP status) with `prefix: ` before its message, as
    /// dockerd's routers wrap some backend errors ("Cannot kill container: NAME: ...").
    pub fn prefixed(self, prefix: &str) -> Self {
        match self {
            EngineError::NotFound(m) => EngineError::NotFound(format!("{prefix}: {m}")),
            EngineError::Conflict(m) => EngineError::Conflict(format!("{prefix}: {m}")),
            EngineError::Forbidden(m) => EngineError::Forbidden(format!("{prefix}: {m}")),
            EngineError::InvalidArgument(m) => {
                EngineError::InvalidArgument(format!("{prefix}: {m}"))
            }
            EngineError::NotModified(m) => EngineError::NotModified(format!("{prefix}: {m}")),
            EngineError::Unavailable(m) => EngineError::Unavailable(format!("{prefix}: {m}")),
            EngineError::NotImplemented(m) => EngineError::NotImplemented(format!("{prefix}: {m}")),
            EngineError::Internal(m) => EngineError::Internal(format!("{prefix}: {m}")),
            EngineError::Io { context, source } => EngineError::Io {
                context: format!("{prefix}: {context}"),
                source,
            },
        }
    }
}

/// Attach context to io errors: `fs::read(p).io_context(|| format!("reading {}", p.display()))?`.
pub trait IoContext<T> {
    fn io_context<F: FnOnce() -> String>(self, f: F) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io_context<F: FnOnce() -> String>(self, f: F) -> Result<T> {
        self.map_err(|source| EngineError::Io {
            context: f(),
            source,
        })
    }
}

impl From<serde_json::Error> for EngineError {
    fn from(e: serde_json::Error) -> Self {
        EngineError::Internal(format!("json: {e}"))
    }
}
