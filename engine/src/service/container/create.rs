//! `docker create`: a create request becomes a container record (image defaults merged, limits
//! validated), its directory and its name in the index.

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, ContainerState, CreateRequest, Status};
use crate::model::image::ResolvedImage;
use crate::runtime::defaults::DEFAULT_PATH;
use crate::runtime::spec::NetworkNamespace;
use crate::service::image::ImageService;
use crate::store::containers::EtcFiles;
use crate::util::{now_rfc3339, ZERO_TIME};

use super::{Container, ContainerService};

const MIN_MEMORY: i64 = 6 * 1024 * 1024;

impl ContainerService {
    pub async fn create(
        &self,
        images: &ImageService,
        name: Option<&str>,
        req: CreateRequest,
    ) -> Result<(String, Vec<String>)> {
        let image = images.resolve(&req.config.image)?;
        self.create_from(&image, name, req)
    }

    /// `create` once the image is resolved (unit tests start here, without an image store).
    pub(crate) fn create_from(
        &self,
        image: &ResolvedImage,
        name: Option<&str>,
        req: CreateRequest,
    ) -> Result<(String, Vec<String>)> {
        let id = crate::util::new_id();
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => super::names::validate(n)?,
            None => loop {
                let candidate = super::names::generate();
                if !self
                    .index
                    .read()
                    .expect("index")
                    .names
                    .contains_key(&candidate)
                {
                    break candidate;
                }
            },
        };
        let mut req = req;
        if let Some(host) = req.host_config.as_mut() {
            self.resolve_network_target(host);
            self.resolve_namespace_targets(host)?;
            self.register_links(&name, host)?;
        }
        let net_plan = match self.networks() {
            Some(n) => n.plan_create(&req)?,
            None => None,
        };
        let (mut record, etc, warnings) = build_record(id.clone(), name.clone(), image, req)?;
        // Reserve the name first so two creates cannot share it; the directory is written
        // without holding the index lock, and the container is listed once it is on disk.
        {
            let mut index = self.index.write().expect("index");
            if let Some(other) = index.names.get(&name) {
                return Err(EngineError::conflict(format!(
                    "Conflict. The container name \"/{name}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
                )));
            }
            index.names.insert(name.clone(), id.clone());
        }
        if let Some(hooks) = self.mount_hooks() {
            match hooks.resolve(&record, image) {
                Ok(mounts) => record.mounts = mounts,
                Err(e) => {
                    self.index.write().expect("index").names.remove(&name);
                    return Err(e);
                }
            }
        }
        let written = self.store.create(&record, &etc);
        let mut index = self.index.write().expect("index");
        if let Err(e) = written {
            index.names.remove(&name);
            drop(index);
            if let Some(hooks) = self.mount_hooks() {
                hooks.after_remove(&record, true);
            }
            return Err(e);
        }
        if let (Some(plan), Some(nets)) = (net_plan, self.networks()) {
            if let Err(e) = nets.commit_create(plan, &record) {
                index.names.remove(&name);
                let _ = self.store.remove(&id, false);
                return Err(e);
            }
        }
        let c = Container::new(record);
        index.by_id.insert(id.clone(), c.clone());
        drop(index);
        self.emit(&c, "create", &[]);
        Ok((id, warnings))
    }
}

