//! `GET /images/{name}/history`: docker's reading of an image config's `history` array.
//!
//! Docker (daemon/images/image_history.go) walks `history` oldest first; an entry marked
//! `empty_layer` has size 0, every other entry consumes the next diff_id of `rootfs.diff_ids` and
//! shows that layer's size. The answer is newest first; every entry's id is "<missing>" except the
//! top one, which carries the image id and its tags (berth images have no parent chain).

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

/// One line of the answer (the API's HistoryResponseItem).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItem {
    pub id: String,
    /// Unix seconds (Go's zero time when the entry has no date, as docker reports it).
    pub created: i64,
    pub created_by: String,
    /// `null` on the "<missing>" entries, as docker sends them.
    pub tags: Option<Vec<String>>,
    pub size: i64,
    pub comment: String,
}

/// Unix seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z): what docker reports for an
/// entry without `created`.
const GO_ZERO_UNIX: i64 = -62_135_596_800;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawHistory {
    created: Option<String>,
    created_by: Option<String>,
    comment: Option<String>,
    empty_layer: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawConfig {
    history: Vec<RawHistory>,
    rootfs: RawRootFs,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRootFs {
    diff_ids: Vec<String>,
}

/// Build the history of the image with config bytes `config` and id `id`. `layer_size(diff_id)`
/// gives a layer's size; `tags` are the image's familiar "name:tag" references.
pub fn history(
    id: &str,
    config: &[u8],
    tags: Vec<String>,
    mut layer_size: impl FnMut(&str) -> Result<u64>,
) -> Result<Vec<HistoryItem>> {
    let cfg: RawConfig = serde_json::from_slice(config)
        .map_err(|e| EngineError::internal(format!("invalid image config: {e}")))?;
    let mut layers = cfg.rootfs.diff_ids.iter();
    let mut out = Vec::with_capacity(cfg.history.len());
    for h in &cfg.history {
        let size = if h.empty_layer {
            0
        } else {
            let diff_id = layers.next().ok_or_else(|| {
                EngineError::internal("too many non-empty layers in History section")
            })?;
            i64::try_from(layer_size(diff_id)?).unwrap_or(i64::MAX)
        };
        let created = h
            .created
            .as_deref()
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            .map(|t| t.timestamp())
            .unwrap_or(GO_ZERO_UNIX);
        out.push(HistoryItem {
            id: "<missing>".into(),
            created,
            created_by: h.created_by.clone().unwrap_or_default(),
            tags: None,
            size,
            comment: h.comment.clone().unwrap_or_default(),
        });
    }
    out.reverse();
    if let Some(top) = out.first_mut() {
        top.id = id.to_string();
        top.tags = Some(tags);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn config() -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "rootfs": {"type": "layers", "diff_ids": ["sha256:aa", "sha256:bb"]},
            "history": [
                {"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs.tar /"},
                {"created": "2024-01-02T00:00:00Z", "created_by": "ENV A=1", "empty_layer": true},
                {"created_by": "RUN make", "comment": "buildkit"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn history_newest_first_with_layer_sizes() {
        let sizes = |d: &str| Ok(if d == "sha256:aa" { 100 } else { 7 });
        let h = history(ID, &config(), vec!["app:1".into()], sizes).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].id, ID);
        assert_eq!(h[0].tags, Some(vec!["app:1".to_string()]));
        assert_eq!(h[0].created_by, "RUN make");
        assert_eq!(h[0].size, 7);
        assert_eq!(h[0].created, GO_ZERO_UNIX);
        assert_eq!(h[0].comment, "buildkit");
        assert_eq!(h[1].id, "<missing>");
        assert_eq!(h[1].size, 0);
        assert_eq!(h[1].tags, None);
        assert_eq!(h[2].size, 100);
        assert_eq!(h[2].created, 1_704_067_200);
        let v = serde_json::to_value(&h[1]).unwrap();
        assert!(v["Tags"].is_null());
        assert_eq!(v["CreatedBy"], "ENV A=1");
    }

    #[test]
    fn history_rejects_more_layers_than_diff_ids() {
        let cfg = serde_json::json!({
            "rootfs": {"diff_ids": []},
            "history": [{"created_by": "x"}]
        });
        let err = history(ID, &serde_json::to_vec(&cfg).unwrap(), vec![], |_| Ok(0));
        assert!(err.is_err());
        // No history at all: docker answers an empty list.
        let cfg = serde_json::json!({"rootfs": {"diff_ids": ["sha256:aa"]}});
        let h = history(ID, &serde_json::to_vec(&cfg).unwrap(), vec![], |_| Ok(0)).unwrap();
        assert!(h.is_empty());
    }
}
