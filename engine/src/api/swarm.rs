//! The swarm-mode routes (`/swarm`, `/nodes`, `/services`, `/tasks`, `/secrets`, `/configs`).
//! berth has no swarm mode, so it answers them exactly as a dockerd that is not part of a swarm
//! does: clients (docker-py's test teardown calls `POST /swarm/leave?force=1`, `docker info`,
//! podman's API tests) branch on those statuses and messages. The argument checks dockerd's
//! routers make before asking the cluster come first, with dockerd's words, so a malformed
//! request is still a 400.

use hyper::Method;
use serde::Deserialize;

use super::body::read_limited;
use super::response::ApiResponse;
use super::ApiRequest;
use crate::error::{EngineError, Result};

/// dockerd's `errNoSwarm`: what `leave` answers on a node outside a swarm.
pub const NOT_IN_SWARM: &str = "This node is not part of a swarm";
/// dockerd's `errNoManager`: what every cluster read or write answers outside a swarm.
pub const NOT_A_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \
\"docker swarm join\" to connect this node to swarm and try again.";

const BODY_LIMIT: usize = 1 << 20;

/// The routes dockerd registers for swarm mode (`api/server/router/swarm/cluster.go`); any other
/// method or path under these prefixes is dockerd's 404 "page not found".
pub fn matches(method: &Method, segments: &[String]) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (get, post, delete) = (
        method == Method::GET,
        method == Method::POST,
        method == Method::DELETE,
    );
    match s.as_slice() {
        ["swarm"] | ["swarm", "unlockkey"] => get,
        ["swarm", "init" | "join" | "leave" | "update" | "unlock"] => post,
        ["nodes"] => get,
        ["nodes", _] => get || delete,
        ["nodes", _, "update"] => post,
        ["services" | "secrets" | "configs"] => get,
        ["services" | "secrets" | "configs", "create"] => post || get,
        ["services" | "secrets" | "configs", _] => get || delete,
        ["services" | "secrets" | "configs", _, "update"] => post,
        ["services", _, "logs"] => get,
        ["tasks"] | ["tasks", _] | ["tasks", _, "logs"] => get,
        _ => false,
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct InitOrJoin {
    listen_addr: String,
    remote_addrs: Option<Vec<String>>,
}

pub async fn handle<B>(r: ApiRequest<B>) -> Result<ApiResponse> {
    let s: Vec<&str> = r.segments.iter().map(String::as_str).collect();
    // The body is read whatever the route, so a client still writing it is not cut off.
    let body = read_limited(r.req.into_body(), BODY_LIMIT).await?;
    let unavailable = |m: &str| Err(EngineError::Unavailable(m.to_owned()));
    match s.as_slice() {
        ["swarm", "leave"] => unavailable(NOT_IN_SWARM),
        ["swarm", verb @ ("init" | "join")] => {
            let verb = *verb;
            let req: InitOrJoin = go_json(&body)?;
            if req.listen_addr.is_empty() {
                return Err(EngineError::invalid(
                    "invalid ListenAddr \"\": invalid empty address",
                ));
            }
            if verb == "join" && req.remote_addrs.unwrap_or_default().is_empty() {
                return Err(EngineError::invalid(
                    "at least 1 RemoteAddr is required to join",
                ));
            }
            unavailable("berth does not support swarm mode")
        }
        ["swarm", "unlock"] => {
            let _: serde_json::Value = go_json(&body)?;
            unavailable(NOT_A_MANAGER)
        }
        [kind @ ("swarm" | "nodes" | "services" | "secrets" | "configs"), .., "update"]
            if r.method == Method::POST =>
        {
            // dockerd parses `version` before it asks the cluster.
            let version = r.query.get("version").unwrap_or("");
            if version.parse::<u64>().is_err() {
                let kind = kind.trim_end_matches('s');
                return Err(EngineError::invalid(match kind {
                    "secret" | "config" => format!("invalid {kind} version"),
                    _ => format!(
                        "invalid {kind} version '{version}': strconv.ParseUint: parsing \
                         \"{version}\": invalid syntax"
                    ),
                }));
            }
            unavailable(NOT_A_MANAGER)
        }
        ["services" | "tasks", _, "logs"] => {
            let on = |k: &str| r.query.bool(k).unwrap_or(false);
            if !on("stdout") && !on("stderr") {
                // dockerd's router checks the streams first; its error type maps to a 500.
                return Err(EngineError::internal(
                    "Bad parameters: you must choose at least one stream",
                ));
            }
            unavailable(NOT_A_MANAGER)
        }
        _ => unavailable(NOT_A_MANAGER),
    }
}

/// A JSON body decoded as dockerd's `json.Decoder` reports a syntax error.
fn go_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
        match (e.classify(), first) {
            (serde_json::error::Category::Syntax, Some(c))
                if !b"{[\"-0123456789tfn".contains(&c) =>
            {
                EngineError::invalid(format!(
                    "invalid character '{}' looking for beginning of value",
                    c as char
                ))
            }
            _ => EngineError::invalid(e.to_string()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::matches;
    use hyper::Method;

    fn segs(s: &str) -> Vec<String> {
        s.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn routes_are_dockerds() {
        assert!(matches(&Method::GET, &segs("swarm")));
        assert!(!matches(&Method::POST, &segs("swarm")));
        assert!(!matches(&Method::GET, &segs("swarm/init")));
        assert!(matches(&Method::POST, &segs("swarm/leave")));
        assert!(matches(&Method::GET, &segs("services/create")));
        assert!(matches(&Method::DELETE, &segs("secrets/x")));
        assert!(matches(&Method::POST, &segs("nodes/x/update")));
        assert!(!matches(&Method::GET, &segs("nodes/x/y")));
        assert!(!matches(&Method::GET, &segs("services/x/bogus")));
        assert!(matches(&Method::GET, &segs("tasks/x/logs")));
    }
}
