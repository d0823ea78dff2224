//! The last passes over the merged model, ported from compose-go's loader: relative paths made
//! absolute against the project directory (`paths.ResolveRelativePaths`), bare environment
//! names resolved from the project's environment (`ResolveEnvironment`), and `Normalize`: the
//! implicit `default` network, build defaults, `depends_on` entries implied by links, shared
//! namespaces and `volumes_from`, and resource names (`project_volume`).

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use serde_json::{json, Map, Value};

use super::path::Path;
use super::transform::{clean_path, go_sprint};

/// The project's environment: variable → value.
pub type Env = BTreeMap<String, String>;

/// `services.*.build.context`, env files, bind sources, … relative to `base` made absolute.
pub fn resolve_relative_paths(model: &mut Value, base: &FsPath) {
    walk_paths(model, &Path::root(), base);
}

const PATH_RULES: &[(&str, PathRule)] = &[
    ("services.*.build.context", PathRule::Context),
    ("services.*.build.additional_contexts.*", PathRule::Context),
    ("services.*.build.ssh.*", PathRule::Plain),
    ("services.*.env_file.[].path", PathRule::Plain),
    ("services.*.label_file.[]", PathRule::Plain),
    ("services.*.extends.file", PathRule::Plain),
    ("services.*.develop.watch.[].path", PathRule::Plain),
    ("services.*.volumes.[]", PathRule::VolumeMount),
    ("configs.*.file", PathRule::Plain),
    ("secrets.*.file", PathRule::Plain),
    ("include.[].path", PathRule::Plain),
    ("include.[].project_directory", PathRule::Plain),
    ("include.[].env_file", PathRule::Plain),
    ("volumes.*", PathRule::VolumeDriverOpts),
];

#[derive(Clone, Copy)]
enum PathRule {
    Plain,
    Context,
    VolumeMount,
    VolumeDriverOpts,
}

fn walk_paths(v: &mut Value, p: &Path, base: &FsPath) {
    if let Some((_, rule)) = PATH_RULES.iter().find(|(pattern, _)| p.matches(pattern)) {
        apply_path_rule(*rule, v, base);
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, e) in m.iter_mut() {
                walk_paths(e, &p.key(k), base);
            }
        }
        Value::Array(items) => {
            for (i, e) in items.iter_mut().enumerate() {
                walk_paths(e, &p.index(i), base);
            }
        }
        _ => {}
    }
}

fn apply_path_rule(rule: PathRule, v: &mut Value, base: &FsPath) {
    match rule {
        PathRule::Plain => abs_path(v, base),
        PathRule::Context => {
            // A remote context (git URL, docker-image://, …) stays as written.
            if let Value::String(s) = v {
                if !is_remote_context(s) {
                    abs_path(v, base);
                }
            }
        }
        PathRule::VolumeMount => {
            if let Value::Object(m) = v {
                if m.get("type").and_then(Value::as_str) == Some("bind") {
                    if let Some(src) = m.get_mut("source") {
                        abs_path(src, base);
                    }
                }
            }
        }
        PathRule::VolumeDriverOpts => {
            let Value::Object(vol) = v else { return };
            if vol.get("driver").and_then(Value::as_str) != Some("local") {
                return;
            }
            if let Some(Value::Object(opts)) = vol.get_mut("driver_opts") {
                if opts.get("o").and_then(Value::as_str) == Some("bind") {
                    if let Some(dev) = opts.get_mut("device") {
                        abs_path(dev, base);
                    }
                }
            }
        }
    }
}

fn is_remote_context(s: &str) -> bool {
    s.contains("://") || s.starts_with("git@") || s.starts_with("github.com/")
}

/// `~` expanded, then joined to `base` unless already absolute.
fn abs_path(v: &mut Value, base: &FsPath) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| abs_path(i, base)),
        Value::String(s) if !s.is_empty() => {
            let expanded = expand_user(s);
            let joined = if expanded.starts_with('/') {
                expanded
            } else {
                format!("{}/{}", base.display(), expanded)
            };
            *s = clean_path(&joined);
        }
        _ => {}
    }
}

fn expand_user(s: &str) -> String {
    let home = || std::env::var("HOME").unwrap_or_default();
    if s == "~" {
        home()
    } else if let Some(rest) = s.strip_prefix("~/") {
        format!("{}/{rest}", home())
    } else {
        s.to_string()
    }
}

/// compose-go's `ResolveEnvironment`: a bare `NAME` in a service's environment list takes the
/// project environment's value; secrets and configs `environment:` sources get their content.
pub fn resolve_environment(model: &mut Value, env: &Env) {
    if let Some(Value::Object(services)) = model.get_mut("services") {
        for service in services.values_mut() {
            if let Some(Value::Array(list)) = service.get_mut("environment") {
                for e in list.iter_mut() {
                    if let Value::String(name) = e {
                        if let Some(found) = env.get(name.as_str()) {
                            *e = json!(format!("{name}={found}"));
                        }
                    }
                }
            }
        }
    }
    for (kind, key) in [
        ("secrets", crate::compose::types::SECRET_CONFIG_X_VALUE),
        ("configs", "content"),
    ] {
        if let Some(Value::Object(resources)) = model.get_mut(kind) {
            for r in resources.values_mut() {
                let Value::Object(r) = r else { continue };
                let Some(Value::String(var)) = r.get("environment") else {
                    continue;
                };
                if let Some(found) = env.get(var) {
                    r.insert(key.into(), json!(found));
                }
            }
        }
    }
}

