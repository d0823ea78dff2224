//! The project's name, decided as docker compose decides it: `-p`, else `COMPOSE_PROJECT_NAME`,
//! else the last `name:` of the files (interpolated, normalised), else the project directory's
//! name (normalised).
//!
//! Without `-p`, docker compose first decodes the top level of each file (compose-go's
//! `ProjectOptions.prepare`) to learn whether one is named, and that first look is what refuses
//! a file that is not YAML or whose top level is not a mapping: the error is go-yaml's, without
//! the file's name. Reproduced here so that berth refuses those files in the same words.

use super::{read, unset_warning, LoadError, Options};
use crate::compose::yaml::{self, Node, Value};

/// compose-go's `NormalizeProjectName`: lower case, only `[a-z0-9_-]`, no leading `_`/`-`.
pub fn normalize_project_name(s: &str) -> String {
    let kept: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

pub fn invalid_project_name(v: &str) -> String {
    format!("invalid project name {v:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number")
}

/// The project name (compose-go's loader `projectName`, after docker compose's first look).
pub(super) fn project_name(
    opts: &Options,
    warnings: &mut Vec<String>,
) -> Result<String, LoadError> {
    if !opts.named_by_flag {
        first_look(opts)?;
    }
    if let Some(name) = &opts.project_name {
        if normalize_project_name(name) != *name {
            return Err(LoadError::plain(invalid_project_name(name)));
        }
        return Ok(name.clone());
    }
    let mut from_files = String::new();
    for f in &opts.files {
        let Ok(text) = read(f) else { continue };
        // compose-go gives up on a file it cannot parse here: the load reports it.
        let Ok(docs) = yaml::parse_documents(&text) else {
            break;
        };
        for doc in docs {
            if let Some(n) = doc.get("name").and_then(scalar_text) {
                if !n.is_empty() {
                    from_files = n;
                }
            }
        }
    }
    // compose-go interpolates the name even when empty; its warnings come on top of those of
    // the file's own interpolation, which meets `name:` again.
    let lookup = |k: &str| opts.environment.get(k).cloned();
    let mut warn = |name: &str| warnings.push(unset_warning(name));
    let from_files = crate::compose::interpolate::substitute(&from_files, &lookup, &mut warn)
        .map_err(|e| LoadError::plain(format!("error while interpolating name: {e}")))?;
    let from_files = normalize_project_name(&from_files);
    if !from_files.is_empty() {
        return Ok(from_files);
    }
    let dir = opts
        .working_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(normalize_project_name(&dir))
}

/// A scalar as go-yaml decodes it into a string field.
fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Float(_) | Value::Null | Value::Seq(_) | Value::Map(_) => None,
    }
}

/// docker compose's first look: each file's first document decoded into `{name}` until one is
/// named; go-yaml's errors are returned as they are.
fn first_look(opts: &Options) -> Result<(), LoadError> {
    for f in &opts.files {
        let text = read(f)?;
        let docs = match yaml::parse_documents(&text) {
            Ok(docs) => docs,
            // Only what go-yaml itself refuses at the top level stops this first look.
            Err(e) if !e.nested => match e.go {
                Some(go) if go.starts_with("line ") => {
                    return Err(unmarshal_errors(&go, f, e.mark))
                }
                Some(go) => {
                    return Err(LoadError {
                        file: Some(f.filename.clone()),
                        mark: Some(e.mark),
                        message: go,
                    })
                }
                None => continue,
            },
            Err(_) => continue,
        };
        let Some(doc) = docs.first() else { continue };
        match &doc.value {
            Value::Null => continue,
            Value::Map(_) => {}
            _ => {
                let what = format!(
                    "line {}: cannot unmarshal {} into cli.named",
                    doc.mark.line,
                    go_kind(doc)
                );
                return Err(unmarshal_errors(&what, f, doc.mark));
            }
        }
        match doc.get("name") {
            Some(
                n @ Node {
                    value: Value::Seq(_) | Value::Map(_),
                    ..
                },
            ) => {
                let what = format!(
                    "line {}: cannot unmarshal {} into string",
                    n.mark.line,
                    go_kind(n)
                );
                return Err(unmarshal_errors(&what, f, n.mark));
            }
            Some(n) if scalar_text(n).is_some_and(|s| !s.is_empty()) => return Ok(()),
            _ => {}
        }
    }
    Ok(())
}

fn unmarshal_errors(what: &str, f: &super::ConfigFile, mark: yaml::Mark) -> LoadError {
    LoadError {
        file: Some(f.filename.clone()),
        mark: Some(mark),
        message: format!("yaml: unmarshal errors:\n  {what}"),
    }
}

/// go-yaml's `shortTag` of a node and, for a scalar, its value (cut at 10 characters).
fn go_kind(node: &Node) -> String {
    let (tag, value) = match &node.value {
        Value::Seq(_) => return "!!seq".into(),
        Value::Map(_) => return "!!map".into(),
        Value::Null => ("!!null", String::new()),
        Value::Bool(b) => ("!!bool", b.to_string()),
        Value::Int(i) => ("!!int", i.to_string()),
        Value::Float(x) => ("!!float", x.to_string()),
        Value::Str(s) => ("!!str", s.clone()),
    };
    let shown = if value.chars().count() > 10 {
        format!("{}...", value.chars().take(7).collect::<String>())
    } else {
        value
    };
    format!("{tag} `{shown}`")
}
