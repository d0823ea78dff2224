//! `POST /containers/create?platform=`: the platform the local image must have. dockerd looks
//! the image up with the platform (`daemon.GetImage`) and answers another one with a 404 in its
//! own words, before anything is created; berth answers the same.

use super::backend::ContainerBackend;
use crate::error::{EngineError, Result};
use crate::image::import::Platform;

/// `platform=` on create names the platform the local image must have: another one is a 404 in
/// dockerd's words (`daemon.GetImage` with a platform). An unknown image is left to create.
pub(super) fn check<B: ContainerBackend>(
    backend: &B,
    image: &str,
    wanted: &Platform,
) -> Result<()> {
    let Some((os, arch, variant)) = backend.image_platform(image) else {
        return Ok(());
    };
    let os = if os.is_empty() {
        "linux".to_owned()
    } else {
        os
    };
    let matches = os == "linux"
        && arch == wanted.architecture
        && (wanted.variant.is_none() || wanted.variant == variant);
    if matches {
        return Ok(());
    }
    let format = |arch: &str, variant: &Option<String>| match variant {
        Some(v) => format!("{arch}/{v}"),
        None => arch.to_owned(),
    };
    Err(EngineError::not_found(format!(
        "image with reference {image} was found but does not match the specified platform: wanted linux/{}, actual: {os}/{}",
        format(&wanted.architecture, &wanted.variant),
        format(&arch, &variant),
    )))
}
