//! compose-go's `checkConsistency`: what a decoded project must satisfy before docker compose
//! uses it (every service has an image or a build, references name defined services,
//! networks, volumes, configs, secrets and models, no contradicting settings, no dependency
//! cycle), refused in compose-go's words.

use std::collections::BTreeMap;

use super::graph;
use crate::compose::types::Project;

/// A project refused: compose-go's words, and the path of the value at fault
/// (`services.web.depends_on.db`; empty when no one value is) to place the error in a file.
#[derive(Debug)]
pub(super) struct Refusal {
    pub path: String,
    pub message: String,
}

pub(super) fn at(path: impl Into<String>, message: impl Into<String>) -> Refusal {
    Refusal {
        path: path.into(),
        message: message.into(),
    }
}

/// compose-go's `checkConsistency`, in its words.
pub(super) fn check_consistency(project: &mut Project) -> Result<(), Refusal> {
    let names: Vec<String> = project.services.keys().cloned().collect();
    for name in &names {
        let s = &project.services[name];
        if s.build.is_none() && s.image.is_empty() && s.provider.is_none() {
            return Err(at(format!("services.{name}"), format!(
                "service {name:?} has neither an image nor a build context specified: invalid compose project"
            )));
        }
        if let Some(b) = &s.build {
            if !b.dockerfile_inline.is_empty() && !b.dockerfile.is_empty() {
                return Err(at(format!("services.{name}.build.dockerfile_inline"), format!("service {name:?} declares mutualy exclusive dockerfile and dockerfile_inline: invalid compose project")));
            }
            for (add, c) in &b.additional_contexts.0 {
                let Some(target) = c.strip_prefix("service:") else {
                    continue;
                };
                let here = format!("services.{name}.build.additional_contexts");
                match project.services.get(target) {
                    None => return Err(at(here, format!("service {name:?} declares unknown service {target:?} as additional contexts {add}"))),
                    Some(t) if t.build.is_none() => return Err(at(here, format!("service {name:?} declares non-buildable service {target:?} as additional contexts {add}"))),
                    Some(_) => {}
                }
            }
            if !b.platforms.is_empty()
                && !s.platform.is_empty()
                && !b.platforms.contains(&s.platform)
            {
                return Err(at(format!("services.{name}.platform"), format!(
                    "service.build.platforms MUST include service.platform {:?}: invalid compose project",
                    s.platform
                )));
            }
        }
        if !s.network_mode.is_empty() && !s.networks.is_empty() {
            return Err(at(format!("services.{name}.network_mode"), format!("service {name} declares mutually exclusive `network_mode` and `networks`: invalid compose project")));
        }
        for network in s.networks.keys() {
            if !project.networks.contains_key(network) {
                return Err(at(format!("services.{name}.networks.{network}"), format!(
                    "service {name:?} refers to undefined network {network}: invalid compose project"
                )));
            }
        }
        if let Some(hc) = &s.health_check {
            if let Some(first) = hc.test.first() {
                if !matches!(first.as_str(), "CMD" | "CMD-SHELL" | "NONE") {
                    return Err(at(
                        format!("services.{name}.healthcheck.test"),
                        "healthcheck.test must start either by \"CMD\", \"CMD-SHELL\" or \"NONE\"",
                    ));
                }
            }
        }
        for (dep, cfg) in &s.depends_on {
            if !project.services.contains_key(dep) {
                if project.disabled_services.contains_key(dep) && !cfg.required {
                    continue;
                }
                return Err(at(format!("services.{name}.depends_on.{dep}"), format!("service {name:?} depends on undefined service {dep:?}: invalid compose project")));
            }
        }
        if let Some(shared) = s.network_mode.strip_prefix("service:") {
            if !project.services.contains_key(shared) {
                return Err(at(
                    format!("services.{name}.network_mode"),
                    format!("service {shared:?} not found for network_mode 'service:{shared}'"),
                ));
            }
        }
        for (i, v) in s.volumes.iter().enumerate() {
            if v.type_ == "volume"
                && !v.source.is_empty()
                && !project.volumes.contains_key(&v.source)
            {
                return Err(at(
                    format!("services.{name}.volumes[{i}].source"),
                    format!(
                        "service {name:?} refers to undefined volume {}: invalid compose project",
                        v.source
                    ),
                ));
            }
        }
        if let Some(b) = &s.build {
            for (i, secret) in b.secrets.iter().enumerate() {
                if !project.secrets.contains_key(&secret.source) {
                    return Err(at(format!("services.{name}.build.secrets[{i}]"), format!("service {name:?} refers to undefined build secret {}: invalid compose project", secret.source)));
                }
            }
        }
        for (i, c) in s.configs.iter().enumerate() {
            if !project.configs.contains_key(&c.source) {
                return Err(at(
                    format!("services.{name}.configs[{i}]"),
                    format!(
                        "service {name:?} refers to undefined config {}: invalid compose project",
                        c.source
                    ),
                ));
            }
        }
        for model in s.models.keys() {
            if !project.models.contains_key(model) {
                return Err(at(
                    format!("services.{name}.models.{model}"),
                    format!(
                    "service {name:?} refers to undefined model {model}: invalid compose project"
                ),
                ));
            }
        }
        for (i, secret) in s.secrets.iter().enumerate() {
            if !project.secrets.contains_key(&secret.source) {
                return Err(at(
                    format!("services.{name}.secrets[{i}]"),
                    format!(
                        "service {name:?} refers to undefined secret {}: invalid compose project",
                        secret.source
                    ),
                ));
            }
        }
        if let (Some(scale), Some(replicas)) = (s.scale, s.deploy.as_ref().and_then(|d| d.replicas))
        {
            if scale != replicas {
                return Err(at(format!("services.{name}.scale"), format!("services.{name}: can't set distinct values on 'scale' and 'deploy.replicas': invalid compose project")));
            }
        }
        if s.scale.is_some_and(|x| x < 0) {
            return Err(at(
                format!("services.{name}.scale"),
                format!("services.{name}.scale: must be greater than or equal to 0"),
            ));
        }
        let deploy = s.deploy.as_ref();
        if deploy.and_then(|d| d.replicas).is_some_and(|x| x < 0) {
            return Err(at(
                format!("services.{name}.deploy.replicas"),
                format!("services.{name}.deploy.replicas: must be greater than or equal to 0"),
            ));
        }
        let limits = deploy.and_then(|d| d.resources.limits.as_ref());
        let reservations = deploy.and_then(|d| d.resources.reservations.as_ref());
        let distinct = |attr: &str, other: &str| {
            at(format!("services.{name}.{attr}"), format!("services.{name}: can't set distinct values on '{attr}' and 'deploy.resources.{other}': invalid compose project"))
        };
        if s.cpus != 0.0 && limits.is_some_and(|l| l.nano_cpus.0 != s.cpus) {
            return Err(distinct("cpus", "limits.cpus"));
        }
        if s.mem_limit.0 != 0 && limits.is_some_and(|l| l.memory_bytes.0 != s.mem_limit.0) {
            return Err(distinct("mem_limit", "limits.memory"));
        }
        if s.mem_reservation.0 != 0
            && reservations.is_some_and(|r| r.memory_bytes.0 != s.mem_reservation.0)
        {
            return Err(distinct("mem_reservation", "reservations.memory"));
        }
        if s.pids_limit != 0 && limits.is_some_and(|l| l.pids != s.pids_limit) {
            return Err(distinct("pids_limit", "limits.pids"));
        }
        if s.get_scale() > 1 && !s.container_name.is_empty() {
            let attr = if s.scale.is_none() {
                "deploy.replicas"
            } else {
                "scale"
            };
            return Err(at(format!("services.{name}.container_name"), format!("services.{attr}: can't set container_name and {name} as container name must be unique: invalid compose project")));
        }
        if let Some(d) = &s.develop {
            for w in &d.watch {
                if w.target.is_empty() && w.action != "rebuild" && w.action != "restart" {
                    return Err(at(format!("services.{name}.develop.watch"), format!("services.{name}.develop.watch: target is required for non-rebuild actions: invalid compose project")));
                }
            }
        }
        let mut mounts: BTreeMap<String, String> = BTreeMap::new();
        for (i, t) in s.tmpfs.iter().enumerate() {
            let loc = format!("services.{name}.tmpfs[{i}]");
            let path = t.split(':').next().unwrap_or_default().to_string();
            if let Some(p) = mounts.get(&path) {
                return Err(at(
                    &loc,
                    format!("{loc}: target {path} already mounted as {p}"),
                ));
            }
            mounts.insert(path, loc);
        }
        for (i, v) in s.volumes.iter().enumerate() {
            let loc = format!("services.{name}.volumes[{i}]");
            if let Some(p) = mounts.get(&v.target) {
                return Err(at(
                    &loc,
                    format!("{loc}: target {} already mounted as {p}", v.target),
                ));
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
            return Err(at(format!("secrets.{name}"), format!("secret {name:?} must declare either `file` or `environment`: invalid compose project")));
        }
    }
    // A cycle is placed at the `depends_on` of the service it was found from.
    graph(project).check_cycle().map_err(|m| {
        let first = m
            .strip_prefix("dependency cycle detected: ")
            .and_then(|c| c.split(" -> ").next())
            .unwrap_or_default();
        at(format!("services.{first}.depends_on"), m)
    })
}
