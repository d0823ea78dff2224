//! compose-go's `transform` package: every short syntax rewritten into its long form (the
//! "canonical" model), then the defaults compose fills in (`SetDefaultValues`). Both walk the
//! model and apply the rule registered for the first path pattern that matches.

use serde_json::{json, Map, Value};

use super::path::Path;
use super::ports::parse_port_config;
use super::volume::parse_volume;

/// A rule failed: where, and why.
pub type TransformError = (Path, String);

type Rule = fn(Value, &Path) -> Result<Value, TransformError>;

const CANONICAL: &[(&str, Rule)] = &[
    ("services.*", transform_mapping_rule),
    ("services.*.build.secrets.*", file_mount),
    ("services.*.build.provenance", string_or_x),
    ("services.*.build.sbom", string_or_x),
    ("services.*.build.additional_contexts", key_value),
    ("services.*.depends_on", depends_on),
    ("services.*.env_file", env_file),
    ("services.*.label_file", string_or_list),
    ("services.*.extends", extends),
    ("services.*.gpus", gpus),
    ("services.*.networks", string_slice_to_map),
    ("services.*.models", string_slice_to_map),
    ("services.*.volumes.*", volume_mount),
    ("services.*.dns", string_or_list),
    ("services.*.devices.*", device_mapping),
    ("services.*.secrets.*", file_mount),
    ("services.*.configs.*", file_mount),
    ("services.*.ports", ports),
    ("services.*.build", build),
    ("services.*.build.ssh", ssh),
    ("services.*.ulimits.*", ulimits),
    ("services.*.build.ulimits.*", ulimits),
    ("services.*.develop.watch.*.ignore", string_or_list),
    ("services.*.develop.watch.*.include", string_or_list),
    ("volumes.*", maybe_external),
    ("networks.*", maybe_external),
    ("secrets.*", maybe_external),
    ("configs.*", maybe_external),
    ("include.*", include),
];

const DEFAULTS: &[(&str, Rule)] = &[
    ("services.*.build", default_build_context),
    ("services.*.secrets.*", default_secret_mount),
    ("services.*.ports.*", port_defaults),
    (
        "services.*.deploy.resources.reservations.devices.*",
        device_request_defaults,
    ),
    ("services.*.gpus.*", device_request_defaults),
];

/// The canonical (long-form) model.
pub fn canonical(model: Value) -> Result<Value, TransformError> {
    apply(CANONICAL, model, &Path::root())
}

/// The model with compose's defaults filled in.
pub fn set_defaults(model: Value) -> Result<Value, TransformError> {
    apply(DEFAULTS, model, &Path::root())
}

fn apply(rules: &[(&str, Rule)], data: Value, p: &Path) -> Result<Value, TransformError> {
    match rules.iter().find(|(pattern, _)| p.matches(pattern)) {
        Some((_, rule)) => rule(data, p),
        None => descend_with(rules, data, p),
    }
}

fn descend_with(rules: &[(&str, Rule)], data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let next = p.key(&k);
                out.insert(k, apply(rules, v, &next)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| apply(rules, v, &p.index(i)))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other),
    }
}

/// Go on below a value a canonical rule has handled (compose-go's `transformMapping`); only
/// canonical rules descend, the defaults never do.
fn descend(data: Value, p: &Path) -> Result<Value, TransformError> {
    descend_with(CANONICAL, data, p)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn transform_mapping_rule(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(_) => descend(data, p),
        other => Ok(other),
    }
}

fn string_or_list(data: Value, _: &Path) -> Result<Value, TransformError> {
    Ok(match data {
        Value::String(s) => json!([s]),
        other => other,
    })
}

fn string_or_x(data: Value, _: &Path) -> Result<Value, TransformError> {
    Ok(match data {
        Value::String(s) => Value::String(s),
        other => Value::String(go_sprint(&other)),
    })
}

