//! System endpoints: version, info, disk usage, events, registry login, and berth's own
//! (`/berth/v1/...`: the engine's launch record and the store check).

use anyhow::Result;
use hyper::body::Incoming;
use hyper::Response;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::{Endpoint, Filters, Query};
use crate::client::Client;

/// `GET /version`.
pub fn version() -> Endpoint {
    Endpoint::get("/version".into())
}

/// `GET /info`.
pub fn info() -> Endpoint {
    Endpoint::get("/info".into())
}

/// `GET /system/df`.
pub fn disk_usage() -> Endpoint {
    Endpoint::get("/system/df".into())
}

/// `GET /events` from `since` (a timestamp) until `until`, filtered; streams until closed.
pub fn events(since: Option<&str>, until: Option<&str>, filters: &Filters) -> Endpoint {
    let q = Query::new()
        .opt("since", since)
        .opt("until", until)
        .filters(filters);
    Endpoint::get(format!("/events{}", q.encode()))
}

/// `POST /auth` with the credentials (docker's AuthConfig).
pub fn auth(config: &impl Serialize) -> Endpoint {
    Endpoint::post("/auth".into()).json(config)
}

/// `GET /berth/v1/engine`: how the engine was started (pid, socket, data root).
pub fn berth_engine() -> Endpoint {
    Endpoint::get("/berth/v1/engine".into())
}

/// `POST /berth/v1/system/check[?repair=1]`.
pub fn berth_check(repair: bool) -> Endpoint {
    let q = Query::new().flag("repair", repair);
    Endpoint::post(format!("/berth/v1/system/check{}", q.encode()))
}

impl Client {
    pub async fn version(&self) -> Result<Value> {
        self.send_as(version()).await
    }

    pub async fn info(&self) -> Result<Value> {
        self.send_as(info()).await
    }

    pub async fn disk_usage(&self) -> Result<Value> {
        self.send_as(disk_usage()).await
    }

    /// The event stream, its body unread.
    pub async fn events(
        &self,
        since: Option<&str>,
        until: Option<&str>,
        filters: &Filters,
    ) -> Result<Response<Incoming>> {
        self.open(events(since, until, filters), &[]).await
    }

    /// The login answer (`Status`, `IdentityToken`).
    pub async fn auth(&self, config: &impl Serialize) -> Result<Value> {
        Ok(self.send(auth(config)).await?.unwrap_or(Value::Null))
    }

    pub async fn berth_engine<T: DeserializeOwned>(&self) -> Result<T> {
        self.send_as(berth_engine()).await
    }

    /// The check report.
    pub async fn berth_check(&self, repair: bool) -> Result<Value> {
        Ok(self.send(berth_check(repair)).await?.unwrap_or(Value::Null))
    }
}
