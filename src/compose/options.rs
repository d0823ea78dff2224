//! Which files, directory, environment, profiles and name a `berth compose` command works with,
//! decided as docker compose v2 decides them (compose-go's `cli` options, in docker compose's
//! order): the OS environment first (it always wins), `PWD`, the `.env` of the working
//! directory (or `--env-file`), `COMPOSE_FILE` when no `-f`, else `compose.yaml` & co. found in
//! the current directory or a parent (with its override file), the `.env` of the project
//! directory that choice implies, then `COMPOSE_PROFILES` and the project name
//! (`-p`, then `COMPOSE_PROJECT_NAME`, then `name:`, then the directory).

use std::path::{Path, PathBuf};

use super::dotenv;
use super::load::{self, invalid_project_name, normalize_project_name, ConfigFile, Env, LoadError};

/// compose-go's `DefaultFileNames` and `DefaultOverrideFileNames`, in order of preference.
pub const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
pub const DEFAULT_OVERRIDES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// The project flags every `berth compose` command shares.
#[derive(Debug, Clone, Default)]
pub struct ProjectFlags {
    pub files: Vec<String>,
    pub project_name: Option<String>,
    pub profiles: Vec<String>,
    pub env_files: Vec<String>,
    pub project_directory: Option<String>,
}

/// Everything decided before the files are read.
#[derive(Debug, Clone)]
pub struct ProjectOptions {
    pub load: load::Options,
    pub profiles: Vec<String>,
    /// The files as docker compose lists them in `com.docker.compose.project.config_files`.
    pub config_paths: Vec<String>,
    /// The environment files read.
    pub env_files: Vec<String>,
    /// `--env-file`s as given, else `COMPOSE_ENV_FILES`'s
    /// (`com.docker.compose.project.environment_file`).
    pub env_file_flags: Vec<String>,
    pub warnings: Vec<String>,
}

fn absolute(p: &str, cwd: &Path) -> PathBuf {
    let path = Path::new(p);
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    PathBuf::from(load::clean_path(&joined.to_string_lossy()))
}

/// Resolve the flags against the process's environment and current directory.
pub fn resolve(
    flags: &ProjectFlags,
    os_env: &Env,
    cwd: &Path,
) -> Result<ProjectOptions, LoadError> {
    let mut warnings = Vec::new();
    if let Some(name) = &flags.project_name {
        if *name != normalize_project_name(name) {
            return Err(LoadError::plain(invalid_project_name(name)));
        }
    }
    let explicit_dir = flags.project_directory.as_deref().map(|d| absolute(d, cwd));
    let mut env: Env = os_env.clone();
    // docker compose sets PWD only when the process environment lacks it.
    env.entry("PWD".into())
        .or_insert_with(|| cwd.display().to_string());
    // The config paths chosen so far decide the working dir (compose-go's GetWorkingDir).
    let mut config_paths: Vec<String> = flags
        .files
        .iter()
        .map(|f| {
            if f == "-" {
                f.clone()
            } else {
                absolute(f, cwd).display().to_string()
            }
        })
        .collect();
    let working_dir = |paths: &[String]| -> PathBuf {
        if let Some(d) = &explicit_dir {
            return d.clone();
        }
        paths
            .iter()
            .find(|p| *p != "-")
            .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
            .unwrap_or_else(|| cwd.to_path_buf())
    };
    // docker compose's --env-file defaults to COMPOSE_ENV_FILES (of the process environment).
    let env_file_flags: Vec<String> = if flags.env_files.is_empty() {
        os_env
            .get("COMPOSE_ENV_FILES")
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        flags.env_files.clone()
    };
    let mut first_warnings = Vec::new();
    let mut env_files = load_env_files(
        &mut env,
        &env_file_flags,
        cwd,
        &working_dir(&config_paths),
        &mut first_warnings,
    )?;
    // docker compose reads these files twice more before (to export their COMPOSE_*
    // variables), each read warning of the variables it finds unset.
    for _ in 0..3 {
        warnings.extend(first_warnings.iter().cloned());
    }
    if config_paths.is_empty() {
        if let Some(f) = env.get("COMPOSE_FILE").filter(|f| !f.is_empty()) {
            let sep = env
                .get("COMPOSE_PATH_SEPARATOR")
                .filter(|s| !s.is_empty())
                .cloned()
                .unwrap_or(":".into());
            for p in f.split(sep.as_str()) {
                let abs = absolute(p, cwd);
                if !abs.exists() {
                    return Err(LoadError::plain(format!(
                        "stat {}: no such file or directory",
                        abs.display()
                    )));
                }
                config_paths.push(abs.display().to_string());
            }
        }
    }
    if config_paths.is_empty() {
        config_paths = find_default_files(&working_dir(&[]), &mut warnings);
    }
    // docker compose reads the env files again once the files are known (the project
    // directory may have moved): what is set stays, but their warnings are given again.
    let more = load_env_files(
        &mut env,
        &env_file_flags,
        cwd,
        &working_dir(&config_paths),
        &mut warnings,
    )?;
    for f in more {
        if !env_files.contains(&f) {
            env_files.push(f);
        }
    }
    if config_paths.is_empty() {
        return Err(LoadError::plain(
            "no configuration file provided: not found",
        ));
    }
    let profiles: Vec<String> = if flags.profiles.is_empty() {
        env.get("COMPOSE_PROFILES")
            .map(|p| p.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default()
    } else {
        flags.profiles.clone()
    };
    let project_name = match &flags.project_name {
        Some(n) => Some(n.clone()),
        None => env
            .get("COMPOSE_PROJECT_NAME")
            .filter(|n| !n.is_empty())
            .cloned(),
    };
    let files = config_paths
        .iter()
        .map(|p| {
            if p == "-" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .map_err(|e| LoadError::plain(format!("reading stdin: {e}")))?;
                // compose-go names the file read from stdin "-" in its messages.
                Ok(ConfigFile {
                    filename: PathBuf::from("-"),
                    content: Some(text),
                })
            } else {
                Ok(ConfigFile {
                    filename: PathBuf::from(p),
                    content: None,
                })
            }
        })
        .collect::<Result<Vec<_>, LoadError>>()?;
    Ok(ProjectOptions {
        load: load::Options {
            files,
            working_dir: working_dir(&config_paths),
            environment: env,
            project_name,
            named_by_flag: flags.project_name.is_some(),
        },
        profiles,
        config_paths,
        env_files,
        env_file_flags,
        warnings,
    })
}

