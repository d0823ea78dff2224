//! The logging drivers a container may ask for, with dockerd's answers. `json-file` is the shim's
//! own format; `local` is kept in that same format (what matters to clients is that its logs read
//! back and its rotation options are taken, with `local`'s defaults); `none` writes nothing and
//! its logs cannot be read. Any other name is a plugin dockerd would look up, and berth has none.
//! At start the options become the shim's [`LogSpec`]: rotation size and count, and gzip of the
//! rotated files, checked as dockerd checks them when it creates the logger.

use std::path::PathBuf;

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, LogConfig};
use crate::runtime::spec::LogSpec;

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

/// `local`'s defaults (dockerd's local driver: 20 MB files, 5 of them, compressed).
pub const LOCAL_MAX_SIZE: u64 = 20 * 1024 * 1024;
pub const LOCAL_MAX_FILES: u32 = 5;
/// json-file's, where dockerd keeps one file that grows forever: berth bounds it.
pub const JSON_FILE_MAX_SIZE: u64 = 10 * 1024 * 1024;
pub const JSON_FILE_MAX_FILES: u32 = 3;

/// The shim's log settings for `rec`, writing to `path`. Refusals are dockerd's, which finds
/// them when it creates the logger at start: "failed to initialize logging driver: …".
pub fn log_spec(rec: &ContainerRecord, path: PathBuf) -> Result<LogSpec> {
    options(rec, path)
        .map_err(|m| EngineError::invalid(format!("failed to initialize logging driver: {m}")))
}

fn options(rec: &ContainerRecord, path: PathBuf) -> std::result::Result<LogSpec, String> {
    let lc = &rec.host_config.log_config;
    let local = lc.kind == "local";
    let opt = |k: &str| lc.config.get(k).map(String::as_str);
    let max_size = match opt("max-size") {
        None => None,
        Some(v) => Some(crate::util::parse_size(v).ok_or_else(|| format!("invalid size: '{v}'"))?),
    };
    let max_files = match opt("max-file") {
        None => None,
        Some(v) => {
            let n: i64 = v
                .parse()
                .map_err(|_| format!("strconv.Atoi: parsing {v:?}: invalid syntax"))?;
            if n < 1 {
                return Err("max-file cannot be less than 1".into());
            }
            Some(u32::try_from(n).unwrap_or(u32::MAX))
        }
    };
    let compress = match opt("compress") {
        None => local,
        Some(v) => parse_go_bool(v)
            .ok_or_else(|| format!("strconv.ParseBool: parsing {v:?}: invalid syntax"))?,
    };
    // dockerd refuses compression that has nothing to compress, each driver in its words.
    if compress && local && max_files == Some(1) {
        return Err("compression cannot be enabled when max file count is 1".into());
    }
    if compress && !local && (max_files.unwrap_or(1) < 2 || max_size.is_none()) {
        return Err(
            "compress cannot be true when max-file is less than 2 or max-size is not set".into(),
        );
    }
    let (default_size, default_files) = if local {
        (LOCAL_MAX_SIZE, LOCAL_MAX_FILES)
    } else {
        (JSON_FILE_MAX_SIZE, JSON_FILE_MAX_FILES)
    };
    Ok(LogSpec {
        path,
        max_size: max_size.unwrap_or(default_size),
        max_files: max_files.unwrap_or(default_files),
        disabled: disabled(rec),
        compress,
    })
}

/// Go's strconv.ParseBool.
fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

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
