//! Several compose files merged into one model by the Compose Specification's rules, ported
//! from compose-go's `override` package: mappings merge key by key, sequences append, scalars
//! are replaced; some paths have their own rule (command and entrypoint are replaced whole,
//! environment and labels merge as `KEY=VALUE` lists, networks and depends_on merge as
//! mappings, logging restarts when the driver changes). [`enforce_unicity`] then keeps one
//! entry per key in the lists where a later file's entry replaces an earlier one (ports by
//! binding, volumes by target, environment by name, …).

use serde_json::{json, Map, Value};

use super::path::Path;
use super::transform::go_sprint;
use super::volume::parse_volume;

type Merger = fn(Value, Value, &Path) -> Result<Value, String>;

const SPECIALS: &[(&str, Merger)] = &[
    ("networks.*.ipam.config", merge_ipam_config),
    ("networks.*.labels", merge_to_sequence),
    ("volumes.*.labels", merge_to_sequence),
    ("services.*.annotations", merge_to_sequence),
    ("services.*.build", merge_build),
    ("services.*.build.args", merge_to_sequence),
    ("services.*.build.additional_contexts", merge_to_sequence),
    ("services.*.build.extra_hosts", merge_extra_hosts),
    ("services.*.build.labels", merge_to_sequence),
    ("services.*.command", replace),
    ("services.*.depends_on", merge_depends_on),
    ("services.*.deploy.labels", merge_to_sequence),
    ("services.*.dns", merge_to_sequence),
    ("services.*.dns_opt", merge_to_sequence),
    ("services.*.dns_search", merge_to_sequence),
    ("services.*.entrypoint", replace),
    ("services.*.env_file", merge_to_sequence),
    ("services.*.label_file", merge_to_sequence),
    ("services.*.environment", merge_to_sequence),
    ("services.*.extra_hosts", merge_extra_hosts),
    ("services.*.healthcheck.test", replace),
    ("services.*.labels", merge_to_sequence),
    ("services.*.volumes.*.volume.labels", merge_to_sequence),
    ("services.*.logging", merge_logging),
    ("services.*.models", merge_as_mapping),
    ("services.*.networks", merge_as_mapping),
    ("services.*.sysctls", merge_to_sequence),
    ("services.*.tmpfs", merge_to_sequence),
    ("services.*.ulimits.*", merge_ulimit),
];

/// The path a merge error (`cannot override services.a.deploy`) is about.
pub fn overridden(message: &str) -> Option<Path> {
    message.strip_prefix("cannot override ").map(Path::parse)
}

/// `right` (the model so far) with `left` (the next file) merged over it.
pub fn merge(right: Value, left: Value) -> Result<Value, String> {
    merge_yaml(right, left, &Path::root())
}

fn merge_yaml(e: Value, o: Value, p: &Path) -> Result<Value, String> {
    if let Some((_, merger)) = SPECIALS.iter().find(|(pattern, _)| p.matches(pattern)) {
        return merger(e, o, p);
    }
    if o.is_null() {
        return Ok(e);
    }
    match e {
        Value::Object(mapping) => match o {
            Value::Object(other) => merge_mappings(mapping, other, p).map(Value::Object),
            _ => Err(format!("cannot override {p}")),
        },
        Value::Array(mut seq) => match o {
            Value::Array(other) => {
                seq.extend(other);
                Ok(Value::Array(seq))
            }
            _ => Err(format!("cannot override {p}")),
        },
        _ => Ok(o),
    }
}

fn merge_mappings(
    mut mapping: Map<String, Value>,
    other: Map<String, Value>,
    p: &Path,
) -> Result<Map<String, Value>, String> {
    for (k, v) in other {
        match mapping.remove(&k) {
            None => {
                mapping.insert(k, v);
            }
            Some(e) => {
                let merged = merge_yaml(e, v, &p.key(&k))?;
                mapping.insert(k, merged);
            }
        }
    }
    Ok(mapping)
}

fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn merge_logging(c: Value, o: Value, p: &Path) -> Result<Value, String> {
    let (config, other) = (as_map(c), as_map(o));
    match (other.get("driver"), config.get("driver")) {
        (Some(d), Some(o)) if d != o => Ok(Value::Object(other)),
        _ => merge_mappings(config, other, p).map(Value::Object),
    }
}

fn merge_build(c: Value, o: Value, p: &Path) -> Result<Value, String> {
    let to_build = |v: Value| match v {
        Value::String(s) => {
            let mut m = Map::new();
            m.insert("context".into(), json!(s));
            m
        }
        other => as_map(other),
    };
    merge_mappings(to_build(c), to_build(o), p).map(Value::Object)
}

