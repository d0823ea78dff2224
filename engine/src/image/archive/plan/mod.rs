//! Working out the images of a scanned archive.
//!
//! Precedence follows docker: `manifest.json` (docker ≥ 1.10; docker ≥ 25 archives also carry an
//! OCI layout, whose exact manifest bytes are kept when they match), else an OCI `index.json`
//! (skopeo's oci-archive, nested indexes resolved for the host platform), else the pre-1.10
//! `repositories` file with `<id>/json` parent chains. Every config and manifest read from
//! `blobs/sha256/<hex>` is checked against its name; each config's `rootfs.diff_ids` must match
//! the layers as loaded.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::{json, Map, Value};

use oci_spec::image::{Descriptor, ImageManifest, Os, Platform};

use super::read::Scanned;
use super::{
    blob_member_digest, blob_member_name, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME, DOCKER_LIST,
    DOCKER_MANIFEST, MAX_DEPTH, OCI_INDEX, OCI_MANIFEST,
};
use crate::error::{EngineError, Result};
use crate::image::import::{host_platform, parse_config, CONFIG_MEDIA_TYPE, MANIFEST_MEDIA_TYPE};
use crate::registry::manifest::{
    descriptor, document_media_type, image_manifest, parse_image_manifest, parse_index,
    to_json_bytes,
};
use crate::store::blobs::sha256_digest;

/// A layer member as the store ingested it.
#[derive(Debug, Clone)]
pub struct LoadedLayer {
    pub blob_digest: String,
    pub blob_size: u64,
    pub diff_id: String,
    pub media_type: String,
}

/// One image to commit.
#[derive(Debug, Clone)]
pub struct PlannedImage {
    /// Exact config bytes (the image id is their digest).
    pub config: Vec<u8>,
    /// Exact manifest bytes: from the archive when it has one, else built for the layers.
    pub manifest: Vec<u8>,
    /// Layer members (links resolved), bottom first.
    pub layers: Vec<String>,
    /// Names as written in the archive ("busybox:latest", "docker.io/library/x:1").
    pub tags: Vec<String>,
}

fn invalid(msg: impl std::fmt::Display) -> EngineError {
    EngineError::invalid(format!("invalid archive: {msg}"))
}

/// An entry of docker's `manifest.json` (docker's own format: oci-spec has no type for it).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LegacyEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// An OCI manifest found through index.json.
struct FoundManifest {
    bytes: Vec<u8>,
    doc: ImageManifest,
    tags: Vec<String>,
}

/// Plan the images of `s`; `layers` maps layer members to what ingesting them produced.
pub fn plan(s: &Scanned, layers: &HashMap<String, LoadedLayer>) -> Result<Vec<PlannedImage>> {
    if let Some(data) = s.file("manifest.json")? {
        let entries: Vec<LegacyEntry> =
            serde_json::from_slice(data).map_err(|e| invalid(format!("manifest.json: {e}")))?;
        // Only to keep the exact manifest bytes: manifest.json alone describes the images, so an
        // OCI side that cannot be resolved (a multi-platform index whose other platforms were not
        // saved) is no reason to refuse the archive.
        let oci = match s.file("index.json")? {
            Some(_) => oci_manifests(s).unwrap_or_else(|e| {
                tracing::debug!(error = %e, "ignoring the OCI index beside manifest.json");
                Vec::new()
            }),
            None => Vec::new(),
        };
        return entries
            .into_iter()
            .map(|e| plan_legacy_entry(s, layers, e, &oci))
            .collect();
    }
    if s.file("index.json")?.is_some() {
        return oci_manifests(s)?
            .into_iter()
            .map(|m| plan_oci(s, layers, m))
            .collect();
    }
    if s.file("repositories")?.is_some() {
        return plan_v1(s, layers);
    }
    Err(invalid(
        "no manifest.json, index.json or repositories file: not a docker save or OCI layout archive",
    ))
}

