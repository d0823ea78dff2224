//! Container endpoints (`/containers/...`): list, inspect, create, the lifecycle verbs, logs,
//! stats, attach, archive and prune, each a function describing the call and a [`Client`]
//! method sending it.

use anyhow::Result;
use hyper::body::Incoming;
use hyper::{Method, Response};
use serde::Serialize;
use serde_json::Value;

use super::{seg, Endpoint, Filters, Query};
use crate::client::{Client, ReqBody};

/// `GET /containers/json`: `all` includes stopped ones; `size` asks for their sizes.
pub fn list(all: bool, limit: Option<i64>, size: bool, filters: &Filters) -> Endpoint {
    let q = Query::new()
        .flag("all", all)
        .opt("limit", limit.map(|l| l.to_string()))
        .flag("size", size)
        .filters(filters);
    Endpoint::get(format!("/containers/json{}", q.encode()))
}

/// `GET /containers/{id}/json`.
pub fn inspect(id: &str) -> Endpoint {
    Endpoint::get(format!("/containers/{}/json", seg(id)))
}

/// `POST /containers/create[?name=]` with the create spec (Config fields at the top level plus
/// `HostConfig` and `NetworkingConfig`, as the engine's `CreateRequest` reads it).
pub fn create(name: Option<&str>, spec: &impl Serialize) -> Endpoint {
    let q = Query::new().opt("name", name);
    Endpoint::post(format!("/containers/create{}", q.encode())).json(spec)
}

/// `POST /containers/{id}/start`.
pub fn start(id: &str) -> Endpoint {
    Endpoint::post(format!("/containers/{}/start", seg(id)))
}

/// `POST /containers/{id}/stop` or `/restart`: `t` seconds before the kill, and the signal.
pub fn stop(id: &str, restart: bool, t: Option<i64>, signal: Option<&str>) -> Endpoint {
    let verb = if restart { "restart" } else { "stop" };
    let q = Query::new()
        .opt("t", t.map(|t| t.to_string()))
        .opt("signal", signal);
    Endpoint::post(format!("/containers/{}/{verb}{}", seg(id), q.encode()))
}

/// `POST /containers/{id}/kill[?signal=]`.
pub fn kill(id: &str, signal: Option<&str>) -> Endpoint {
    let q = Query::new().opt("signal", signal);
    Endpoint::post(format!("/containers/{}/kill{}", seg(id), q.encode()))
}

/// `POST /containers/{id}/pause` or `/unpause`.
pub fn pause(id: &str, pause: bool) -> Endpoint {
    let verb = if pause { "pause" } else { "unpause" };
    Endpoint::post(format!("/containers/{}/{verb}", seg(id)))
}

/// `DELETE /containers/{id}`: `force` kills a running one, `volumes` drops its anonymous volumes.
pub fn remove(id: &str, force: bool, volumes: bool) -> Endpoint {
    let q = Query::new().flag("force", force).flag("v", volumes);
    Endpoint::delete(format!("/containers/{}{}", seg(id), q.encode()))
}

/// `POST /containers/{id}/rename?name=`.
pub fn rename(id: &str, name: &str) -> Endpoint {
    let q = Query::new().set("name", name);
    Endpoint::post(format!("/containers/{}/rename{}", seg(id), q.encode()))
}

/// `POST /containers/{id}/wait[?condition=]`: answers when the container gets there.
pub fn wait(id: &str, condition: Option<&str>) -> Endpoint {
    let q = Query::new().opt("condition", condition);
    Endpoint::post(format!("/containers/{}/wait{}", seg(id), q.encode()))
}

/// `GET /containers/{id}/top[?ps_args=]`.
pub fn top(id: &str, ps_args: Option<String>) -> Endpoint {
    let q = Query::new().opt("ps_args", ps_args);
    Endpoint::get(format!("/containers/{}/top{}", seg(id), q.encode()))
}

/// `GET /containers/{id}/changes`.
pub fn changes(id: &str) -> Endpoint {
    Endpoint::get(format!("/containers/{}/changes", seg(id)))
}

/// `GET /containers/{id}/export`: the file system as a tar stream.
pub fn export(id: &str) -> Endpoint {
    Endpoint::get(format!("/containers/{}/export", seg(id)))
}

