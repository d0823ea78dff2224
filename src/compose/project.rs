//! A project ready to run: the flags resolved ([`super::options`]), the files loaded
//! ([`super::load`]) and decoded ([`super::types`]), then what compose-go does after decoding:
//! profiles (services without an active profile are disabled), the consistency checks
//! (undefined services, networks, volumes, secrets, dependency cycles…), and each service's
//! environment completed from its `env_file`s and its labels from its `label_file`s.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::dotenv;
use super::graph::Graph;
use super::labels;
use super::load::{self, Env, LoadError};
use super::options::{self, ProjectFlags};
use super::types::{Labels, Mapping, MappingWithEquals, Project, ServiceConfig};

/// A loaded project and what to tell the user about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub project: Project,
    /// Warnings in docker compose's words, each once.
    pub warnings: Vec<String>,
    /// The files as given (absolute), for the `config_files` label.
    pub config_paths: Vec<String>,
    /// The environment files read for the project (`environment_file` label).
    pub env_files: Vec<String>,
}

/// What a command asks of the load (docker compose's `ToProject` options).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The services the command names: enabled even when their profile is not, and with what
    /// they depend on the only ones kept.
    pub services: Vec<String>,
    /// `config` drops `env_file`/`label_file` once resolved; other commands keep them (they
    /// are part of the config hash docker compose labels containers with).
    pub discard_env_files: bool,
    /// `config --hash`/`--profiles`: service environments left as written (no env files read).
    pub skip_resolve_environment: bool,
}

/// Load the project the flags designate, as docker compose's `ToProject` does.
pub fn load(
    flags: &ProjectFlags,
    os_env: &Env,
    cwd: &Path,
    how: &LoadOptions,
) -> Result<Loaded, LoadError> {
    let opts = options::resolve(flags, os_env, cwd)?;
    let model = load::load_model(&opts.load)?;
    let mut project = Project::from_canonical(model.value.clone())
        .map_err(|e| model.error_at(&e.path, e.message))?;
    project.working_dir = opts.load.working_dir.display().to_string();
    project.compose_files = opts.config_paths.clone();
    project.environment = Mapping(model.environment.clone());
    let mut project = with_profiles(project, &opts.profiles);
    check_consistency(&mut project).map_err(LoadError::plain)?;
    if !how.skip_resolve_environment {
        resolve_service_environment(&mut project, how.discard_env_files)
            .map_err(LoadError::plain)?;
    }
    resolve_service_labels(&mut project, how.discard_env_files).map_err(LoadError::plain)?;
    let mut project = with_services_enabled(project, &how.services);
    set_custom_labels(&mut project, &flags.env_files);
    if !how.services.is_empty() {
        project = select(project, &how.services, true)?;
    }
    without_unnecessary_resources(&mut project);
    let mut warnings = opts.warnings;
    warnings.extend(model.warnings);
    Ok(Loaded {
        project,
        warnings,
        config_paths: opts.config_paths,
        env_files: opts.env_files,
    })
}

/// compose-go's `HasProfile`: no profile means always on; `*` enables every profile.
pub fn has_profile(service: &ServiceConfig, profiles: &[String]) -> bool {
    service.profiles.is_empty()
        || profiles
            .iter()
            .any(|p| p == "*" || service.profiles.contains(p))
}

/// compose-go's `WithProfiles`.
pub fn with_profiles(mut project: Project, profiles: &[String]) -> Project {
    let all: BTreeMap<String, ServiceConfig> = std::mem::take(&mut project.services)
        .into_iter()
        .chain(std::mem::take(&mut project.disabled_services))
        .collect();
    for (name, s) in all {
        if has_profile(&s, profiles) {
            project.services.insert(name, s);
        } else {
            project.disabled_services.insert(name, s);
        }
    }
    project.profiles = profiles.to_vec();
    project
}

/// compose-go's `WithServicesEnabled`: the named services on, with the profiles they need.
pub fn with_services_enabled(project: Project, names: &[String]) -> Project {
    let mut profiles = project.profiles.clone();
    for n in names {
        if let Some(s) = project.disabled_services.get(n) {
            profiles.extend(s.profiles.iter().cloned());
        }
    }
    with_profiles(project, &profiles)
}

/// compose-go's `WithSelectedServices`: only `names` (and, with `with_deps`, what they depend
/// on) stay enabled; an unknown name is refused as docker compose refuses it.
pub fn select(
    mut project: Project,
    names: &[String],
    with_deps: bool,
) -> Result<Project, LoadError> {
    project = with_services_enabled(project, names);
    for n in names {
        if !project.services.contains_key(n) {
            return Err(LoadError::plain(format!("no such service: {n}")));
        }
    }
    let keep = if with_deps {
        graph(&project).with_dependencies(names)
    } else {
        names.iter().cloned().collect()
    };
    let all = std::mem::take(&mut project.services);
    for (name, mut s) in all {
        if keep.contains(&name) {
            s.depends_on.retain(|d, _| keep.contains(d));
            project.services.insert(name, s);
        } else {
            project.disabled_services.insert(name, s);
        }
    }
    Ok(project)
}