/// A metadata member's bytes; members named by digest are checked against it.
fn meta(s: &Scanned, name: &str) -> Result<Vec<u8>> {
    let real = s.resolve(name)?;
    let data = s
        .files
        .get(&real)
        .ok_or_else(|| invalid(format!("{name} is missing")))?;
    if let Some(d) = blob_member_digest(&real) {
        if sha256_digest(data) != d {
            return Err(invalid(format!(
                "digest mismatch: {name} does not match its digest"
            )));
        }
    }
    Ok(data.clone())
}

fn layer_of<'a>(
    s: &Scanned,
    layers: &'a HashMap<String, LoadedLayer>,
    name: &str,
) -> Result<(String, &'a LoadedLayer)> {
    let real = s.resolve(name)?;
    layers
        .get(&real)
        .map(|l| (real, l))
        .ok_or_else(|| invalid(format!("missing layer {name}")))
}

/// Check that the config's diff_ids are the loaded layers' (the config is the image's identity;
/// a layer that does not match it is corruption or tampering).
fn check_diff_ids(config: &[u8], loaded: &[&LoadedLayer]) -> Result<()> {
    let parsed = parse_config(config).map_err(|e| invalid(e.to_string()))?;
    let want = &parsed.rootfs.diff_ids;
    if want.len() != loaded.len() {
        return Err(invalid(format!(
            "the image config lists {} layers but the archive gives {}",
            want.len(),
            loaded.len()
        )));
    }
    for (i, (w, l)) in want.iter().zip(loaded).enumerate() {
        if *w != l.diff_id {
            return Err(invalid(format!(
                "digest mismatch: layer {i} has diff_id {} but the image config expects {w}",
                l.diff_id
            )));
        }
    }
    Ok(())
}

/// An OCI manifest for layers as stored (used when the archive has none for an image).
pub fn synthesize_manifest(config: &[u8], loaded: &[&LoadedLayer]) -> Result<Vec<u8>> {
    let layers = loaded
        .iter()
        .map(|l| descriptor(&l.media_type, &l.blob_digest, l.blob_size))
        .collect::<Result<Vec<_>>>()?;
    let config = descriptor(
        CONFIG_MEDIA_TYPE,
        &sha256_digest(config),
        config.len() as u64,
    )?;
    Ok(to_json_bytes(&image_manifest(
        MANIFEST_MEDIA_TYPE,
        config,
        layers,
    )?))
}

fn plan_legacy_entry(
    s: &Scanned,
    layers: &HashMap<String, LoadedLayer>,
    e: LegacyEntry,
    oci: &[FoundManifest],
) -> Result<PlannedImage> {
    let config = meta(s, &e.config)?;
    let mut members = Vec::new();
    let mut loaded = Vec::new();
    for l in &e.layers {
        let (real, ll) = layer_of(s, layers, l)?;
        members.push(real);
        loaded.push(ll);
    }
    check_diff_ids(&config, &loaded)?;
    let config_digest = sha256_digest(&config);
    // docker ≥ 25: the OCI layout beside manifest.json holds the image's real manifest.
    let manifest = match oci.iter().find(|m| {
        m.doc.config().digest().as_ref() == config_digest
            && m.doc.layers().len() == loaded.len()
            && m.doc
                .layers()
                .iter()
                .zip(&loaded)
                .all(|(d, l)| d.digest().as_ref() == l.blob_digest)
    }) {
        Some(m) => m.bytes.clone(),
        None => synthesize_manifest(&config, &loaded)?,
    };
    Ok(PlannedImage {
        config,
        manifest,
        layers: members,
        tags: e.repo_tags.unwrap_or_default(),
    })
}

fn plan_oci(
    s: &Scanned,
    layers: &HashMap<String, LoadedLayer>,
    m: FoundManifest,
) -> Result<PlannedImage> {
    let config = meta(s, &blob_member_name(m.doc.config().digest().as_ref())?)?;
    let mut members = Vec::new();
    let mut loaded = Vec::new();
    for d in m.doc.layers() {
        let digest = d.digest().as_ref();
        let (real, ll) = layer_of(s, layers, &blob_member_name(digest)?)?;
        if ll.blob_digest != digest {
            return Err(invalid(format!(
                "digest mismatch: layer {} has digest {}",
                digest, ll.blob_digest
            )));
        }
        members.push(real);
        loaded.push(ll);
    }
    check_diff_ids(&config, &loaded)?;
    Ok(PlannedImage {
        config,
        manifest: m.bytes,
        layers: members,
        tags: m.tags,
    })
}

