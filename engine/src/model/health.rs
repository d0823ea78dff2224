//! The healthcheck as configured: docker's HealthConfig (from clients, image configs and the
//! Dockerfile's HEALTHCHECK instruction), its validation and its merge with the image's.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use super::go_json::null_as_default;
use crate::error::{EngineError, Result};

/// Smallest positive duration accepted (docker's MinimumDuration).
const MIN_DURATION_NS: i64 = 1_000_000;

/// docker's StrSlice: a string or an array of strings; null is empty.
fn str_or_vec<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    super::container::str_or_vec(d).map(Option::unwrap_or_default)
}

/// docker's HealthConfig as sent by clients and stored in image configs (durations in ns). A
/// `null` field is zero, as in Go: docker-compose 1.29 sends `"Interval": null` and the like.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    #[serde(deserialize_with = "str_or_vec")]
    pub test: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub interval: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub timeout: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub start_period: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub start_interval: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub retries: i64,
}

impl HealthConfig {
    pub fn from_value(v: &Value) -> Result<HealthConfig> {
        serde_json::from_value(v.clone())
            .map_err(|e| EngineError::invalid(format!("invalid Healthcheck: {e}")))
    }

    /// docker's wire shape (zero values left out, as Go's omitempty does).
    pub fn to_value(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("Test".into(), json!(self.test));
        for (k, v) in [
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
            ("Retries", self.retries),
        ] {
            if v != 0 {
                m.insert(k.into(), json!(v));
            }
        }
        Value::Object(m)
    }

    /// Create-time checks (docker's validateHealthCheck, plus a known test kind).
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
        ] {
            if v != 0 && v < MIN_DURATION_NS {
                return Err(EngineError::invalid(format!(
                    "{name} in Healthcheck cannot be less than 1ms"
                )));
            }
        }
        if self.retries < 0 {
            return Err(EngineError::invalid(
                "Retries in Healthcheck cannot be negative",
            ));
        }
        match self.test.first().map(String::as_str) {
            None | Some("NONE") => Ok(()),
            Some("CMD") | Some("CMD-SHELL") if self.test.len() >= 2 => Ok(()),
            Some(kind @ ("CMD" | "CMD-SHELL")) => Err(EngineError::invalid(format!(
                "Healthcheck.Test {kind} needs a command"
            ))),
            Some(other) => Err(EngineError::invalid(format!(
                "unknown Healthcheck.Test type {other:?}: use NONE, CMD or CMD-SHELL"
            ))),
        }
    }
}

/// Validate a create request's `Healthcheck` (None = inherit the image's).
pub fn validate(v: Option<&Value>) -> Result<()> {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(v) => HealthConfig::from_value(v)?.validate(),
    }
}

/// docker's merge of the request's healthcheck with the image's: a missing one is inherited
/// whole; zero fields (and an empty Test) take the image's values.
pub fn merge(user: Option<Value>, image: Option<&Value>) -> Result<Option<Value>> {
    let user = user.filter(|v| !v.is_null());
    let Some(user) = user else {
        return Ok(image.filter(|v| !v.is_null()).cloned());
    };
    let Some(image) = image.filter(|v| !v.is_null()) else {
        // Stored in docker's shape: nulls and unknown fields dropped, as Go's decoding does.
        return Ok(Some(HealthConfig::from_value(&user)?.to_value()));
    };
    let mut u = HealthConfig::from_value(&user)?;
    // A malformed image healthcheck is ignored rather than making the image unusable.
    let Ok(i) = HealthConfig::from_value(image) else {
        return Ok(Some(u.to_value()));
    };
    if u.test.is_empty() {
        u.test = i.test;
    }
    for (mine, theirs) in [
        (&mut u.interval, i.interval),
        (&mut u.timeout, i.timeout),
        (&mut u.start_period, i.start_period),
        (&mut u.start_interval, i.start_interval),
        (&mut u.retries, i.retries),
    ] {
        if *mine == 0 {
            *mine = theirs;
        }
    }
    Ok(Some(u.to_value()))
}

/// Go's `time.Duration.String()` for the durations shown to users ("300ms", "1m30s").
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    let trim = |v: f64| {
        let s = format!("{v:.9}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    };
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", trim(ns as f64 / 1e3));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", trim(ns as f64 / 1e6));
    }
    let total_secs = d.as_secs();
    let (h, m) = (total_secs / 3600, (total_secs % 3600) / 60);
    let s = (total_secs % 60) as f64 + f64::from(d.subsec_nanos()) / 1e9;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{}s", trim(s)));
    out
}

/// `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D]
/// [--retries=N] CMD command` or `HEALTHCHECK NONE` (a Dockerfile instruction, for
/// `import --change`), as the image config's `Healthcheck`.
pub fn parse_instruction(rest: &str) -> Result<Value> {
    let mut cfg = HealthConfig::default();
    let mut rest = rest.trim();
    while let Some(opt) = rest.strip_prefix("--") {
        let end = opt.find(char::is_whitespace).unwrap_or(opt.len());
        let (flag, after) = opt.split_at(end);
        rest = after.trim_start();
        let (name, value) = flag.split_once('=').ok_or_else(|| {
            EngineError::invalid(format!("HEALTHCHECK option --{flag} needs a value"))
        })?;
        let dur = || {
            crate::util::parse_go_duration(value)
                .filter(|d| *d >= 0)
                .ok_or_else(|| {
                    EngineError::invalid(format!(
                        "HEALTHCHECK --{name}: time: invalid duration \"{value}\""
                    ))
                })
        };
        match name {
            "interval" => cfg.interval = dur()?,
            "timeout" => cfg.timeout = dur()?,
            "start-period" => cfg.start_period = dur()?,
            "start-interval" => cfg.start_interval = dur()?,
            "retries" => {
                cfg.retries = value.parse().map_err(|_| {
                    EngineError::invalid(format!("HEALTHCHECK --retries: invalid number {value:?}"))
                })?
            }
            other => {
                return Err(EngineError::invalid(format!(
                    "Unknown flag: {other} in HEALTHCHECK"
                )))
            }
        }
    }
    let (kind, cmd) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    match kind.to_ascii_uppercase().as_str() {
        "NONE" => {
            if !cmd.is_empty() {
                return Err(EngineError::invalid("HEALTHCHECK NONE takes no arguments"));
            }
            cfg = HealthConfig {
                test: vec!["NONE".into()],
                ..HealthConfig::default()
            };
        }
        "CMD" => {
            if cmd.is_empty() {
                return Err(EngineError::invalid(
                    "Missing command after HEALTHCHECK CMD",
                ));
            }
            cfg.test = match serde_json::from_str::<Vec<String>>(cmd) {
                Ok(argv) if cmd.starts_with('[') => {
                    let mut t = vec!["CMD".to_string()];
                    t.extend(argv);
                    t
                }
                _ => vec!["CMD-SHELL".into(), cmd.into()],
            };
        }
        other => {
            return Err(EngineError::invalid(format!(
                "Unknown type {other:?} in HEALTHCHECK (try CMD)"
            )))
        }
    }
    cfg.validate()?;
    Ok(cfg.to_value())
}