/// Go's `fmt.Sprint` of a scalar.
pub fn go_sprint(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

fn key_value(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(_) => Ok(data),
        Value::Array(items) => {
            let mut map = Map::new();
            for e in items {
                let s = go_sprint(&e);
                match s.split_once('=') {
                    Some((k, v)) => map.insert(k.to_string(), json!(v)),
                    None => {
                        return Err((p.clone(), format!("invalid value {s}, expected key=value")))
                    }
                };
            }
            Ok(Value::Object(map))
        }
        other => Err((p.clone(), format!("invalid type {}", type_name(&other)))),
    }
}

fn depends_on(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(mut map) => {
            for (name, e) in map.iter_mut() {
                let Value::Object(d) = e else {
                    return Err((p.key(name), format!("unsupported value {e}")));
                };
                d.entry("condition").or_insert(json!("service_started"));
                d.entry("required").or_insert(json!(true));
            }
            Ok(Value::Object(map))
        }
        Value::Array(items) => {
            let mut map = Map::new();
            for k in items {
                map.insert(
                    go_sprint(&k),
                    json!({"condition": "service_started", "required": true}),
                );
            }
            Ok(Value::Object(map))
        }
        other => Err((
            p.clone(),
            format!("invalid type {} for depend_on", type_name(&other)),
        )),
    }
}

fn env_file_value(v: Value) -> Value {
    match v {
        Value::String(s) => json!({"path": s, "required": true}),
        Value::Object(mut m) => {
            m.entry("required").or_insert(json!(true));
            Value::Object(m)
        }
        _ => Value::Null,
    }
}

fn env_file(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::String(_) => Ok(json!([env_file_value(data)])),
        Value::Array(items) => Ok(Value::Array(
            items.into_iter().map(env_file_value).collect(),
        )),
        other => Err((
            p.clone(),
            format!("invalid type {} for env_file", type_name(&other)),
        )),
    }
}

fn extends(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(_) => descend(data, p),
        Value::String(s) => Ok(json!({"service": s})),
        other => Err((
            p.clone(),
            format!("invalid type {} for extends", type_name(&other)),
        )),
    }
}

fn gpus(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Array(_) => descend(data, p),
        Value::String(_) => Ok(json!([{"count": "all"}])),
        other => Err((
            p.clone(),
            format!("invalid type {} for gpus", type_name(&other)),
        )),
    }
}

fn string_slice_to_map(data: Value, _: &Path) -> Result<Value, TransformError> {
    Ok(match data {
        Value::Array(items) => Value::Object(
            items
                .into_iter()
                .map(|n| (go_sprint(&n), Value::Null))
                .collect(),
        ),
        other => other,
    })
}

fn volume_mount(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(_) => Ok(data),
        Value::String(s) => {
            let mut v = parse_volume(&s).map_err(|e| (p.clone(), e))?;
            if let Some(Value::String(t)) = v.get("target") {
                let cleaned = clean_path(t);
                v["target"] = json!(cleaned);
            }
            Ok(v)
        }
        other => Err((
            p.clone(),
            format!(
                "invalid type {} for service volume mount",
                type_name(&other)
            ),
        )),
    }
}

/// Go's `path.Clean` (lexical: `.`/`..` folded, duplicate and trailing slashes removed).
pub fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return String::new();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn device_mapping(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(_) => Ok(data),
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            let (src, mut dst, perms) = match parts.as_slice() {
                [a] => (*a, "", "rwm"),
                [a, b] => (*a, *b, "rwm"),
                [a, b, c] => (*a, *b, *c),
                _ => {
                    return Err((
                        p.clone(),
                        format!("confusing device mapping, please use long syntax: {s}"),
                    ))
                }
            };
            if dst.is_empty() {
                dst = src;
            }
            Ok(json!({"source": src, "target": dst, "permissions": perms}))
        }
        other => Err((
            p.clone(),
            format!(
                "invalid type {} for service volume mount",
                type_name(&other)
            ),
        )),
    }
}

fn file_mount(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(_) => Ok(data),
        Value::String(s) => Ok(json!({"source": s})),
        other => Err((p.clone(), format!("unsupported type {}", type_name(&other)))),
    }
}

