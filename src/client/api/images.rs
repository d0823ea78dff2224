//! Image endpoints (`/images/...`): list, inspect, history, pull, import, push, tag, remove,
//! save, load and prune, each a function describing the call (and a [`Client`] method where
//! a headless command sends it as is).

use anyhow::Result;
use serde_json::Value;

use super::{seg, Endpoint, Filters, Query};
use crate::client::Client;

/// `GET /images/json`: `all` includes intermediate images.
pub fn list(all: bool, filters: &Filters) -> Endpoint {
    let q = Query::new().flag("all", all).filters(filters);
    Endpoint::get(format!("/images/json{}", q.encode()))
}

/// `GET /images/{name}/json`.
pub fn inspect(name: &str) -> Endpoint {
    Endpoint::get(format!("/images/{}/json", seg(name)))
}

/// `GET /images/{name}/history`.
pub fn history(name: &str) -> Endpoint {
    Endpoint::get(format!("/images/{}/history", seg(name)))
}

/// `POST /images/create?fromImage=` (a pull, streaming progress): without a tag every tag of
/// the repository comes (`docker pull -a`); a digest travels as the tag.
pub fn pull(from_image: &str, tag: Option<&str>, platform: Option<&str>) -> Endpoint {
    let q = Query::new()
        .set("fromImage", from_image)
        .opt("tag", tag)
        .opt("platform", platform);
    Endpoint::post(format!("/images/create{}", q.encode()))
}

/// `POST /images/create?fromSrc=-` (an import of the tar sent as the body): `repo` may hold the
/// whole reference (the engine splits off the tag); `changes` are Dockerfile instructions.
pub fn import(
    repo: Option<&str>,
    tag: Option<&str>,
    message: Option<&str>,
    changes: &[String],
) -> Endpoint {
    let mut q = Query::new()
        .set("fromSrc", "-")
        .opt("repo", repo)
        .opt("tag", tag)
        .opt("message", message);
    for c in changes {
        q = q.set("changes", c.as_str());
    }
    Endpoint::post(format!("/images/create{}", q.encode()))
}

/// `POST /images/{name}/push?tag=` (streaming progress); an empty tag pushes every tag.
pub fn push(name: &str, tag: &str, compression: Option<&str>) -> Endpoint {
    let q = Query::new().set("tag", tag).opt("compression", compression);
    Endpoint::post(format!("/images/{}/push{}", seg(name), q.encode()))
}

/// `POST /images/{name}/tag?repo=&tag=`.
pub fn tag(name: &str, repo: &str, tag: Option<&str>) -> Endpoint {
    let q = Query::new().set("repo", repo).opt("tag", tag);
    Endpoint::post(format!("/images/{}/tag{}", seg(name), q.encode()))
}

/// `DELETE /images/{name}`: `force` untags an image in use; `no_prune` keeps untagged parents.
pub fn remove(name: &str, force: bool, no_prune: bool) -> Endpoint {
    let q = Query::new().flag("force", force).flag("noprune", no_prune);
    Endpoint::delete(format!("/images/{}{}", seg(name), q.encode()))
}

/// `GET /images/get?names=...`: the images as one tar stream.
pub fn save(names: &[String]) -> Endpoint {
    let mut q = Query::new();
    for n in names {
        q = q.set("names", n.as_str());
    }
    Endpoint::get(format!("/images/get{}", q.encode()))
}

/// `POST /images/load[?quiet=1]` of the tar sent as the body.
pub fn load(quiet: bool) -> Endpoint {
    // Always explicit, as the docker CLI sends it: the engine's default is dockerd's (quiet).
    let q = Query::new().set("quiet", if quiet { "1" } else { "0" });
    Endpoint::post(format!("/images/load{}", q.encode()))
}

/// `POST /images/prune[?filters=]`.
pub fn prune(filters: &Filters) -> Endpoint {
    let q = Query::new().filters(filters);
    Endpoint::post(format!("/images/prune{}", q.encode()))
}

impl Client {
    pub async fn image_list(&self, all: bool, filters: &Filters) -> Result<Vec<Value>> {
        self.send_as(list(all, filters)).await
    }

    pub async fn image_history(&self, name: &str) -> Result<Vec<Value>> {
        self.send_as(history(name)).await
    }

    pub async fn image_tag(&self, name: &str, repo: &str, t: Option<&str>) -> Result<()> {
        self.send(tag(name, repo, t)).await.map(drop)
    }

    /// The untagged and deleted items of the removal.
    pub async fn image_remove(&self, name: &str, force: bool, no_prune: bool) -> Result<Value> {
        Ok(self
            .send(remove(name, force, no_prune))
            .await?
            .unwrap_or(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_once_here() {
        assert_eq!(
            pull("localhost:5000/app", Some("latest"), None).path,
            "/images/create?fromImage=localhost%3A5000%2Fapp&tag=latest"
        );
        assert_eq!(
            import(Some("mine"), Some("latest"), None, &[]).path,
            "/images/create?fromSrc=-&repo=mine&tag=latest"
        );
        assert_eq!(
            push("nginx", "1.27", None).path,
            "/images/nginx/push?tag=1.27"
        );
        assert_eq!(remove("a/b", true, false).path, "/images/a%2Fb?force=1");
        assert_eq!(load(false).path, "/images/load?quiet=0");
        assert_eq!(load(true).path, "/images/load?quiet=1");
        assert_eq!(
            save(&["a".into(), "b:1".into()]).path,
            "/images/get?names=a&names=b%3A1"
        );
    }
}