/// `--env-file`s (or `COMPOSE_ENV_FILES`), else the working directory's `.env`, read as
/// compose-go's `GetEnvFromFile` reads them: a later file overrides an earlier one, a value
/// sees the environment first and then what the files set so far, and what the environment
/// already sets stays. Given files are relative to the current directory (Go's
/// `filepath.Abs`), not to the project.
fn load_env_files(
    env: &mut Env,
    given: &[String],
    cwd: &Path,
    working_dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<String>, LoadError> {
    let files: Vec<PathBuf> = if !given.is_empty() {
        given.iter().map(|f| absolute(f, cwd)).collect()
    } else {
        if env
            .get("COMPOSE_DISABLE_ENV_FILE")
            .is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"))
        {
            return Ok(Vec::new());
        }
        let default = working_dir.join(".env");
        if default.is_file() {
            vec![default]
        } else {
            Vec::new()
        }
    };
    let read = files.iter().map(|f| f.display().to_string()).collect();
    let outer = |k: &str| env.get(k).cloned();
    let mut warn = |name: &str| warnings.push(load::unset_warning(name));
    let from_files = dotenv::env_from_files(&outer, &files, &mut warn).map_err(LoadError::plain)?;
    for (k, v) in from_files {
        env.entry(k).or_insert(v);
    }
    Ok(read)
}

/// compose-go's `WithDefaultConfigPath`: the first directory from `dir` upwards holding one of
/// the default names; its override file comes with it.
fn find_default_files(dir: &Path, warnings: &mut Vec<String>) -> Vec<String> {
    let mut at = Some(dir.to_path_buf());
    while let Some(d) = at {
        let found: Vec<String> = DEFAULT_FILES
            .iter()
            .map(|n| d.join(n))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if let Some(winner) = found.first() {
            if found.len() > 1 {
                warnings.push(format!(
                    "Found multiple config files with supported names: {}",
                    found.join(", ")
                ));
                warnings.push(format!("Using {winner}"));
            }
            let mut out = vec![winner.clone()];
            let overrides: Vec<String> = DEFAULT_OVERRIDES
                .iter()
                .map(|n| d.join(n))
                .filter(|p| p.exists())
                .map(|p| p.display().to_string())
                .collect();
            if let Some(o) = overrides.first() {
                if overrides.len() > 1 {
                    warnings.push(format!(
                        "Found multiple override files with supported names: {}",
                        overrides.join(", ")
                    ));
                    warnings.push(format!("Using {o}"));
                }
                out.push(o.clone());
            }
            return out;
        }
        at = d.parent().map(Path::to_path_buf);
    }
    Vec::new()
}
