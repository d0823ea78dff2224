//! `include`: other compose projects imported into this one (compose-go's `ApplyInclude`). Each
//! entry is loaded as a project of its own (its directory, its `.env` or `env_file`), with
//! paths resolved against it, and its services, networks, volumes, secrets, configs and models
//! added; a name both define differently is refused. An include loop is refused with the chain.

use std::path::{Path as FsPath, PathBuf};

use serde_json::{Map, Value};

use super::path::Path;
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
    for (i, entry) in entries.into_iter().enumerate() {
        // An error without a position (a cycle, a missing env file) is placed at the entry.
        let place = |loader: &Loader, e: LoadError| {
            if e.file.is_none() {
                let at = Path::root().key("include").index(i);
                loader.sources.error(&at, e.message)
            } else {
                e
            }
        };
        let spec = Include::from_value(entry).map_err(|e| place(loader, e))?;
        let (imported, sources) =
            load_included(loader, &spec, &included).map_err(|e| place(loader, e))?;
        import_resources(imported, cfg).map_err(|(key, name, m)| {
            loader.sources.error(&Path::root().key(&key).key(&name), m)
        })?;
        // The included files' positions, to place a later error about what they define.
        loader.sources.0.extend(sources.0);
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
) -> Result<(Value, Sources), LoadError> {
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
        // compose-go checks the relative ones (relative to the including project) only.
        let mut files = Vec::new();
        for f in &spec.env_files {
            if FsPath::new(f).is_absolute() {
                files.push(PathBuf::from(f));
                continue;
            }
            let f = loader.working_dir.join(f);
            if !f.exists() {
                return Err(LoadError::plain(format!(
                    "stat {}: no such file or directory",
                    f.display()
                )));
            }
            if f.is_dir() {
                return Err(LoadError::plain(format!("{} is not a file", f.display())));
            }
            files.push(f);
        }
        files
    };
    // compose-go resolves the included files' paths against a relative `project_directory`
    // only when it is a directory, else against its parent (its resource loader's `Dir`).
    let relative_dir = spec
        .project_directory
        .as_deref()
        .is_some_and(|d| !FsPath::new(d).is_absolute());
    let paths_dir = match project_dir.parent() {
        Some(parent) if relative_dir && !project_dir.is_dir() => parent.to_path_buf(),
        _ => project_dir.clone(),
    };
    let outer = |k: &str| loader.environment.get(k).cloned();
    let mut warnings = Vec::new();
    let mut warn = |name: &str| warnings.push(super::unset_warning(name));
    let from_files =
        dotenv::env_from_files(&outer, &env_files, &mut warn).map_err(LoadError::plain)?;
    loader.warnings.extend(warnings);
    // What the including project's environment sets wins over the included env files.
    let mut environment: Env = loader.environment.clone();
    for (k, v) in from_files {
        environment.entry(k).or_insert(v);
    }
    let mut child = Loader {
        environment,
        working_dir: paths_dir,
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
    let value = child.load_files(&configs)?;
    Ok((value, child.sources))
}

/// compose-go's `importResources`; a conflict gives the kind and name of the resource.
fn import_resources(source: Value, target: &mut Value) -> Result<(), (String, String, String)> {
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
                    let message = format!("{key}.{name} conflicts with imported resource");
                    return Err((key.to_string(), name, message));
                }
                None => {
                    to.insert(name, value);
                }
            }
        }
    }
    Ok(())
}