/// The dependency graph of the enabled services.
pub fn graph(project: &Project) -> Graph {
    Graph::new(
        project
            .services
            .iter()
            .map(|(n, s)| (n.as_str(), s.get_dependencies())),
    )
}

/// compose-go's `checkConsistency`, in its words.
fn check_consistency(project: &mut Project) -> Result<(), String> {
    let names: Vec<String> = project.services.keys().cloned().collect();
    for name in &names {
        let s = &project.services[name];
        if s.build.is_none() && s.image.is_empty() && s.provider.is_none() {
            return Err(format!(
                "service {name:?} has neither an image nor a build context specified: invalid compose project"
            ));
        }
        if let Some(b) = &s.build {
            if !b.dockerfile_inline.is_empty() && !b.dockerfile.is_empty() {
                return Err(format!("service {name:?} declares mutualy exclusive dockerfile and dockerfile_inline: invalid compose project"));
            }
            for secret in &b.secrets {
                if !project.secrets.contains_key(&secret.source) {
                    return Err(format!("service {name:?} refers to undefined build secret {}: invalid compose project", secret.source));
                }
            }
        }
        if !s.network_mode.is_empty() && !s.networks.is_empty() {
            return Err(format!("service {name} declares mutually exclusive `network_mode` and `networks`: invalid compose project"));
        }
        for network in s.networks.keys() {
            if !project.networks.contains_key(network) {
                return Err(format!(
                    "service {name:?} refers to undefined network {network}: invalid compose project"
                ));
            }
        }
        if let Some(hc) = &s.health_check {
            if let Some(first) = hc.test.first() {
                if !matches!(first.as_str(), "CMD" | "CMD-SHELL" | "NONE") {
                    return Err(
                        "healthcheck.test must start either by \"CMD\", \"CMD-SHELL\" or \"NONE\""
                            .into(),
                    );
                }
            }
        }
        for (dep, cfg) in &s.depends_on {
            if !project.services.contains_key(dep) {
                if project.disabled_services.contains_key(dep) && !cfg.required {
                    continue;
                }
                return Err(format!("service {name:?} depends on undefined service {dep:?}: invalid compose project"));
            }
        }
        if let Some(shared) = s.network_mode.strip_prefix("service:") {
            if !project.services.contains_key(shared) {
                return Err(format!(
                    "service {shared:?} not found for network_mode 'service:{shared}'"
                ));
            }
        }
        for v in &s.volumes {
            if v.type_ == "volume"
                && !v.source.is_empty()
                && !project.volumes.contains_key(&v.source)
            {
                return Err(format!(
                    "service {name:?} refers to undefined volume {}: invalid compose project",
                    v.source
                ));
            }
        }
        for c in &s.configs {
            if !project.configs.contains_key(&c.source) {
                return Err(format!(
                    "service {name:?} refers to undefined config {}: invalid compose project",
                    c.source
                ));
            }
        }
        for secret in &s.secrets {
            if !project.secrets.contains_key(&secret.source) {
                return Err(format!(
                    "service {name:?} refers to undefined secret {}: invalid compose project",
                    secret.source
                ));
            }
        }
        if let (Some(scale), Some(replicas)) = (s.scale, s.deploy.as_ref().and_then(|d| d.replicas))
        {
            if scale != replicas {
                return Err(format!("services.{name}: can't set distinct values on 'scale' and 'deploy.replicas': invalid compose project"));
            }
        }
        if s.scale.is_some_and(|x| x < 0) {
            return Err(format!(
                "services.{name}.scale: must be greater than or equal to 0"
            ));
        }
        if s.get_scale() > 1 && !s.container_name.is_empty() {
            let attr = if s.scale.is_none() {
                "deploy.replicas"
            } else {
                "scale"
            };
            return Err(format!("services.{attr}: can't set container_name and {name} as container name must be unique: invalid compose project"));
        }
        let mut mounts: BTreeMap<String, String> = BTreeMap::new();
        for (i, t) in s.tmpfs.iter().enumerate() {
            let loc = format!("services.{name}.tmpfs[{i}]");
            let path = t.split(':').next().unwrap_or_default().to_string();
            if let Some(p) = mounts.get(&path) {
                return Err(format!("{loc}: target {path} already mounted as {p}"));
            }
            mounts.insert(path, loc);
        }
        for (i, v) in s.volumes.iter().enumerate() {
            let loc = format!("services.{name}.volumes[{i}]");
            if let Some(p) = mounts.get(&v.target) {
                return Err(format!("{loc}: target {} already mounted as {p}", v.target));
            }
            mounts.insert(v.target.clone(), loc);
        }
    }
    // compose-go's consistency check copies `scale` into deploy.replicas.
    for s in project.services.values_mut() {
        if let (Some(scale), Some(d)) = (s.scale, s.deploy.as_mut()) {
            d.replicas = Some(scale);
        }
    }
    for (name, secret) in &project.secrets {
        if !secret.external && secret.file.is_empty() && secret.environment.is_empty() {
            return Err(format!("secret {name:?} must declare either `file` or `environment`: invalid compose project"));
        }
    }
    graph(project).check_cycle()
}

