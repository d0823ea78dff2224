//! `berth engine install` / `uninstall`: the systemd units that run the engine as a service
//! with socket activation. The templates are `assets/berth.service` and `assets/berth.socket`;
//! installing fills in the absolute path of this berth binary (and the `berth` group for the
//! socket when that group exists), writes them to the unit directory and, when systemd is the
//! init system, reloads it and enables the units. Without systemd the files are only written.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use super::systemd::{systemctl, systemd_running};
use super::{probe, stop, InstallArgs, UninstallArgs};
use crate::commands::out;
use crate::exit::ExitError;

pub const DEFAULT_UNIT_DIR: &str = "/etc/systemd/system";
const SERVICE: &str = "berth.service";
const SOCKET: &str = "berth.socket";
const SERVICE_TEMPLATE: &str = include_str!("../../../assets/berth.service");
const SOCKET_TEMPLATE: &str = include_str!("../../../assets/berth.socket");
/// The placeholder command line in the service template.
const TEMPLATE_EXEC_START: &str = "ExecStart=/usr/local/bin/berth engine";
const TEMPLATE_SOCKET_GROUP: &str = "SocketGroup=root";

pub async fn install(args: InstallArgs) -> Result<i32> {
    let exe = this_executable()?;
    let group = socket_group();
    let fail = |what: &Path, e: std::io::Error| {
        ExitError::with(1, format!("cannot write {}: {e}", what.display()))
    };
    std::fs::create_dir_all(&args.unit_dir).map_err(|e| fail(&args.unit_dir, e))?;
    let service = args.unit_dir.join(SERVICE);
    write_unit(&service, &render_service(&exe)).map_err(|e| fail(&service, e))?;
    let socket = args.unit_dir.join(SOCKET);
    write_unit(&socket, &render_socket(group)).map_err(|e| fail(&socket, e))?;
    out(&format!(
        "wrote {} (ExecStart={} engine)\nwrote {} (ListenStream={}, group {group})\n",
        service.display(),
        exe.display(),
        socket.display(),
        berth_engine::config::DEFAULT_SOCKET
    ));
    if args.no_enable {
        out("not enabled (--no-enable); to enable: systemctl daemon-reload && systemctl enable --now berth.socket\n");
        return Ok(0);
    }
    if !systemd_running() {
        out("systemd is not running (no /run/systemd/system): the units were written but not enabled\n");
        return Ok(0);
    }
    hand_over_from_background_engine().await?;
    systemctl(["daemon-reload"])?;
    systemctl(["enable", "--now", SOCKET])?;
    // At boot too, so containers with a restart policy come back without waiting for a client.
    systemctl(["enable", SERVICE])?;
    out(&format!(
        "enabled {SOCKET} and {SERVICE}: systemd starts the engine at boot and on the first connection to {}\n",
        berth_engine::config::DEFAULT_SOCKET
    ));
    Ok(0)
}

pub fn uninstall(args: UninstallArgs) -> Result<i32> {
    let present: Vec<PathBuf> = [SOCKET, SERVICE]
        .iter()
        .map(|name| args.unit_dir.join(name))
        .filter(|p| p.exists())
        .collect();
    if present.is_empty() {
        out(&format!(
            "no berth units in {}: nothing to remove\n",
            args.unit_dir.display()
        ));
        return Ok(0);
    }
    let systemd = systemd_running();
    if systemd {
        // KillMode=process: this stops the engine only; containers keep running.
        match systemctl(["disable", "--now", SOCKET, SERVICE]) {
            Ok(()) => out(&format!(
                "stopped and disabled {SOCKET} and {SERVICE}; containers keep running\n"
            )),
            Err(e) => eprintln!("berth engine uninstall: {e} (removing the files anyway)"),
        }
    }
    for path in &present {
        std::fs::remove_file(path)
            .map_err(|e| ExitError::with(1, format!("cannot remove {}: {e}", path.display())))?;
        out(&format!("removed {}\n", path.display()));
    }
    if systemd {
        systemctl(["daemon-reload"])?;
    }
    Ok(0)
}

/// The service template with `ExecStart=` pointing at `exe`.
pub fn render_service(exe: &Path) -> String {
    SERVICE_TEMPLATE.replace(
        TEMPLATE_EXEC_START,
        &format!("ExecStart={} engine", systemd_quote(exe)),
    )
}

