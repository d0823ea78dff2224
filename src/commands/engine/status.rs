//! `berth engine status`: is the engine on `--host` running, since when, which version, where
//! its data lives, how many containers run, and who started it. Exits 3 when nothing answers,
//! like `systemctl status` for an inactive unit. Never starts the engine (though connecting to
//! a systemd-managed socket does activate it: that is what socket activation is).

use std::time::Duration;

use anyhow::Result;
use berth_engine::supervisor::Launch;
use serde_json::{json, Value};

use super::probe::{self, Answering};
use super::StatusArgs;
use crate::commands::{out, Ctx};
use crate::exit::ExitError;

/// `systemctl status` exits 3 for an inactive unit.
const NOT_RUNNING: i32 = 3;

pub async fn status(ctx: &Ctx, args: StatusArgs) -> Result<i32> {
    let json = match args.format.as_deref() {
        None | Some("") => false,
        Some("json") => true,
        Some(other) => {
            return Err(crate::exit::flag_error(
                "engine status",
                "--format",
                other,
                "only \"json\" is supported",
            ))
        }
    };
    let Some(engine) = probe::ask(&ctx.socket).await? else {
        if json {
            out(&format!(
                "{}\n",
                json!({ "Running": false, "Socket": ctx.socket })
            ));
            return Ok(NOT_RUNNING);
        }
        return Err(ExitError::with(
            NOT_RUNNING,
            format!(
                "berth engine is not running (no answer on {})",
                ctx.socket.display()
            ),
        ));
    };
    let uptime = engine.pid.and_then(probe::uptime_of).or_else(|| {
        // Without /proc access to the engine (another pid namespace): the pid file's age.
        let pid_file = engine
            .data_root
            .as_ref()?
            .join(berth_engine::pidfile::FILE_NAME);
        std::fs::metadata(pid_file)
            .ok()?
            .modified()
            .ok()?
            .elapsed()
            .ok()
    });
    let report = Report::of(&engine, uptime);
    if json {
        out(&format!("{}\n", report.json()));
    } else {
        out(&report.text());
    }
    Ok(0)
}

/// What the status shows, gathered once for both output formats.
#[derive(Debug)]
struct Report {
    pid: Option<u32>,
    uptime: Option<Duration>,
    version: String,
    api_version: String,
    min_api_version: String,
    socket: String,
    data_root: Option<String>,
    running: Option<u64>,
    total: Option<u64>,
    started_by: String,
    launch: Option<Launch>,
}

impl Report {
    fn of(engine: &Answering, uptime: Option<Duration>) -> Report {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        Report {
            pid: engine.pid,
            uptime,
            version: text(&engine.version["Version"]),
            api_version: text(&engine.version["ApiVersion"]),
            min_api_version: text(&engine.version["MinAPIVersion"]),
            socket: engine.socket.display().to_string(),
            data_root: engine.data_root.as_ref().map(|d| d.display().to_string()),
            running: engine.containers_running(),
            total: engine.containers_total(),
            started_by: started_by(engine.launch.as_ref(), engine.unit()),
            launch: engine.launch.clone(),
        }
    }

    fn text(&self) -> String {
        let unknown = || "unknown".to_owned();
        let count = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_else(unknown);
        let uptime = match (self.uptime, &self.launch) {
            (Some(u), Some(l)) => format!("{} (since {})", probe::format_uptime(u), since(l)),
            (Some(u), None) => probe::format_uptime(u),
            (None, _) => unknown(),
        };
        let rows = [
            (
                "PID",
                self.pid.map(|p| p.to_string()).unwrap_or_else(unknown),
            ),
            ("Uptime", uptime),
            (
                "Version",
                format!(
                    "{} (API {}, minimum {})",
                    self.version, self.api_version, self.min_api_version
                ),
            ),
            ("Socket", self.socket.clone()),
            ("Data root", self.data_root.clone().unwrap_or_else(unknown)),
            (
                "Containers",
                format!(
                    "{} running, {} total",
                    count(self.running),
                    count(self.total)
                ),
            ),
            ("Started by", self.started_by.clone()),
        ];
        let mut t = String::from("berth engine is running\n");
        for (label, value) in rows {
            t.push_str(&format!(" {:<12} {value}\n", format!("{label}:")));
        }
        t
    }

