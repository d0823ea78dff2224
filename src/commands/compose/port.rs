//! `berth compose port SERVICE PRIVATE_PORT`: where a service's port is published
//! (`0.0.0.0:8080`), from the engine's port list of the service's container, as docker compose
//! answers it.

use anyhow::Result;
use serde_json::Value;

use super::args::PortArgs;
use super::target::{fail, project_name, specified_container};
use super::Session;
use crate::commands::{out, Ctx};
use crate::compose::observed::OneOff;

/// The `IP:PORT` of the first binding of `port`/`protocol`, or docker compose's error listing
/// what the container publishes.
pub fn lookup(container: &Value, port: u16, protocol: &str) -> Result<String> {
    let ports = container["Ports"].as_array().cloned().unwrap_or_default();
    for p in &ports {
        if p["PrivatePort"].as_u64() == Some(u64::from(port)) && p["Type"] == protocol {
            return Ok(format!(
                "{}:{}",
                p["IP"].as_str().unwrap_or_default(),
                p["PublicPort"].as_u64().unwrap_or(0)
            ));
        }
    }
    let published: Vec<String> = ports
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["PublicPort"].as_u64().unwrap_or(0),
                p["Type"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let name = container["Names"][0]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('/');
    Err(fail(format!(
        "no port {port}/{protocol} for container {name}: {}",
        published.join(", ")
    )))
}

pub async fn run(ctx: &Ctx, session: &Session, a: PortArgs) -> Result<i32> {
    let port: u16 = a
        .private_port
        .parse()
        .map_err(|e: std::num::ParseIntError| {
            let why = match e.kind() {
                std::num::IntErrorKind::PosOverflow => "value out of range",
                _ => "invalid syntax",
            };
            fail(format!(
                "strconv.ParseUint: parsing {:?}: {why}",
                a.private_port
            ))
        })?;
    let protocol = a.protocol.to_lowercase();
    let name = project_name(session)?;
    let client = ctx.client().await?;
    let container =
        specified_container(&client, &name, OneOff::Include, false, &a.service, a.index).await?;
    out(&format!("{}\n", lookup(&container, port, &protocol)?));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// docker compose v2.40.3's answers for the same container.
    #[test]
    fn answers_as_docker_compose() {
        let web = json!({
            "Names": ["/demo-web-1"],
            "Ports": [
                {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"IP": "0.0.0.0", "PrivatePort": 9000, "PublicPort": 9000, "Type": "udp"},
                {"IP": "0.0.0.0", "PrivatePort": 9001, "PublicPort": 9001, "Type": "udp"},
            ]
        });
        assert_eq!(lookup(&web, 80, "tcp").unwrap(), "0.0.0.0:8080");
        assert_eq!(lookup(&web, 9000, "udp").unwrap(), "0.0.0.0:9000");
        assert_eq!(
            lookup(&web, 81, "tcp").unwrap_err().to_string(),
            "no port 81/tcp for container demo-web-1: 8080/tcp, 9000/udp, 9001/udp"
        );
        let db = json!({"Names": ["/demo-database-1"], "Ports": []});
        assert_eq!(
            lookup(&db, 80, "tcp").unwrap_err().to_string(),
            "no port 80/tcp for container demo-database-1: "
        );
    }
}
