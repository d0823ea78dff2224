//! Talking to systemd from the client: whether it is the init system, and `systemctl` with
//! failures turned into one readable line.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Result;

use crate::exit::ExitError;

/// systemd is the init system (what `sd_booted(3)` checks).
pub fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// Run `systemctl ARGS`; a failure is one line with systemctl's own last words.
pub fn systemctl<I, S>(args: I) -> Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args
        .into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect();
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let output = Command::new("systemctl")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ExitError::with(1, format!("cannot run systemctl {shown}: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let why = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message")
        .trim()
        .to_owned();
    Err(ExitError::with(
        1,
        format!("systemctl {shown} failed ({}): {why}", output.status),
    ))
}
