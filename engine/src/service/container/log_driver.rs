//! The logging drivers a container may ask for, with dockerd's answers. `json-file` is the shim's
//! own format; `local` is kept in that same format (what matters to clients is that its logs read
//! back and its rotation options are taken, with `local`'s defaults); `none` writes nothing and
//! its logs cannot be read. Any other name is a plugin dockerd would look up, and berth has none.

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, LogConfig};

/// Options dockerd's json-file driver accepts (daemon/logger/jsonfilelog ValidateLogOpt).
const JSON_FILE_OPTS: &[&str] = &[
    "max-file",
    "max-size",
    "compress",
    "labels",
    "labels-regex",
    "env",
    "env-regex",
    "tag",
];
/// Options of dockerd's local driver (daemon/logger/local ValidateLogOpt).
const LOCAL_OPTS: &[&str] = &["max-file", "max-size", "compress"];

/// `local`'s defaults (dockerd's local driver: 20 MB files, 5 of them).
pub const LOCAL_MAX_SIZE: u64 = 20 * 1024 * 1024;
pub const LOCAL_MAX_FILES: u32 = 5;

/// At create: the driver exists and takes the options given, in dockerd's words (400s).
pub fn validate(lc: &LogConfig) -> Result<()> {
    let (allowed, unknown): (&[&str], fn(&str) -> String) = match lc.kind.as_str() {
        "" | "json-file" => (JSON_FILE_OPTS, |k| {
            format!("unknown log opt '{k}' for json-file log driver")
        }),
        "local" => (LOCAL_OPTS, |k| {
            format!("unknown log opt '{k}' for log driver local")
        }),
        // dockerd's none driver takes (and ignores) any option through the API.
        "none" => return Ok(()),
        other => {
            return Err(EngineError::invalid(format!(
                "error looking up logging plugin {other}: plugin \"{other}\" not found"
            )))
        }
    };
    let mut keys: Vec<&String> = lc.config.keys().collect();
    keys.sort();
    match keys.into_iter().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(EngineError::invalid(unknown(k))),
        None => Ok(()),
    }
}

/// Whether the container's output goes to no file at all.
pub fn disabled(rec: &ContainerRecord) -> bool {
    rec.host_config.log_config.kind == "none"
}

/// `GET /containers/{id}/logs` on a driver that keeps nothing: dockerd's 501.
pub fn check_readable(rec: &ContainerRecord) -> Result<()> {
    if disabled(rec) {
        return Err(EngineError::NotImplemented(
            "configured logging driver does not support reading".into(),
        ));
    }
    Ok(())
}

/// The path inspect shows as `LogPath`: dockerd shows none for drivers other than json-file.
pub fn shown_path(rec: &ContainerRecord) -> bool {
    matches!(rec.host_config.log_config.kind.as_str(), "" | "json-file")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(kind: &str, opts: &[(&str, &str)]) -> LogConfig {
        LogConfig {
            kind: kind.into(),
            config: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn drivers_and_options_in_dockerds_words() {
        assert!(validate(&lc("", &[])).is_ok());
        assert!(validate(&lc("json-file", &[("max-size", "1m"), ("tag", "x")])).is_ok());
        assert!(validate(&lc("local", &[("max-file", "2")])).is_ok());
        assert!(validate(&lc("none", &[("max-size", "1m")])).is_ok());
        let msg = |r: Result<()>| r.unwrap_err().to_string();
        assert_eq!(
            msg(validate(&lc("asdf", &[]))),
            "error looking up logging plugin asdf: plugin \"asdf\" not found"
        );
        assert_eq!(
            msg(validate(&lc("local", &[("bogus", "1")]))),
            "unknown log opt 'bogus' for log driver local"
        );
        assert_eq!(
            msg(validate(&lc("json-file", &[("bogus", "1")]))),
            "unknown log opt 'bogus' for json-file log driver"
        );
    }
}
