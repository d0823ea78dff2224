//! `include`: other compose projects imported into this one (compose-go's `ApplyInclude`). Each
//! entry is loaded as a project of its own (its directory, its `.env` or `env_file`), with
//! paths resolved against it, and its services, networks, volumes, secrets, configs and models
//! added; a name both define differently is refused. An include loop is refused with the chain.

use std::path::{Path as FsPath, PathBuf};

use serde_json::{Map, Value};

use super::{ConfigFile, Env, LoadError, Loader, Sources};
use crate::compose::dotenv;

pub(super) fn apply(loader: &mut Loader, file: &FsPath, cfg: &mut Value) -> Result<(), LoadError> {
    let Some(Value::Object(root)) = Some(&mut *cfg) else {
        return Ok(());
    };
    let Some(include) = root.remove("include") else {
        return Ok(());
    };
    let Value::Array(entries) = include else {
        return Err(LoadError::plain(format!(
            "`include` must be a list, got {include}"
        )));
    };
    let mut included = loader.included.clone();
    included.push(file.to_path_buf());
    for entry in entries {
        let spec = Include::from_value(entry)?;
        let imported = load_included(loader, &spec, &included)?;
        import_resources(imported, cfg)?;
    }
    Ok(())
}

struct Include {
    paths: Vec<String>,
    project_directory: Option<String>,
    env_files: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

impl Include {
    fn from_value(v: Value) -> Result<Include, LoadError> {
        match v {
            Value::String(s) => Ok(Include {
                paths: vec![s],
                project_directory: None,
                env_files: Vec::new(),
            }),
            Value::Object(m) => Ok(Include {
                paths: strings(m.get("path")),
                project_directory: m
                    .get("project_directory")
                    .and_then(Value::as_str)
                    .map(String::from),
                env_files: strings(m.get("env_file")),
            }),
            other => Err(LoadError::plain(format!("invalid include entry {other}"))),
        }
    }
}

fn load_included(
    loader: &mut Loader,
    spec: &Include,
    included: &[PathBuf],
) -> Result<Value, LoadError> {
    let abs = |p: &str| {
        let p = FsPath::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            loader.working_dir.join(p)
        }
    };
    let files: Vec<PathBuf> = spec.paths.iter().map(|p| abs(p)).collect();
    let Some(main) = files.first() else {
        return Err(LoadError::plain("include entry without a path"));
    };
    if included.contains(main) {
        let mut chain: Vec<String> = included.iter().map(|p| p.display().to_string()).collect();
        chain.push(main.display().to_string());
        return Err(LoadError::plain(format!(
            "include cycle detected:\n{}\n include {}",
            chain[0],
            chain[1..].join("\n include ")
        )));
    }
    let project_dir = match &spec.project_directory {
        Some(d) => abs(d),
        None => main.parent().unwrap_or(FsPath::new("/")).to_path_buf(),
    };
    let env_files: Vec<PathBuf> = if spec.env_files.is_empty() {
        let f = project_dir.join(".env");
        if f.is_file() {
            vec![f]
        } else {
            Vec::new()
        }
    } else {
        spec.env_files.iter().map(|f| abs(f)).collect()
    };
    let mut environment: Env = loader.environment.clone();
    for f in env_files {
        let text = std::fs::read_to_string(&f).map_err(|e| {
            LoadError::plain(format!("open {}: {}", f.display(), super::os_error(&e)))
        })?;
        let outer = |k: &str| loader.environment.get(k).cloned();
        let mut ignore = |_: &str| {};
        let parsed = dotenv::parse(&text, &outer, &mut ignore)
            .map_err(|e| LoadError::plain(format!("failed to read {}: {e}", f.display())))?;
        for (k, v) in parsed.vars {
            environment.insert(k, v);
        }
    }
    let mut child = Loader {
        environment,
        working_dir: project_dir,
        warnings: loader.warnings,
        sources: Sources::default(),
        included: included.to_vec(),
    };
    let configs: Vec<ConfigFile> = files
        .into_iter()
        .map(|filename| ConfigFile {
            filename,
            content: None,
        })
        .collect();
    child.load_files(&configs)
}

fn import_resources(source: Value, target: &mut Value) -> Result<(), LoadError> {
    let Value::Object(mut source) = source else {
        return Ok(());
    };
    let Value::Object(target) = target else {
        return Ok(());
    };
    for key in [
        "services", "volumes", "networks", "secrets", "configs", "models",
    ] {
        let Some(Value::Object(from)) = source.remove(key) else {
            continue;
        };
        let to = target
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new()));
        if to.is_null() {
            *to = Value::Object(Map::new());
        }
        let Value::Object(to) = to else { continue };
        for (name, value) in from {
            match to.get(&name) {
                Some(existing) if *existing == value => {}
                Some(_) => {
                    return Err(LoadError::plain(format!(
                        "{key}.{name} conflicts with imported resource"
                    )))
                }
                None => {
                    to.insert(name, value);
                }
            }
        }
    }
    Ok(())
}
