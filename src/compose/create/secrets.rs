//! Secrets and configs that are not files (secrets.go): those read from an environment
//! variable, and inline `content`, are written into the created container through the archive
//! API before it starts, one single-file tar each, as docker compose does: at the secret's
//! target under /run/secrets/ (a config's at its target, or /<name>), mode 0444 unless set,
//! owned by `uid`/`gid` when given.

use anyhow::Result;

use super::file_mounts::is_abs_target;
use super::CreateError;
use crate::client::{full, Client};
use crate::compose::types::{FileObjectConfig, FileReferenceConfig, Project, ServiceConfig};
use berth_engine::util::go::quote;

/// One file to copy into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    /// The path in the container, absolute (the tar member's name).
    pub target: String,
    pub content: String,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// `CopyUIDGID`: the archive's owners are kept (`uid` or `gid` given).
    pub copy_uid_gid: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Secret,
    Config,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Secret => "secret",
            Kind::Config => "config",
        }
    }
}

/// `injectSecrets` then `injectConfigs`: what to copy, in docker compose's order.
pub fn injections(
    project: &Project,
    service: &ServiceConfig,
) -> Result<Vec<Injection>, CreateError> {
    let mut out = Vec::new();
    let secrets = |name: &str| project.secrets.get(name).map(|s| s.0.clone());
    let configs = |name: &str| project.configs.get(name).map(|c| c.0.clone());
    for (kind, refs, defs) in [
        (
            Kind::Secret,
            &service.secrets,
            &secrets as &dyn Fn(&str) -> Option<FileObjectConfig>,
        ),
        (Kind::Config, &service.configs, &configs),
    ] {
        for r in refs {
            let source = defs(&r.source).unwrap_or_default();
            let content = resolve_content(project, &source, kind)?;
            if content.is_empty() {
                continue;
            }
            if service.read_only {
                return Err(CreateError::new(format!(
                    "cannot create {} {} in read-only service {}: `file` is the sole supported option",
                    kind.word(),
                    quote(&source.name),
                    service.name
                )));
            }
            out.push(injection(r, content, kind)?);
        }
    }
    Ok(out)
}

/// `resolveFileContent`: inline content (or content the loader already resolved), else the
/// project environment's variable, which must be set; a file-backed one has none (it is
/// mounted).
fn resolve_content(
    project: &Project,
    source: &FileObjectConfig,
    kind: Kind,
) -> Result<String, CreateError> {
    if !source.content.is_empty() {
        return Ok(source.content.clone());
    }
    if !source.environment.is_empty() {
        return project
            .environment
            .get(&source.environment)
            .cloned()
            .ok_or_else(|| {
                CreateError::new(format!(
                    "environment variable {} required by {} {} is not set",
                    quote(&source.environment),
                    kind.word(),
                    quote(&source.name)
                ))
            });
    }
    Ok(String::new())
}

/// `setDefaultTarget` and `createTar`'s header fields.
fn injection(
    r: &FileReferenceConfig,
    content: String,
    kind: Kind,
) -> Result<Injection, CreateError> {
    let target = if r.target.is_empty() {
        match kind {
            Kind::Secret => format!("/run/secrets/{}", r.source),
            Kind::Config => format!("/{}", r.source),
        }
    } else if kind == Kind::Secret && !is_abs_target(&r.target) {
        format!("/run/secrets/{}", r.target)
    } else {
        r.target.clone()
    };
    let atoi = |s: &str| -> Result<u64, CreateError> {
        if s.is_empty() {
            return Ok(0);
        }
        s.parse().map_err(|_| {
            CreateError::new(format!(
                "strconv.Atoi: parsing {}: invalid syntax",
                quote(s)
            ))
        })
    };
    Ok(Injection {
        target,
        content,
        mode: r.mode.as_ref().map_or(0o444, |m| m.0 as u32),
        uid: atoi(&r.uid)?,
        gid: atoi(&r.gid)?,
        copy_uid_gid: !r.uid.is_empty() || !r.gid.is_empty(),
    })
}

/// The single-file tar of an injection. The member name is the absolute target, as Go's
/// `archive/tar` writes it (the `tar` crate refuses absolute paths, so the USTAR name and
/// prefix fields are filled directly).
pub fn tar_of(i: &Injection) -> Result<Vec<u8>> {
    let mut h = tar::Header::new_ustar();
    let name = i.target.as_bytes();
    let ustar = h
        .as_ustar_mut()
        .ok_or_else(|| anyhow::anyhow!("ustar header"))?;
    if name.len() <= 100 {
        ustar.name[..name.len()].copy_from_slice(name);
    } else {
        // USTAR's split: a prefix up to 155 bytes ending before a '/', the rest in name.
        let split = (1..name.len())
            .rev()
            .find(|&k| name[k] == b'/' && k <= 155 && name.len() - k - 1 <= 100)
            .ok_or_else(|| anyhow::anyhow!("name too long for a tar header: {}", i.target))?;
        ustar.prefix[..split].copy_from_slice(&name[..split]);
        ustar.name[..name.len() - split - 1].copy_from_slice(&name[split + 1..]);
    }
    h.set_size(i.content.len() as u64);
    h.set_mode(i.mode);
    h.set_uid(i.uid);
    h.set_gid(i.gid);
    h.set_mtime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&h, i.content.as_bytes())?;
    Ok(b.into_inner()?)
}

/// Copy the service's environment and inline secrets and configs into a created container
/// (before it starts), as docker compose's `startService` does.
pub async fn inject_secrets_and_configs(
    client: &Client,
    project: &Project,
    service: &ServiceConfig,
    container_id: &str,
) -> Result<()> {
    for i in injections(project, service)? {
        let tar = tar_of(&i)?;
        client
            .container_archive_put(container_id, "/", i.copy_uid_gid, full(tar))
            .await?;
    }
    Ok(())
}
