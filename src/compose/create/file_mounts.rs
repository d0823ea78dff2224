//! Secrets and configs backed by a file, bind-mounted read-only into the container
//! (`buildContainerSecretMounts`, `buildContainerConfigMounts`). Those from the environment or
//! inline content are not mounts: they are copied in after create ([`super::secrets`]).

use std::collections::BTreeMap;

use super::mounts::{build_mount, Mount};
use super::CreateError;
use crate::compose::types::{
    FileObjectConfig, FileReferenceConfig, Project, ServiceConfig, ServiceVolumeBind,
    ServiceVolumeConfig,
};

/// `isAbsTarget`: a Unix absolute path, or a Windows one as compose-go's `IsWindowsAbs` sees
/// it (a drive and a separator, or two leading separators).
pub fn is_abs_target(p: &str) -> bool {
    let sep = |c: u8| c == b'\\' || c == b'/';
    let b = p.as_bytes();
    p.starts_with('/')
        || (b.len() >= 3 && b[1] == b':' && sep(b[2]))
        || (b.len() >= 2 && sep(b[0]) && sep(b[1]))
}

/// Where a secret or config lands: its target, under `base` when relative, `base + source`
/// when unset.
fn target_of(r: &FileReferenceConfig, base: &str) -> String {
    if r.target.is_empty() {
        format!("{base}{}", r.source)
    } else if !is_abs_target(&r.target) {
        format!("{base}{}", r.target)
    } else {
        r.target.clone()
    }
}

/// What docker compose refuses of a secret or config definition, in its words.
fn check_definition(def: &FileObjectConfig, kind: &str) -> Result<(), CreateError> {
    if def.external {
        return Err(CreateError::new(format!(
            "unsupported external {kind} {}",
            def.name
        )));
    }
    if !def.driver.is_empty() {
        return Err(CreateError::new(format!(
            "Docker Compose does not support {kind}s.*.driver"
        )));
    }
    if !def.template_driver.is_empty() {
        return Err(CreateError::new(format!(
            "Docker Compose does not support {kind}s.*.template_driver"
        )));
    }
    Ok(())
}

fn has_owner_or_mode(r: &FileReferenceConfig) -> bool {
    !r.uid.is_empty() || !r.gid.is_empty() || r.mode.is_some()
}

/// `buildContainerSecretMounts`: file secrets under /run/secrets/, read-only, the host file
/// required to exist (`create_host_path: false`, hence the mount API).
pub fn secret_mounts(
    project: &Project,
    service: &ServiceConfig,
    warnings: &mut Vec<String>,
) -> Result<Vec<Mount>, CreateError> {
    let mut mounts = BTreeMap::new();
    for secret in &service.secrets {
        let target = target_of(secret, "/run/secrets/");
        let def = project
            .secrets
            .get(&secret.source)
            .map(|s| s.0.clone())
            .unwrap_or_default();
        check_definition(&def, "secret")?;
        if !def.environment.is_empty() {
            continue;
        }
        if has_owner_or_mode(secret) {
            warnings.push(
                "secrets `uid`, `gid` and `mode` are not supported, they will be ignored".into(),
            );
        }
        if !std::path::Path::new(&def.file).exists() {
            warnings.push(format!("secret file {} does not exist", def.name));
        }
        let m = build_mount(
            project,
            &ServiceVolumeConfig {
                type_: "bind".into(),
                source: def.file.clone(),
                target: target.clone(),
                read_only: true,
                bind: Some(ServiceVolumeBind {
                    create_host_path: false,
                    ..Default::default()
                }),
                ..Default::default()
            },
            warnings,
        )?;
        mounts.insert(target, m);
    }
    Ok(mounts.into_values().collect())
}

/// `buildContainerConfigMounts`: file configs at their target (relative to /), read-only.
pub fn config_mounts(
    project: &Project,
    service: &ServiceConfig,
    warnings: &mut Vec<String>,
) -> Result<Vec<Mount>, CreateError> {
    let mut mounts = BTreeMap::new();
    for config in &service.configs {
        let target = target_of(config, "/");
        let def = project
            .configs
            .get(&config.source)
            .map(|c| c.0.clone())
            .unwrap_or_default();
        check_definition(&def, "config")?;
        if !def.environment.is_empty() || !def.content.is_empty() {
            continue;
        }
        if has_owner_or_mode(config) {
            warnings.push(
                "config `uid`, `gid` and `mode` are not supported, they will be ignored".into(),
            );
        }
        let m = build_mount(
            project,
            &ServiceVolumeConfig {
                type_: "bind".into(),
                source: def.file.clone(),
                target: target.clone(),
                read_only: true,
                ..Default::default()
            },
            warnings,
        )?;
        mounts.insert(target, m);
    }
    Ok(mounts.into_values().collect())
}
