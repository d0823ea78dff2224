//! Interpolation of a file's values (compose-go's `interpolation` package and the loader's type
//! casts): every string value is substituted, keys are not; where the spec wants a number or a
//! boolean the substituted text is cast, so `ports: - target: ${PORT}` is a number again.

use super::path::Path;
use crate::compose::interpolate::{substitute, InterpolateError, Lookup};
use crate::compose::yaml::{Mark, Node, Value};

/// A substitution that failed: where, and compose-go's words for it.
#[derive(Debug)]
pub struct InterpError {
    pub mark: Mark,
    pub message: String,
}

/// compose-go's `interpolateTypeCastMapping`.
const CASTS: &[(&str, Cast)] = &[
    ("services.*.cpu_count", Cast::Int64),
    ("services.*.cpu_percent", Cast::Float),
    ("services.*.cpu_period", Cast::Int64),
    ("services.*.cpu_quota", Cast::Int64),
    ("services.*.cpu_rt_period", Cast::Int64),
    ("services.*.cpu_rt_runtime", Cast::Int64),
    ("services.*.cpus", Cast::Float),
    ("services.*.cpu_shares", Cast::Int64),
    ("services.*.init", Cast::Bool),
    ("services.*.deploy.replicas", Cast::Int),
    ("services.*.deploy.update_config.parallelism", Cast::Int),
    (
        "services.*.deploy.update_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.rollback_config.parallelism", Cast::Int),
    (
        "services.*.deploy.rollback_config.max_failure_ratio",
        Cast::Float,
    ),
    ("services.*.deploy.restart_policy.max_attempts", Cast::Int),
    (
        "services.*.deploy.placement.max_replicas_per_node",
        Cast::Int,
    ),
    ("services.*.healthcheck.retries", Cast::Int),
    ("services.*.healthcheck.disable", Cast::Bool),
    ("services.*.oom_kill_disable", Cast::Bool),
    ("services.*.oom_score_adj", Cast::Int64),
    ("services.*.pids_limit", Cast::Int64),
    ("services.*.ports.[].target", Cast::Int),
    ("services.*.privileged", Cast::Bool),
    ("services.*.read_only", Cast::Bool),
    ("services.*.scale", Cast::Int),
    ("services.*.stdin_open", Cast::Bool),
    ("services.*.tty", Cast::Bool),
    ("services.*.ulimits.*", Cast::Int),
    ("services.*.ulimits.*.hard", Cast::Int),
    ("services.*.ulimits.*.soft", Cast::Int),
    ("services.*.volumes.[].read_only", Cast::Bool),
    ("services.*.volumes.[].volume.nocopy", Cast::Bool),
    ("networks.*.external", Cast::Bool),
    ("networks.*.internal", Cast::Bool),
    ("networks.*.attachable", Cast::Bool),
    ("networks.*.enable_ipv4", Cast::Bool),
    ("networks.*.enable_ipv6", Cast::Bool),
    ("volumes.*.external", Cast::Bool),
    ("secrets.*.external", Cast::Bool),
    ("configs.*.external", Cast::Bool),
];

#[derive(Clone, Copy)]
enum Cast {
    /// Go's `strconv.Atoi`.
    Int,
    /// Go's `strconv.ParseInt(s, 10, 64)`: the same numbers, its own name in errors.
    Int64,
    Float,
    Bool,
}

/// Substitute every string value of `node` in place. `warn` hears of unset variables and of
/// YAML 1.1 booleans.
pub fn interpolate(
    node: &mut Node,
    lookup: &dyn Lookup,
    warn: &mut dyn FnMut(String),
) -> Result<(), InterpError> {
    walk(node, &Path::root(), lookup, warn)
}

fn walk(
    node: &mut Node,
    path: &Path,
    lookup: &dyn Lookup,
    warn: &mut dyn FnMut(String),
) -> Result<(), InterpError> {
    let mark = node.mark;
    match &mut node.value {
        Value::Str(text) => {
            let mut unset = |name: &str| warn(super::unset_warning(name));
            let substituted = substitute(text, lookup, &mut unset).map_err(|e| InterpError {
                mark,
                message: match e {
                    InterpolateError::InvalidTemplate { template } => format!(
                        "invalid interpolation format for {path}.\nYou may need to escape any $ with another $.\n{template}"
                    ),
                    other => format!("error while interpolating {path}: {other}"),
                },
            })?;
            node.value = match CASTS.iter().find(|(p, _)| path.matches(p)) {
                Some((_, cast)) => {
                    cast_value(*cast, &substituted, warn).map_err(|why| InterpError {
                        mark,
                        message: format!(
                        "error while interpolating {path}: failed to cast to expected type: {why}"
                    ),
                    })?
                }
                None => Value::Str(substituted),
            };
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &path.index(i), lookup, warn)?;
            }
        }
        Value::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                walk(value, &path.key(&key.name), lookup, warn)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn cast_value(cast: Cast, text: &str, warn: &mut dyn FnMut(String)) -> Result<Value, String> {
    match cast {
        Cast::Int | Cast::Int64 => {
            let func = if matches!(cast, Cast::Int) {
                "Atoi"
            } else {
                "ParseInt"
            };
            text.parse::<i64>().map(Value::Int).map_err(|e| {
                let why = match e.kind() {
                    std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                        "value out of range"
                    }
                    _ => "invalid syntax",
                };
                format!("strconv.{func}: parsing {text:?}: {why}")
            })
        }
        Cast::Float => text
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("strconv.ParseFloat: parsing {text:?}: invalid syntax")),
        Cast::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            "y" | "yes" | "on" => {
                warn(format!(
                    "{text:?} for boolean is not supported by YAML 1.2, please use `true`"
                ));
                Ok(Value::Bool(true))
            }
            "n" | "no" | "off" => {
                warn(format!(
                    "{text:?} for boolean is not supported by YAML 1.2, please use `false`"
                ));
                Ok(Value::Bool(false))
            }
            _ => Err(format!("invalid boolean: {text}")),
        },
    }
}