/// Read one env/label file in `format` ("" is compose's .env syntax, "raw" docker run's).
fn read_mapping_file(
    path: &str,
    format: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("open {path}: {}", load::os_error(&e)))?;
    match format {
        "" | ".env" => {
            let mut ignore = |_: &str| {};
            dotenv::parse(&text, &lookup, &mut ignore)
                .map(|f| f.vars)
                .map_err(|e| format!("failed to read {path}: {e}"))
        }
        "raw" => {
            let mut out = Vec::new();
            for line in text.lines() {
                let line = line.trim_start();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                match line.split_once('=') {
                    Some((k, v)) => out.push((k.to_string(), v.to_string())),
                    None => {
                        if let Some(v) = lookup(line) {
                            out.push((line.to_string(), v));
                        }
                    }
                }
            }
            Ok(out)
        }
        other => Err(format!("unsupported env_file format {other:?}")),
    }
}

/// compose-go's `WithServicesEnvironmentResolved`: bare names take the project environment's
/// value; the env files fill in under what `environment` sets.
fn resolve_service_environment(project: &mut Project, discard: bool) -> Result<(), String> {
    let project_env = project.environment.0.clone();
    for s in project.services.values_mut() {
        for (k, v) in s.environment.0.iter_mut() {
            if v.is_none() {
                if let Some(found) = project_env.get(k) {
                    *v = Some(found.clone());
                }
            }
        }
        let mut from_files: BTreeMap<String, String> = BTreeMap::new();
        for f in &s.env_files {
            if !Path::new(&f.path).exists() {
                if f.required {
                    return Err(format!(
                        "env file {} not found: stat {}: no such file or directory",
                        f.path, f.path
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
            for (k, v) in read_mapping_file(&f.path, &f.format, &lookup)? {
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
fn resolve_service_labels(project: &mut Project, discard: bool) -> Result<(), String> {
    for s in project.services.values_mut() {
        if s.label_files.is_empty() {
            continue;
        }
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        for f in &s.label_files {
            if !Path::new(f).exists() {
                return Err(format!(
                    "label file {f} not found: stat {f}: no such file or directory"
                ));
            }
            let snapshot = labels.clone();
            let lookup = move |k: &str| snapshot.get(k).cloned();
            labels.extend(read_mapping_file(f, "", &lookup)?);
        }
        labels.extend(s.labels.0.clone());
        s.labels.0 = labels;
        if discard {
            s.label_files.clear();
        }
    }
    Ok(())
}

/// The labels docker compose adds to every service's containers (its `CustomLabels`).
fn set_custom_labels(project: &mut Project, env_file_flags: &[String]) {
    let files = project.compose_files.join(",");
    for (name, s) in project.services.iter_mut() {
        let mut l = BTreeMap::new();
        l.insert(labels::PROJECT.to_string(), project.name.clone());
        l.insert(labels::SERVICE.to_string(), name.clone());
        l.insert(
            labels::VERSION.to_string(),
            labels::COMPOSE_VERSION.to_string(),
        );
        l.insert(labels::WORKING_DIR.to_string(), project.working_dir.clone());
        l.insert(labels::CONFIG_FILES.to_string(), files.clone());
        l.insert(labels::ONEOFF.to_string(), "False".to_string());
        if !env_file_flags.is_empty() {
            l.insert(
                labels::ENVIRONMENT_FILE.to_string(),
                env_file_flags.join(","),
            );
        }
        s.custom_labels = Labels(l);
    }
}

/// compose-go's `WithoutUnnecessaryResources`: networks, volumes, secrets, configs and models
/// no enabled service uses are left out.
pub fn without_unnecessary_resources(project: &mut Project) {
    let mut networks = BTreeSet::new();
    let mut volumes = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    let mut configs = BTreeSet::new();
    let mut models = BTreeSet::new();
    for s in project.services.values() {
        networks.extend(s.networks.keys().cloned());
        for v in &s.volumes {
            if v.type_ == "volume" && !v.source.is_empty() {
                volumes.insert(v.source.clone());
            }
        }
        secrets.extend(s.secrets.iter().map(|x| x.source.clone()));
        if let Some(b) = &s.build {
            secrets.extend(b.secrets.iter().map(|x| x.source.clone()));
        }
        configs.extend(s.configs.iter().map(|x| x.source.clone()));
        models.extend(s.models.keys().cloned());
    }
    project.networks.retain(|k, _| networks.contains(k));
    project.volumes.retain(|k, _| volumes.contains(k));
    project.secrets.retain(|k, _| secrets.contains(k));
    project.configs.retain(|k, _| configs.contains(k));
    project.models.retain(|k, _| models.contains(k));
}