/// `GET /containers/{id}/stats?stream=`: one sample, or one a second.
pub fn stats(id: &str, stream: bool) -> Endpoint {
    let q = Query::new().set("stream", if stream { "true" } else { "false" });
    Endpoint::get(format!("/containers/{}/stats{}", seg(id), q.encode()))
}

/// What `GET /containers/{id}/logs` sends, in the order docker's CLI spells it.
#[derive(Debug, Default, Clone)]
pub struct LogsOptions {
    pub follow: bool,
    pub timestamps: bool,
    pub tail: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// `GET /containers/{id}/logs` of both streams.
pub fn logs(id: &str, o: &LogsOptions) -> Endpoint {
    let q = Query::new()
        .set("stdout", "1")
        .set("stderr", "1")
        .flag("follow", o.follow)
        .flag("timestamps", o.timestamps)
        .opt("tail", o.tail.clone())
        .opt("since", o.since.clone())
        .opt("until", o.until.clone());
    Endpoint::get(format!("/containers/{}/logs{}", seg(id), q.encode()))
}

/// Where followed logs start.
#[derive(Debug, Clone, PartialEq)]
pub enum LogsFrom {
    /// The last N lines.
    Tail(usize),
    /// A time (`seconds[.nanoseconds]`).
    Since(String),
}

/// The dashboard's followed logs of both streams with timestamps.
pub fn logs_follow(id: &str, from: &LogsFrom) -> Endpoint {
    let q = Query::new()
        .set("follow", "1")
        .set("stdout", "1")
        .set("stderr", "1")
        .set("timestamps", "1");
    let q = match from {
        LogsFrom::Tail(n) => q.set("tail", n.to_string()),
        LogsFrom::Since(t) => q.set("since", t.as_str()),
    };
    Endpoint::get(format!("/containers/{}/logs{}", seg(id), q.encode()))
}

/// The streams an attach carries.
#[derive(Debug, Clone)]
pub struct AttachOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// docker's `--detach-keys`.
    pub detach_keys: Option<String>,
}

/// `POST /containers/{id}/attach?stream=1&...`, hijacked.
pub fn attach(id: &str, o: &AttachOptions) -> Endpoint {
    let flag = |b: bool| if b { "1" } else { "0" };
    let q = Query::new()
        .set("stream", "1")
        .set("stdin", flag(o.stdin))
        .set("stdout", flag(o.stdout))
        .set("stderr", flag(o.stderr))
        .opt("detachKeys", o.detach_keys.clone());
    Endpoint::post(format!("/containers/{}/attach{}", seg(id), q.encode()))
}

/// `POST /containers/{id}/resize?h=&w=`.
pub fn resize(id: &str, h: u16, w: u16) -> Endpoint {
    let q = Query::new().set("h", h.to_string()).set("w", w.to_string());
    Endpoint::post(format!("/containers/{}/resize{}", seg(id), q.encode()))
}

/// `POST /containers/{id}/update`: the resources and restart policy to change; unset fields
/// stay as they are.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nano_cpus: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_swap: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<berth_engine::model::container::RestartPolicy>,
}

pub fn update(id: &str, config: &UpdateConfig) -> Endpoint {
    Endpoint::post(format!("/containers/{}/update", seg(id))).json(config)
}

/// `HEAD` (stat), `GET` (download) or `PUT` (extract into) `/containers/{id}/archive?path=`.
pub fn archive(method: Method, id: &str, path: &str) -> Endpoint {
    let q = Query::new().set("path", path);
    Endpoint::new(
        method,
        format!("/containers/{}/archive{}", seg(id), q.encode()),
    )
}

/// `PUT /containers/{id}/archive` of `docker cp` into a container: never replace a directory
/// with a file or the reverse; `copy_uid_gid` keeps the archive's owners (`cp -a`).
pub fn archive_put(id: &str, dir: &str, copy_uid_gid: bool) -> Endpoint {
    let mut q = Query::new()
        .set("path", dir)
        .set("noOverwriteDirNonDir", "true");
    if copy_uid_gid {
        q = q.set("copyUIDGID", "true");
    }
    Endpoint::new(
        Method::PUT,
        format!("/containers/{}/archive{}", seg(id), q.encode()),
    )
}

