//! Errors that carry their own process exit status (docker's 125/126/127 and the like) and the
//! one-line wording of a bad flag value. A leaf module: the API client, the commands and the
//! dashboard all return these without depending on the command-line parser.

/// An error that carries its own exit status; `message` (if any) is printed as is.
#[derive(Debug)]
pub struct ExitError {
    pub code: i32,
    pub message: Option<String>,
}

impl std::fmt::Display for ExitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(m) => f.write_str(m),
            None => write!(f, "exit status {}", self.code),
        }
    }
}

impl std::error::Error for ExitError {}

impl ExitError {
    pub fn with(code: i32, message: impl Into<String>) -> anyhow::Error {
        ExitError {
            code,
            message: Some(message.into()),
        }
        .into()
    }

    pub fn silent(code: i32) -> anyhow::Error {
        ExitError {
            code,
            message: None,
        }
        .into()
    }
}

/// docker's wording for a bad flag value (exit 125), kept to one line: `berth CMD --help` is
/// where the usage lives.
pub fn flag_error(cmd: &str, flag: &str, value: &str, why: &str) -> anyhow::Error {
    ExitError::with(
        125,
        format!("berth {cmd}: invalid argument \"{value}\" for \"{flag}\" flag: {why}"),
    )
}
