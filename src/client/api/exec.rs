//! Exec endpoints: create an exec instance in a container, start it (detached, or hijacked for
//! its streams), resize its TTY and read its exit code.

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use super::{seg, Endpoint, Query};
use crate::client::Client;

/// `POST /containers/{id}/exec`'s body (docker's ExecConfig).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecCreate {
    pub user: String,
    pub privileged: bool,
    pub tty: bool,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub detach_keys: String,
    pub env: Vec<String>,
    pub working_dir: String,
    pub cmd: Vec<String>,
    /// [height, width] of the TTY from the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u16; 2]>,
}

/// `POST /exec/{id}/start`'s body.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecStart {
    pub detach: bool,
    pub tty: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u16; 2]>,
}

/// `POST /containers/{id}/exec`.
pub fn create(container: &str, config: &ExecCreate) -> Endpoint {
    Endpoint::post(format!("/containers/{}/exec", seg(container))).json(config)
}

/// `POST /exec/{id}/start`.
pub fn start(id: &str, body: &ExecStart) -> Endpoint {
    Endpoint::post(format!("/exec/{}/start", seg(id))).json(body)
}

/// `POST /exec/{id}/resize?h=&w=`.
pub fn resize(id: &str, h: u16, w: u16) -> Endpoint {
    let q = Query::new().set("h", h.to_string()).set("w", w.to_string());
    Endpoint::post(format!("/exec/{}/resize{}", seg(id), q.encode()))
}

/// `GET /exec/{id}/json`.
pub fn inspect(id: &str) -> Endpoint {
    Endpoint::get(format!("/exec/{}/json", seg(id)))
}

impl Client {
    /// The create answer (`Id`).
    pub async fn exec_create(&self, container: &str, config: &ExecCreate) -> Result<Value> {
        Ok(self
            .send(create(container, config))
            .await?
            .unwrap_or_default())
    }

    /// Start detached: the process runs on without us.
    pub async fn exec_start_detached(&self, id: &str, tty: bool) -> Result<()> {
        let body = ExecStart {
            detach: true,
            tty,
            console_size: None,
        };
        self.send(start(id, &body)).await.map(drop)
    }

    /// Start attached, on a hijacked connection of its own.
    pub async fn exec_start_attached(
        &self,
        id: &str,
        body: &ExecStart,
    ) -> Result<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>> {
        self.hijack_endpoint(start(id, body)).await
    }

    pub async fn exec_resize(&self, id: &str, h: u16, w: u16) -> Result<()> {
        self.send(resize(id, h, w)).await.map(drop)
    }

    pub async fn exec_inspect(&self, id: &str) -> Result<Value> {
        self.send_as(inspect(id)).await
    }
}
