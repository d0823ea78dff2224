//! `docker exec`: exec instances, kept in memory and forgotten when their container is removed.
//!
//! Starting one spawns the exec helper (`runtime::exec_helper`, our own binary from the sealed
//! memfd in its hidden `__berth-exec` mode) with the process's stdio already in place: pipes,
//! or the slave of a PTY the engine opened. The helper enters the container and reports the
//! process's host pid and any setup error on a socket; its exit status is the process's.

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::AsRawFd;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::ChildStdin;
use tokio::sync::{mpsc, watch};

use crate::error::{EngineError, IoContext, Result};
use crate::model::container::Status;
use crate::model::go_json::null_as_default;
use crate::runtime::exec_helper::{parse_status, ExecSpec, STATUS_FD};
use crate::runtime::pty::{recv_master, Pty};
use crate::runtime::selfexe::EXEC_ARG;
use crate::runtime::spec::{files, RuntimeSpec};
use crate::service::container::{ContainerService, Output};

/// How long output is still drained after the process exited (a background child holding the
/// pipes open must not keep the stream open forever).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Body of `POST /containers/{id}/exec`. `null` is the zero value, as in Go (`model::go_json`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecConfig {
    #[serde(deserialize_with = "null_as_default")]
    pub attach_stdin: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub attach_stdout: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub attach_stderr: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub detach_keys: String,
    #[serde(deserialize_with = "null_as_default")]
    pub tty: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub cmd: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub privileged: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub user: String,
    #[serde(deserialize_with = "null_as_default")]
    pub working_dir: String,
    pub console_size: Option<Vec<u16>>,
}

/// Body of `POST /exec/{id}/start`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StartOptions {
    #[serde(deserialize_with = "null_as_default")]
    pub detach: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub tty: bool,
    pub console_size: Option<Vec<u16>>,
}

#[derive(Default)]
struct ExecState {
    started: bool,
    running: bool,
    exit_code: Option<i32>,
    pid: i32,
    pty: Option<Arc<Pty>>,
    /// (rows, cols) asked for before the PTY exists.
    size: Option<(u16, u16)>,
}

/// One exec instance.
pub struct Exec {
    pub id: String,
    pub container_id: String,
    pub config: ExecConfig,
    state: Mutex<ExecState>,
    done: watch::Sender<bool>,
}

/// What `GET /exec/{id}/json` shows.
#[derive(Debug, Clone)]
pub struct ExecView {
    pub id: String,
    pub container_id: String,
    pub config: ExecConfig,
    pub running: bool,
    pub exit_code: Option<i32>,
    pub pid: i32,
}

impl Exec {
    pub fn view(&self) -> ExecView {
        let st = self.state.lock().expect("exec state");
        ExecView {
            id: self.id.clone(),
            container_id: self.container_id.clone(),
            config: self.config.clone(),
            running: st.running,
            exit_code: st.exit_code,
            pid: st.pid,
        }
    }

    /// Resolves once the process has exited and its exit code is recorded.
    pub async fn wait(&self) {
        let mut rx = self.done.subscribe();
        let _ = rx.wait_for(|d| *d).await;
    }
}

/// Where attach input goes.
pub enum ExecStdin {
    Pipe(ChildStdin),
    Pty(Arc<Pty>),
}

impl ExecStdin {
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            ExecStdin::Pipe(p) => {
                p.write_all(data).await?;
                p.flush().await
            }
            ExecStdin::Pty(p) => p.write_all(data).await,
        }
    }
}

/// A started, attached exec: input, and output ending with `Output::End` after the exit.
pub struct Started {
    pub tty: bool,
    pub stdin: Option<ExecStdin>,
    pub output: mpsc::Receiver<Output>,
}

pub struct ExecService {
    containers: Arc<ContainerService>,
    execs: Mutex<HashMap<String, Arc<Exec>>>,
    /// Containers whose removal we already watch.
    watched: Mutex<HashSet<String>>,
}

fn no_such_exec(id: &str) -> EngineError {
    EngineError::not_found(format!("No such exec instance: {id}"))
}

fn not_running(id: &str, status: Status) -> EngineError {
    if status == Status::Paused {
        EngineError::conflict(format!(
            "Container {id} is paused, unpause the container before exec"
        ))
    } else {
        EngineError::conflict(format!("container {id} is not running"))
    }
}

