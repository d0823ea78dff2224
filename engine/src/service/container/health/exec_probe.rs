//! Running one probe inside the container through the exec helper, with its timeout and its
//! output limit.

use std::io;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::error::{EngineError, IoContext, Result};
use crate::model::container::Status;
use crate::runtime::exec_helper::{parse_status, ExecSpec};
use crate::runtime::selfexe::EXEC_ARG;
use crate::runtime::spec::{files, RuntimeSpec};
use crate::service::container::{Container, ContainerService};

use super::probe::Probe;
use crate::model::health::go_duration;

/// Output kept per result.
pub(super) const MAX_OUTPUT: usize = 4096;
/// How long output is still read after the probe exited (a background child holding the pipe
/// open must not stall the monitor).
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// The first `MAX_OUTPUT` bytes; "..." marks a cut (docker's limitedBuffer).
#[derive(Default)]
pub(super) struct Limited {
    buf: Vec<u8>,
    truncated: bool,
}

impl Limited {
    pub(super) fn push(&mut self, data: &[u8]) {
        let keep = MAX_OUTPUT.saturating_sub(self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..keep]);
        if keep < data.len() {
            self.truncated = true;
        }
    }

    pub(super) fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.buf).into_owned();
        if self.truncated {
            s.push_str("...");
        }
        s
    }
}

/// Run the probe in the container through the exec helper: (exit code, output).
pub(crate) async fn exec_probe(
    svc: &ContainerService,
    c: &Container,
    probe: &Probe,
) -> Result<(i64, String)> {
    let rec = c.record();
    if rec.state.status != Status::Running || rec.state.pid <= 0 {
        return Err(EngineError::conflict(format!(
            "container {} is not running",
            c.id
        )));
    }
    let bundle = svc.dir(&c.id).join(files::BUNDLE);
    let raw = tokio::fs::read(&bundle)
        .await
        .io_context(|| format!("reading {}", bundle.display()))?;
    let container: RuntimeSpec = serde_json::from_slice(&raw)?;
    let spec = ExecSpec {
        pid: rec.state.pid,
        container,
        args: probe.argv.clone(),
        env: Vec::new(),
        cwd: String::new(),
        user: String::new(),
        tty: false,
        privileged: false,
    };

    // One pipe for stdout and stderr: the output reads in the order it was written.
    let (reader, writer) = io::pipe().io_context(|| "health probe pipe".to_string())?;
    let mut cmd = tokio::process::Command::new(svc.shim_executable().path());
    cmd.arg(EXEC_ARG)
        .env_clear()
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(
            writer
                .try_clone()
                .io_context(|| "health probe pipe".to_string())?,
        )
        .stderr(writer);
    let (mut child, mut sock) =
        crate::service::container::exec::launch_helper(cmd, &spec, "health probe").await?;

    let output = Arc::new(Mutex::new(Limited::default()));
    let reader = tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into())
        .io_context(|| "health probe pipe".to_string())?;
    let out = output.clone();
    let read_task = tokio::spawn(async move {
        let mut reader = reader;
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                // Keep reading past the limit so the probe never blocks on a full pipe.
                Ok(n) => out.lock().expect("probe output").push(&buf[..n]),
            }
        }
    });

    let pid = Arc::new(Mutex::new(None::<i32>));
    let pid_w = pid.clone();
    let status_task = tokio::spawn(async move {
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        while raw.len() < 1 << 16 {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
            if let Some(p) = parse_status(&raw).pid {
                *pid_w.lock().expect("probe pid") = Some(p);
            }
        }
        parse_status(&raw)
    });

    let waited = tokio::time::timeout(probe.timeout, child.wait()).await;
    let finish_reading = |task: tokio::task::JoinHandle<()>| async move {
        let abort = task.abort_handle();
        if tokio::time::timeout(DRAIN_GRACE, task).await.is_err() {
            abort.abort();
        }
    };
    match waited {
        Ok(status) => {
            let status = status.io_context(|| "waiting for the health probe".to_string())?;
            let mut code = status
                .code()
                .or_else(|| std::os::unix::process::ExitStatusExt::signal(&status).map(|s| 128 + s))
                .unwrap_or(126) as i64;
            finish_reading(read_task).await;
            let st = status_task.await.unwrap_or_default();
            let mut text = output.lock().expect("probe output").text();
            if let Some((c, msg)) = st.error {
                code = if c == 127 { 127 } else { 126 };
                text = format!(
                    "OCI runtime exec failed: exec failed: unable to start container process: {msg}: unknown"
                );
            }
            Ok((code, text))
        }
        Err(_) => {
            // The probe itself runs in the container's PID namespace as a child of the helper;
            // kill it by its host pid, then the helper.
            if let Some(p) = *pid.lock().expect("probe pid") {
                // SAFETY: plain kill(2) of the probe's host pid, which is still our helper's
                // unreaped child (the helper has not exited: its wait timed out).
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
            let _ = child.start_kill();
            let _ = child.wait().await;
            finish_reading(read_task).await;
            status_task.abort();
            let out = output.lock().expect("probe output").text();
            let d = go_duration(probe.timeout);
            Ok((
                -1,
                if out.is_empty() {
                    format!("Health check exceeded timeout ({d})")
                } else {
                    format!("Health check exceeded timeout ({d}): {out}")
                },
            ))
        }
    }
}
