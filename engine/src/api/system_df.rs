//! `GET /system/df`: disk usage of images, containers, volumes and the build cache.

use std::collections::HashMap;

use hyper::Method;

use super::backend::{BuildBackend, ContainerBackend, ImageBackend, VolumeBackend};
use super::container_views::summary;
use super::response::{ok_json, ApiResponse};
use super::ApiRequest;
use crate::error::{EngineError, Result};
use crate::util::du::tree_size;

pub fn matches(method: &Method, segments: &[String]) -> bool {
    method == Method::GET && segments.len() == 2 && segments[0] == "system" && segments[1] == "df"
}

/// `GET /system/df`: images, containers, volumes (with UsageData) and the build cache.
///
/// Sizes: a layer's size is the apparent size of its unpacked directory. An image's `Size` is the
/// sum of its layers; `SharedSize` the part of it in layers that other images use too (docker
/// computes the same from its layer store); `LayersSize` counts every distinct layer once.
/// Containers report their upper dir as `SizeRw` and `SizeRw` + image size as `SizeRootFs`.
pub async fn handle<B: BuildBackend + ContainerBackend + ImageBackend + VolumeBackend>(
    r: ApiRequest<B>,
) -> Result<ApiResponse> {
    let types: Vec<String> = r
        .query
        .get_all("type")
        .iter()
        .map(|s| s.to_string())
        .collect();
    for t in &types {
        if !matches!(t.as_str(), "container" | "image" | "volume" | "build-cache") {
            return Err(EngineError::invalid(format!("unknown object type: {t}")));
        }
    }
    let want = |t: &str| types.is_empty() || types.iter().any(|x| x == t);
    let (want_img, want_ctr, want_vol, want_bc) = (
        want("image"),
        want("container"),
        want("volume"),
        want("build-cache"),
    );
    let backend = r.backend.clone();
    let body = tokio::task::spawn_blocking(move || -> Result<serde_json::Value> {
        let records: Vec<_> = backend.containers().iter().map(|c| c.record()).collect();
        let images = backend.image_list(&Default::default())?;
        // Layer sizes and how many images use each layer.
        let mut layer_size: HashMap<std::path::PathBuf, u64> = HashMap::new();
        let mut layer_users: HashMap<std::path::PathBuf, usize> = HashMap::new();
        let mut image_layers: HashMap<String, Vec<std::path::PathBuf>> = HashMap::new();
        for img in &images {
            let dirs = backend.image_layer_dirs(&img.id);
            for d in &dirs {
                layer_size.entry(d.clone()).or_insert_with(|| tree_size(d));
                *layer_users.entry(d.clone()).or_default() += 1;
            }
            image_layers.insert(img.id.clone(), dirs);
        }
        let image_size: HashMap<String, u64> = image_layers
            .iter()
            .map(|(id, dirs)| (id.clone(), dirs.iter().map(|d| layer_size[d]).sum()))
            .collect();
        let mut body = serde_json::json!({
            "LayersSize": layer_size.values().sum::<u64>(),
            "Images": [],
            "Containers": [],
            "Volumes": [],
            "BuildCache": [],
        });
        if want_img {
            let list: Vec<serde_json::Value> = images
                .iter()
                .map(|img| {
                    let dirs = &image_layers[&img.id];
                    let shared: u64 = dirs
                        .iter()
                        .filter(|d| layer_users[*d] > 1)
                        .map(|d| layer_size[d])
                        .sum();
                    let mut v = serde_json::to_value(img).unwrap_or_default();
                    v["Size"] = serde_json::json!(image_size[&img.id]);
                    v["SharedSize"] = serde_json::json!(shared);
                    v["Containers"] =
                        serde_json::json!(records.iter().filter(|c| c.image_id == img.id).count());
                    v
                })
                .collect();
            body["Images"] = serde_json::json!(list);
        }
        if want_ctr {
            let list: Vec<serde_json::Value> = records
                .iter()
                .map(|rec| {
                    let rw = tree_size(
                        &backend
                            .container_dir(&rec.id)
                            .join(crate::runtime::spec::files::UPPER),
                    );
                    let mut v = serde_json::to_value(summary(rec)).unwrap_or_default();
                    v["SizeRw"] = serde_json::json!(rw);
                    v["SizeRootFs"] =
                        serde_json::json!(rw + image_size.get(&rec.image_id).copied().unwrap_or(0));
                    v
                })
                .collect();
            body["Containers"] = serde_json::json!(list);
        }
        if want_vol {
            let list: Vec<serde_json::Value> = backend
                .volume_usage()
                .into_iter()
                .map(|u| {
                    let mut v = backend.volume_to_api(&u.record);
                    v["UsageData"] = serde_json::json!({ "Size": u.size, "RefCount": u.ref_count });
                    v
                })
                .collect();
            body["Volumes"] = serde_json::json!(list);
        }
        if want_bc {
            let cache = backend.build_cache_usage()?;
            let size: u64 = cache.iter().filter_map(|c| c["Size"].as_u64()).sum();
            body["BuildCache"] = serde_json::json!(cache);
            body["BuilderSize"] = serde_json::json!(size);
        } else {
            body["BuildCache"] = serde_json::Value::Null;
        }
        Ok(body)
    })
    .await
    .map_err(|e| EngineError::internal(format!("system df failed: {e}")))??;
    Ok(ok_json(&body))
}