/// Docker's exit code for a failed exec setup: 126, whether the command is missing or not
/// executable (dockerd 20.10 and the docker-py suite; `docker run` of a missing command is 127).
fn setup_exit_code(_code: i32) -> i32 {
    126
}

impl ExecService {
    pub fn new(containers: Arc<ContainerService>) -> Arc<Self> {
        Arc::new(ExecService {
            containers,
            execs: Mutex::new(HashMap::new()),
            watched: Mutex::new(HashSet::new()),
        })
    }

    pub fn get(&self, id: &str) -> Result<Arc<Exec>> {
        self.execs
            .lock()
            .expect("execs")
            .get(id)
            .cloned()
            .ok_or_else(|| no_such_exec(id))
    }

    /// Ids of the exec instances of a container (docker's `ExecIDs`).
    pub fn ids_for(&self, container_id: &str) -> Vec<String> {
        self.execs
            .lock()
            .expect("execs")
            .values()
            .filter(|e| e.container_id == container_id)
            .map(|e| e.id.clone())
            .collect()
    }

    /// `POST /containers/{id}/exec`: validate and register; nothing runs yet.
    pub fn create(self: &Arc<Self>, container: &str, config: ExecConfig) -> Result<String> {
        let c = self.containers.get(container)?;
        let status = c.status();
        if status != Status::Running {
            return Err(not_running(&c.id, status));
        }
        if config.cmd.is_empty() || config.cmd[0].is_empty() {
            return Err(EngineError::invalid("No exec command specified"));
        }
        let id = crate::util::new_id();
        let size = match config.console_size.as_deref() {
            Some([h, w]) if *h > 0 && *w > 0 => Some((*h, *w)),
            _ => None,
        };
        let exec = Arc::new(Exec {
            id: id.clone(),
            container_id: c.id.clone(),
            config,
            state: Mutex::new(ExecState {
                size,
                ..ExecState::default()
            }),
            done: watch::channel(false).0,
        });
        self.execs.lock().expect("execs").insert(id.clone(), exec);
        if self.watched.lock().expect("watched").insert(c.id.clone()) {
            let svc = Arc::downgrade(self);
            let mut life = c.subscribe_life();
            let exits = life.borrow().exits;
            let cid = c.id.clone();
            drop(c);
            tokio::spawn(async move {
                // Docker forgets a container's execs when it stops (its cleanup after the exit),
                // and of course when it is removed (or its record dropped).
                let _ = life.wait_for(|l| l.removed || l.exits > exits).await;
                if let Some(svc) = svc.upgrade() {
                    svc.forget_container(&cid);
                }
            });
        }
        tracing::debug!(exec = %id, "exec created");
        Ok(id)
    }

    fn forget_container(&self, container_id: &str) {
        self.execs
            .lock()
            .expect("execs")
            .retain(|_, e| e.container_id != container_id);
        self.watched.lock().expect("watched").remove(container_id);
    }

    /// `POST /exec/{id}/resize`: applies now when running with a TTY, else at start.
    pub fn resize(&self, id: &str, rows: u16, cols: u16) -> Result<()> {
        let exec = self.get(id)?;
        let mut st = exec.state.lock().expect("exec state");
        match &st.pty {
            Some(pty) => pty
                .resize(rows, cols)
                .io_context(|| format!("resizing the TTY of exec {id}")),
            None => {
                st.size = Some((rows, cols));
                Ok(())
            }
        }
    }

    /// `POST /exec/{id}/start`. Detached: the process runs in the background and `None` comes
    /// back. Attached: its stdin and output.
    pub async fn start(&self, id: &str, opts: &StartOptions) -> Result<Option<Started>> {
        let exec = self.get(id)?;
        {
            let mut st = exec.state.lock().expect("exec state");
            if st.started {
                return Err(EngineError::conflict(format!(
                    "Exec command {id} is already running"
                )));
            }
            st.started = true;
            if let Some([h, w]) = opts.console_size.as_deref() {
                if *h > 0 && *w > 0 {
                    st.size = Some((*h, *w));
                }
            }
        }
        match self.spawn(&exec, opts.detach).await {
            Ok(started) => Ok(started),
            Err(e) => {
                // Not started after all: a later start may try again.
                exec.state.lock().expect("exec state").started = false;
                Err(e)
            }
        }
    }

