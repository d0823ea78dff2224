//! Compose files loaded the way docker compose v2 loads them (compose-go v2.9's `loader`), into
//! the canonical map model that [`crate::compose::types`] decodes: each file (and each YAML
//! document in it) is parsed with positions, interpolated, its `extends` resolved, its
//! `include`s imported, merged over the files before it (`!reset`/`!override` applied), checked
//! against the Compose Specification's schema and rewritten into long forms; then defaults,
//! absolute paths, the environment and the implicit `default` network are filled in.
//!
//! Errors name the file and the line and column of the value at fault whenever a path leads to
//! one, with compose-go's own words after it.

mod extends;
mod include;
mod interp;
mod merge;
mod name;
mod normalize;
mod path;
pub mod ports;
mod transform;
mod tree;
pub mod volume;

use std::fmt;
use std::path::{Path as FsPath, PathBuf};

use serde_json::{Map, Value};

pub use name::{invalid_project_name, normalize_project_name};
pub use normalize::Env;
pub use path::Path;
pub use transform::clean_path;

use crate::compose::yaml::{self, Mark};
use tree::{FileTree, Marks};

/// One `-f` file: its name and, when already read (stdin), its content.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub filename: PathBuf,
    pub content: Option<String>,
}

/// What a load needs: the files in order, the project directory, the environment used for
/// interpolation (the OS environment over the `.env` file), and the project name when it was
/// set imperatively (`-p`, `COMPOSE_PROJECT_NAME`).
#[derive(Debug, Clone)]
pub struct Options {
    pub files: Vec<ConfigFile>,
    pub working_dir: PathBuf,
    pub environment: Env,
    pub project_name: Option<String>,
    /// The name came from `-p`: docker compose then skips its first look at the files.
    pub named_by_flag: bool,
}

/// The loaded model and what the user should hear about it.
#[derive(Debug, Clone)]
pub struct Model {
    /// The canonical, normalised model, `name` included.
    pub value: Value,
    pub name: String,
    /// The environment after `COMPOSE_PROJECT_NAME` was set in it.
    pub environment: Env,
    /// Warnings in docker compose's words (unset variables, obsolete `version`), once each.
    pub warnings: Vec<String>,
    /// Where the files wrote each value, to place a later error (the typed decoding's).
    sources: Sources,
}

impl Model {
    /// An error about the value at `path` (`services.web.ports[0].target`), placed in the file
    /// and at the line and column that wrote it.
    pub fn error_at(&self, path: &str, message: String) -> LoadError {
        if path.is_empty() {
            return LoadError::plain(message);
        }
        let p = Path::parse(path);
        self.sources.error(&p, message)
    }
}

/// A file compose refuses: which file, where in it, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: Option<PathBuf>,
    pub mark: Option<Mark>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.mark) {
            (Some(file), Some(m)) => write!(
                f,
                "{}:{}:{}: {}",
                file.display(),
                m.line,
                m.col,
                self.message
            ),
            (Some(file), None) => write!(f, "{}: {}", file.display(), self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    pub fn plain(message: impl Into<String>) -> LoadError {
        LoadError {
            file: None,
            mark: None,
            message: message.into(),
        }
    }
}

/// The positions of every file loaded so far, newest last, to place an error on the merged
/// model in the file that last set the value.
#[derive(Debug, Clone, Default)]
struct Sources(Vec<(PathBuf, Marks)>);

impl Sources {
    fn locate(&self, path: &Path, key: bool) -> (Option<PathBuf>, Option<Mark>) {
        let mut at = Some(path.clone());
        let mut first = true;
        while let Some(p) = at {
            for (file, marks) in self.0.iter().rev() {
                let found = if key && first {
                    marks.key(&p)
                } else {
                    marks.exact(&p)
                };
                if let Some(m) = found {
                    return (Some(file.clone()), Some(m));
                }
            }
            first = false;
            at = p.parent();
        }
        (self.0.last().map(|(f, _)| f.clone()), None)
    }

    fn error(&self, path: &Path, message: String) -> LoadError {
        let (file, mark) = self.locate(path, false);
        LoadError {
            file,
            mark,
            message,
        }
    }
}

/// docker compose's warning for a variable used but not set (compose-go's template package).
pub fn unset_warning(name: &str) -> String {
    format!("The {name:?} variable is not set. Defaulting to a blank string.")
}

/// Read a file's text (or the content given for it).
fn read(file: &ConfigFile) -> Result<String, LoadError> {
    match &file.content {
        Some(c) => Ok(c.clone()),
        None => std::fs::read_to_string(&file.filename).map_err(|e| {
            LoadError::plain(format!(
                "open {}: {}",
                file.filename.display(),
                crate::compose::load::os_error(&e)
            ))
        }),
    }
}

/// Go's wording of an OS error ("no such file or directory").
pub fn os_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// One document of a file, interpolated, as a tree with its positions.
fn document_tree(
    file: &FsPath,
    doc: &mut yaml::Node,
    env: &Env,
    warnings: &mut Vec<String>,
) -> Result<FileTree, LoadError> {
    let lookup = |k: &str| env.get(k).cloned();
    // One warning per substitution, as docker compose logs them (not once per variable).
    let mut warn = |w: String| warnings.push(w);
    interp::interpolate(doc, &lookup, &mut warn).map_err(|e| LoadError {
        file: Some(file.to_path_buf()),
        mark: Some(e.mark),
        message: e.message,
    })?;
    let tree = tree::to_tree(doc);
    if !tree.value.is_object() {
        return Err(LoadError {
            file: Some(file.to_path_buf()),
            mark: Some(doc.mark),
            message: "top-level object must be a mapping".into(),
        });
    }
    Ok(tree)
}

/// A file's YAML documents; a file go-yaml refuses too is refused in compose-go's words.
fn parse(file: &FsPath, text: &str) -> Result<Vec<yaml::Node>, LoadError> {
    yaml::parse_documents(text).map_err(|e| LoadError {
        file: Some(file.to_path_buf()),
        mark: Some(e.mark),
        message: match e.go {
            Some(go) => format!("failed to parse {}: {go}", file.display()),
            None => e.message,
        },
    })
}

/// State of one load (the main project, or an included one).
struct Loader<'a> {
    environment: Env,
    working_dir: PathBuf,
    warnings: &'a mut Vec<String>,
    sources: Sources,
    /// Files being included, outermost first (include cycles).
    included: Vec<PathBuf>,
}

