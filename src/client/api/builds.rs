//! berth's build records (`/berth/v1/builds`): what the engine keeps about every build it ran,
//! for the dashboard's Builds view. docker has no such endpoint; the shapes are
//! `berth_engine::model::build::BuildRecord` (the list sends each record without step logs,
//! newest first).

use anyhow::Result;
use berth_engine::model::build::BuildRecord;

use super::{seg, Endpoint};
use crate::client::Client;

/// `GET /berth/v1/builds`: every kept build, newest first, without step logs.
pub fn list() -> Endpoint {
    Endpoint::get("/berth/v1/builds".into())
}

/// `GET /berth/v1/builds/{id}` (full id or a unique prefix): one build with every step's log.
pub fn get(id: &str) -> Endpoint {
    Endpoint::get(format!("/berth/v1/builds/{}", seg(id)))
}

/// `DELETE /berth/v1/builds/{id}`: forget a build (its image stays).
pub fn remove(id: &str) -> Endpoint {
    Endpoint::delete(format!("/berth/v1/builds/{}", seg(id)))
}

impl Client {
    pub async fn build_list(&self) -> Result<Vec<BuildRecord>> {
        self.send_as(list()).await
    }

    pub async fn build_get(&self, id: &str) -> Result<BuildRecord> {
        self.send_as(get(id)).await
    }

    pub async fn build_remove(&self, id: &str) -> Result<()> {
        self.send(remove(id)).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(list().path, "/berth/v1/builds");
        assert_eq!(get("0a1b2c").path, "/berth/v1/builds/0a1b2c");
        assert_eq!(remove("0a1b/x").method, hyper::Method::DELETE);
        assert_eq!(remove("0a1b/x").path, "/berth/v1/builds/0a1b%2Fx");
    }
}
