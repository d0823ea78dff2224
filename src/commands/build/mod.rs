//! `berth build [OPTIONS] PATH | -`: docker's legacy `docker build` (the flags, the context it
//! sends, the lines it prints, the exit status of a failed RUN), plus BuildKit's `--secret` and
//! a live step display on a terminal (`--progress auto|plain|tty|quiet`).

pub mod flags;
mod plain;
pub mod steps;
mod tty;

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use clap::{Args, ValueEnum};
use serde_json::Value;

use super::Ctx;
use crate::client::api::build::{registry_config, BuildParams, MessageStream};
use crate::client::build_context::{self, ContextSpec};
use crate::client::credentials::CredStore;
use crate::exit::{flag_error, ExitError};
use crate::format::units::{parse_mem_swap, parse_ram_size};

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The build context: a directory, a git URL (git://…, git@…, github.com/…, https://….git,
    /// with #ref:subdir), or "-" to read a tar (or a lone Dockerfile) from STDIN.
    #[arg(value_name = "PATH | URL | -", value_hint = clap::ValueHint::DirPath)]
    pub context: String,
    /// Name and optionally a tag in the "name:tag" format (repeatable).
    #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: "PATH/Dockerfile"; "-" reads it from STDIN).
    #[arg(short = 'f', long = "file", value_hint = clap::ValueHint::FilePath)]
    pub file: Option<String>,
    /// Set build-time variables (KEY=VALUE, or KEY to take its value from the environment).
    #[arg(long = "build-arg", value_name = "KEY[=VALUE]")]
    pub build_args: Vec<String>,
    /// Set the target build stage to build.
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use cache when building the image.
    #[arg(long)]
    pub no_cache: bool,
    /// Always attempt to pull a newer version of the image.
    #[arg(long)]
    pub pull: bool,
    /// Set metadata for an image (KEY=VALUE).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Suppress the build output and print image ID on success.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Write the image ID to the file.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub iidfile: Option<PathBuf>,
    /// Set the networking mode for the RUN instructions during build.
    #[arg(long)]
    pub network: Option<String>,
    /// Add a custom host-to-IP mapping (host:ip).
    #[arg(long = "add-host", value_name = "HOST:IP")]
    pub add_hosts: Vec<String>,
    /// Images to consider as cache sources.
    #[arg(long = "cache-from", value_delimiter = ',', value_name = "IMAGE")]
    pub cache_from: Vec<String>,
    /// Secret to expose to the build (id=ID,src=PATH or id=ID,env=VAR).
    #[arg(long = "secret", value_name = "id=ID,src=PATH")]
    pub secrets: Vec<String>,
    /// Remove intermediate containers after a successful build.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set,
          num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub rm: bool,
    /// Always remove intermediate containers.
    #[arg(long)]
    pub force_rm: bool,
    /// Memory limit of the RUN containers.
    #[arg(short = 'm', long, value_name = "BYTES")]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap.
    #[arg(long, value_name = "BYTES")]
    pub memory_swap: Option<String>,
    /// Size of /dev/shm of the RUN containers.
    #[arg(long, value_name = "BYTES")]
    pub shm_size: Option<String>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<i64>,
    /// Limit the CPU CFS (Completely Fair Scheduler) period.
    #[arg(long)]
    pub cpu_period: Option<i64>,
    /// Limit the CPU CFS (Completely Fair Scheduler) quota.
    #[arg(long)]
    pub cpu_quota: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1).
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1).
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Set platform if server is multi-platform capable.
    #[arg(long, env = "DOCKER_DEFAULT_PLATFORM")]
    pub platform: Option<String>,
    /// How to show the build: a live display on a terminal (auto picks it when stdout is one),
    /// docker's plain lines, or only the image ID.
    #[arg(long, value_enum, default_value_t = Progress::Auto)]
    pub progress: Progress,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Progress {
    Auto,
    Plain,
    Tty,
    Quiet,
}

/// How the build is shown, resolved from `-q`, `--progress` and the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `-q`: the engine sends only the id (`q=1`), printed as it came; everything else is
    /// shown on stderr only if the build fails.
    Quiet,
    /// `--progress quiet`: the full build runs as usual, only its image id is printed.
    IdOnly,
    Plain,
    Tty,
}

