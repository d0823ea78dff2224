//! API version negotiation: strip the `/vX.Y` prefix, refuse versions outside what we serve, and
//! stamp the headers docker clients read on every response.

use hyper::header::{HeaderMap, HeaderValue};

use crate::config::{API_VERSION, MIN_API_VERSION};
use crate::error::{EngineError, Result};

pub const SERVER_HEADER: &str = concat!("berth/", env!("CARGO_PKG_VERSION"), " (linux)");

/// Split "/v1.44/containers/json" into ("1.44", "/containers/json"). Unprefixed paths mean the
/// current version.
pub fn strip_version(path: &str) -> Result<(String, &str)> {
    let Some(rest) = path.strip_prefix("/v") else {
        return Ok((API_VERSION.to_owned(), path));
    };
    let (ver, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let Some(parsed) = parse(ver) else {
        // Not a version prefix at all (e.g. "/volumes"): treat as an ordinary path.
        return Ok((API_VERSION.to_owned(), path));
    };
    let max = parse(API_VERSION).expect("valid constant");
    let min = parse(MIN_API_VERSION).expect("valid constant");
    if parsed > max {
        return Err(EngineError::invalid(format!(
            "client version {ver} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    if parsed < min {
        return Err(EngineError::invalid(format!(
            "client version {ver} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
    }
    Ok((ver.to_owned(), tail))
}

fn parse(v: &str) -> Option<(u32, u32)> {
    let (major, minor) = v.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Headers every response carries.
pub fn stamp(headers: &mut HeaderMap) {
    headers.insert("Api-Version", HeaderValue::from_static(API_VERSION));
    headers.insert("Ostype", HeaderValue::from_static("linux"));
    headers.insert("Server", HeaderValue::from_static(SERVER_HEADER));
    headers.insert("Docker-Experimental", HeaderValue::from_static("false"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_and_validates_prefixes() {
        assert_eq!(
            strip_version("/v1.44/containers/json").unwrap(),
            ("1.44".to_owned(), "/containers/json")
        );
        assert_eq!(
            strip_version("/v1.24/_ping").unwrap(),
            ("1.24".to_owned(), "/_ping")
        );
        assert_eq!(strip_version("/_ping").unwrap().1, "/_ping");
        assert_eq!(strip_version("/volumes").unwrap().1, "/volumes");
        let too_new = strip_version("/v1.45/info").unwrap_err().to_string();
        assert!(too_new.contains("too new"), "{too_new}");
        let too_old = strip_version("/v1.12/info").unwrap_err().to_string();
        assert!(too_old.contains("too old"), "{too_old}");
    }
}
