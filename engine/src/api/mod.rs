//! The Docker Engine REST API over a Unix socket: connection handling (`server`), version
//! negotiation (`version`), routing (`router`), and one module of handlers per resource, each
//! reaching the engine through its narrow trait in `backend`.

pub mod backend;
pub mod berth;
pub mod body;
pub mod build;
pub mod commit;
pub mod container_archive;
pub mod container_attach;
pub mod container_stats;
pub mod container_update;
pub mod container_views;
pub mod containers;
mod create_platform;
pub mod detach;
pub mod events;
pub mod exec;
pub mod hijack;
pub mod image_archive;
pub mod images;
pub mod network_views;
pub mod networks;
#[cfg(test)]
mod null_bodies_tests;
pub mod query;
pub mod registry;
pub mod request_line;
pub mod response;
pub mod router;
pub mod server;
pub mod stats_views;
pub mod swarm;
pub mod system;
pub mod system_df;
pub mod timestamps;
pub mod version;
pub mod volumes;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::{Method, Request};

use query::Query;

/// A request body as the handlers see it: hyper's `Incoming` on the socket, a fixed body in unit
/// tests.
pub type RequestBody = BoxBody<Bytes, hyper::Error>;

/// One request as the handlers see it: the version prefix already stripped and the path split.
/// `B` is the engine behind the handlers (`Engine`, or a fake in unit tests).
pub struct ApiRequest<B> {
    pub backend: Arc<B>,
    pub method: Method,
    /// Percent-decoded path segments after the version prefix, e.g. ["containers", "abc", "json"].
    pub segments: Vec<String>,
    pub query: Query,
    /// Negotiated API version of this request (e.g. "1.44").
    pub api_version: String,
    pub req: Request<RequestBody>,
}