/// compose-go's `OmitEmpty`: empty `dns` entries are dropped.
pub fn omit_empty(model: &mut Value) {
    if let Some(Value::Object(services)) = model.get_mut("services") {
        for service in services.values_mut() {
            if let Some(Value::Array(dns)) = service.get_mut("dns") {
                dns.retain(|d| !(d.is_null() || d.as_str() == Some("")));
            }
        }
    }
}

fn implied(restart: bool) -> Value {
    json!({"condition": "service_started", "restart": restart, "required": true})
}

/// compose-go's `Normalize` (the project name is already in `model["name"]`).
pub fn normalize(model: &mut Value, env: &Env) {
    normalize_networks(model);
    if let Some(Value::Object(services)) = model.get_mut("services") {
        for service in services.values_mut() {
            let Value::Object(service) = service else {
                continue;
            };
            normalize_service(service, env);
        }
    }
    set_name_from_key(model);
}

fn normalize_service(service: &mut Map<String, Value>, env: &Env) {
    if service.get("pull_policy").and_then(Value::as_str) == Some("if_not_present") {
        service.insert("pull_policy".into(), json!("missing"));
    }
    if let Some(Value::Object(build)) = service.get_mut("build") {
        if build.get("context").is_none_or(Value::is_null) {
            build.insert("context".into(), json!("."));
        }
        if build.get("dockerfile").is_none_or(Value::is_null)
            && build.get("dockerfile_inline").is_none_or(Value::is_null)
        {
            build.insert("dockerfile".into(), json!("Dockerfile"));
        }
        if let Some(args) = build.get_mut("args") {
            *args = resolve_mapping(args.take(), env, false);
        }
    }
    if let Some(e) = service.get_mut("environment") {
        *e = resolve_mapping(e.take(), env, true);
    }
    let mut depends_on = match service.remove("depends_on") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Some(Value::Array(links)) = service.get("links") {
        for l in links {
            let link = go_sprint(l);
            let name = match link.split(':').collect::<Vec<_>>().as_slice() {
                [name, _] => name.to_string(),
                _ => link.clone(),
            };
            depends_on.entry(name).or_insert_with(|| implied(true));
        }
    }
    for ns in ["network_mode", "ipc", "pid", "uts", "cgroup"] {
        if let Some(shared) = service
            .get(ns)
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("service:"))
        {
            depends_on
                .entry(shared.to_string())
                .or_insert_with(|| implied(true));
        }
    }
    if let Some(Value::Array(volumes)) = service.get_mut("volumes") {
        for v in volumes.iter_mut() {
            if let Some(Value::String(t)) = v.get_mut("target") {
                *t = clean_path(t);
            }
        }
    }
    if let Some(Value::Array(from)) = service.get("volumes_from") {
        for v in from {
            let v = go_sprint(v);
            if !v.starts_with("container:") {
                let name = v.split(':').next().unwrap_or_default().to_string();
                depends_on.entry(name).or_insert_with(|| implied(false));
            }
        }
    }
    if !depends_on.is_empty() {
        service.insert("depends_on".into(), Value::Object(depends_on));
    }
}

fn normalize_networks(model: &mut Value) {
    let mut uses_default = false;
    if let Some(Value::Object(services)) = model.get_mut("services") {
        for service in services.values_mut() {
            let Value::Object(service) = service else {
                continue;
            };
            if service.contains_key("provider") || service.contains_key("network_mode") {
                continue;
            }
            match service.get("networks") {
                Some(Value::Object(n)) if !n.is_empty() => {
                    if n.contains_key("default") {
                        uses_default = true;
                    }
                }
                _ => {
                    service.insert("networks".into(), json!({"default": null}));
                    uses_default = true;
                }
            }
        }
    }
    let Value::Object(root) = model else { return };
    let mut networks = match root.remove("networks") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if uses_default && !networks.contains_key("default") {
        networks.insert("default".into(), Value::Null);
    }
    if !networks.is_empty() {
        root.insert("networks".into(), Value::Object(networks));
    }
}

/// compose-go's `resolve`: unset values of a mapping (or bare names of a list) take the
/// environment's value; without one they stay unset (`keep_empty`) or are dropped.
fn resolve_mapping(v: Value, env: &Env, keep_empty: bool) -> Value {
    match v {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter_map(|i| match i {
                    Value::String(s) if !s.contains('=') => match env.get(&s) {
                        Some(val) => Some(json!(format!("{s}={val}"))),
                        None if keep_empty => Some(Value::String(s)),
                        None => None,
                    },
                    Value::String(s) => Some(Value::String(s)),
                    _ => None,
                })
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter_map(|(k, val)| {
                    if !val.is_null() {
                        return Some((k, val));
                    }
                    match env.get(&k) {
                        Some(s) => Some((k, json!(s))),
                        None if keep_empty => Some((k, Value::Null)),
                        None => None,
                    }
                })
                .collect(),
        ),
        other => other,
    }
}

fn set_name_from_key(model: &mut Value) {
    let project = model.get("name").map(go_sprint).unwrap_or_default();
    for kind in ["networks", "volumes", "configs", "secrets"] {
        let Some(Value::Object(top)) = model.get_mut(kind) else {
            continue;
        };
        for (key, r) in top.iter_mut() {
            if r.is_null() {
                *r = json!({});
            }
            let Value::Object(resource) = r else { continue };
            if resource.get("name").is_none_or(Value::is_null) {
                let external = resource.get("external").is_some_and(|x| {
                    matches!(x, Value::Bool(true)) || go_sprint(x).eq_ignore_ascii_case("true")
                });
                let name = if external {
                    key.clone()
                } else {
                    format!("{project}_{key}")
                };
                resource.insert("name".into(), json!(name));
            }
        }
    }
}