/// `POST /containers/prune[?filters=]`.
pub fn prune(filters: &Filters) -> Endpoint {
    let q = Query::new().filters(filters);
    Endpoint::post(format!("/containers/prune{}", q.encode()))
}

impl Client {
    pub async fn container_inspect(&self, id: &str) -> Result<Value> {
        self.send_as(inspect(id)).await
    }

    /// The create answer (`Id`, `Warnings`).
    pub async fn container_create(
        &self,
        name: Option<&str>,
        spec: &impl Serialize,
    ) -> Result<Value> {
        Ok(self.send(create(name, spec)).await?.unwrap_or(Value::Null))
    }

    pub async fn container_start(&self, id: &str) -> Result<()> {
        self.send(start(id)).await.map(drop)
    }

    pub async fn container_stop(
        &self,
        id: &str,
        t: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        self.send(stop(id, false, t, signal)).await.map(drop)
    }

    pub async fn container_restart(
        &self,
        id: &str,
        t: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        self.send(stop(id, true, t, signal)).await.map(drop)
    }

    pub async fn container_kill(&self, id: &str, signal: Option<&str>) -> Result<()> {
        self.send(kill(id, signal)).await.map(drop)
    }

    pub async fn container_pause(&self, id: &str, pause_it: bool) -> Result<()> {
        self.send(pause(id, pause_it)).await.map(drop)
    }

    pub async fn container_remove(&self, id: &str, force: bool, volumes: bool) -> Result<()> {
        self.send(remove(id, force, volumes)).await.map(drop)
    }

    pub async fn container_rename(&self, id: &str, name: &str) -> Result<()> {
        self.send(rename(id, name)).await.map(drop)
    }

    /// The wait answer (`StatusCode`, `Error`), once the container is there.
    pub async fn container_wait(&self, id: &str, condition: Option<&str>) -> Result<Value> {
        Ok(self.send(wait(id, condition)).await?.unwrap_or(Value::Null))
    }

    /// The wait as a response whose headers come first and whose body comes at the exit.
    pub async fn container_wait_response(
        &self,
        id: &str,
        condition: Option<&str>,
    ) -> Result<Response<Incoming>> {
        self.open(wait(id, condition), &[]).await
    }

    pub async fn container_top(&self, id: &str, ps_args: Option<String>) -> Result<Value> {
        self.send_as(top(id, ps_args)).await
    }

    pub async fn container_changes(&self, id: &str) -> Result<Value> {
        self.send_as(changes(id)).await
    }

    pub async fn container_update(&self, id: &str, config: &UpdateConfig) -> Result<()> {
        self.send(update(id, config)).await.map(drop)
    }

    pub async fn container_resize(&self, id: &str, h: u16, w: u16) -> Result<()> {
        self.send(resize(id, h, w)).await.map(drop)
    }

    /// Attach on a hijacked connection of its own.
    pub async fn container_attach(
        &self,
        id: &str,
        o: &AttachOptions,
    ) -> Result<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>> {
        self.hijack_endpoint(attach(id, o)).await
    }

    /// Extract the tar `body` into `dir` of the container.
    pub async fn container_archive_put(
        &self,
        id: &str,
        dir: &str,
        copy_uid_gid: bool,
        body: ReqBody,
    ) -> Result<()> {
        let e = archive_put(id, dir, copy_uid_gid);
        self.request(
            e.method,
            &e.path,
            body,
            &[("content-type", "application/x-tar")],
        )
        .await
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_once_here() {
        assert_eq!(
            stop("a b", false, Some(3), None).path,
            "/containers/a%20b/stop?t=3"
        );
        assert_eq!(
            stop("web", true, None, Some("SIGINT")).path,
            "/containers/web/restart?signal=SIGINT"
        );
        assert_eq!(
            remove("web", true, true).path,
            "/containers/web?force=1&v=1"
        );
        assert_eq!(remove("web", false, false).path, "/containers/web");
        assert_eq!(
            logs_follow("x", &LogsFrom::Tail(200)).path,
            "/containers/x/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail=200"
        );
        assert_eq!(
            list(
                true,
                None,
                false,
                &Filters::parse(&["status=exited".into()]).unwrap()
            )
            .path,
            "/containers/json?all=1&filters=%7B%22status%22%3A%5B%22exited%22%5D%7D"
        );
    }
}
