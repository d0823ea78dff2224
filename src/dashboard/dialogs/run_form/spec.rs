//! The run form's values and what they become: each field checked (saying which one is wrong
//! and why), then the typed create spec — the engine's own `CreateRequest` — with what
//! `berth run` sends for the same flags (ports and volumes through the CLI's own parsers).

use berth_engine::model::container::{ContainerConfig, CreateRequest, HostConfig};
use serde_json::{json, Value};

use super::Field;
use crate::client::api::{containers, Endpoint};

/// What the user typed: kept with the create call so a refused create brings the form back
/// as it was.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunValues {
    pub image: String,
    pub name: String,
    pub ports: String,
    pub env: String,
    pub volumes: String,
    pub network: String,
    pub command: String,
    pub rm: bool,
    pub detach: bool,
}

/// A checked form: the container's name (`None`: the engine picks one) and the typed create
/// spec, the engine's own `CreateRequest`.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub name: Option<String>,
    pub spec: CreateRequest,
}

impl RunRequest {
    /// `POST /containers/create[?name=]` with the spec.
    pub fn endpoint(&self) -> Endpoint {
        containers::create(self.name.as_deref(), &self.spec)
    }
}

/// Comma-separated items, trimmed, empty ones dropped.
fn items(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `A=1, B=x,y`: a comma starts a new variable only when `NAME=` follows it, so values may hold
/// commas.
fn env_items(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split(',') {
        let starts_var = part.trim_start().split_once('=').is_some_and(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        });
        match out.last_mut() {
            Some(last) if !starts_var => {
                last.push(',');
                last.push_str(part);
            }
            _ => out.push(part.to_string()),
        }
    }
    out.into_iter()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect()
}

/// docker's container name rule (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`).
fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// The part of a CLI flag error after `flag: ` (the field label already says which flag).
fn flag_reason(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    match s.split_once(" flag: ") {
        Some((_, why)) => why.to_string(),
        None => s,
    }
}

impl RunValues {
    /// Checks every field and builds the create request, or names the first bad field.
    pub fn build(&self) -> Result<RunRequest, (Field, String)> {
        let image = self.image.trim();
        if image.is_empty() {
            return Err((Field::Image, "which image to run?".into()));
        }
        if image.contains(char::is_whitespace) {
            return Err((Field::Image, "an image reference has no spaces".into()));
        }
        let name = self.name.trim();
        if !name.is_empty() && !valid_name(name) {
            return Err((
                Field::Name,
                "letters, digits and _ . - only, at least 2, starting with a letter or digit"
                    .into(),
            ));
        }
        let ports = items(&self.ports);
        for p in &ports {
            crate::commands::networks::publish_options(std::slice::from_ref(p), &[])
                .map_err(|e| (Field::Ports, format!("{p}: {}", flag_reason(&e))))?;
        }
        let env = env_items(&self.env);
        for e in &env {
            match e.split_once('=') {
                Some((k, _)) if !k.trim().is_empty() && !k.contains(char::is_whitespace) => {}
                _ => return Err((Field::Env, format!("\"{e}\" is not NAME=value"))),
            }
        }
        let volumes = items(&self.volumes);
        for v in &volumes {
            crate::commands::volumes::mount_flags("run", std::slice::from_ref(v), &[], &[])
                .map_err(|e| (Field::Volumes, format!("{v}: {}", flag_reason(&e))))?;
        }
        let network = match self.network.trim() {
            "" => "bridge",
            n => n,
        };
        if network.contains(char::is_whitespace) {
            return Err((Field::Network, "a network name has no spaces".into()));
        }
        let command = shlex::split(self.command.trim()).ok_or((
            Field::Command,
            "unbalanced quotes (or a trailing backslash)".to_string(),
        ))?;

        // What `berth run` sends for the same flags (`commands::run::create_body`; a test
        // holds the two together): attached from the dashboard means a terminal session,
        // like `docker run -it`; detached attaches nothing.
        let attached = !self.detach;
        let mut config = ContainerConfig {
            image: image.to_string(),
            attach_stdin: attached,
            attach_stdout: attached,
            attach_stderr: attached,
            tty: attached,
            open_stdin: attached,
            stdin_once: attached,
            env,
            cmd: (!command.is_empty()).then_some(command),
            ..Default::default()
        };
        let mut host = HostConfig {
            network_mode: network.to_string(),
            auto_remove: self.rm,
            ..Default::default()
        };
        // Each item passed alone above; together they merge as the CLI merges its flags.
        let (exposed, bindings) = crate::commands::networks::publish_options(&ports, &[])
            .map_err(|e| (Field::Ports, e))?;
        if !exposed.is_empty() {
            config.exposed_ports = Some(exposed.into_iter().collect());
        }
        if !bindings.is_empty() {
            host.extra
                .insert("PortBindings".into(), Value::Object(bindings));
        }
        // `-v` items are binds or anonymous volumes, never `--mount` or `--tmpfs` ones.
        let mounts = crate::commands::volumes::mount_flags("run", &volumes, &[], &[])
            .map_err(|e| (Field::Volumes, flag_reason(&e)))?;
        if !mounts.volumes.is_empty() {
            config.volumes = Some(mounts.volumes.into_iter().collect());
        }
        if !mounts.binds.is_empty() {
            host.extra.insert("Binds".into(), json!(mounts.binds));
        }
        Ok(RunRequest {
            name: (!name.is_empty()).then(|| name.to_string()),
            spec: CreateRequest {
                config,
                host_config: Some(host),
                networking_config: None,
            },
        })
    }
}

/// Which field an engine refusal is about, from its message (the form shows it there).
pub fn field_of_engine_error(message: &str) -> Option<Field> {
    let m = message.to_lowercase();
    if m.contains("container name") || m.contains("is already in use") {
        Some(Field::Name)
    } else if m.contains("no such image") || m.contains("pull access") {
        Some(Field::Image)
    } else if m.contains("port") {
        Some(Field::Ports)
    } else if m.contains("network") {
        Some(Field::Network)
    } else if m.contains("volume") || m.contains("mount") || m.contains("bind") {
        Some(Field::Volumes)
    } else {
        None
    }
}
