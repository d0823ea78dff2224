//! The image config a build step produces, in dockerd's shapes: the `config` section with every
//! field the legacy builder writes (in its order, with its nulls), history entries with the
//! `#(nop)` texts `docker history` shows, and the Go formatting (`%q`, `%v`) those texts use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::runtime::defaults::DEFAULT_PATH;

/// The container config inside an image config, as docker's legacy builder writes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RunConfig {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub args_escaped: bool,
    pub image: String,
    pub volumes: Option<BTreeMap<String, Value>>,
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    pub on_build: Option<Vec<String>>,
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// The state of a stage's image between steps: what the next commit writes.
#[derive(Debug, Clone, Default)]
pub struct ImageState {
    pub architecture: String,
    pub variant: Option<String>,
    pub os: String,
    pub author: Option<String>,
    pub config: RunConfig,
    /// The history entries so far (the base image's first).
    pub history: Vec<Value>,
    pub diff_ids: Vec<String>,
}

impl ImageState {
    /// The state of a base image, from its config bytes; `scratch` is `None`.
    pub fn from_base(config: Option<&[u8]>) -> serde_json::Result<ImageState> {
        let Some(bytes) = config else {
            let host = crate::image::import::host_platform();
            return Ok(ImageState {
                architecture: host.architecture,
                variant: host.variant,
                os: "linux".into(),
                config: RunConfig {
                    env: Some(vec![format!("PATH={DEFAULT_PATH}")]),
                    ..RunConfig::default()
                },
                ..ImageState::default()
            });
        };
        let v: Value = serde_json::from_slice(bytes)?;
        let mut config: RunConfig = match v.get("config") {
            Some(c) if !c.is_null() => serde_json::from_value(strip_nulls(c.clone()))?,
            _ => RunConfig::default(),
        };
        // docker's builder gives every image a PATH (dispatchers.go: withDefaultPath...).
        let env = config.env.get_or_insert_with(Vec::new);
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.insert(0, format!("PATH={DEFAULT_PATH}"));
        }
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(ImageState {
            architecture: s("architecture").unwrap_or_else(|| "amd64".into()),
            variant: s("variant"),
            os: s("os").unwrap_or_else(|| "linux".into()),
            author: s("author"),
            config,
            history: v
                .get("history")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            diff_ids: v
                .pointer("/rootfs/diff_ids")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The image config bytes after a step: `created_by` appended to the history (with
    /// `empty_layer` when the step added no layer) and `new_layer` to the rootfs.
    pub fn commit_bytes(
        &mut self,
        parent: Option<&str>,
        created_by: &str,
        new_layer: Option<&str>,
        created: &str,
    ) -> Vec<u8> {
        let mut h = Map::new();
        h.insert("created".into(), json!(created));
        if let Some(a) = &self.author {
            h.insert("author".into(), json!(a));
        }
        h.insert("created_by".into(), json!(created_by));
        if new_layer.is_none() {
            h.insert("empty_layer".into(), json!(true));
        }
        self.history.push(Value::Object(h));
        if let Some(d) = new_layer {
            self.diff_ids.push(d.to_string());
        }
        self.config.image = parent.unwrap_or_default().to_string();
        let mut m = Map::new();
        m.insert("architecture".into(), json!(self.architecture));
        if let Some(a) = &self.author {
            m.insert("author".into(), json!(a));
        }
        m.insert(
            "config".into(),
            serde_json::to_value(&self.config).expect("config serialises"),
        );
        m.insert("created".into(), json!(created));
        m.insert(
            "docker_version".into(),
            json!(concat!("berth-", env!("CARGO_PKG_VERSION"))),
        );
        m.insert("history".into(), Value::Array(self.history.clone()));
        m.insert("os".into(), json!(self.os));
        m.insert(
            "rootfs".into(),
            json!({ "type": "layers", "diff_ids": self.diff_ids }),
        );
        if let Some(v) = &self.variant {
            m.insert("variant".into(), json!(v));
        }
        serde_json::to_vec(&Value::Object(m)).expect("json values serialise")
    }
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

/// Set `KEY=value` in an env list, replacing an earlier `KEY` in place (docker keeps the
/// position).
pub fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
    let entry = format!("{key}={value}");
    match env
        .iter_mut()
        .find(|e| e.split_once('=').map(|(k, _)| k) == Some(key) || e.as_str() == key)
    {
        Some(e) => *e = entry,
        None => env.push(entry),
    }
}

pub use crate::util::go::quote as go_quote;

/// Go's `%q` of a `[]string`: `["a" "b"]`.
pub fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// Go's `%v` of a `[]string`: `[a b]`.
pub fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// A Go `time.Duration` (nanoseconds) as Go prints it: "30s", "1m30s", "500ms", "0s".
pub fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let body = if u < 1_000 {
        format!("{u}ns")
    } else if u < 1_000_000 {
        trim_frac(u as f64 / 1e3, "µs")
    } else if u < 1_000_000_000 {
        trim_frac(u as f64 / 1e6, "ms")
    } else {
        let total_s = u / 1_000_000_000;
        let frac = u % 1_000_000_000;
        let h = total_s / 3600;
        let m = (total_s % 3600) / 60;
        let s = total_s % 60;
        let mut secs = s.to_string();
        if frac > 0 {
            let f = format!("{frac:09}");
            secs.push('.');
            secs.push_str(f.trim_end_matches('0'));
        }
        if h > 0 {
            format!("{h}h{m}m{secs}s")
        } else if m > 0 {
            format!("{m}m{secs}s")
        } else {
            format!("{secs}s")
        }
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

fn trim_frac(v: f64, unit: &str) -> String {
    let s = format!("{v:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{unit}")
}

/// A healthcheck config's `Test` (empty when it has none).
pub fn healthcheck_test(h: &Value) -> Vec<String> {
    h.get("Test")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The history text of a HEALTHCHECK step: the legacy builder prints the config struct with
/// `%q`: `HEALTHCHECK &{["CMD-SHELL" "curl x"] "30s" "3s" "0s" '\x03'}`.
pub fn healthcheck_history(h: &Value) -> String {
    let test = healthcheck_test(h);
    let d = |k: &str| go_quote(&go_duration(h.get(k).and_then(Value::as_i64).unwrap_or(0)));
    let retries = h.get("Retries").and_then(Value::as_i64).unwrap_or(0);
    let r = match char::from_u32(retries as u32) {
        Some(c) if !c.is_control() => format!("'{c}'"),
        _ => format!("'\\x{retries:02x}'"),
    };
    format!(
        "HEALTHCHECK &{{{} {} {} {} {}}}",
        go_quote_list(&test),
        d("Interval"),
        d("Timeout"),
        d("StartPeriod"),
        r
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_formats() {
        assert_eq!(go_quote_list(&["sh".into()]), r#"["sh"]"#);
        assert_eq!(
            go_quote_list(&["/bin/sh".into(), "-c".into(), "echo \"a\"".into()]),
            r#"["/bin/sh" "-c" "echo \"a\""]"#
        );
        assert_eq!(go_list(&["/data".into(), "/x".into()]), "[/data /x]");
        assert_eq!(go_duration(30_000_000_000), "30s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(500_000_000), "500ms");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
    }

    #[test]
    fn healthcheck_text_is_legacy_shaped() {
        let h = json!({"Test":["CMD-SHELL","true"],"Interval":5_000_000_000i64,"Timeout":3_000_000_000i64,"Retries":3});
        assert_eq!(
            healthcheck_history(&h),
            r#"HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "3s" "0s" '\x03'}"#
        );
    }

    #[test]
    fn base_state_gets_a_path_and_keeps_history() {
        let cfg = br#"{"architecture":"amd64","os":"linux","config":{"Env":["A=1"],"Cmd":["sh"]},"history":[{"created":"x","comment":"Imported from -"}],"rootfs":{"type":"layers","diff_ids":["sha256:aa"]}}"#;
        let mut s = ImageState::from_base(Some(cfg)).unwrap();
        assert_eq!(
            s.config.env.as_deref().unwrap()[0],
            format!("PATH={DEFAULT_PATH}")
        );
        let bytes = s.commit_bytes(
            Some("sha256:p"),
            "/bin/sh -c #(nop)  CMD [\"sh\"]",
            None,
            "t",
        );
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["history"].as_array().unwrap().len(), 2);
        assert_eq!(v["history"][1]["empty_layer"], json!(true));
        assert_eq!(v["config"]["Image"], json!("sha256:p"));
        assert_eq!(v["config"]["Entrypoint"], Value::Null);
        assert_eq!(v["rootfs"]["diff_ids"], json!(["sha256:aa"]));
        let mut env = vec!["A=1".to_string(), "B=2".to_string()];
        set_env(&mut env, "A", "3");
        assert_eq!(env, vec!["A=3", "B=2"]);
    }
}
