//! `berth engine env`: one shell line pointing the stock docker CLI at berth's socket,
//! `eval "$(berth engine env)"`. Needs no engine; the socket is the global `--host`.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::commands::{out, Ctx};

pub fn env(ctx: &Ctx) -> Result<i32> {
    out(&format!("{}\n", export_line(&absolute(&ctx.socket))));
    Ok(0)
}

fn export_line(socket: &Path) -> String {
    format!(
        "export DOCKER_HOST={}",
        shell_quote(&format!("unix://{}", socket.display()))
    )
}

/// docker resolves a relative socket path against its own working directory, not ours.
fn absolute(socket: &Path) -> PathBuf {
    if socket.is_absolute() {
        return socket.to_path_buf();
    }
    std::env::current_dir()
        .map(|d| d.join(socket))
        .unwrap_or_else(|_| socket.to_path_buf())
}

/// Bare when every character is shell-inert, else single-quoted.
fn shell_quote(word: &str) -> String {
    let inert = |c: char| c.is_ascii_alphanumeric() || "/._-:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(inert) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_docker_host() {
        assert_eq!(
            export_line(Path::new("/run/berth/berth.sock")),
            "export DOCKER_HOST=unix:///run/berth/berth.sock"
        );
        assert_eq!(
            export_line(Path::new("/tmp/my dir/it's.sock")),
            "export DOCKER_HOST='unix:///tmp/my dir/it'\\''s.sock'"
        );
    }

    #[test]
    fn relative_sockets_become_absolute() {
        let abs = absolute(Path::new("b.sock"));
        assert!(abs.is_absolute());
        assert!(abs.ends_with("b.sock"));
        assert_eq!(absolute(Path::new("/x.sock")), Path::new("/x.sock"));
    }
}
