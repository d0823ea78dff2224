//! `berth engine`: take the data root lock, open the stores, serve the API, reconnect to running
//! shims in the background, and shut down on SIGTERM/SIGINT leaving containers running.
//!
//! Under systemd it serves the socket it was handed (socket activation), reports `READY=1` and
//! `STOPPING=1`, and logs to the journal; see [`crate::supervisor`]. `<data-root>/engine.pid`
//! names the running engine; see [`crate::pidfile`].

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use nix::fcntl::{Flock, FlockArg};

use crate::config::EngineOptions;
use crate::error::{EngineError, IoContext, Result};
use crate::pidfile::PidFile;
use crate::runtime::selfexe::ShimExecutable;
use crate::service::container::ContainerService;
use crate::service::events::EventBus;
use crate::service::image::ImageService;
use crate::service::Engine;
use crate::supervisor::Launch;

pub fn run(mut options: EngineOptions) -> Result<()> {
    init_tracing(&options.log_level);
    // First, while no other thread exists: it removes LISTEN_* from the environment.
    let inherited = crate::supervisor::take_inherited_listener()?;
    if let Some(path) = inherited.as_ref().and_then(|i| i.path.clone()) {
        // What `/berth/v1/engine`, the pid file and the logs report.
        options.socket = path;
    }
    let root = options.data_root.clone();
    prepare_data_root(&root)?;
    let _lock = lock_data_root(&root)?;
    // Removed again when this guard drops: on a clean shutdown or a failed start-up.
    let pid_file = PidFile::write(&root, &options.socket)?;
    let launch =
        Launch::of_this_process(&options.socket, &root, pid_file.path(), inherited.is_some());
    let engine_id = engine_id(&root)?;
    // The sealed copy is made before any thread exists and kept open for the engine's lifetime.
    let shim_exe = ShimExecutable::create()?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .io_context(|| "starting the async runtime".into())?;
    runtime.block_on(async move {
        // One bus for every service, so `GET /events` sees containers and images alike.
        let events = EventBus::new();
        let images = ImageService::open_with_events(&root, events.clone())?;
        let networks = crate::service::network::NetworkService::open_offline(
            &root,
            options.network.clone(),
            events.clone(),
        )?;
        let containers = ContainerService::open_with_events(&root, shim_exe, events.clone())?;
        containers.set_networks(networks.clone());
        // The embedded resolver of user networks follows container namespaces from here on.
        let _dns = crate::service::network::name_resolution::install(&networks);
        let volumes = crate::service::volume::VolumeService::open(&root, events, &containers)?;
        containers.set_mount_hooks(volumes.clone());
        let engine = Arc::new(Engine {
            engine_id,
            options: options.clone(),
            data_root: root.clone(),
            images,
            containers: containers.clone(),
            stats: Default::default(),
            execs: crate::service::container::exec::ExecService::new(containers.clone()),
            volumes,
            networks: networks.clone(),
            pulls: Arc::new(crate::service::image::pull::PullService::new(
                crate::registry::RegistryClient::new(options.registry.clone())?,
            )),
            known_blobs: Arc::new(crate::service::image::push::KnownBlobs::open(&root)),
            launch,
            builds: crate::service::build::BuildService::open(&root)?,
        });
        // A socket the service manager created is its to keep: never unlinked or chmod-ed here.
        let (listener, bound_here) = match inherited {
            Some(socket) => (
                tokio::net::UnixListener::from_std(socket.listener)
                    .io_context(|| "serving the inherited socket".into())?,
                false,
            ),
            None => (crate::api::server::bind(&options.socket)?, true),
        };
        tracing::info!(
            socket = %options.socket.display(),
            data_root = %root.display(),
            socket_activated = !bound_here,
            "berth engine serving"
        );
        // Reading records and reconnecting shims happens in the background, after the first
        // client has been answered (or a few milliseconds have passed): on 2 cores, doing it
        // at once delayed the first `/_ping` in proportion to the number of containers.
        let first_client = Arc::new(tokio::sync::Notify::new());
        let started = first_client.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(std::time::Duration::from_millis(20), started.notified())
                .await;
            let loader = containers.clone();
            let host_networking = networks.clone();
            let loaded = tokio::task::spawn_blocking(move || {
                // Bridges and forwarding first: reconciled containers may be restarted at once.
                if let Err(e) = host_networking.bring_up_host() {
                    tracing::error!(error = %e, "bridge networking is not available");
                }
                loader.load()
            });
            if loaded.await.is_ok() {
                containers.reconcile().await;
                remove_build_leftovers(&containers).await;
            }
        });
        // The listener is in place: connections queue until `serve` accepts them.
        crate::supervisor::notify_ready(&options.socket);
        crate::api::server::serve(listener, engine, first_client, shutdown_signal()).await;
        if bound_here {
            let _ = fs::remove_file(&options.socket);
        }
        tracing::info!("berth engine stopped; containers keep running");
        Ok(())
    })
}

/// A build's RUN containers that an engine killed mid-build left behind: no build will use them.
async fn remove_build_leftovers(containers: &Arc<ContainerService>) {
    let label = crate::service::build::BUILD_CONTAINER_LABEL;
    let leftovers: Vec<String> = containers
        .list()
        .iter()
        .filter(|c| c.with_record(|r| r.config.labels.contains_key(label)))
        .map(|c| c.id.clone())
        .collect();
    for id in leftovers {
        tracing::info!(container = %id, "removing a build container left by an interrupted build");
        if let Err(e) = containers.remove(&id, true).await {
            tracing::warn!(container = %id, error = %e, "removing a build container failed");
        }
    }
}

/// Logs go to stderr, or straight to journald (with levels and fields) when systemd connected
/// stderr to the journal.
fn init_tracing(level: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = || {
        tracing_subscriber::EnvFilter::try_new(format!("berth_engine={level},{level}"))
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    };
    if crate::supervisor::stderr_is_journal() {
        match tracing_journald::layer() {
            Ok(journal) => {
                let _ = tracing_subscriber::registry()
                    .with(filter())
                    .with(journal)
                    .try_init();
                return;
            }
            // stderr is the journal too, so this line still lands there.
            Err(e) => {
                eprintln!("berth engine: cannot open the journal socket ({e}); logging to stderr")
            }
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .try_init();
}

/// The data root is 0700 (CVE-2021-41091): container files must not be reachable by other users.
fn prepare_data_root(root: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .io_context(|| format!("creating data root {}", root.display()))?;
    fs::set_permissions(root, fs::Permissions::from_mode(0o700))
        .io_context(|| format!("chmod 0700 {}", root.display()))
}

fn lock_data_root(root: &Path) -> Result<Flock<fs::File>> {
    let path = root.join("engine.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .io_context(|| format!("opening {}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| {
        EngineError::conflict(format!(
            "another berth engine is using the data root {} ({errno})",
            root.display()
        ))
    })
}

fn engine_id(root: &Path) -> Result<String> {
    let path = root.join("engine-id");
    if let Ok(id) = fs::read_to_string(&path) {
        if !id.trim().is_empty() {
            return Ok(id.trim().to_owned());
        }
    }
    let id = crate::util::new_id();
    crate::store::atomic::write_atomic(&path, id.as_bytes())?;
    Ok(id)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received, shutting down"),
        _ = int.recv() => tracing::info!("SIGINT received, shutting down"),
    }
    crate::supervisor::notify_stopping();
}
