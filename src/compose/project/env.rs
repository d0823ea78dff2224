//! Service environments and labels completed from their files (compose-go's
//! `WithServicesEnvironmentResolved` and `WithServicesLabelsResolved`): `env_file`s in compose's
//! `.env` syntax or docker's raw `KEY=VALUE` lines, under what the service sets itself.

use std::collections::BTreeMap;
use std::path::Path;

use super::consistency::{at, Refusal};
use crate::compose::dotenv;
use crate::compose::load;
use crate::compose::types::{MappingWithEquals, Project};

/// Read one env/label file in `format` ("" is compose's .env syntax, "raw" docker run's):
/// `lookup` answers first, then `earlier` (what the service's previous files set); unset
/// variables are warned about as docker compose does.
fn read_mapping_file(
    path: &str,
    format: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    earlier: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("open {path}: {}", load::os_error(&e)))?;
    match format {
        "" | ".env" => {
            let before = |k: &str| earlier.get(k).cloned();
            let mut warn = |name: &str| warnings.push(load::unset_warning(name));
            dotenv::parse_after(&text, &lookup, &before, false, &mut warn)
                .map(|f| f.vars)
                .map_err(|e| format!("failed to read {path}: {e}"))
        }
        "raw" => {
            raw_env(&text, lookup).map_err(|e| format!("failed to parse env_file {path}: {e}"))
        }
        other => Err(format!("unsupported env_file format {other:?}")),
    }
}

/// compose-go's `WithServicesEnvironmentResolved`: bare names take the project environment's
/// value; the env files fill in under what `environment` sets.
pub(super) fn resolve_service_environment(
    project: &mut Project,
    discard: bool,
    warnings: &mut Vec<String>,
) -> Result<(), Refusal> {
    let project_env = project.environment.0.clone();
    for (name, s) in project.services.iter_mut() {
        for (k, v) in s.environment.0.iter_mut() {
            if v.is_none() {
                if let Some(found) = project_env.get(k) {
                    *v = Some(found.clone());
                }
            }
        }
        let mut from_files: BTreeMap<String, String> = BTreeMap::new();
        for (i, f) in s.env_files.iter().enumerate() {
            let here = format!("services.{name}.env_file[{i}]");
            if !Path::new(&f.path).exists() {
                if f.required {
                    return Err(at(
                        here,
                        format!(
                            "env file {} not found: stat {}: no such file or directory",
                            f.path, f.path
                        ),
                    ));
                }
                continue;
            }
            let env = &s.environment;
            let lookup = |k: &str| -> Option<String> {
                project_env
                    .get(k)
                    .cloned()
                    .or_else(|| env.get(k).cloned().flatten())
            };
            let vars = read_mapping_file(&f.path, &f.format, &lookup, &from_files, warnings)
                .map_err(|m| at(&here, m))?;
            for (k, v) in vars {
                from_files.insert(k, v);
            }
        }
        let mut merged: BTreeMap<String, Option<String>> =
            from_files.into_iter().map(|(k, v)| (k, Some(v))).collect();
        for (k, v) in s.environment.0.iter() {
            // compose-go's OverrideBy: a value set here wins; an unresolved name does not
            // erase what a file set.
            if v.is_some() || !merged.contains_key(k) {
                merged.insert(k.clone(), v.clone());
            }
        }
        s.environment = MappingWithEquals(merged);
        if discard {
            s.env_files.clear();
        }
    }
    Ok(())
}

/// compose-go's `WithServicesLabelsResolved`: label files under the service's labels.
pub(super) fn resolve_service_labels(
    project: &mut Project,
    discard: bool,
    warnings: &mut Vec<String>,
) -> Result<(), Refusal> {
    for (name, s) in project.services.iter_mut() {
        if s.label_files.is_empty() {
            continue;
        }
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        for (i, f) in s.label_files.iter().enumerate() {
            let here = format!("services.{name}.label_file[{i}]");
            if !Path::new(f).exists() {
                return Err(at(
                    here,
                    format!("label file {f} not found: stat {f}: no such file or directory"),
                ));
            }
            let snapshot = labels.clone();
            let lookup = move |k: &str| snapshot.get(k).cloned();
            let vars = read_mapping_file(f, "", &lookup, &BTreeMap::new(), warnings)
                .map_err(|m| at(&here, m))?;
            labels.extend(vars);
        }
        labels.extend(s.labels.0.clone());
        s.labels.0 = labels;
        if discard {
            s.label_files.clear();
        }
    }
    Ok(())
}

/// docker/cli's `kvfile` parser (docker compose's `raw` env_file format): `KEY=VALUE` lines
/// taken as they are (no quotes, no interpolation), leading blanks and `#` comments skipped, a
/// bare `KEY` taken from `lookup` when set there.
fn raw_env(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.split('\n') {
        // bufio.Scanner's lines: a final "\r" is dropped with the newline.
        let line = line.strip_suffix('\r').unwrap_or(line).trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (line, None),
        };
        if key.is_empty() {
            return Err(format!("no variable name on line '{line}'"));
        }
        if key.contains([' ', '\t']) {
            return Err(format!("variable '{key}' contains whitespaces"));
        }
        match value {
            Some(v) => out.push((key.to_string(), v.to_string())),
            None => {
                if let Some(v) = lookup(key) {
                    out.push((key.to_string(), v));
                }
            }
        }
    }
    Ok(out)
}