pub fn build_record(
    id: String,
    name: String,
    image: &ResolvedImage,
    req: CreateRequest,
) -> Result<(ContainerRecord, EtcFiles, Vec<String>)> {
    let mut config = req.config;
    let mut host = req.host_config.unwrap_or_default();
    let warnings = Vec::new();
    validate_limits(&host)?;
    super::shared_net::validate(&config, &host)?;
    super::namespace_modes::validate(&config, &host)?;
    super::restart::validate(&host)?;
    super::health::validate(config.healthcheck.as_ref())?;

    let network = match host.network_mode.as_str() {
        "" | "default" | "bridge" => {
            host.network_mode = if host.network_mode.is_empty() {
                "bridge".into()
            } else {
                host.network_mode.clone()
            };
            NetworkNamespace::Isolated
        }
        "none" => NetworkNamespace::Isolated,
        "host" => NetworkNamespace::Host,
        // `container:<id>`: the target's namespace and /etc files, found at start.
        m if super::shared_net::target(m).is_some() => NetworkNamespace::Isolated,
        // A user-defined network: the network service validated the name and wires it at start.
        _ => NetworkNamespace::Isolated,
    };
    super::log_driver::validate(&host.log_config)?;
    if let Some(rt) = host.extra.get("Runtime").and_then(|v| v.as_str()) {
        // dockerd's one runtime name; berth's shim runs behind it.
        if !rt.is_empty() && rt != "runc" {
            return Err(EngineError::invalid(format!(
                "Unknown runtime specified {rt}"
            )));
        }
    }

    // Image defaults, docker's rules: a request Entrypoint discards the image's Cmd.
    let img = &image.config;
    if config.entrypoint.is_none() {
        config.entrypoint = img.entrypoint.clone();
        if config.cmd.is_none() {
            config.cmd = img.cmd.clone();
        }
    } else if config
        .entrypoint
        .as_ref()
        .is_some_and(|e| e.len() == 1 && e[0].is_empty())
    {
        // `--entrypoint ""` clears the image's entrypoint.
        config.entrypoint = None;
        if config.cmd.is_none() {
            config.cmd = img.cmd.clone();
        }
    }
    let mut argv: Vec<String> = config.entrypoint.clone().unwrap_or_default();
    argv.extend(config.cmd.clone().unwrap_or_default());
    if argv.is_empty() {
        return Err(EngineError::invalid("no command specified"));
    }

    let mut env = img.env.clone().unwrap_or_default();
    for kv in std::mem::take(&mut config.env) {
        let key = kv.split('=').next().unwrap_or("").to_owned();
        env.retain(|e| e.split('=').next() != Some(key.as_str()));
        env.push(kv);
    }
    if config.hostname.is_empty() {
        config.hostname = if matches!(network, NetworkNamespace::Host) {
            host_hostname()
        } else {
            id[..12].to_owned()
        };
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
        env.insert(1.min(env.len()), format!("HOSTNAME={}", config.hostname));
    }
    if config.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    config.env = env;
    if config.working_dir.is_empty() {
        config.working_dir = img.working_dir.clone().unwrap_or_default();
    }
    if !config.working_dir.is_empty() && !config.working_dir.starts_with('/') {
        return Err(EngineError::invalid(format!(
            "the working directory '{}' is invalid, it needs to be an absolute path",
            config.working_dir
        )));
    }
    if config.user.is_empty() {
        config.user = img.user.clone().unwrap_or_default();
    }
    let mut labels = img.labels.clone().unwrap_or_default();
    labels.extend(std::mem::take(&mut config.labels));
    config.labels = labels;
    if config.stop_signal.is_none() {
        config.stop_signal = img.stop_signal.clone().filter(|s| !s.is_empty());
    }
    if let Some(sig) = &config.stop_signal {
        crate::util::signals::parse(sig)?;
    }
    if config.exposed_ports.is_none() {
        config.exposed_ports = img.exposed_ports.clone();
    }
    if config.volumes.is_none() {
        config.volumes = img.volumes.clone();
    }
    config.healthcheck = super::health::merge(config.healthcheck.take(), img.healthcheck.as_ref())?;
    config.image = config.image.trim().to_owned();

    let etc = etc_files(&config.hostname, network.clone(), &host.extra);
    let path = argv.remove(0);
    let record = ContainerRecord {
        id,
        name,
        created: now_rfc3339(),
        image: config.image.clone(),
        image_id: image.id.clone(),
        layer_dirs: image.layer_dirs.clone(),
        path,
        args: argv,
        config,
        host_config: host,
        state: ContainerState {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            oom_killed: false,
            error: String::new(),
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
            health: None,
        },
        restart_count: 0,
        has_been_manually_stopped: false,
        mounts: Vec::new(),
    };
    Ok((record, etc, warnings))
}

pub(crate) fn validate_limits(h: &crate::model::container::HostConfig) -> Result<()> {
    if h.memory != 0 && h.memory < MIN_MEMORY {
        return Err(EngineError::invalid("Minimum memory limit allowed is 6MB"));
    }
    if h.memory_swap > 0 && h.memory == 0 {
        return Err(EngineError::invalid(
            "You should always set the Memory limit when using Memoryswap limit",
        ));
    }
    if h.memory_swap > 0 && h.memory_swap < h.memory {
        return Err(EngineError::invalid(
            "Minimum memoryswap limit should be larger than memory limit, see usage",
        ));
    }
    if h.memory < 0 || h.nano_cpus < 0 || h.cpu_shares < 0 || h.cpu_quota < -1 || h.cpu_period < 0 {
        return Err(EngineError::invalid("resource limits must not be negative"));
    }
    if h.nano_cpus > 0 && (h.cpu_period > 0 || h.cpu_quota > 0) {
        return Err(EngineError::invalid(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ));
    }
    let ncpu = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as i64;
    if h.nano_cpus > ncpu * 1_000_000_000 {
        return Err(EngineError::invalid(format!(
            "Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )));
    }
    if h.cpu_period != 0 && !(1000..=1_000_000).contains(&h.cpu_period) {
        return Err(EngineError::invalid(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        ));
    }
    if h.cpu_quota > 0 && h.cpu_quota < 1000 {
        return Err(EngineError::invalid(
            "CPU cfs quota can not be less than 1ms (i.e. 1000)",
        ));
    }
    Ok(())
}

fn host_hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".into())
}

fn etc_files(
    hostname: &str,
    network: NetworkNamespace,
    host_extra: &serde_json::Map<String, serde_json::Value>,
) -> EtcFiles {
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let dns = crate::network::etc::DnsConfig::from_host_config(host_extra);
    match network {
        NetworkNamespace::Host => EtcFiles {
            hostname: format!("{hostname}\n"),
            hosts: std::fs::read_to_string("/etc/hosts")
                .unwrap_or_else(|_| "127.0.0.1\tlocalhost\n".into()),
            resolv_conf: host_resolv,
        },
        // Bridge-mode containers get their files rewritten at start, once their addresses are
        // known; these are what `none` keeps.
        _ => EtcFiles {
            hostname: format!("{hostname}\n"),
            hosts: crate::network::etc::hosts(hostname, &[], &dns.extra_hosts, &[], None),
            resolv_conf: crate::network::etc::resolv_conf(&host_resolv, &dns, false),
        },
    }
}
