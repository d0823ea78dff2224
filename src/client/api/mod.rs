//! Typed endpoints: one function per Docker Engine API call, each the only place its path,
//! query and body are spelled, like moby's `client/container_stop.go`. A call is described by an
//! [`Endpoint`] (what the dashboard hands its feed) and sent by the matching [`Client`] method
//! (what the headless commands call). Path segments and query values are percent-encoded here
//! and nowhere else.

pub mod build;
pub mod builds;
pub mod containers;
pub mod exec;
pub mod images;
pub mod networks;
pub mod system;
pub mod volumes;

use anyhow::Result;
use hyper::body::Incoming;
use hyper::{Method, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::{empty, full, Client, ReqBody};

/// One API call, described: its method, its versionless path with the encoded query, and its
/// JSON body. Comparable, so the dashboard's tests can assert what a key press asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
}

impl Endpoint {
    fn new(method: Method, path: String) -> Endpoint {
        Endpoint {
            method,
            path,
            body: None,
        }
    }

    fn get(path: String) -> Endpoint {
        Endpoint::new(Method::GET, path)
    }

    fn post(path: String) -> Endpoint {
        Endpoint::new(Method::POST, path)
    }

    fn delete(path: String) -> Endpoint {
        Endpoint::new(Method::DELETE, path)
    }

    /// The JSON body, from a typed request struct.
    fn json(mut self, body: &impl Serialize) -> Endpoint {
        // Request structs hold strings, numbers, lists and string-keyed maps: they always
        // serialize.
        self.body = Some(serde_json::to_value(body).expect("request bodies serialize to JSON"));
        self
    }

    /// The body and its content type, as the transport sends them.
    fn request_body(&self) -> Result<(ReqBody, &'static [(&'static str, &'static str)])> {
        Ok(match &self.body {
            Some(v) => (
                full(serde_json::to_vec(v)?),
                &[("content-type", "application/json")],
            ),
            None => (empty(), &[]),
        })
    }
}

/// A query string built pair by pair, in the order the API call spells them.
#[derive(Default)]
pub struct Query(Vec<(&'static str, String)>);

impl Query {
    pub fn new() -> Query {
        Query::default()
    }

    /// `key=value`.
    pub fn set(mut self, key: &'static str, value: impl Into<String>) -> Query {
        self.0.push((key, value.into()));
        self
    }

    /// `key=value` when there is a value.
    pub fn opt(self, key: &'static str, value: Option<impl Into<String>>) -> Query {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    /// `key=1` when `on`.
    pub fn flag(self, key: &'static str, on: bool) -> Query {
        if on {
            self.set(key, "1")
        } else {
            self
        }
    }

    /// `filters=<JSON>`, unless there are none.
    pub fn filters(self, filters: &Filters) -> Query {
        self.opt("filters", filters.encode())
    }

    /// `?a=1&b=2`, or nothing when empty.
    pub fn encode(&self) -> String {
        query(&self.0)
    }
}

impl Client {
    /// Send a call and return its whole answer (`None` when empty or 304).
    pub async fn send(&self, e: Endpoint) -> Result<Option<Value>> {
        self.call(e.method, &e.path, e.body.as_ref()).await
    }

    /// Send a call and decode its answer straight into `T` (one parse; lists can be large).
    pub async fn send_as<T: DeserializeOwned>(&self, e: Endpoint) -> Result<T> {
        debug_assert!(e.body.is_none(), "send_as is for GETs");
        self.get(&e.path).await
    }

    /// Send a call and hand back the response with its body unread (logs, events, stats,
    /// progress streams). `headers` go with it (`X-Registry-Auth`).
    pub async fn open(&self, e: Endpoint, headers: &[(&str, &str)]) -> Result<Response<Incoming>> {
        let (body, content) = e.request_body()?;
        let mut all: Vec<(&str, &str)> = content.to_vec();
        all.extend_from_slice(headers);
        self.request(e.method, &e.path, body, &all).await
    }

    /// Send a call on a connection of its own that the engine hijacks (attach, exec start).
    pub async fn hijack_endpoint(
        &self,
        e: Endpoint,
    ) -> Result<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>> {
        self.hijack_with_body(&e.path, e.body.as_ref()).await
    }
}

/// Percent-encode a path segment (container names and image references may hold ':' or '/').
pub fn seg(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Build a query string from pairs (empty values are kept: callers omit what they don't set).
pub fn query(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    format!("?{}", ser.finish())
}

/// docker's `--filter key=value` flags, checked: what the API's JSON `filters` parameter says.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Filters(std::collections::BTreeMap<String, Vec<String>>);

impl Filters {
    /// No filter at all.
    pub fn none() -> Filters {
        Filters::default()
    }

    /// One `key=value` filter.
    pub fn one(key: &str, value: &str) -> Filters {
        Filters([(key.to_string(), vec![value.to_string()])].into())
    }

    /// One more `key=value` filter (a repeated `label` must match every value, as docker).
    pub fn add(&mut self, key: &str, value: &str) {
        self.0
            .entry(key.to_string())
            .or_default()
            .push(value.to_string());
    }

    /// Parse `key=value` flags (keys are case-insensitive, values repeat).
    pub fn parse(flags: &[String]) -> Result<Filters> {
        let mut map = std::collections::BTreeMap::<String, Vec<String>>::new();
        for f in flags {
            let (k, v) = f
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("bad format of filter (expected name=value)"))?;
            map.entry(k.trim().to_lowercase())
                .or_default()
                .push(v.to_string());
        }
        Ok(Filters(map))
    }

    /// The JSON of the `filters` parameter, None when there are none.
    pub fn encode(&self) -> Option<String> {
        (!self.0.is_empty())
            .then(|| serde_json::to_string(&self.0).expect("a map of strings serializes to JSON"))
    }
}

/// Encode docker `--filter key=value` flags as the API's JSON `filters` parameter.
pub fn filters_json(filters: &[String]) -> Result<Option<String>> {
    Ok(Filters::parse(filters)?.encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_segments() {
        assert_eq!(
            filters_json(&[
                "status=exited".into(),
                "status=created".into(),
                "name=a".into()
            ])
            .unwrap()
            .unwrap(),
            r#"{"name":["a"],"status":["exited","created"]}"#
        );
        assert!(filters_json(&["bad".into()]).is_err());
        assert_eq!(seg("localhost:5000/a b"), "localhost:5000%2Fa%20b");
        assert_eq!(
            query(&[("t", "1".into()), ("x", "a b".into())]),
            "?t=1&x=a+b"
        );
    }
}
