//! `login [-u USER] [-p PASS | --password-stdin] [SERVER]` and `logout [SERVER]`: the engine checks
//! the credentials against the registry (`POST /auth`); on success they are stored the way the
//! docker CLI stores them (see `client::credentials`).

use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::{bail, Result};
use clap::Args;

use super::{out, Ctx};
use crate::client::credentials::{server_key, AuthConfig, CredStore, INDEX_SERVER};

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Server (default: Docker Hub).
    pub server: Option<String>,
    /// Username.
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password (insecure: prefer --password-stdin).
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Take the password from stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Server (default: Docker Hub).
    pub server: Option<String>,
}

/// Read one line from the terminal, without echo when `secret`.
fn prompt(label: &str, secret: bool) -> Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("Cannot perform an interactive login from a non TTY device");
    }
    eprint!("{label}");
    let _ = std::io::stderr().flush();
    let saved = if secret {
        use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
        let fd = std::io::stdin();
        let old = tcgetattr(&fd)?;
        let mut t = old.clone();
        t.local_flags.remove(LocalFlags::ECHO);
        tcsetattr(&fd, SetArg::TCSANOW, &t)?;
        Some(old)
    } else {
        None
    };
    let mut line = String::new();
    let res = stdin.lock().read_line(&mut line);
    if let Some(old) = saved {
        let _ = nix::sys::termios::tcsetattr(
            std::io::stdin(),
            nix::sys::termios::SetArg::TCSANOW,
            &old,
        );
        eprintln!();
    }
    res?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn login(ctx: &Ctx, a: LoginArgs) -> Result<i32> {
    if a.password.is_some() && a.password_stdin {
        bail!("--password and --password-stdin are mutually exclusive");
    }
    if a.password_stdin && a.username.is_none() {
        bail!("Must provide --username with --password-stdin");
    }
    let server = server_key(a.server.as_deref());
    let store = CredStore::from_env()?;
    let mut password = a.password.clone().unwrap_or_default();
    if a.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    if a.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        password = s.trim_end_matches(['\r', '\n']).to_string();
    }
    let username = match &a.username {
        Some(u) => u.trim().to_string(),
        None => {
            let hint = store
                .get(&server)
                .ok()
                .flatten()
                .map(|c| c.username)
                .filter(|u| !u.is_empty());
            let label = match &hint {
                Some(u) => format!("Username ({u}): "),
                None => "Username: ".to_string(),
            };
            let typed = prompt(&label, false)?.trim().to_string();
            match (typed.is_empty(), hint) {
                (true, Some(u)) => u,
                (true, None) => bail!("Error: Non-null Username Required"),
                (false, _) => typed,
            }
        }
    };
    if password.is_empty() {
        password = prompt("Password: ", true)?;
        if password.is_empty() {
            bail!("Error: Password Required");
        }
    }
    let mut auth = AuthConfig {
        username,
        password,
        serveraddress: server.clone(),
        ..Default::default()
    };
    let client = ctx.client().await?;
    let resp = client.auth(&auth).await?;
    // A registry that hands out an identity token wants it instead of the password.
    if let Some(tok) = resp["IdentityToken"].as_str().filter(|t| !t.is_empty()) {
        auth.password.clear();
        auth.identitytoken = tok.to_string();
    }
    store.store(&server, &auth)?;
    if store.helper_name(&server)?.is_none() {
        eprintln!(
            "WARNING! Your credentials are stored unencrypted in '{}'.\n\
             Configure a credential helper to remove this warning. See\n\
             https://docs.docker.com/go/credential-store/\n",
            store.path().display()
        );
    }
    let status = resp["Status"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or("Login Succeeded");
    out(&format!("{status}\n"));
    Ok(0)
}

pub async fn logout(_ctx: &Ctx, a: LogoutArgs) -> Result<i32> {
    let server = server_key(a.server.as_deref());
    let store = CredStore::from_env()?;
    if store.erase(&server)? {
        out(&format!("Removing login credentials for {server}\n"));
    } else if server == INDEX_SERVER || a.server.is_some() {
        out(&format!("Not logged in to {server}\n"));
    }
    Ok(0)
}