/// The socket template owned by `group`.
pub fn render_socket(group: &str) -> String {
    SOCKET_TEMPLATE.replace(TEMPLATE_SOCKET_GROUP, &format!("SocketGroup={group}"))
}

/// A path as one word of a systemd command line: `%` starts a specifier and `$` a variable,
/// both doubled; whitespace, quotes and backslashes need double quotes.
fn systemd_quote(path: &Path) -> String {
    let word = path.to_string_lossy().replace('%', "%%").replace('$', "$$");
    let needs_quotes = word
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | ';'));
    if needs_quotes {
        format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        word
    }
}

/// `berth` when such a group exists (members may use the socket without root), else `root`.
fn socket_group() -> &'static str {
    let has_berth = std::fs::read_to_string("/etc/group")
        .is_ok_and(|g| g.lines().any(|l| l.starts_with("berth:")));
    if has_berth {
        "berth"
    } else {
        "root"
    }
}

fn this_executable() -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|e| ExitError::with(1, format!("cannot locate the berth binary: {e}")))?;
    if !exe.is_file() {
        return Err(ExitError::with(
            1,
            format!(
                "the running berth binary {} no longer exists (replaced while running?)",
                exe.display()
            ),
        ));
    }
    Ok(exe)
}

/// Write through a temporary sibling and rename, 0644: a unit is never seen half written.
fn write_unit(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp-berth-install");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// An engine autostarted in the background holds the data root and the socket path that
/// berth.socket is about to take over; the engine systemd starts could not take the lock.
/// Stop it (containers keep running; the systemd engine reconnects to them).
async fn hand_over_from_background_engine() -> Result<()> {
    let socket = Path::new(berth_engine::config::DEFAULT_SOCKET);
    let Some(engine) = probe::ask(socket).await? else {
        return Ok(());
    };
    if engine.unit().is_some() {
        return Ok(());
    }
    if let Some(pid) = engine.pid {
        stop::terminate(pid, Duration::from_secs(30))?;
        out(&format!(
            "stopped the background berth engine (pid {pid}) so systemd can take over {}; containers keep running\n",
            socket.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_runs_this_binary_and_keeps_containers() {
        let unit = render_service(Path::new("/opt/berth/bin/berth"));
        assert!(
            unit.contains("\nExecStart=/opt/berth/bin/berth engine\n"),
            "{unit}"
        );
        assert!(!unit.contains("/usr/local/bin/berth"));
        for line in [
            "Type=notify",
            "KillMode=process",
            "Delegate=yes",
            "LimitNOFILE=infinity",
            "Restart=on-failure",
            "Requires=berth.socket",
        ] {
            assert!(unit.lines().any(|l| l == line), "missing {line}");
        }
        assert!(unit
            .lines()
            .any(|l| l.starts_with("After=") && l.contains("network-online.target")));
    }

    #[test]
    fn socket_listens_where_the_client_looks() {
        let unit = render_socket("root");
        let listen = format!("ListenStream={}", berth_engine::config::DEFAULT_SOCKET);
        assert!(unit.lines().any(|l| l == listen), "{unit}");
        assert!(unit.lines().any(|l| l == "SocketMode=0660"));
        assert!(unit.lines().any(|l| l == "SocketUser=root"));
        assert!(render_socket("berth")
            .lines()
            .any(|l| l == "SocketGroup=berth"));
    }

    #[test]
    fn odd_paths_are_quoted_for_systemd() {
        assert_eq!(systemd_quote(Path::new("/usr/bin/berth")), "/usr/bin/berth");
        assert_eq!(
            systemd_quote(Path::new("/opt/my tools/berth")),
            "\"/opt/my tools/berth\""
        );
        assert_eq!(
            systemd_quote(Path::new("/opt/100%/berth")),
            "/opt/100%%/berth"
        );
        assert_eq!(systemd_quote(Path::new("/opt/$x/berth")), "/opt/$$x/berth");
        assert_eq!(
            systemd_quote(Path::new("/a \"b\"/berth")),
            "\"/a \\\"b\\\"/berth\""
        );
    }
}
