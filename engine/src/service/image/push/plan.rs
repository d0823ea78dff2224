//! Which tags a push sends.

use crate::error::{EngineError, Result};
use crate::image::reference::Reference;
use crate::service::image::ImageListFilter;
use crate::service::Engine;

/// What a push request asks for, validated before the stream starts.
#[derive(Debug, Clone)]
pub struct PushPlan {
    /// The repository, as the user named it ("127.0.0.1:5000/app").
    pub repository: Reference,
    /// Tagged references to push, in order, with the image each names.
    pub targets: Vec<(Reference, String)>,
}

/// Work out which tags `POST /images/{name}/push?tag=` pushes: `tag` when given (or the tag in
/// `name`), otherwise every local tag of the repository, as docker does. Invalid name → 400,
/// nothing to push → 404 ("An image does not exist locally with the tag: ...").
pub fn plan(engine: &Engine, name: &str, tag: Option<&str>) -> Result<PushPlan> {
    let parsed = Reference::parse(name)?;
    if parsed.digest.is_some() {
        return Err(EngineError::invalid(format!(
            "cannot push a digest reference: {name}"
        )));
    }
    let tag = tag
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .or(parsed.tag.clone());
    let repo_name = parsed.name();
    let repository = Reference {
        tag: None,
        ..parsed
    };
    let mut targets = Vec::new();
    if let Some(t) = tag {
        let r = Reference::parse(&format!("{repo_name}:{t}"))?;
        let resolved = engine.images.resolve(&r.full()).map_err(|e| match e {
            EngineError::NotFound(_) => EngineError::not_found(format!(
                "An image does not exist locally with the tag: {}",
                repository.familiar_name()
            )),
            other => other,
        })?;
        targets.push((r, resolved.id));
    } else {
        for img in engine.images.list(&ImageListFilter::default())? {
            for t in &img.repo_tags {
                if let Ok(r) = Reference::parse(t) {
                    if r.name() == repo_name && r.tag.is_some() {
                        targets.push((r, img.id.clone()));
                    }
                }
            }
        }
        targets.sort_by(|a, b| a.0.tag.cmp(&b.0.tag));
        if targets.is_empty() {
            return Err(EngineError::not_found(format!(
                "An image does not exist locally with the tag: {}",
                repository.familiar_name()
            )));
        }
    }
    Ok(PushPlan {
        repository,
        targets,
    })
}