impl Mode {
    pub fn resolve(quiet: bool, progress: Progress, stdout_is_terminal: bool) -> Mode {
        match (quiet, progress) {
            (true, _) => Mode::Quiet,
            (false, Progress::Quiet) => Mode::IdOnly,
            (false, Progress::Plain) => Mode::Plain,
            (false, Progress::Tty) => Mode::Tty,
            (false, Progress::Auto) if stdout_is_terminal => Mode::Tty,
            (false, Progress::Auto) => Mode::Plain,
        }
    }
}

impl BuildArgs {
    /// The API parameters the flags say (everything but the context's own: the Dockerfile
    /// name, the context directory and the secrets' contents).
    pub fn params(&self, env: impl Fn(&str) -> Option<String>) -> Result<BuildParams> {
        let bad = |flag: &str, value: &str, why: String| flag_error("build", flag, value, &why);
        let mut p = BuildParams {
            tags: self.tags.clone(),
            target: self.target.clone(),
            no_cache: self.no_cache,
            pull: self.pull,
            quiet: self.quiet,
            rm: self.rm,
            force_rm: self.force_rm,
            network: self.network.clone(),
            cache_from: self.cache_from.clone(),
            cpu_shares: self.cpu_shares,
            cpu_period: self.cpu_period,
            cpu_quota: self.cpu_quota,
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            platform: self.platform.clone(),
            ..Default::default()
        };
        // docker's validateTag: a tag must be a reference the engine can store.
        for t in &self.tags {
            berth_engine::image::reference::Reference::parse(t)
                .map_err(|e| bad("-t, --tag", t, e.to_string()))?;
        }
        for a in &self.build_args {
            p.build_args
                .push(flags::build_arg(a, &env).map_err(|e| bad("--build-arg", a, e))?);
        }
        for l in &self.labels {
            p.labels
                .push(flags::label(l).map_err(|e| bad("--label", l, e))?);
        }
        for h in &self.add_hosts {
            p.extra_hosts
                .push(flags::extra_host(h).map_err(|e| bad("--add-host", h, e))?);
        }
        let size = |flag: &str, v: &Option<String>, parse: fn(&str) -> Result<i64, String>| {
            v.as_deref()
                .map(|s| parse(s).map_err(|e| bad(flag, s, e)))
                .transpose()
        };
        p.memory = size("--memory", &self.memory, parse_ram_size)?;
        p.memory_swap = size("--memory-swap", &self.memory_swap, parse_mem_swap)?;
        p.shm_size = size("--shm-size", &self.shm_size, parse_ram_size)?;
        Ok(p)
    }

    /// The secrets, parsed and read.
    pub fn secrets(&self, env: impl Fn(&str) -> Option<String>) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for s in &self.secrets {
            let spec = flags::secret(s, |k| env(k).is_some())
                .map_err(|e| flag_error("build", "--secret", s, &e))?;
            let data = flags::read_secret(&spec, &env).map_err(|e| anyhow!("{e}"))?;
            out.push((spec.id, data));
        }
        Ok(out)
    }

    /// The context to send, and the URL to download it from for a remote (non-git) one.
    fn context_spec(&self) -> Result<(ContextSpec, Option<String>)> {
        // As docker: a git URL first (cloned like a directory), then any other URL.
        let remote = (!build_context::is_git_url(&self.context)
            && build_context::remote::is_url(&self.context))
        .then(|| self.context.clone());
        let mut spec = ContextSpec {
            dir: (self.context != "-" && remote.is_none()).then(|| PathBuf::from(&self.context)),
            ..Default::default()
        };
        match self.file.as_deref() {
            Some("-") => {
                if self.context == "-" {
                    return Err(ExitError::with(
                        1,
                        "invalid argument: can't use stdin for both build context and dockerfile",
                    ));
                }
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| anyhow!("reading the Dockerfile from STDIN: {e}"))?;
                spec.dockerfile_stdin = Some(text);
            }
            Some(f) if !f.is_empty() => spec.dockerfile = Some(PathBuf::from(f)),
            _ => {}
        }
        Ok((spec, remote))
    }
}