impl Loader<'_> {
    /// compose-go's `loadYamlModel`: every file merged in order, then defaults, paths and the
    /// environment.
    fn load_files(&mut self, files: &[ConfigFile]) -> Result<Value, LoadError> {
        let mut dict = Value::Object(Map::new());
        for file in files {
            let text = read(file)?;
            for mut doc in parse(&file.filename, &text)? {
                let cfg =
                    document_tree(&file.filename, &mut doc, &self.environment, self.warnings)?;
                dict = self.merge_file(dict, file, cfg)?;
            }
        }
        let mut dict = transform::set_defaults(dict).map_err(|(p, m)| self.sources.error(&p, m))?;
        normalize::resolve_relative_paths(&mut dict, &self.working_dir);
        normalize::resolve_environment(&mut dict, &self.environment);
        Ok(dict)
    }

    /// compose-go's `processRawYaml` for one document.
    fn merge_file(
        &mut self,
        dict: Value,
        file: &ConfigFile,
        cfg: FileTree,
    ) -> Result<Value, LoadError> {
        let FileTree {
            mut value,
            resets,
            marks,
        } = cfg;
        self.sources.0.push((file.filename.clone(), marks));
        extends::apply(self, &file.filename, &mut value, &resets)?;
        let mut dict = dict;
        tree::apply_resets(&mut dict, &resets);
        include::apply(self, &file.filename, &mut value)?;
        let sources = &self.sources;
        let at = |(p, m): (Path, String)| sources.error(&p, m);
        let dict = merge::merge(dict, value).map_err(|m| match merge::overridden(&m) {
            Some(p) => sources.error(&p, m),
            None => LoadError {
                file: Some(file.filename.clone()),
                mark: None,
                message: m,
            },
        })?;
        let mut dict = merge::enforce_unicity(dict).map_err(at)?;
        self.validate(&file.filename, &dict)?;
        if let Value::Object(root) = &mut dict {
            if root.remove("version").is_some() {
                let w = format!("{}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion", file.filename.display());
                if !self.warnings.contains(&w) {
                    self.warnings.push(w);
                }
            }
        }
        let mut dict = transform::canonical(dict).map_err(|(p, m)| self.sources.error(&p, m))?;
        normalize::omit_empty(&mut dict);
        merge::enforce_unicity(dict).map_err(|(p, m)| self.sources.error(&p, m))
    }

    /// The Compose Specification's schema, with the position of the value at fault.
    fn validate(&self, file: &FsPath, dict: &Value) -> Result<(), LoadError> {
        let Err(e) = crate::compose::schema::validate(dict) else {
            return Ok(());
        };
        let mut path = Path::root();
        for seg in &e.path {
            path = match seg.parse::<usize>() {
                Ok(i) if is_list_at(dict, &path) => path.index(i),
                _ => path.key(seg),
            };
        }
        // "additional properties 'x' not allowed": point at the key itself.
        let key = e
            .message
            .split('\'')
            .nth(1)
            .filter(|_| e.message.contains("additional properties"))
            .map(|k| path.key(k));
        let (found_file, mark) = match key {
            Some(k) => self.sources.locate(&k, true),
            None => self.sources.locate(&path, false),
        };
        Err(LoadError {
            file: found_file.or_else(|| Some(file.to_path_buf())),
            mark,
            message: format!("validating {}: {}", file.display(), e),
        })
    }
}

fn is_list_at(dict: &Value, path: &Path) -> bool {
    let mut v = dict;
    for seg in path.segments() {
        v = match (seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')), v) {
            (Some(i), Value::Array(items)) => {
                match i.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(x) => x,
                    None => return false,
                }
            }
            (None, Value::Object(m)) => match m.get(seg) {
                Some(x) => x,
                None => return false,
            },
            _ => return false,
        };
    }
    v.is_array()
}

/// Load the project's model (compose-go's `load`).
pub fn load_model(opts: &Options) -> Result<Model, LoadError> {
    if opts.files.is_empty() {
        return Err(LoadError::plain(
            "no configuration file provided: not found",
        ));
    }
    let mut warnings = Vec::new();
    let name = name::project_name(opts, &mut warnings)?;
    let mut environment = opts.environment.clone();
    environment.insert("COMPOSE_PROJECT_NAME".into(), name.clone());
    let mut loader = Loader {
        environment: environment.clone(),
        working_dir: opts.working_dir.clone(),
        warnings: &mut warnings,
        sources: Sources::default(),
        included: Vec::new(),
    };
    let mut dict = loader.load_files(&opts.files)?;
    if dict.as_object().is_none_or(Map::is_empty) {
        return Err(LoadError::plain("empty compose file"));
    }
    if name.is_empty() {
        return Err(LoadError::plain("project name must not be empty"));
    }
    dict["name"] = Value::String(name.clone());
    normalize::normalize(&mut dict, &environment);
    let sources = std::mem::take(&mut loader.sources);
    Ok(Model {
        value: dict,
        name,
        environment,
        warnings,
        sources,
    })
}