    fn json(&self) -> Value {
        json!({
            "Running": true,
            "Pid": self.pid,
            "UptimeSeconds": self.uptime.map(|u| u.as_secs()),
            "StartedAt": self.launch.as_ref().map(|l| l.started_at.clone()),
            "Version": self.version,
            "ApiVersion": self.api_version,
            "MinAPIVersion": self.min_api_version,
            "Socket": self.socket,
            "DataRoot": self.data_root,
            "ContainersRunning": self.running,
            "Containers": self.total,
            "StartedBy": self.started_by,
            "SocketActivated": self.launch.as_ref().map(|l| l.socket_activated),
            "Unit": self.launch.as_ref().and_then(|l| l.unit.clone()),
        })
    }
}

/// The start time, to the second, in UTC.
fn since(launch: &Launch) -> String {
    chrono::DateTime::parse_from_rfc3339(&launch.started_at)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        })
        .unwrap_or_else(|_| launch.started_at.clone())
}

/// Who started the engine, as far as it can tell.
fn started_by(launch: Option<&Launch>, unit: Option<String>) -> String {
    let Some(l) = launch else {
        return match unit {
            Some(u) => format!("systemd ({u})"),
            None => "unknown".into(),
        };
    };
    match (unit, l.socket_activated) {
        (Some(u), true) => format!("systemd ({u}, socket-activated)"),
        (Some(u), false) => format!("systemd ({u})"),
        (None, true) => "socket activation (LISTEN_FDS, outside a systemd unit)".into(),
        (None, false) if l.notify => "a service manager (NOTIFY_SOCKET)".into(),
        (None, false) if l.detached => "background (own session, e.g. berth's autostart)".into(),
        (None, false) => "`berth engine` run directly (not detached)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(socket_activated: bool, notify: bool, detached: bool) -> Launch {
        Launch {
            pid: 42,
            started_at: "2025-03-01T10:20:30.123456789Z".into(),
            socket: "/run/berth/berth.sock".into(),
            data_root: "/var/lib/berth".into(),
            pid_file: "/var/lib/berth/engine.pid".into(),
            socket_activated,
            notify,
            unit: None,
            detached,
        }
    }

    #[test]
    fn who_started_the_engine() {
        let unit = || Some("berth.service".to_owned());
        assert_eq!(
            started_by(Some(&launch(true, true, false)), unit()),
            "systemd (berth.service, socket-activated)"
        );
        assert_eq!(
            started_by(Some(&launch(false, true, false)), unit()),
            "systemd (berth.service)"
        );
        assert!(
            started_by(Some(&launch(true, false, false)), None).starts_with("socket activation")
        );
        assert!(started_by(Some(&launch(false, false, true)), None).starts_with("background"));
        assert!(started_by(Some(&launch(false, false, false)), None).contains("run directly"));
        assert_eq!(started_by(None, None), "unknown");
    }

    #[test]
    fn text_report() {
        let report = Report {
            pid: Some(42),
            uptime: Some(Duration::from_secs(252)),
            version: "0.1.0".into(),
            api_version: "1.44".into(),
            min_api_version: "1.24".into(),
            socket: "/run/berth/berth.sock".into(),
            data_root: Some("/var/lib/berth".into()),
            running: Some(1),
            total: Some(3),
            started_by: "systemd (berth.service, socket-activated)".into(),
            launch: Some(launch(true, true, false)),
        };
        assert_eq!(
            report.text(),
            "berth engine is running\n \
             PID:         42\n \
             Uptime:      4m 12s (since 2025-03-01 10:20:30 UTC)\n \
             Version:     0.1.0 (API 1.44, minimum 1.24)\n \
             Socket:      /run/berth/berth.sock\n \
             Data root:   /var/lib/berth\n \
             Containers:  1 running, 3 total\n \
             Started by:  systemd (berth.service, socket-activated)\n"
        );
        let json = report.json();
        assert_eq!(json["Pid"], 42);
        assert_eq!(json["ContainersRunning"], 1);
        assert_eq!(json["UptimeSeconds"], 252);
    }
}
