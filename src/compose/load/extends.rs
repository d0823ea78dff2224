//! `extends`: a service built on another one, in the same file or in another file (compose-go's
//! `ApplyExtends`). The base is resolved first (it may extend in turn; a loop is refused with
//! the chain), the extending file's `!reset`s apply to it, then the service is merged over it
//! by the multi-file rules. Relative paths of a base from another file stay relative to that
//! file's directory.

use std::path::{Path as FsPath, PathBuf};

use serde_json::{json, Map, Value};

use super::path::Path;
use super::tree::apply_resets;
use super::{document_tree, merge, normalize, parse, read, ConfigFile, LoadError, Loader};

/// The services of `cfg` with their `extends` resolved, in place.
pub(super) fn apply(
    loader: &mut Loader,
    file: &FsPath,
    cfg: &mut Value,
    resets: &[Path],
) -> Result<(), LoadError> {
    let Some(services) = cfg.get_mut("services") else {
        return Ok(());
    };
    let Value::Object(services) = services else {
        return Err(LoadError::plain("services must be a mapping"));
    };
    let names: Vec<String> = services.keys().cloned().collect();
    for name in names {
        resolve(loader, &name, services, file, resets, &Tracker::default())?;
    }
    Ok(())
}

/// The `extends` chain followed so far: (file, service), to refuse a loop.
#[derive(Default, Clone)]
struct Tracker(Vec<(PathBuf, String)>);

impl Tracker {
    fn add(&self, file: &FsPath, service: &str) -> Result<Tracker, LoadError> {
        let entry = (file.to_path_buf(), service.to_string());
        if self.0.contains(&entry) {
            let mut lines = vec![
                "Circular reference:".to_string(),
                format!("  {} in {}", self.0[0].1, self.0[0].0.display()),
            ];
            for (f, s) in self.0[1..].iter().chain(std::iter::once(&entry)) {
                lines.push(format!("  extends {s} in {}", f.display()));
            }
            return Err(LoadError::plain(lines.join("\n")));
        }
        let mut next = self.clone();
        next.0.push(entry);
        Ok(next)
    }
}

fn resolve(
    loader: &mut Loader,
    name: &str,
    services: &mut Map<String, Value>,
    file: &FsPath,
    resets: &[Path],
    tracker: &Tracker,
) -> Result<Value, LoadError> {
    let service = match services.get(name) {
        None | Some(Value::Null) => return Ok(Value::Null),
        Some(Value::Object(s)) => s.clone(),
        Some(_) => {
            return Err(LoadError::plain(format!(
                "services.{name} must be a mapping"
            )))
        }
    };
    let Some(extends) = service.get("extends") else {
        return Ok(Value::Object(service));
    };
    let (reference, other_file) = match extends {
        Value::Object(e) => match e.get("service") {
            Some(Value::String(s)) => (
                s.clone(),
                e.get("file").and_then(Value::as_str).map(String::from),
            ),
            _ => {
                return Err(LoadError::plain(format!(
                    "extends.{name}.service is required"
                )))
            }
        },
        Value::String(s) => (s.clone(), None),
        _ => {
            return Err(LoadError::plain(format!(
                "extends.{name}.service is required"
            )))
        }
    };
    let tracker_here;
    let base = match other_file {
        Some(ref_file) => {
            let (mut base_services, base_resets, base_path) =
                load_base_file(loader, name, &reference, file, &ref_file)?;
            tracker_here = tracker.add(&base_path, name)?;
            resolve(
                loader,
                &reference,
                &mut base_services,
                &base_path,
                &base_resets,
                &tracker_here,
            )?
        }
        None => {
            if !services.contains_key(&reference) {
                return Err(LoadError::plain(format!(
                    "cannot extend service {name:?} in {}: service {reference:?} not found",
                    file.display()
                )));
            }
            tracker_here = tracker.add(file, name)?;
            resolve(loader, &reference, services, file, resets, &tracker_here)?
        }
    };
    if base.is_null() {
        return Ok(Value::Object(service));
    }
    // The extending file's !reset paths apply to the base as if it were this service.
    let mut wrapped = json!({"services": {name: base}});
    apply_resets(&mut wrapped, resets);
    let source = wrapped["services"][name].take();
    let mut merged =
        merge::extend_service(source, Value::Object(service)).map_err(LoadError::plain)?;
    if let Value::Object(m) = &mut merged {
        m.remove("extends");
    }
    services.insert(name.to_string(), merged.clone());
    Ok(merged)
}

/// The services of another file, its `!reset` paths, and where it is.
type BaseFile = (Map<String, Value>, Vec<Path>, PathBuf);

/// The services of the file a service extends from, interpolated, with its relative paths made
/// absolute against its own directory.
fn load_base_file(
    loader: &mut Loader,
    name: &str,
    reference: &str,
    file: &FsPath,
    ref_file: &str,
) -> Result<BaseFile, LoadError> {
    let base_dir = file.parent().unwrap_or(FsPath::new("."));
    let local = if FsPath::new(ref_file).is_absolute() {
        PathBuf::from(ref_file)
    } else {
        base_dir.join(ref_file)
    };
    let config = ConfigFile {
        filename: local.clone(),
        content: None,
    };
    let text = read(&config)?;
    let mut services = Map::new();
    let mut resets = Vec::new();
    for mut doc in parse(&local, &text)? {
        let tree = document_tree(
            &local,
            &mut doc,
            &loader.environment.clone(),
            loader.warnings,
        )?;
        let mut value = tree.value;
        let dir = local.parent().unwrap_or(FsPath::new(".")).to_path_buf();
        normalize::resolve_relative_paths(&mut value, &dir);
        match value.get_mut("services").map(Value::take) {
            Some(Value::Object(s)) => services.extend(s),
            None => {
                return Err(LoadError::plain(format!(
                    "cannot extend service {name:?} in {}: no services section",
                    local.display()
                )))
            }
            Some(_) => {
                return Err(LoadError::plain(format!(
                    "cannot extend service {name:?} in {}: services must be a mapping",
                    local.display()
                )))
            }
        }
        resets.extend(tree.resets);
    }
    if !services.contains_key(reference) {
        return Err(LoadError::plain(format!(
            "cannot extend service {name:?} in {}: service {reference:?} not found in {ref_file}",
            file.display()
        )));
    }
    Ok((services, resets, local))
}