fn merge_depends_on(c: Value, o: Value, p: &Path) -> Result<Value, String> {
    let default = json!({"condition": "service_started", "required": true});
    let right = into_mapping(c, Some(&default));
    let left = into_mapping(o, Some(&default));
    merge_mappings(right, left, p).map(Value::Object)
}

fn merge_as_mapping(c: Value, o: Value, p: &Path) -> Result<Value, String> {
    merge_mappings(into_mapping(c, None), into_mapping(o, None), p).map(Value::Object)
}

fn merge_extra_hosts(c: Value, o: Value, _: &Path) -> Result<Value, String> {
    let mut right = into_sequence(c);
    let left: Vec<Value> = into_sequence(o)
        .into_iter()
        .filter(|v| !right.contains(v))
        .collect();
    right.extend(left);
    Ok(Value::Array(right))
}

fn merge_to_sequence(c: Value, o: Value, _: &Path) -> Result<Value, String> {
    let mut right = into_sequence(c);
    right.extend(into_sequence(o));
    Ok(Value::Array(right))
}

/// A `KEY: value` mapping as a sorted `KEY=value` list (a null value gives the bare key).
fn into_sequence(value: Value) -> Vec<Value> {
    match value {
        Value::Object(m) => {
            let mut seq: Vec<String> = Vec::new();
            for (k, v) in m {
                match v {
                    Value::Null => seq.push(k),
                    Value::Array(items) => {
                        seq.extend(items.iter().map(|i| format!("{k}={}", go_sprint(i))))
                    }
                    other => seq.push(format!("{k}={}", go_sprint(&other))),
                }
            }
            seq.sort();
            seq.into_iter().map(Value::String).collect()
        }
        Value::Array(items) => items,
        Value::String(s) => vec![Value::String(s)],
        _ => Vec::new(),
    }
}

fn merge_ulimit(_: Value, o: Value, _: &Path) -> Result<Value, String> {
    Ok(o)
}

fn merge_ipam_config(c: Value, o: Value, p: &Path) -> Result<Value, String> {
    let (Value::Array(configs), Value::Array(overrides)) = (c, o) else {
        return Err(format!("{p}: unexpected type"));
    };
    let mut out: Vec<Map<String, Value>> = Vec::new();
    for original in configs {
        let right = into_mapping(original, None);
        for over in &overrides {
            let left = into_mapping(over.clone(), None);
            if left.get("subnet") != right.get("subnet")
                && !out.iter().any(|a| a.get("subnet") == left.get("subnet"))
            {
                out.push(left);
                continue;
            }
            let merged = merge_mappings(right.clone(), left, p)?;
            match out
                .iter()
                .position(|a| a.get("subnet") == merged.get("subnet"))
            {
                Some(i) => out[i] = merged,
                None => out.push(merged),
            }
        }
    }
    Ok(Value::Array(out.into_iter().map(Value::Object).collect()))
}

fn into_mapping(a: Value, default: Option<&Value>) -> Map<String, Value> {
    match a {
        Value::Object(m) => m,
        Value::Array(items) => items
            .into_iter()
            .map(|s| (go_sprint(&s), default.cloned().unwrap_or(Value::Null)))
            .collect(),
        _ => Map::new(),
    }
}

fn replace(_: Value, other: Value, _: &Path) -> Result<Value, String> {
    Ok(other)
}

type Indexer = fn(&Value, &Path) -> Result<String, String>;

const UNIQUE: &[(&str, Indexer)] = &[
    ("networks.*.labels", key_value_index),
    ("networks.*.ipam.options", key_value_index),
    ("services.*.annotations", key_value_index),
    ("services.*.build.args", key_value_index),
    ("services.*.build.additional_contexts", key_value_index),
    ("services.*.build.platform", key_value_index),
    ("services.*.build.tags", key_value_index),
    ("services.*.build.labels", key_value_index),
    ("services.*.cap_add", key_value_index),
    ("services.*.cap_drop", key_value_index),
    ("services.*.devices", device_index),
    ("services.*.configs", config_mount_index),
    ("services.*.deploy.labels", key_value_index),
    ("services.*.dns", key_value_index),
    ("services.*.dns_opt", key_value_index),
    ("services.*.dns_search", key_value_index),
    ("services.*.environment", key_value_index),
    ("services.*.env_file", env_file_index),
    ("services.*.expose", expose_index),
    ("services.*.labels", key_value_index),
    ("services.*.links", key_value_index),
    ("services.*.networks.*.aliases", key_value_index),
    ("services.*.networks.*.link_local_ips", key_value_index),
    ("services.*.ports", port_index),
    ("services.*.profiles", key_value_index),
    ("services.*.secrets", secret_mount_index),
    ("services.*.sysctls", key_value_index),
    ("services.*.tmpfs", key_value_index),
    ("services.*.volumes", volume_index),
];

