//! How far back the logs streams start: the presets `S` cycles through.

use super::TAIL;

/// How far back the streams start (`S` cycles through these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Since {
    /// The last `TAIL` lines.
    #[default]
    All,
    Minute,
    TenMinutes,
    Hour,
    Day,
}

impl Since {
    pub(super) fn next(self) -> Since {
        match self {
            Since::All => Since::Minute,
            Since::Minute => Since::TenMinutes,
            Since::TenMinutes => Since::Hour,
            Since::Hour => Since::Day,
            Since::Day => Since::All,
        }
    }

    pub(super) fn secs(self) -> Option<i64> {
        match self {
            Since::All => None,
            Since::Minute => Some(60),
            Since::TenMinutes => Some(600),
            Since::Hour => Some(3600),
            Since::Day => Some(86_400),
        }
    }

    pub(super) fn label(self) -> String {
        match self {
            Since::All => format!("last {TAIL}"),
            Since::Minute => "since 1m".into(),
            Since::TenMinutes => "since 10m".into(),
            Since::Hour => "since 1h".into(),
            Since::Day => "since 1d".into(),
        }
    }
}