    async fn spawn(&self, exec: &Arc<Exec>, detach: bool) -> Result<Option<Started>> {
        let c = self.containers.get(&exec.container_id)?;
        let rec = c.record();
        if rec.state.status != Status::Running || rec.state.pid <= 0 {
            return Err(not_running(&c.id, rec.state.status));
        }
        let bundle_path = self.containers.dir(&c.id).join(files::BUNDLE);
        let raw = tokio::fs::read(&bundle_path)
            .await
            .io_context(|| format!("reading {}", bundle_path.display()))?;
        let container: RuntimeSpec = serde_json::from_slice(&raw)?;
        let cfg = &exec.config;
        let tty = cfg.tty;
        let spec = ExecSpec {
            pid: rec.state.pid,
            container,
            args: cfg.cmd.clone(),
            env: cfg.env.clone(),
            cwd: cfg.working_dir.clone(),
            user: cfg.user.clone(),
            tty,
            privileged: cfg.privileged,
        };

        let mut cmd = tokio::process::Command::new(self.containers.shim_executable().path());
        cmd.arg(EXEC_ARG).env_clear().kill_on_drop(false);
        if detach || tty {
            // With a TTY the helper opens the PTY inside the container and sends us the master.
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
        } else {
            let piped = |want: bool| if want { Stdio::piped() } else { Stdio::null() };
            cmd.stdin(piped(cfg.attach_stdin))
                .stdout(piped(cfg.attach_stdout))
                .stderr(piped(cfg.attach_stderr));
        }
        let (mut child, mut sock) = launch_helper(cmd, &spec, "exec").await?;

        let mut status_prefix = Vec::new();
        let pty = if tty {
            match recv_master(&sock, &mut status_prefix).await {
                Some(fd) => {
                    let p = Pty::from_master(fd).io_context(|| "exec PTY".to_string())?;
                    if let Some((rows, cols)) = exec.state.lock().expect("exec state").size {
                        let _ = p.resize(rows, cols);
                    }
                    Some(Arc::new(p))
                }
                // The helper failed before it got that far; its status says why.
                None => None,
            }
        } else {
            None
        };
        {
            let mut st = exec.state.lock().expect("exec state");
            st.running = true;
            st.pty = pty.clone();
        }

        let (out_tx, out_rx) = mpsc::channel::<Output>(64);
        let mut readers = Vec::new();
        let stdin = if let Some(p) = &pty {
            let p2 = p.clone();
            let tx = out_tx.clone();
            readers.push(tokio::spawn(async move {
                let mut buf = vec![0u8; 32 * 1024];
                loop {
                    match p2.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            // A gone client must not stop the draining (the process would
                            // block on a full PTY).
                            let _ = tx
                                .send(Output::Stdout(Bytes::copy_from_slice(&buf[..n])))
                                .await;
                        }
                    }
                }
            }));
            (!detach).then(|| ExecStdin::Pty(p.clone()))
        } else {
            if let Some(out) = child.stdout.take() {
                readers.push(spawn_reader(out, out_tx.clone(), false));
            }
            if let Some(err) = child.stderr.take() {
                readers.push(spawn_reader(err, out_tx.clone(), true));
            }
            child.stdin.take().map(ExecStdin::Pipe)
        };

        let exec2 = exec.clone();
        // The pid arrives right after the fork: record it for inspect while the process runs.
        let exec_pid = exec.clone();
        let status_task = tokio::spawn(async move {
            let mut raw = status_prefix;
            let mut buf = [0u8; 4096];
            while raw.len() < 1 << 20 {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => raw.extend_from_slice(&buf[..n]),
                }
                if let Some(pid) = parse_status(&raw).pid {
                    exec_pid.state.lock().expect("exec state").pid = pid;
                }
            }
            parse_status(&raw)
        });
        tokio::spawn(async move {
            let status = child.wait().await;
            let mut code = match status {
                Ok(s) => s
                    .code()
                    .or_else(|| {
                        std::os::unix::process::ExitStatusExt::signal(&s).map(|sig| 128 + sig)
                    })
                    .unwrap_or(126),
                Err(e) => {
                    tracing::warn!(error = %e, "waiting for the exec helper");
                    126
                }
            };
            for r in readers {
                let abort = r.abort_handle();
                if tokio::time::timeout(DRAIN_GRACE, r).await.is_err() {
                    abort.abort();
                }
            }
            let st = status_task.await.unwrap_or_default();
            if let Some((c, msg)) = st.error {
                code = setup_exit_code(c);
                let line = format!(
                    "OCI runtime exec failed: exec failed: unable to start container process: {msg}: unknown\r\n"
                );
                tracing::debug!(exec = %exec2.id, code, "exec setup failed: {msg}");
                let _ = out_tx.send(Output::Stdout(Bytes::from(line))).await;
            }
            {
                let mut s = exec2.state.lock().expect("exec state");
                s.running = false;
                s.exit_code = Some(code);
                s.pid = st.pid.unwrap_or(s.pid);
                s.pty = None;
            }
            let _ = out_tx.send(Output::End).await;
            exec2.done.send_replace(true);
            tracing::debug!(exec = %exec2.id, code, "exec exited");
        });

        Ok((!detach).then_some(Started {
            tty,
            stdin,
            output: out_rx,
        }))
    }
}

