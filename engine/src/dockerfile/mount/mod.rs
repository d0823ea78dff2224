//! `RUN --mount=...` specs, parsed with BuildKit's rules
//! (`frontend/dockerfile/instructions/commands_runmount.go`): a CSV list of `key=value` fields
//! (`type=cache|bind|tmpfs|secret`, `target`/`dst`/`destination`, `source`/`src`, `from`, `id`,
//! `sharing`, `mode`, `uid`, `gid`, `ro`/`readonly`, `rw`/`readwrite`, `size`, `required`, `env`),
//! with BuildKit's defaults (bind and secret mounts read-only, cache and tmpfs writable) and its
//! error messages. Values may use variables: the parser checks specs with their values as written
//! and the builder re-parses them with `Run::expand_mounts` once the step's variables are known.
//!
//! The Go library parsers the spec's fields go through (CSV, booleans, byte sizes) are in
//! `values`, so this module holds only BuildKit's own rules.

mod values;

#[cfg(test)]
mod tests;

use super::DockerfileError;
use values::{csv_fields, parse_go_bool, ram_in_bytes};

/// How concurrent builds share a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sharing {
    #[default]
    Shared,
    Private,
    Locked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMount {
    /// A persistent directory keyed by `id` (BuildKit's default id is the cleaned target).
    Cache {
        target: String,
        id: Option<String>,
        sharing: Sharing,
        /// Seed the cache from this stage/image (with `source` a path in it).
        from: Option<String>,
        source: Option<String>,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        read_only: bool,
    },
    /// A read-only (unless `rw`) view of the context, or of a stage/image with `from`.
    Bind {
        target: String,
        source: Option<String>,
        from: Option<String>,
        read_write: bool,
    },
    Tmpfs {
        target: String,
        /// Bytes (`size=64m` etc., docker's RAMInBytes).
        size: Option<u64>,
    },
    /// A build secret: `id` is resolved (the `id`, else `source`, else the target's base name);
    /// `target` as written (`None`: `/run/secrets/<id>`, unless `env` names a variable instead).
    Secret {
        id: String,
        target: Option<String>,
        env: Option<String>,
        required: bool,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
}

impl Type {
    fn name(self) -> &'static str {
        match self {
            Type::Bind => "bind",
            Type::Cache => "cache",
            Type::Tmpfs => "tmpfs",
            Type::Secret => "secret",
            Type::Ssh => "ssh",
        }
    }
}

/// Maps a `--mount` option value (variable expansion).
pub type ValueExpander<'a> = &'a dyn Fn(&str) -> Result<String, DockerfileError>;

