use super::load::MAX_PARALLEL_LAYERS;
use super::*;
use crate::error::EngineError;
use crate::image::archive::read::tests::{archive, layer_tar};
use crate::service::image::ImageService;
use crate::store::blobs::sha256_digest;
use serde_json::json;
use std::io;
use std::io::Cursor;
use std::sync::Mutex;

/// A docker ≥ 1.10 archive of `layers` tagged `tag`.
fn legacy_archive(layers: &[Vec<u8>], tag: &str) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256_digest(l)).collect();
    let cfg = serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["sh"]}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}))
    .unwrap();
    let names: Vec<String> = (0..layers.len())
        .map(|i| format!("l{i}/layer.tar"))
        .collect();
    let manifest = json!([{"Config": "c.json", "RepoTags": [tag], "Layers": names}]).to_string();
    let mut members: Vec<(&str, &[u8])> = names
        .iter()
        .zip(layers)
        .map(|(n, l)| (n.as_str(), l.as_slice()))
        .collect();
    members.push(("c.json", &cfg));
    members.push(("manifest.json", manifest.as_bytes()));
    archive(&members, &[])
}

#[test]
fn image_archive_load_save_reload_in_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let images = ImageService::open(&dir.path().join("a")).unwrap();
    // More layers than workers, so the oldest are joined while later ones stream.
    let layers: Vec<Vec<u8>> = (0..MAX_PARALLEL_LAYERS + 2)
        .map(|i| {
            let big = vec![i as u8; 300_000];
            layer_tar(&[(&format!("f{i}"), big.as_slice())])
        })
        .collect();
    let events = Mutex::new(Vec::new());
    let emit = |e: LoadEvent| events.lock().unwrap().push(e);
    let lines = load(
        &images,
        Box::new(Cursor::new(legacy_archive(&layers, "par:1"))),
        &emit,
    )
    .unwrap();
    assert_eq!(lines, vec!["Loaded image: par:1\n".to_string()]);
    let ev = events.into_inner().unwrap();
    for (i, l) in layers.iter().enumerate() {
        let id: String = format!("l{i}");
        let total = l.len() as u64;
        assert!(
            ev.contains(&LoadEvent::Layer {
                id,
                current: total,
                total
            }),
            "final progress of layer {i}: {ev:?}"
        );
    }
    let parts = images.image_parts("par:1").unwrap();
    assert_eq!(parts.layers.len(), layers.len());

    let (lease, save) = prepare_save(&images, &["par".to_string()]).unwrap();
    let mut out = Vec::new();
    write_save(&mut out, &save).unwrap();
    drop(lease);
    let other = ImageService::open(&dir.path().join("b")).unwrap();
    let lines = load(&other, Box::new(Cursor::new(out)), &|_| {}).unwrap();
    assert_eq!(lines, vec!["Loaded image: par:1\n".to_string()]);
    assert_eq!(other.image_parts("par:1").unwrap().id, parts.id);

    assert!(matches!(
        prepare_save(&images, &["nope:1".to_string()]),
        Err(EngineError::NotFound(_))
    ));
}

#[test]
fn image_archive_compressed_archives_load() {
    let dir = tempfile::tempdir().unwrap();
    let images = ImageService::open(dir.path()).unwrap();
    let ar = legacy_archive(&[layer_tar(&[("z", b"zz")])], "zst:1");
    let zst = zstd::encode_all(Cursor::new(ar.clone()), 3).unwrap();
    let lines = load(&images, Box::new(Cursor::new(zst)), &|_| {}).unwrap();
    assert_eq!(lines, vec!["Loaded image: zst:1\n".to_string()]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    io::Write::write_all(
        &mut gz,
        &legacy_archive(&[layer_tar(&[("g", b"gg")])], "gz:1"),
    )
    .unwrap();
    let lines = load(
        &images,
        Box::new(Cursor::new(gz.finish().unwrap())),
        &|_| {},
    )
    .unwrap();
    assert_eq!(lines, vec!["Loaded image: gz:1\n".to_string()]);
}

#[test]
fn image_archive_failed_load_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let images = ImageService::open(dir.path()).unwrap();
    let good = vec![layer_tar(&[("a", b"1")]), layer_tar(&[("b", b"2")])];
    let mut ar = legacy_archive(&good, "bad:1");
    // Same archive, second layer swapped after the config was made.
    let tampered = layer_tar(&[("b", b"3")]);
    let pos = ar
        .windows(good[1].len())
        .position(|w| w == good[1].as_slice())
        .unwrap();
    ar[pos..pos + tampered.len()].copy_from_slice(&tampered);
    let e = load(&images, Box::new(Cursor::new(ar)), &|_| {}).unwrap_err();
    assert!(e.to_string().contains("digest mismatch"), "{e}");
    assert_eq!(images.count(), 0);
}
