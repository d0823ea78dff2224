//! `berth completion SHELL` and `berth man`: shell completions and manual pages generated from
//! the clap definitions that parse the command line, so they can never disagree with it.

use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use clap::CommandFactory;

use crate::cli::Cli;

#[derive(Args, Debug)]
pub struct CompletionArgs {
    /// The shell: bash, zsh or fish.
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write berth.1 and berth-COMMAND.1 for every command into DIR instead of printing berth.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Print the completion script for `shell` (bash, zsh, fish) on stdout.
pub fn completion(shell: clap_complete::Shell) -> Result<i32> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "berth", &mut script);
    print(&script)
}

/// Write to stdout; a reader that went away (`berth man | head`) is not an error.
fn print(bytes: &[u8]) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(0),
    }
}

/// Print berth(1) on stdout, or write a page per command (berth.1, berth-run.1,
/// berth-network-create.1, …) into `dir`.
pub fn man(dir: Option<&Path>) -> Result<i32> {
    let mut cmd = Cli::command();
    cmd.build();
    match dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            return print(&page);
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            write_pages(dir, &cmd, "berth")?;
        }
    }
    Ok(0)
}

/// One page for `cmd` named `name`, then one for each of its subcommands.
fn write_pages(dir: &Path, cmd: &clap::Command, name: &str) -> Result<()> {
    let page = dir.join(format!("{name}.1"));
    let mut text = Vec::new();
    clap_mangen::Man::new(cmd.clone().name(name.to_owned())).render(&mut text)?;
    std::fs::write(&page, text).with_context(|| format!("writing {}", page.display()))?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(dir, sub, &format!("{name}-{}", sub.get_name()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_gets_a_page() {
        let dir = tempfile::tempdir().unwrap();
        man(Some(dir.path())).unwrap();
        for page in [
            "berth.1",
            "berth-run.1",
            "berth-network-create.1",
            "berth-engine.1",
        ] {
            let text = std::fs::read_to_string(dir.path().join(page)).unwrap();
            assert!(text.contains(".TH"), "{page}: {text}");
        }
        let run = std::fs::read_to_string(dir.path().join("berth-run.1")).unwrap();
        assert!(run.contains("publish"), "{run}");
    }

    #[test]
    fn version_names_the_api_the_engine_serves() {
        assert!(crate::cli::VERSION.contains(&format!(
            "Docker Engine API {}",
            berth_engine::config::API_VERSION
        )));
        assert!(crate::cli::VERSION.contains(&format!(
            "accepts {} and later",
            berth_engine::config::MIN_API_VERSION
        )));
    }
}
