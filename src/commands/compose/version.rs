//! `berth compose version`: which berth this is, and which docker compose release its compose
//! follows. The pretty line says both, so nobody mistakes berth for docker compose; `--short`
//! and the JSON's `version` give the docker compose version berth is compatible with, because
//! scripts read them to decide which compose features they may use (berth's own version is
//! in the JSON's `berth`).

use anyhow::Result;

use super::args::VersionArgs;
use crate::commands::out;
use crate::compose::labels::COMPOSE_VERSION;

const BERTH_VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn text(a: &VersionArgs) -> Result<String> {
    if a.short {
        return Ok(format!("{COMPOSE_VERSION}\n"));
    }
    // Like docker compose, any format but `json` is the pretty line.
    Ok(match a.format.as_deref() {
        Some("json") => {
            format!("{{\"version\":\"v{COMPOSE_VERSION}\",\"berth\":\"{BERTH_VERSION}\"}}\n")
        }
        _ => format!(
            "berth compose version {BERTH_VERSION} (Docker Compose v{COMPOSE_VERSION} compatible)\n"
        ),
    })
}

pub fn run(a: VersionArgs) -> Result<i32> {
    out(&text(&a)?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let v = |format: Option<&str>, short: bool| {
            text(&VersionArgs {
                format: format.map(String::from),
                short,
            })
            .unwrap()
        };
        assert_eq!(v(None, true), "2.40.3\n");
        assert_eq!(
            v(None, false),
            format!("berth compose version {BERTH_VERSION} (Docker Compose v2.40.3 compatible)\n")
        );
        let json: serde_json::Value = serde_json::from_str(&v(Some("json"), false)).unwrap();
        assert_eq!(json["version"], "v2.40.3");
        assert_eq!(json["berth"], BERTH_VERSION);
    }
}