fn ports(data: Value, p: &Path) -> Result<Value, TransformError> {
    let Value::Array(entries) = data else {
        return Err((
            p.clone(),
            format!("invalid type {} for port", type_name(&data)),
        ));
    };
    let mut out = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        match entry {
            Value::Number(n) => {
                out.extend(parse_port_config(&n.to_string()).map_err(|e| (p.index(i), e))?)
            }
            Value::String(s) => out.extend(parse_port_config(&s).map_err(|e| (p.index(i), e))?),
            Value::Object(_) => out.push(entry),
            other => {
                return Err((
                    p.clone(),
                    format!("invalid type {} for port", type_name(&other)),
                ))
            }
        }
    }
    Ok(Value::Array(out))
}

fn build(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(_) => descend(data, p),
        Value::String(s) => Ok(json!({"context": s})),
        other => Err((
            p.clone(),
            format!("invalid type {} for build", type_name(&other)),
        )),
    }
}

fn ssh(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(_) => Ok(data),
        Value::Array(items) => {
            let mut map = Map::new();
            for e in items {
                let Value::String(s) = e else {
                    return Err((p.clone(), format!("invalid ssh key type {}", type_name(&e))));
                };
                match s.split_once('=') {
                    Some((id, path)) => map.insert(id.to_string(), json!(path)),
                    None if s == "default" => map.insert(s, Value::Null),
                    None => return Err((p.clone(), format!("invalid ssh key {s:?}"))),
                };
            }
            Ok(Value::Object(map))
        }
        other => Err((
            p.clone(),
            format!("invalid type {} for ssh", type_name(&other)),
        )),
    }
}

fn ulimits(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(_) | Value::Number(_) => Ok(data),
        other => Err((
            p.clone(),
            format!("invalid type {} for external", type_name(&other)),
        )),
    }
}

fn maybe_external(data: Value, p: &Path) -> Result<Value, TransformError> {
    if data.is_null() {
        return Ok(Value::Null);
    }
    let mut resource = match descend(data, p)? {
        Value::Object(m) => m,
        other => return Ok(other),
    };
    if let Some(Value::Object(external)) = resource.get("external").cloned() {
        resource.insert("external".into(), json!(true));
        if let Some(ext_name) = external.get("name") {
            match resource.get("name") {
                Some(name) if name != ext_name => {
                    return Err((
                        p.clone(),
                        "name and external.name conflict; only use name".into(),
                    ))
                }
                Some(_) => {}
                None => {
                    resource.insert("name".into(), ext_name.clone());
                }
            }
        }
    }
    Ok(Value::Object(resource))
}

fn include(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(_) => Ok(data),
        Value::String(s) => Ok(json!({"path": s})),
        other => Err((
            p.clone(),
            format!("invalid type {} for external", type_name(&other)),
        )),
    }
}

fn default_build_context(data: Value, _: &Path) -> Result<Value, TransformError> {
    Ok(match data {
        Value::Object(mut m) => {
            m.entry("context").or_insert(json!("."));
            Value::Object(m)
        }
        other => other,
    })
}

fn default_secret_mount(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(mut m) => {
            let source = m.get("source").map(go_sprint).unwrap_or_default();
            m.entry("target")
                .or_insert(json!(format!("/run/secrets/{source}")));
            Ok(Value::Object(m))
        }
        other => Err((p.clone(), format!("unsupported type {}", type_name(&other)))),
    }
}

fn port_defaults(data: Value, _: &Path) -> Result<Value, TransformError> {
    Ok(match data {
        Value::Object(mut m) => {
            m.entry("protocol").or_insert(json!("tcp"));
            m.entry("mode").or_insert(json!("ingress"));
            Value::Object(m)
        }
        other => other,
    })
}

fn device_request_defaults(data: Value, p: &Path) -> Result<Value, TransformError> {
    match data {
        Value::Object(mut m) => {
            if !m.contains_key("count") && !m.contains_key("device_ids") {
                m.insert("count".into(), json!("all"));
            }
            Ok(Value::Object(m))
        }
        other => Err((
            p.clone(),
            format!("invalid type {} for device request", type_name(&other)),
        )),
    }
}
