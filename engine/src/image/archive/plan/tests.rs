use super::*;
use crate::image::archive::read::{scan, tests::archive, tests::Collect};
use std::io::Cursor;

fn loaded_from(sink: &Collect) -> HashMap<String, LoadedLayer> {
    sink.0
        .iter()
        .map(|(k, (bytes, hint))| {
            let d = sha256_digest(bytes);
            (
                k.clone(),
                LoadedLayer {
                    blob_digest: d.clone(),
                    blob_size: bytes.len() as u64,
                    diff_id: d,
                    media_type: hint.media_type.to_string(),
                },
            )
        })
        .collect()
}

fn config_for(diff_ids: &[String]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

fn run(tar: Vec<u8>) -> Result<Vec<PlannedImage>> {
    let mut sink = Collect::default();
    let s = scan(&mut Cursor::new(tar), &mut sink)?;
    plan(&s, &loaded_from(&sink))
}

#[test]
fn archive_plan_legacy_manifest_json_with_linked_layer() {
    let l1 = crate::image::archive::read::tests::layer_tar(&[("a", b"1")]);
    let d1 = sha256_digest(&l1);
    let cfg = config_for(&[d1.clone(), d1.clone()]);
    let cfg_name = format!("{}.json", &sha256_digest(&cfg)[7..]);
    let manifest = json!([{"Config": cfg_name, "RepoTags": ["busybox:latest"],
        "Layers": ["l1/layer.tar", "l2/layer.tar"]}])
    .to_string();
    let tar = archive(
        &[
            ("l1/layer.tar", &l1),
            (&cfg_name, &cfg),
            ("manifest.json", manifest.as_bytes()),
        ],
        &[("l2/layer.tar", "../l1/layer.tar")],
    );
    let imgs = run(tar).unwrap();
    assert_eq!(imgs.len(), 1);
    assert_eq!(imgs[0].tags, vec!["busybox:latest"]);
    assert_eq!(imgs[0].layers, vec!["l1/layer.tar", "l1/layer.tar"]);
    assert_eq!(imgs[0].config, cfg);
    let m: Value = serde_json::from_slice(&imgs[0].manifest).unwrap();
    assert_eq!(m["layers"][0]["digest"], d1.as_str());
    assert_eq!(m["config"]["digest"], sha256_digest(&cfg).as_str());
}

#[test]
fn archive_plan_oci_layout_nested_index() {
    let l1 = crate::image::archive::read::tests::layer_tar(&[("a", b"1")]);
    let d1 = sha256_digest(&l1);
    let cfg = config_for(std::slice::from_ref(&d1));
    let dc = sha256_digest(&cfg);
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": dc, "size": cfg.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d1, "size": l1.len()}]}))
    .unwrap();
    let dm = sha256_digest(&manifest);
    let host = host_platform();
    let inner = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": format!("sha256:{}", "c".repeat(64)), "size": 1,
         "platform": {"os": "linux", "architecture": "s390x-nope"}},
        {"mediaType": OCI_MANIFEST, "digest": dm, "size": manifest.len(),
         "platform": {"os": "linux", "architecture": host.architecture}}]}),
    )
    .unwrap();
    let di = sha256_digest(&inner);
    let index = json!({"schemaVersion": 2, "manifests": [
        {"mediaType": OCI_INDEX, "digest": di, "size": inner.len(),
         "annotations": {ANNOTATION_REF_NAME: "example.com/app:1"}}]})
    .to_string();
    let n = |d: &str| format!("blobs/sha256/{}", &d[7..]);
    let tar = archive(
        &[
            (&n(&d1), &l1),
            (&n(&dc), &cfg),
            (&n(&dm), &manifest),
            (&n(&di), &inner),
            ("index.json", index.as_bytes()),
            ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ],
        &[],
    );
    let imgs = run(tar.clone()).unwrap();
    assert_eq!(imgs.len(), 1);
    assert_eq!(imgs[0].tags, vec!["example.com/app:1"]);
    assert_eq!(imgs[0].manifest, manifest);

    // A config whose bytes do not match its blob name is refused.
    let mut bad = cfg.clone();
    bad.push(b' ');
    let tar = archive(
        &[
            (&n(&d1), &l1),
            (&n(&dc), &bad),
            (&n(&dm), &manifest),
            (&n(&di), &inner),
            ("index.json", index.as_bytes()),
        ],
        &[],
    );
    let e = run(tar).unwrap_err();
    assert!(e.to_string().contains("digest mismatch"), "{e}");
}

#[test]
fn archive_plan_errors_are_clear() {
    let e = run(archive(&[("hello.txt", b"hi")], &[])).unwrap_err();
    assert!(e.to_string().contains("no manifest.json"), "{e}");
    let cfg = config_for(&[format!("sha256:{}", "d".repeat(64))]);
    let manifest =
        json!([{"Config": "c.json", "RepoTags": null, "Layers": ["x/layer.tar"]}]).to_string();
    let e = run(archive(
        &[("c.json", &cfg), ("manifest.json", manifest.as_bytes())],
        &[],
    ))
    .unwrap_err();
    assert!(e.to_string().contains("missing layer x/layer.tar"), "{e}");
    let l1 = crate::image::archive::read::tests::layer_tar(&[("a", b"1")]);
    let e = run(archive(
        &[
            ("x/layer.tar", &l1),
            ("c.json", &cfg),
            ("manifest.json", manifest.as_bytes()),
        ],
        &[],
    ))
    .unwrap_err();
    assert!(e.to_string().contains("digest mismatch"), "{e}");
}

#[test]
fn archive_plan_v1_chain() {
    let l1 = crate::image::archive::read::tests::layer_tar(&[("a", b"1")]);
    let l2 = crate::image::archive::read::tests::layer_tar(&[("b", b"2")]);
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    let ja = json!({"id": a, "created": "2015-01-01T00:00:00Z", "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) ADD a"]}}).to_string();
    let jb = json!({"id": b, "parent": a, "created": "2015-01-02T00:00:00Z", "config": {"Cmd": ["sh"]}, "architecture": "amd64", "os": "linux"}).to_string();
    let repos = json!({"old": {"v1": b}}).to_string();
    let tar = archive(
        &[
            (&format!("{a}/layer.tar"), &l1),
            (&format!("{a}/json"), ja.as_bytes()),
            (&format!("{a}/VERSION"), b"1.0"),
            (&format!("{b}/layer.tar"), &l2),
            (&format!("{b}/json"), jb.as_bytes()),
            ("repositories", repos.as_bytes()),
        ],
        &[],
    );
    let imgs = run(tar).unwrap();
    assert_eq!(imgs.len(), 1);
    assert_eq!(imgs[0].tags, vec!["old:v1"]);
    let c: Value = serde_json::from_slice(&imgs[0].config).unwrap();
    assert_eq!(c["rootfs"]["diff_ids"][1], sha256_digest(&l2).as_str());
    assert_eq!(c["config"]["Cmd"][0], "sh");
    assert!(c.get("parent").is_none() && c.get("id").is_none());
    assert_eq!(c["history"][0]["created_by"], "/bin/sh -c #(nop) ADD a");
}