fn env_var(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

/// A build's failure as the engine reported it: docker's CLI exits with its code (a failed
/// RUN's status), 1 when it has none.
fn failure(msg: &Value) -> Option<(i32, String)> {
    let detail = msg.get("errorDetail");
    let message = detail
        .and_then(|d| d.get("message"))
        .or_else(|| msg.get("error"))
        .and_then(Value::as_str)?;
    let code = detail
        .and_then(|d| d.get("code"))
        .and_then(Value::as_i64)
        .and_then(|c| i32::try_from(c).ok())
        .filter(|c| *c != 0)
        .unwrap_or(1);
    Some((code, message.to_string()))
}

/// Where the messages go.
enum Display {
    Plain(plain::Plain<std::io::Stdout>),
    /// The quiet modes collect what plain would print (the upload line apart, as docker keeps
    /// it), for stderr if the build fails; `-q` also prints the build's text (only the id
    /// then) at the end.
    Buffered {
        upload: plain::Plain<Vec<u8>>,
        build: plain::Plain<Vec<u8>>,
    },
    Tty(Box<tty::Tty<std::io::Stdout>>),
}

impl Display {
    fn new(mode: Mode) -> Display {
        match mode {
            Mode::Quiet | Mode::IdOnly => Display::Buffered {
                upload: plain::Plain { w: Vec::new() },
                build: plain::Plain { w: Vec::new() },
            },
            Mode::Plain => Display::Plain(plain::Plain {
                w: std::io::stdout(),
            }),
            Mode::Tty => Display::Tty(Box::new(tty::Tty::new(std::io::stdout()))),
        }
    }

    fn downloaded(&mut self, url: &str, bytes: u64, announced: Option<u64>) {
        let line = plain::downloaded_line(url, bytes, announced);
        let _ = match self {
            Display::Plain(p) => p.raw(&line),
            Display::Buffered { upload, .. } => upload.raw(&line),
            Display::Tty(t) => t.print(line.trim_end(), Instant::now()),
        };
    }

    // Output errors (a closed pipe) do not stop the build; docker's CLI ignores them too.
    fn context_sent(&mut self, bytes: u64) {
        let _ = match self {
            Display::Plain(p) => p.context_sent(bytes),
            Display::Buffered { upload, .. } => upload.context_sent(bytes),
            Display::Tty(t) => t.print(plain::context_sent_line(bytes).trim_end(), Instant::now()),
        };
    }

    fn message(&mut self, msg: &Value) {
        let _ = match self {
            Display::Plain(p) => p.message(msg),
            Display::Buffered { build, .. } => build.message(msg),
            Display::Tty(t) => {
                let now = Instant::now();
                match msg.get("stream").and_then(Value::as_str) {
                    Some(s) => t.stream(s, now),
                    None => match plain::message_text(msg) {
                        Some(text) => t.status(&text, now),
                        None => t.tick(now),
                    },
                }
            }
        };
    }

    fn tick(&mut self) {
        if let Display::Tty(t) = self {
            let _ = t.tick(Instant::now());
        }
    }

    fn failed(&mut self) {
        match self {
            Display::Tty(t) => {
                let _ = t.failed(Instant::now());
            }
            // docker's -q shows the whole output when the build fails.
            Display::Buffered { upload, build } => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(&upload.w);
                let _ = err.write_all(&build.w);
                let _ = err.flush();
            }
            Display::Plain(_) => {}
        }
    }

    fn finished(&mut self) {
        if let Display::Tty(t) = self {
            let _ = t.finished(Instant::now());
        }
    }
}

/// How often the live display moves its spinner and clocks.
const TICK: Duration = Duration::from_millis(100);

/// How long a failed request waits for the context producer to say why.
const UPLOAD_GRACE: Duration = Duration::from_secs(1);