fn spawn_reader<R: AsyncRead + Unpin + Send + 'static>(
    mut r: R,
    tx: mpsc::Sender<Output>,
    stderr: bool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let b = Bytes::copy_from_slice(&buf[..n]);
                    let _ = tx
                        .send(if stderr {
                            Output::Stderr(b)
                        } else {
                            Output::Stdout(b)
                        })
                        .await;
                }
            }
        }
    })
}

/// Start the exec helper (`cmd`, stdio already set) with the status socket as its fd 3, send it
/// `spec` and close our write side. Returns the child and the socket its status lines come on.
/// Used by `docker exec` and by health probes.
pub(crate) async fn launch_helper(
    mut cmd: tokio::process::Command,
    spec: &ExecSpec,
    what: &str,
) -> Result<(tokio::process::Child, tokio::net::UnixStream)> {
    let (ours, theirs) =
        std::os::unix::net::UnixStream::pair().io_context(|| "socketpair".to_string())?;
    let theirs_fd = theirs.as_raw_fd();
    // SAFETY: the closure runs in the forked child before exec and only calls the
    // async-signal-safe fcntl/dup2.
    unsafe {
        cmd.pre_exec(move || {
            if theirs_fd == STATUS_FD {
                if libc::fcntl(STATUS_FD, libc::F_SETFD, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
            } else if libc::dup2(theirs_fd, STATUS_FD) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .io_context(|| format!("spawning the {what} helper"))?;
    // Our copies of the child's ends (PTY slave, pipes, socket) must go, or EOF never comes.
    drop(cmd);
    drop(theirs);
    ours.set_nonblocking(true)
        .io_context(|| format!("{what} status socket"))?;
    let mut sock =
        tokio::net::UnixStream::from_std(ours).io_context(|| format!("{what} status socket"))?;
    sock.write_all(&serde_json::to_vec(spec)?)
        .await
        .io_context(|| format!("sending the {what} spec"))?;
    sock.shutdown()
        .await
        .io_context(|| format!("sending the {what} spec"))?;
    Ok((child, sock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_accepts_docker_bodies() {
        let c: ExecConfig = serde_json::from_str(
            r#"{"AttachStdin":true,"AttachStdout":true,"AttachStderr":true,"Tty":true,
                "Env":null,"Cmd":["sh","-c","exit 5"],"User":"nobody","WorkingDir":"/tmp",
                "ConsoleSize":[24,80],"DetachKeys":"","Privileged":false,"Unknown":1}"#,
        )
        .unwrap();
        assert!(c.attach_stdin && c.tty);
        assert!(c.env.is_empty());
        assert_eq!(c.cmd, ["sh", "-c", "exit 5"]);
        assert_eq!(c.console_size, Some(vec![24, 80]));
        let s: StartOptions = serde_json::from_str(r#"{"Detach":true,"Tty":false}"#).unwrap();
        assert!(s.detach);
    }

    #[test]
    fn setup_failures_map_to_docker_codes() {
        assert_eq!(setup_exit_code(127), 126);
        assert_eq!(setup_exit_code(126), 126);
        assert_eq!(setup_exit_code(1), 126);
    }
}
