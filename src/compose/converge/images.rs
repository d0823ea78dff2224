//! The images a project needs, present before any container is created (docker compose's
//! `ensureImagesExists`): pulled per each service's `pull_policy` (missing by default; a failed
//! pull is forgiven when the service can be built), built per the build policy, and each
//! service labelled with the id of the image it will run (`com.docker.compose.image`), which is
//! how `up` notices that an image changed under a tag.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};
use futures_util::future::join_all;
use serde_json::Value;

use super::build::build_service;
use super::{BuildPolicy, Compose, CreateOptions};
use crate::client::api::images;
use crate::client::progress::read_stream;
use crate::client::reference::split_tag_or_digest;
use crate::compose::labels;
use crate::compose::progress::{Event, Status};
use crate::compose::types::{Project, ServiceConfig};

/// The image a service runs (defined beside the create body, which names it too).
pub use crate::compose::create::image_name;

/// The id of a local image, None when the engine has no such image.
pub async fn local_image_id(compose: &Compose, name: &str) -> Result<Option<String>> {
    match compose.client.send(images::inspect(name)).await {
        Ok(Some(v)) => Ok(v["Id"].as_str().map(String::from)),
        Ok(None) => Ok(None),
        Err(e) => match e.downcast_ref::<crate::client::DaemonError>() {
            Some(d) if d.status == 404 => Ok(None),
            _ => Err(e),
        },
    }
}

/// compose-go's `GetPullPolicy` (without the refresh intervals, which pull like `always`).
fn pull_policy(service: &ServiceConfig) -> &str {
    match service.pull_policy.as_str() {
        "" => "missing",
        p if p.starts_with("every_") || p == "daily" || p == "weekly" || p == "refresh" => "always",
        p => p,
    }
}

/// Pull `image`; progress as docker compose reports it (`Image busybox  Pulling` … `Pulled`).
pub async fn pull_image(compose: &Compose, image: &str, platform: &str) -> Result<()> {
    let id = format!("Image {image}");
    compose.event(Event::working(&id, "Pulling"));
    let (name, tag) = split_tag_or_digest(image);
    let tag = tag.or(Some("latest"));
    let endpoint = images::pull(name, tag, Some(platform).filter(|p| !p.is_empty()));
    let auth = crate::client::credentials::registry_auth_header(image).unwrap_or(None);
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| ("X-Registry-Auth", a))
        .into_iter()
        .collect();
    let result = async {
        let resp = compose.client.open(endpoint, &headers).await?;
        read_stream(
            resp.into_body(),
            |msg: &Value| match crate::client::progress::render_message(msg) {
                Err(e) => Err(anyhow!(e)),
                Ok(_) => Ok(()),
            },
        )
        .await
    }
    .await;
    match &result {
        Ok(()) => compose.event(Event::done(&id, "Pulled")),
        Err(e) => compose.event(Event::new(&id, Status::Error, format!("{e:#}"))),
    }
    result
}

/// Pull and build what the project needs, and label each service with its image id.
pub async fn ensure_images(
    compose: &Compose,
    project: &mut Project,
    opts: &CreateOptions,
) -> Result<()> {
    for (name, s) in &project.services {
        if s.provider.is_none() && s.image.is_empty() && s.build.is_none() {
            return Err(anyhow!(
                "invalid service {name:?}. Must specify either image or build"
            ));
        }
    }
    apply_policy_flags(project, opts);
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for s in project.services.values() {
        let image = image_name(&project.name, s);
        if let std::collections::btree_map::Entry::Vacant(e) = ids.entry(image.clone()) {
            if let Some(id) = local_image_id(compose, &image).await? {
                e.insert(id);
            }
        }
    }
    // Pulls run side by side; one a build can stand in for is forgiven.
    let to_pull: Vec<&ServiceConfig> = project
        .services
        .values()
        .filter(|s| s.provider.is_none() && !s.image.is_empty())
        .filter(|s| match pull_policy(s) {
            "always" => true,
            "never" | "build" => false,
            _ => !ids.contains_key(&s.image),
        })
        .collect();
    let platform = project
        .environment
        .get("DOCKER_DEFAULT_PLATFORM")
        .cloned()
        .unwrap_or_default();
    let mut seen = Vec::new();
    let pulls = to_pull
        .iter()
        .filter(|s| {
            let first = !seen.contains(&s.image);
            seen.push(s.image.clone());
            first
        })
        .map(|s| {
            let platform = if s.platform.is_empty() {
                platform.clone()
            } else {
                s.platform.clone()
            };
            async move { (s, pull_image(compose, &s.image, &platform).await) }
        });
    for (s, r) in join_all(pulls).await {
        if let Err(e) = r {
            if s.build.is_none() {
                return Err(e);
            }
        }
    }
    for s in &to_pull {
        if let Some(id) = local_image_id(compose, &s.image).await? {
            ids.insert(s.image.clone(), id);
        }
    }
    if opts.build != BuildPolicy::Never {
        let names: Vec<String> = project.services.keys().cloned().collect();
        for name in names {
            let s = &project.services[&name];
            let Some(_) = &s.build else { continue };
            let image = image_name(&project.name, s);
            if ids.contains_key(&image) && s.pull_policy != "build" {
                continue;
            }
            let id = build_service(compose, project, s, &opts.build_options).await?;
            ids.insert(image, id);
        }
    }
    let project_name = project.name.clone();
    for s in project.services.values_mut() {
        if let Some(id) = ids.get(&image_name(&project_name, s)) {
            s.custom_labels
                .0
                .insert(labels::IMAGE_DIGEST.into(), id.clone());
        }
    }
    Ok(())
}

/// `--pull` overrides every service's pull_policy; `--build` makes each buildable service build.
pub fn apply_policy_flags(project: &mut Project, opts: &CreateOptions) {
    for s in project.services.values_mut() {
        if let Some(p) = &opts.pull {
            s.pull_policy = p.clone();
        }
        if opts.build == BuildPolicy::Always && s.build.is_some() {
            s.pull_policy = "build".into();
        }
    }
}

/// Push `image` (`name:tag`, latest when no tag) to its registry.
pub async fn push_image(compose: &Compose, image: &str) -> Result<()> {
    let id = format!("Image {image}");
    compose.event(Event::working(&id, "Pushing"));
    let (name, tag) = crate::client::reference::split_tag(image);
    let tag = tag.unwrap_or("latest");
    let auth = crate::client::credentials::registry_auth_header(name).unwrap_or(None);
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| ("X-Registry-Auth", a))
        .into_iter()
        .collect();
    let result = async {
        let resp = compose
            .client
            .open(images::push(name, tag, None), &headers)
            .await?;
        read_stream(
            resp.into_body(),
            |msg: &Value| match crate::client::progress::render_message(msg) {
                Err(e) => Err(anyhow!(e)),
                Ok(_) => Ok(()),
            },
        )
        .await
    }
    .await;
    match &result {
        Ok(()) => compose.event(Event::done(&id, "Pushed")),
        Err(e) => compose.event(Event::new(&id, Status::Error, format!("{e:#}"))),
    }
    result
}
