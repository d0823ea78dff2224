//! `extends`: a service built on another one, in the same file or in another file (compose-go's
//! `ApplyExtends`). The base is resolved first (it may extend in turn; a loop is refused with
//! the chain, in compose-go's words and file names), the extending file's `!reset`s apply to
//! it, then the service is merged over it by the multi-file rules. Relative paths of a base
//! from another file are relative to that file's directory.

use std::path::{Path as FsPath, PathBuf};

use serde_json::{json, Map, Value};

use super::path::Path;
use super::transform::{self, clean_path};
use super::tree::apply_resets;
use super::{document_tree, merge, normalize, parse, read, ConfigFile, LoadError, Loader, Sources};

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
    let ctx = Ctx {
        file: file.display().to_string(),
    };
    for name in names {
        resolve(loader, &ctx, &name, services, resets, &Tracker::default()).map_err(|e| {
            // An error of the chain itself is placed at this service's `extends`.
            if e.file.is_none() {
                let at = Path::root().key("services").key(&name).key("extends");
                loader.sources.error(&at, e.message)
            } else {
                e
            }
        })?;
    }
    Ok(())
}

/// What compose-go's context carries down the recursion: the file being loaded (not the file
/// a base comes from), which names the services that extend without `file:`.
struct Ctx {
    file: String,
}

/// The `extends` chain followed so far: (file, service), to refuse a loop. Files are written
/// as compose-go writes them: the file being loaded, or an `extends.file` as it stands (as
/// written in that file, or relative to the project directory in a base file).
#[derive(Default, Clone)]
struct Tracker(Vec<(String, String)>);

impl Tracker {
    fn add(&self, file: &str, service: &str) -> Result<Tracker, LoadError> {
        let entry = (file.to_string(), service.to_string());
        if self.0.contains(&entry) {
            let mut lines = vec![
                "Circular reference:".to_string(),
                format!("  {} in {}", self.0[0].1, self.0[0].0),
            ];
            for (f, s) in self.0[1..].iter().chain(std::iter::once(&entry)) {
                lines.push(format!("  extends {s} in {f}"));
            }
            return Err(LoadError::plain(lines.join("\n")));
        }
        let mut next = self.clone();
        next.0.push(entry);
        Ok(next)
    }
}

/// compose-go's `applyServiceExtends`. `resets` are the `!reset` paths of the file `services`
/// come from, applied to a base under the extending service's name; a base found in the same
/// mapping gets none.
fn resolve(
    loader: &mut Loader,
    ctx: &Ctx,
    name: &str,
    services: &mut Map<String, Value>,
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
        _ => (String::new(), None),
    };
    let base = match other_file {
        Some(ref_file) => {
            let (mut base_services, base_resets) =
                load_base_file(loader, ctx, name, &reference, &ref_file)?;
            let tracker = tracker.add(&ref_file, name)?;
            resolve(
                loader,
                ctx,
                &reference,
                &mut base_services,
                &base_resets,
                &tracker,
            )?
        }
        None => {
            if !services.contains_key(&reference) {
                return Err(LoadError::plain(format!(
                    "cannot extend service {name:?} in {}: service {reference:?} not found",
                    ctx.file
                )));
            }
            let tracker = tracker.add(&ctx.file, name)?;
            resolve(loader, ctx, &reference, services, &[], &tracker)?
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

/// The services of another file and its `!reset` paths.
type BaseFile = (Map<String, Value>, Vec<Path>);

/// The services of the file a service extends from, loaded as compose-go loads it (its own
/// documents merged, in canonical form, but neither its `extends`, its `include`s nor the
/// schema applied). A relative `file:` is relative to the project directory (compose-go's
/// resource loader), and so become the base's relative paths (its directory relative to the
/// project's joined to them): the project's own resolution makes them absolute later.
fn load_base_file(
    loader: &mut Loader,
    ctx: &Ctx,
    name: &str,
    reference: &str,
    ref_file: &str,
) -> Result<BaseFile, LoadError> {
    let local = if FsPath::new(ref_file).is_absolute() {
        PathBuf::from(ref_file)
    } else {
        PathBuf::from(clean_path(
            &loader.working_dir.join(ref_file).to_string_lossy(),
        ))
    };
    let config = ConfigFile {
        filename: local.clone(),
        content: None,
    };
    let text = read(&config)?;
    let here = |m: String| LoadError {
        file: Some(local.clone()),
        mark: None,
        message: m,
    };
    let mut dict = Value::Object(Map::new());
    let mut resets = Vec::new();
    // The base file's own positions, to place an error in it.
    let mut sources = Sources::default();
    for mut doc in parse(&local, &text)? {
        let tree = document_tree(
            &local,
            &mut doc,
            &loader.environment.clone(),
            loader.warnings,
        )?;
        sources.0.push((local.clone(), tree.marks));
        let at = |(p, m): (Path, String)| sources.error(&p, m);
        apply_resets(&mut dict, &tree.resets);
        dict = merge::merge(dict, tree.value).map_err(here)?;
        dict = merge::enforce_unicity(dict).map_err(at)?;
        dict = transform::canonical(dict).map_err(at)?;
        normalize::omit_empty(&mut dict);
        dict = merge::enforce_unicity(dict).map_err(at)?;
        // compose-go keeps the reset processor of the file's last document.
        resets = tree.resets;
    }
    let dir = if local.is_dir() {
        local.clone()
    } else {
        local.parent().unwrap_or(FsPath::new("/")).to_path_buf()
    };
    let dir = relative_path(&loader.working_dir, &dir);
    normalize::resolve_relative_paths(&mut dict, FsPath::new(&dir));
    let services = match dict.get_mut("services").map(Value::take) {
        Some(Value::Object(s)) => s,
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
    };
    if !services.contains_key(reference) {
        return Err(LoadError::plain(format!(
            "cannot extend service {name:?} in {}: service {reference:?} not found in {ref_file}",
            ctx.file
        )));
    }
    Ok((services, resets))
}

/// Go's `filepath.Rel` for two clean absolute paths: `target` seen from `base`.
fn relative_path(base: &FsPath, target: &FsPath) -> String {
    let b: Vec<_> = base.components().collect();
    let t: Vec<_> = target.components().collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}