/// The name an index descriptor gives its image: containerd's full image name, else the OCI ref
/// name when it is a reference (skopeo's "name:tag"); a bare tag ("latest") names no repository.
fn descriptor_tag(d: &Descriptor) -> Option<String> {
    let a = d.annotations().as_ref()?;
    if let Some(n) = a.get(ANNOTATION_IMAGE_NAME).filter(|n| !n.is_empty()) {
        return Some(n.clone());
    }
    a.get(ANNOTATION_REF_NAME)
        .filter(|n| n.contains(':') || n.contains('/'))
        .cloned()
}

/// Every image manifest reachable from index.json (a nested index contributes its host-platform
/// manifest), merging the tags of descriptors naming the same manifest.
fn oci_manifests(s: &Scanned) -> Result<Vec<FoundManifest>> {
    let index = meta(s, "index.json")?;
    let mut out: Vec<(String, FoundManifest)> = Vec::new();
    walk_index(s, &index, None, 0, &mut out)?;
    Ok(out.into_iter().map(|(_, m)| m).collect())
}

fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_LIST
}

fn walk_index(
    s: &Scanned,
    data: &[u8],
    inherited: Option<&str>,
    depth: usize,
    out: &mut Vec<(String, FoundManifest)>,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(invalid("OCI indexes nest too deeply"));
    }
    let doc = parse_index(data).map_err(|e| invalid(format!("OCI index: {e}")))?;
    let nested = depth > 0;
    let mut candidates: Vec<&Descriptor> = Vec::new();
    for d in doc.manifests() {
        let platform_ok = match d.platform() {
            // Attestations and other non-images carry unknown/unknown.
            Some(p) if p.os().to_string() == "unknown" => continue,
            Some(p) => platform_matches(p),
            None => true,
        };
        if nested && !platform_ok {
            continue;
        }
        candidates.push(d);
    }
    if nested && candidates.is_empty() && !doc.manifests().is_empty() {
        let p = host_platform();
        return Err(invalid(format!(
            "no image for platform linux/{} in a multi-platform index",
            p.architecture
        )));
    }
    // Only the best match of a platform index: the first one (registries list the plain
    // architecture before variants).
    if nested {
        candidates.truncate(1);
    }
    for d in candidates {
        let tag = descriptor_tag(d).or_else(|| inherited.map(str::to_owned));
        let digest = d.digest().as_ref();
        let bytes = meta(s, &blob_member_name(digest)?)?;
        let media_type = match d.media_type().as_ref() {
            "" => document_media_type(&bytes).unwrap_or_default(),
            m => m.to_string(),
        };
        if is_index(&media_type) {
            walk_index(s, &bytes, tag.as_deref(), depth + 1, out)?;
            continue;
        }
        if !media_type.is_empty() && media_type != OCI_MANIFEST && media_type != DOCKER_MANIFEST {
            return Err(invalid(format!(
                "unsupported manifest media type {media_type:?}"
            )));
        }
        let doc =
            parse_image_manifest(&bytes).map_err(|e| invalid(format!("manifest {digest}: {e}")))?;
        if doc
            .media_type()
            .as_ref()
            .is_some_and(|m| is_index(m.as_ref()))
        {
            return Err(invalid(format!("{digest} is an index, not a manifest")));
        }
        match out.iter_mut().find(|(dg, _)| dg == digest) {
            Some((_, m)) => m.tags.extend(tag),
            None => out.push((
                digest.to_string(),
                FoundManifest {
                    bytes,
                    doc,
                    tags: tag.into_iter().collect(),
                },
            )),
        }
    }
    Ok(())
}

