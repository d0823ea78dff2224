//! Start the engine on demand: when the local socket does not answer `/_ping`, spawn
//! `<current exe> engine --socket S [--data-root D]` in its own session with its output appended
//! to `<data-root>/engine.log`, then wait for it to answer.

use std::fs::OpenOptions;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Client, ConnectError};

/// How long to wait for a freshly spawned engine to answer.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// How often to try the socket meanwhile.
const POLL_INTERVAL: Duration = Duration::from_millis(3);

/// Connect, starting the engine first if allowed and needed. Only connection failures
/// (nothing listening) trigger a start; an engine that answers with an error is left alone.
pub async fn connect(socket: &Path, autostart: bool) -> Result<Client> {
    match Client::connect(socket).await {
        Ok(c) => Ok(c),
        Err(e) if autostart && e.downcast_ref::<ConnectError>().is_some() => {
            let data_root = std::env::var_os("BERTH_DATA_ROOT").map(PathBuf::from);
            start_engine(socket, data_root.as_deref()).await
        }
        Err(e) => Err(e),
    }
}

async fn start_engine(socket: &Path, data_root: Option<&Path>) -> Result<Client> {
    let root = data_root
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(berth_engine::config::DEFAULT_DATA_ROOT));
    let log = root.join("engine.log");
    // An ExitError prints exactly this one line (no "Error:" prefix).
    let fail = |why: String| {
        crate::exit::ExitError::with(
            1,
            format!(
                "cannot start the berth engine: {why} (see {})",
                log.display()
            ),
        )
    };

    // The data root must not be world-readable (CVE-2021-41091); the engine re-checks it.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&root)
        .map_err(|e| fail(format!("creating {}: {e}", root.display())))?;
    if let Some(parent) = socket.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| fail(format!("creating {}: {e}", parent.display())))?;
    }
    let log_file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| fail(format!("opening {}: {e}", log.display())))?;
    let exe = std::env::current_exe().map_err(|e| fail(format!("locating berth: {e}")))?;

    let mut cmd = Command::new(exe);
    cmd.arg("engine").arg("--socket").arg(socket);
    if let Some(d) = data_root {
        cmd.arg("--data-root").arg(d);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(
            log_file
                .try_clone()
                .map_err(|e| fail(format!("opening {}: {e}", log.display())))?,
        ))
        .stderr(Stdio::from(log_file));
    // SAFETY: setsid is async-signal-safe; it detaches the engine from our terminal and
    // session so Ctrl-C in this shell (or closing it) does not stop the engine.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| fail(format!("spawning: {e}")))?;
    tracing::debug!(pid = child.id(), "started the berth engine");

    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        // The engine answers within milliseconds of its start; a connect to a socket nobody
        // listens on fails at once, so a short poll costs nothing (at 100 ms it was most of a
        // first command's time: bench/first_run.sh).
        tokio::time::sleep(POLL_INTERVAL).await;
        match Client::connect(socket).await {
            Ok(c) => return Ok(c),
            Err(e) if e.downcast_ref::<ConnectError>().is_none() => return Err(e),
            Err(_) => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(fail(format!("the engine exited ({status})")));
        }
        if Instant::now() >= deadline {
            return Err(fail(format!(
                "no answer on {} after {}s",
                socket.display(),
                START_TIMEOUT.as_secs()
            )));
        }
    }
}