/// compose-go's `EnforceUnicity`: in the listed sequences a later entry with the same key
/// replaces the earlier one in place. An entry that has no key (a volume spec that does not
/// parse) is refused with its path.
pub fn enforce_unicity(value: Value) -> Result<Value, (Path, String)> {
    unicity(value, &Path::root())
}

fn unicity(value: Value, p: &Path) -> Result<Value, (Path, String)> {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let next = p.key(&k);
                out.insert(k, unicity(v, &next)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => {
            let Some((_, indexer)) = UNIQUE.iter().find(|(pattern, _)| p.matches(pattern)) else {
                return Ok(Value::Array(items));
            };
            let mut seq: Vec<Value> = Vec::new();
            let mut keys: Vec<(String, usize)> = Vec::new();
            for (i, entry) in items.into_iter().enumerate() {
                let at = p.index(i);
                let key = indexer(&entry, &at).map_err(|m| (at, m))?;
                match keys.iter().find(|(k, _)| *k == key) {
                    Some((_, j)) => seq[*j] = entry,
                    None => {
                        keys.push((key, seq.len()));
                        seq.push(entry);
                    }
                }
            }
            Ok(Value::Array(seq))
        }
        other => Ok(other),
    }
}

fn key_value_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.split_once('=').map_or(s.as_str(), |(k, _)| k).to_string()),
        other => Err(format!("{p}: unexpected type {}", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn volume_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::Object(m) => match m.get("target") {
            Some(Value::String(t)) => Ok(t.clone()),
            _ => Err(format!("service volume {p} is missing a mount target")),
        },
        Value::String(s) => Ok(parse_volume(s)?["target"]
            .as_str()
            .unwrap_or_default()
            .to_string()),
        _ => Ok(String::new()),
    }
}

fn device_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::Object(m) => match m.get("target") {
            Some(Value::String(t)) => Ok(t.clone()),
            _ => Err(format!("service device {p} is missing a mount target")),
        },
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            Ok(parts.get(1).unwrap_or(&parts[0]).to_string())
        }
        _ => Ok(String::new()),
    }
}

fn expose_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("{p}: unsupported expose value {other}")),
    }
}

fn mount_index(default_path: &str, v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(format!("{default_path}/{s}")),
        Value::Object(m) => match m.get("target") {
            Some(t) => Ok(go_sprint(t)),
            None => Ok(format!(
                "{default_path}/{}",
                m.get("source").map(go_sprint).unwrap_or_default()
            )),
        },
        other => Err(format!("{p}: unsupported expose value {other}")),
    }
}

fn config_mount_index(v: &Value, p: &Path) -> Result<String, String> {
    mount_index("", v, p)
}

fn secret_mount_index(v: &Value, p: &Path) -> Result<String, String> {
    mount_index("/run/secrets", v, p)
}

fn port_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::Object(m) => {
            let target = m
                .get("target")
                .ok_or_else(|| format!("service ports {p} is missing a target port"))?;
            let published = m
                .get("published")
                .map(go_sprint)
                .unwrap_or("%!s(<nil>)".into());
            let host = m.get("host_ip").map(go_sprint).unwrap_or("0.0.0.0".into());
            let protocol = m.get("protocol").map(go_sprint).unwrap_or("tcp".into());
            Ok(format!(
                "{host}:{published}:{}/{protocol}",
                go_sprint(target)
            ))
        }
        Value::String(s) => Ok(s.clone()),
        _ => Ok(String::new()),
    }
}

fn env_file_index(v: &Value, p: &Path) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Object(m) => match m.get("path") {
            Some(path) => Ok(go_sprint(path)),
            None => Err(format!("environment path attribute {p} is missing")),
        },
        _ => Ok(String::new()),
    }
}

/// compose-go's `ExtendService`: a service merged over the one it extends, by the same rules as
/// a later file over an earlier one.
pub fn extend_service(base: Value, over: Value) -> Result<Value, String> {
    merge_yaml(base, over, &Path::root().key("services").key("x"))
}