fn platform_matches(p: &Platform) -> bool {
    let host = host_platform();
    let arch = p.architecture().to_string();
    let arch = match arch.as_str() {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    *p.os() == Os::Linux
        && arch == host.architecture
        && (host.variant.is_none()
            || p.variant().is_none()
            || p.variant().as_deref() == host.variant.as_deref())
}

/// Pre-1.10 archives: `repositories` maps tags to the id of the top layer; every `<id>/json` is
/// a v1 image (config plus `parent`), every `<id>/layer.tar` its layer.
fn plan_v1(s: &Scanned, layers: &HashMap<String, LoadedLayer>) -> Result<Vec<PlannedImage>> {
    let repos: BTreeMap<String, BTreeMap<String, String>> =
        serde_json::from_slice(&meta(s, "repositories")?)
            .map_err(|e| invalid(format!("repositories: {e}")))?;
    let mut by_top: Vec<(String, Vec<String>)> = Vec::new();
    for (repo, tags) in &repos {
        for (tag, id) in tags {
            let t = format!("{repo}:{tag}");
            match by_top.iter_mut().find(|(i, _)| i == id) {
                Some((_, v)) => v.push(t),
                None => by_top.push((id.clone(), vec![t])),
            }
        }
    }
    by_top
        .into_iter()
        .map(|(top, tags)| plan_v1_image(s, layers, &top, tags))
        .collect()
}

fn plan_v1_image(
    s: &Scanned,
    layers: &HashMap<String, LoadedLayer>,
    top: &str,
    tags: Vec<String>,
) -> Result<PlannedImage> {
    if !crate::image::reference::is_full_hex_id(top) {
        return Err(invalid(format!("repositories names an invalid id {top:?}")));
    }
    // Walk the parent chain from the top, then reverse to bottom-first.
    let mut chain: Vec<(String, Map<String, Value>)> = Vec::new();
    let mut cur = Some(top.to_string());
    while let Some(id) = cur {
        if chain.len() > 1000 || chain.iter().any(|(i, _)| *i == id) {
            return Err(invalid("v1 image parent chain loops or is too long"));
        }
        let v: Value = serde_json::from_slice(&meta(s, &format!("{id}/json"))?)
            .map_err(|e| invalid(format!("{id}/json: {e}")))?;
        let Value::Object(obj) = v else {
            return Err(invalid(format!("{id}/json is not an object")));
        };
        cur = obj
            .get("parent")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        if let Some(p) = &cur {
            if !crate::image::reference::is_full_hex_id(p) {
                return Err(invalid(format!("{id}/json names an invalid parent")));
            }
        }
        chain.push((id, obj));
    }
    chain.reverse();
    let mut members = Vec::new();
    let mut loaded = Vec::new();
    let mut history = Vec::new();
    for (id, obj) in &chain {
        let (real, ll) = layer_of(s, layers, &format!("{id}/layer.tar"))?;
        members.push(real);
        loaded.push(ll);
        let mut h = Map::new();
        for k in ["created", "author", "comment"] {
            if let Some(v) = obj.get(k).filter(|v| !v.is_null()) {
                h.insert(k.into(), v.clone());
            }
        }
        if let Some(cmd) = obj
            .get("container_config")
            .and_then(|c| c.get("Cmd"))
            .and_then(Value::as_array)
        {
            let parts: Vec<&str> = cmd.iter().filter_map(Value::as_str).collect();
            h.insert("created_by".into(), json!(parts.join(" ")));
        }
        history.push(Value::Object(h));
    }
    // docker's MakeConfigFromV1Config: the top v1 json minus the v1 bookkeeping, plus rootfs and
    // history.
    let mut config = chain.last().map(|(_, o)| o.clone()).unwrap_or_default();
    for k in ["id", "parent", "Size", "parent_id", "layer_id", "throwaway"] {
        config.remove(k);
    }
    let diff_ids: Vec<&str> = loaded.iter().map(|l| l.diff_id.as_str()).collect();
    config.insert(
        "rootfs".into(),
        json!({"type": "layers", "diff_ids": diff_ids}),
    );
    config.insert("history".into(), Value::Array(history));
    let config = serde_json::to_vec(&Value::Object(config)).expect("json values serialise");
    let manifest = synthesize_manifest(&config, &loaded)?;
    Ok(PlannedImage {
        config,
        manifest,
        layers: members,
        tags,
    })
}

#[cfg(test)]
mod tests;
