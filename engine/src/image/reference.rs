//! Docker image references: parsing, normalisation (`busybox` → `docker.io/library/busybox:latest`)
//! and the familiar display form (`busybox:latest`). Follows the grammar of
//! github.com/distribution/reference, with docker's error wording, because the docker CLI shows the
//! daemon's messages verbatim.

use crate::error::{EngineError, Result};

pub const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
pub const DEFAULT_TAG: &str = "latest";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A parsed, normalised reference: `domain/path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host, e.g. "docker.io", "host:5000".
    pub domain: String,
    /// Repository path, e.g. "library/busybox".
    pub path: String,
    pub tag: Option<String>,
    /// "sha256:<hex>".
    pub digest: Option<String>,
}

fn invalid() -> EngineError {
    EngineError::invalid("invalid reference format")
}

impl Reference {
    /// Parse a reference the way `docker` does (`ParseNormalizedNamed`): a missing domain means
    /// docker.io, a single-component docker.io path gets `library/`. No tag is added here; see
    /// [`Reference::with_default_tag`].
    pub fn parse(s: &str) -> Result<Reference> {
        if s.is_empty() {
            return Err(invalid());
        }
        if is_full_hex_id(s) {
            return Err(EngineError::invalid(format!(
                "invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
            )));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                validate_digest(d)?;
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        // A tag follows the last ':' unless that ':' belongs to a host:port (then a '/' follows it).
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(invalid());
            }
        }
        if name.is_empty() || name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(if name.is_empty() {
                invalid()
            } else {
                EngineError::invalid("invalid reference format: repository name must not be more than 255 characters")
            });
        }
        let (domain, path) = split_domain(name);
        if !valid_domain(&domain) {
            return Err(invalid());
        }
        // Docker checks lowercase before the path grammar so `Foo` gets the helpful message.
        if path.to_ascii_lowercase() != path {
            return Err(EngineError::invalid(format!(
                "invalid reference format: repository name ({path}) must be lowercase"
            )));
        }
        if !path.split('/').all(valid_path_component) {
            return Err(invalid());
        }
        Ok(Reference {
            domain,
            path,
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// The reference with `:latest` when it has neither tag nor digest (`TagNameOnly`).
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// "docker.io/library/busybox".
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// "busybox", "host:5000/a/b": the repository as docker displays it.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            self.path
                .strip_prefix(OFFICIAL_REPO_PREFIX)
                .filter(|p| !p.contains('/'))
                .unwrap_or(&self.path)
                .to_string()
        } else {
            self.name()
        }
    }

    /// Full normalised string: "docker.io/library/busybox:latest" (the key in the refs file).
    pub fn full(&self) -> String {
        let mut s = self.name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// "busybox:latest" (what `RepoTags` shows).
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

/// `docker.io/library/busybox:latest` → `busybox:latest`; keys that fail to parse are shown as is.
pub fn familiar_string(full: &str) -> String {
    Reference::parse(full)
        .map(|r| r.familiar())
        .unwrap_or_else(|_| full.to_string())
}

fn split_domain(name: &str) -> (String, String) {
    let (mut domain, mut path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !path.contains('/') {
        path = format!("{OFFICIAL_REPO_PREFIX}{path}");
    }
    (domain, path)
}

fn valid_domain(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: ".", "_", "__" or one or more "-".
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[\w][\w.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

fn validate_digest(d: &str) -> Result<()> {
    match d.split_once(':') {
        Some(("sha256", hex)) if hex.len() == 64 && is_lower_hex(hex) => Ok(()),
        _ => Err(invalid()),
    }
}

pub fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn is_full_hex_id(s: &str) -> bool {
    s.len() == 64 && is_lower_hex(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> String {
        Reference::parse(s).unwrap().with_default_tag().full()
    }

    #[test]
    fn reference_normalises_docker_hub_names() {
        for s in [
            "busybox",
            "library/busybox",
            "docker.io/library/busybox",
            "busybox:latest",
            "index.docker.io/library/busybox",
            "docker.io/busybox:latest",
        ] {
            assert_eq!(full(s), "docker.io/library/busybox:latest", "{s}");
        }
        assert_eq!(full("user/app:1.0"), "docker.io/user/app:1.0");
        let r = Reference::parse("busybox").unwrap().with_default_tag();
        assert_eq!(r.familiar(), "busybox:latest");
        assert_eq!(
            Reference::parse("user/app:v2").unwrap().familiar(),
            "user/app:v2"
        );
    }

    #[test]
    fn reference_registry_hosts_and_digests() {
        let r = Reference::parse("host:5000/a/b:tag").unwrap();
        assert_eq!(r.domain, "host:5000");
        assert_eq!(r.path, "a/b");
        assert_eq!(r.tag.as_deref(), Some("tag"));
        assert_eq!(r.familiar(), "host:5000/a/b:tag");
        let r = Reference::parse("host:5000/a/b")
            .unwrap()
            .with_default_tag();
        assert_eq!(r.full(), "host:5000/a/b:latest");
        let r = Reference::parse("localhost/x").unwrap();
        assert_eq!(r.domain, "localhost");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("busybox@{d}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.clone().with_default_tag().tag, None);
        assert_eq!(r.familiar(), format!("busybox@{d}"));
    }

    #[test]
    fn reference_rejects_invalid_with_docker_wording() {
        let e = Reference::parse("Foo").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid reference format: repository name (library/Foo) must be lowercase"
        );
        for bad in [
            "",
            "a:",
            ":tag",
            "a b",
            "-a",
            "a--",
            "a/",
            "/a",
            "a@sha256:xyz",
            "a:t@g",
            "a..b",
            "a:-tag",
        ] {
            let e = Reference::parse(bad).unwrap_err();
            assert!(
                matches!(e, EngineError::InvalidArgument(_)),
                "{bad:?} should be invalid"
            );
            assert!(
                e.to_string().starts_with("invalid reference format"),
                "{bad:?}: {e}"
            );
        }
        assert!(Reference::parse(&"a".repeat(64)).is_err());
        assert!(Reference::parse("a__b.c-d---e").is_ok());
        assert!(Reference::parse("a___b").is_err());
    }

    #[test]
    fn reference_familiar_string_of_keys() {
        assert_eq!(
            familiar_string("docker.io/library/busybox:1.36"),
            "busybox:1.36"
        );
        assert_eq!(familiar_string("docker.io/a/b:1"), "a/b:1");
        assert_eq!(familiar_string("quay.io/a/b:1"), "quay.io/a/b:1");
    }
}