pub async fn build(ctx: &Ctx, a: BuildArgs) -> Result<i32> {
    let mode = Mode::resolve(a.quiet, a.progress, std::io::stdout().is_terminal());
    if let Some(f) = &a.iidfile {
        // No stale id survives a failed build.
        match std::fs::remove_file(f) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow!("Removing image ID file: {e}")),
        }
    }
    let mut params = a.params(env_var)?;
    params.secrets = a.secrets(env_var)?;
    // A config that cannot be read costs the build its proxies and the FROM pulls their
    // login, nothing more, as with docker.
    let store = CredStore::from_env().ok();
    if let Some(cfg) = store.as_ref().and_then(|s| s.config().ok()) {
        let host = format!("unix://{}", ctx.socket.display());
        flags::add_proxy_args(&cfg, &host, &mut params.build_args);
    }
    let (spec, remote) = a.context_spec()?;
    let mut display = Display::new(mode);
    let prepared = match &remote {
        Some(url) => {
            let d = build_context::remote::download(url)
                .await
                .map_err(|e| ExitError::with(1, format!("{e:#}")))?;
            display.downloaded(url, d.size, d.announced);
            build_context::prepare_download(&spec, d.file)
        }
        None => build_context::prepare(&spec, Box::new(std::io::stdin())),
    }
    .map_err(|e| ExitError::with(1, format!("{e:#}")))?;
    params.dockerfile = Some(prepared.dockerfile.clone()).filter(|d| !d.is_empty());
    params.context_dir = prepared.dir.clone();

    let client = ctx.client().await?;
    let auths = store.and_then(|s| s.all().ok()).unwrap_or_default();
    let (body, upload) = prepared.into_body();
    let mut stream = match client.build(&params, registry_config(&auths), body).await {
        Ok(s) => s,
        Err(e) => {
            // When producing the context failed, that is why the request did. The producer
            // ends on its own once the body it feeds is gone, unless it waits on a slow stdin:
            // it gets a moment, not more.
            if let Ok(Ok(Err(up))) = tokio::time::timeout(UPLOAD_GRACE, upload).await {
                if up.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(anyhow!("error sending build context: {up}"));
                }
            }
            return Err(e);
        }
    };
    let sent = match upload.await {
        Ok(Ok(n)) => Some(n),
        // The engine stopped reading: its answer (in the stream) says why.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => None,
        Ok(Err(e)) => return Err(anyhow!("error sending build context: {e}")),
        Err(e) => return Err(anyhow!("sending build context: {e}")),
    };
    if let Some(n) = sent {
        display.context_sent(n);
    }

    let image_id = follow(&mut stream, &mut display, mode).await?;
    display.finished();
    let image_id = match mode {
        Mode::Quiet => {
            // What the engine printed (the id and its newline), as docker's -q does.
            let Display::Buffered { build, .. } = &display else {
                unreachable!("quiet modes buffer")
            };
            let text = String::from_utf8_lossy(&build.w).into_owned();
            super::out(&text);
            Some(text).filter(|t| !t.is_empty())
        }
        Mode::IdOnly => {
            if let Some(id) = &image_id {
                super::out(&format!("{id}\n"));
            }
            image_id
        }
        _ => image_id,
    };
    if let Some(f) = &a.iidfile {
        let id = image_id.ok_or_else(|| {
            anyhow!(
                "Server did not provide an image ID. Cannot write {}",
                f.display()
            )
        })?;
        std::fs::write(f, id).map_err(|e| anyhow!("writing {}: {e}", f.display()))?;
    }
    Ok(0)
}

/// Show the stream until it ends; the image id of the `aux` message, or the build's failure.
async fn follow(
    stream: &mut MessageStream,
    display: &mut Display,
    mode: Mode,
) -> Result<Option<String>> {
    let mut image_id = None;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let next = if mode == Mode::Tty {
            tokio::select! {
                m = stream.next() => m,
                _ = ticker.tick() => {
                    display.tick();
                    continue;
                }
            }
        } else {
            stream.next().await
        };
        let msg = match next {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(image_id),
            Err(e) => {
                display.failed();
                return Err(e);
            }
        };
        if let Some((code, message)) = failure(&msg) {
            display.failed();
            return Err(ExitError::with(code, message));
        }
        if let Some(aux) = msg.get("aux") {
            if let Some(id) = aux.get("ID").and_then(Value::as_str) {
                image_id = Some(id.to_string());
            }
            continue;
        }
        display.message(&msg);
    }
}

#[cfg(test)]
mod tests;