/// Parse one `--mount` value. `expand` maps each value (variables); the parser passes `None`,
/// and then values that use a variable are only checked once expanded.
pub fn parse_mount(
    spec: &str,
    expand: Option<ValueExpander<'_>>,
) -> Result<RunMount, DockerfileError> {
    let err = |m: String| DockerfileError::plain(m);
    let fields = csv_fields(spec).map_err(|e| err(format!("failed to parse csv mounts: {e}")))?;
    let mut ty = Type::Bind;
    let (mut from, mut source, mut target, mut id, mut env) = (None, None, None, None, None);
    let mut sharing: Option<Sharing> = None;
    let (mut mode, mut uid, mut gid, mut size) = (None, None, None, None);
    let mut read_only = false;
    let mut ro_auto = true;
    let mut required = false;
    // A value using a variable was left for the expanding parse.
    let mut deferred = false;

    for field in &fields {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v)),
            None => (field.to_ascii_lowercase(), None),
        };
        let Some(value) = value else {
            match key.as_str() {
                "readonly" | "ro" => {
                    read_only = true;
                    ro_auto = false;
                }
                "readwrite" | "rw" => {
                    read_only = false;
                    ro_auto = false;
                }
                "required" => {
                    if matches!(ty, Type::Secret | Type::Ssh) {
                        required = true;
                    } else {
                        return Err(err(format!(
                            "unexpected key '{key}' for mount type '{}'",
                            ty.name()
                        )));
                    }
                }
                _ => {
                    return Err(err(format!(
                        "invalid field '{field}' must be a key=value pair"
                    )))
                }
            }
            continue;
        };
        if key == "from" {
            if let Some(i) = value.find('$') {
                if i != value.len() - 1 {
                    return Err(err(format!(
                        "'{key}' doesn't support variable expansion, define alias stage instead"
                    )));
                }
            }
        }
        let value = match expand {
            Some(f) => f(value)?,
            // Unexpanded: a value with a variable is checked later, with its variables known.
            None if value.contains('$') && key != "from" => {
                if !KEYS.contains(&key.as_str()) {
                    return Err(err(format!("unexpected key '{key}' in '{field}'")));
                }
                deferred = true;
                continue;
            }
            None => value.to_string(),
        };
        let bad = |k: &str, v: &str| err(format!("invalid value for {k}: {v}"));
        match key.as_str() {
            "type" => {
                ty = match value.to_ascii_lowercase().as_str() {
                    "bind" => Type::Bind,
                    "cache" => Type::Cache,
                    "tmpfs" => Type::Tmpfs,
                    "secret" => Type::Secret,
                    "ssh" => Type::Ssh,
                    _ => return Err(err(format!("unsupported mount type {value:?}"))),
                }
            }
            "from" => from = Some(value),
            "source" | "src" => source = Some(value),
            "target" | "dst" | "destination" => target = Some(value),
            "readonly" | "ro" => {
                read_only = parse_go_bool(&value).ok_or_else(|| bad(&key, &value))?;
                ro_auto = false;
            }
            "readwrite" | "rw" => {
                read_only = !parse_go_bool(&value).ok_or_else(|| bad(&key, &value))?;
                ro_auto = false;
            }
            "required" => {
                if matches!(ty, Type::Secret | Type::Ssh) {
                    required = parse_go_bool(&value).ok_or_else(|| bad(&key, &value))?;
                } else {
                    return Err(err(format!(
                        "unexpected key '{key}' for mount type '{}'",
                        ty.name()
                    )));
                }
            }
            "size" => {
                if ty == Type::Tmpfs {
                    size = Some(ram_in_bytes(&value).ok_or_else(|| bad(&key, &value))?);
                } else {
                    return Err(err(format!(
                        "unexpected key '{key}' for mount type '{}'",
                        ty.name()
                    )));
                }
            }
            "id" => id = Some(value),
            "sharing" => {
                sharing = Some(match value.to_ascii_lowercase().as_str() {
                    "shared" => Sharing::Shared,
                    "private" => Sharing::Private,
                    "locked" => Sharing::Locked,
                    _ => return Err(err(format!("unsupported sharing value {value:?}"))),
                })
            }
            "mode" => {
                mode = Some(
                    u32::from_str_radix(&value, 8)
                        .map_err(|_| err(format!("invalid value {value} for mode")))?,
                )
            }
            "uid" => {
                uid = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| err(format!("invalid value {value} for uid")))?,
                )
            }
            "gid" => {
                gid = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| err(format!("invalid value {value} for gid")))?,
                )
            }
            "env" => env = Some(value),
            _ => return Err(err(format!("unexpected key '{key}' in '{field}'"))),
        }
    }

    let file_info_allowed = matches!(ty, Type::Secret | Type::Ssh | Type::Cache);
    if !file_info_allowed {
        for (name, set) in [
            ("mode", mode.is_some()),
            ("uid", uid.is_some()),
            ("gid", gid.is_some()),
        ] {
            if set {
                return Err(err(format!(
                    "{name} not allowed for \"{}\" type mounts",
                    ty.name()
                )));
            }
        }
    }
    if ro_auto {
        read_only = !matches!(ty, Type::Cache | Type::Tmpfs);
    }
    if ty == Type::Secret {
        if from.is_some() {
            return Err(err("secret mount should not have a from".into()));
        }
        if sharing.is_some() {
            return Err(err("secret mount should not define sharing".into()));
        }
        if source.is_none() && target.is_none() && id.is_none() && !deferred {
            return Err(err(
                "invalid secret mount. one of source, target required".into()
            ));
        }
        if source.is_some() && id.is_some() {
            return Err(err("both source and id can't be set".into()));
        }
    }
    if sharing.is_some() && ty != Type::Cache {
        return Err(err(format!(
            "invalid cache sharing set for {} mount",
            ty.name()
        )));
    }
    // A target that still holds a variable is filled in by the expanding parse.
    let target_or = |t: Option<String>| -> Result<String, DockerfileError> {
        match t {
            Some(t) if !t.is_empty() => Ok(t),
            _ if deferred => Ok(String::new()),
            _ => Err(err(format!("mount type {} requires a target", ty.name()))),
        }
    };
    Ok(match ty {
        Type::Bind => RunMount::Bind {
            target: target_or(target)?,
            source,
            from,
            read_write: !read_only,
        },
        Type::Cache => RunMount::Cache {
            target: target_or(target)?,
            id,
            sharing: sharing.unwrap_or_default(),
            from,
            source,
            mode,
            uid,
            gid,
            read_only,
        },
        Type::Tmpfs => RunMount::Tmpfs {
            target: target_or(target)?,
            size,
        },
        Type::Secret => {
            let base = |t: &str| {
                t.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string()
            };
            let id = id
                .or_else(|| source.clone())
                .or_else(|| target.as_deref().map(base))
                .unwrap_or_default();
            RunMount::Secret {
                id,
                target,
                env,
                required,
                mode,
                uid,
                gid,
            }
        }
        Type::Ssh => {
            return Err(err(
                "RUN --mount=type=ssh is not supported: berth builds have no SSH agent forwarding"
                    .into(),
            ))
        }
    })
}

const KEYS: &[&str] = &[
    "type",
    "from",
    "source",
    "target",
    "readonly",
    "id",
    "sharing",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "src",
    "dst",
    "destination",
    "ro",
    "rw",
    "readwrite",
    "env",
];
