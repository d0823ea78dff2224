//! The ingest path that pull and load share: layers streamed in (gzip, zstd, plain) while they
//! unpack, verification, leases against concurrent removal, commit, and resumable content across
//! a restart.

use std::fs;
use std::io::{Cursor, Write};

use berth_engine::image::reference::Reference;
use berth_engine::service::image::ingest::{LayerSource, NewImage};
use berth_engine::service::image::{ImageListFilter, ImageService};
use berth_engine::store::blobs::sha256_digest;
use tar::Header;

fn layer_tar(files: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, c) in files {
        let mut h = Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(c.len() as u64);
        b.append_data(&mut h, p, c.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn config(diff_ids: &[String]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2024-05-01T10:00:00Z",
        "config": {"Cmd": ["sh"], "Labels": {"from": "ingest"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

fn manifest(cfg: &[u8], layers: &[(String, u64, &str)]) -> Vec<u8> {
    let layers: Vec<_> = layers
        .iter()
        .map(|(d, s, m)| serde_json::json!({"mediaType": m, "digest": d, "size": s}))
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256_digest(cfg), "size": cfg.len()},
        "layers": layers,
    }))
    .unwrap()
}

#[test]
fn ingest_gzip_zstd_plain_layers_commit_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let svc = ImageService::open(dir.path()).unwrap();
    let tars = [
        layer_tar(&[("a.txt", "alpha")]),
        layer_tar(&[("b.txt", "bravo")]),
        layer_tar(&[("c.txt", "charlie")]),
    ];
    let blobs = [
        gzip(&tars[0]),
        zstd::encode_all(Cursor::new(tars[1].clone()), 3).unwrap(),
        tars[2].clone(),
    ];
    let media = [
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.v1.tar",
    ];
    let lease = svc.lease();
    let mut layers = Vec::new();
    for (i, blob) in blobs.iter().enumerate() {
        let mut seen = 0;
        let l = svc
            .ingest_layer(
                &lease,
                &mut Cursor::new(blob.clone()),
                LayerSource {
                    digest: Some(&sha256_digest(blob)),
                    size: Some(blob.len() as u64),
                    diff_id: Some(&sha256_digest(&tars[i])),
                    media_type: Some(media[i]),
                },
                &mut |n| seen = n,
            )
            .unwrap();
        assert_eq!(seen, blob.len() as u64, "progress reports every byte");
        assert_eq!(l.blob_digest, sha256_digest(blob));
        assert_eq!(l.diff_id, sha256_digest(&tars[i]));
        layers.push(l);
    }
    let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
    let cfg = config(&diff_ids);
    let man = manifest(
        &cfg,
        &layers
            .iter()
            .zip(media)
            .map(|(l, m)| (l.blob_digest.clone(), l.blob_size, m))
            .collect::<Vec<_>>(),
    );
    let repo_digest = format!("127.0.0.1:5000/demo@{}", sha256_digest(&man));
    let id = svc
        .commit_image(
            lease,
            NewImage {
                config: cfg.clone(),
                manifest: man.clone(),
                layers: layers.clone(),
                tags: vec![Reference::parse("127.0.0.1:5000/demo:1").unwrap()],
                repo_digests: vec![repo_digest.clone()],
                event: Some("pull"),
                parent: None,
            },
        )
        .unwrap();
    assert_eq!(id, sha256_digest(&cfg));

    let resolved = svc.resolve("127.0.0.1:5000/demo:1").unwrap();
    assert_eq!(resolved.layer_dirs.len(), 3);
    // Top layer first: c, b, a.
    assert_eq!(
        fs::read_to_string(resolved.layer_dirs[0].join("c.txt")).unwrap(),
        "charlie"
    );
    assert_eq!(
        fs::read_to_string(resolved.layer_dirs[1].join("b.txt")).unwrap(),
        "bravo"
    );
    let inspect = svc.inspect(&id).unwrap();
    assert_eq!(inspect.repo_digests, vec![repo_digest]);
    assert_eq!(inspect.size, 5 + 5 + 7);

    let parts = svc.image_parts("127.0.0.1:5000/demo:1").unwrap();
    assert_eq!(parts.config, cfg);
    assert_eq!(parts.manifest, man);
    assert_eq!(parts.layers[1].media_type, media[1]);
    assert_eq!(fs::read(&parts.layers[0].blob_path).unwrap(), blobs[0]);
    assert_eq!(parts.repo_tags, vec!["127.0.0.1:5000/demo:1".to_string()]);

    // A second image sharing the bottom layer finds it present and skips the download.
    let lease = svc.lease();
    let present = svc
        .layer_present(&lease, &layers[0].blob_digest, &layers[0].diff_id)
        .unwrap()
        .expect("bottom layer is stored");
    assert_eq!(present, layers[0]);
    assert!(svc
        .layer_present(&lease, &sha256_digest(b"nope"), &layers[0].diff_id)
        .unwrap()
        .is_none());

    // Re-committing the same image adds a tag; add_repo_digest replaces per repository.
    drop(lease);
    let lease = svc.lease();
    svc.commit_image(
        lease,
        NewImage {
            config: cfg.clone(),
            manifest: man.clone(),
            layers: layers.clone(),
            tags: vec![Reference::parse("demo:again").unwrap()],
            repo_digests: vec![],
            event: Some("load"),
            parent: None,
        },
    )
    .unwrap();
    let newer = format!("127.0.0.1:5000/demo@{}", sha256_digest(b"other"));
    svc.add_repo_digest(&id, &newer).unwrap();
    let inspect = svc.inspect("demo:again").unwrap();
    assert_eq!(inspect.id, id);
    assert_eq!(inspect.repo_digests, vec![newer.clone()]);
    drop(svc);
    // Reopened: everything is still there.
    let svc = ImageService::open(dir.path()).unwrap();
    assert_eq!(svc.inspect(&id).unwrap().repo_digests, vec![newer]);
    assert_eq!(svc.list(&ImageListFilter::default()).unwrap().len(), 1);
}

#[test]
fn ingest_mismatches_keep_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let svc = ImageService::open(dir.path()).unwrap();
    let tar = layer_tar(&[("x", "y")]);
    let blob = gzip(&tar);
    let lease = svc.lease();
    let wrong = sha256_digest(b"wrong");
    for src in [
        LayerSource {
            digest: Some(&wrong),
            ..Default::default()
        },
        LayerSource {
            size: Some(3),
            ..Default::default()
        },
        LayerSource {
            diff_id: Some(&wrong),
            ..Default::default()
        },
    ] {
        let err = svc
            .ingest_layer(&lease, &mut Cursor::new(blob.clone()), src, &mut |_| {})
            .unwrap_err();
        assert!(err.to_string().contains("mismatch"), "{err}");
    }
    // A truncated gzip stream is an error too.
    let err = svc
        .ingest_layer(
            &lease,
            &mut Cursor::new(blob[..blob.len() / 2].to_vec()),
            LayerSource::default(),
            &mut |_| {},
        )
        .unwrap_err();
    assert!(!err.to_string().is_empty());
    let (blobs, layers) = svc.unreferenced().unwrap();
    assert!(
        blobs.is_empty() && layers.is_empty(),
        "{blobs:?} {layers:?}"
    );
    for sub in ["image/blobs/sha256", "image/blobs/tmp"] {
        assert_eq!(
            fs::read_dir(dir.path().join(sub)).unwrap().count(),
            0,
            "{sub}"
        );
    }
    // A config that does not match the layers is refused.
    let l = svc
        .ingest_layer(
            &lease,
            &mut Cursor::new(blob.clone()),
            LayerSource::default(),
            &mut |_| {},
        )
        .unwrap();
    let cfg = config(std::slice::from_ref(&wrong));
    let err = svc
        .commit_image(
            lease,
            NewImage {
                manifest: manifest(&cfg, &[]),
                config: cfg,
                layers: vec![l],
                tags: vec![],
                repo_digests: vec![],
                event: Some("load"),
                parent: None,
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("diff_ids"), "{err}");
}

#[tokio::test]
async fn ingest_lease_protects_content_and_restart_keeps_it_for_resume() {
    let dir = tempfile::tempdir().unwrap();
    let svc = ImageService::open(dir.path()).unwrap();
    let tar = layer_tar(&[("shared", "data")]);
    let blob = gzip(&tar);
    let lease = svc.lease();
    let l = svc
        .ingest_layer(
            &lease,
            &mut Cursor::new(blob.clone()),
            LayerSource::default(),
            &mut |_| {},
        )
        .unwrap();
    // A prune while the lease lives does not collect the pinned content.
    svc.prune(ImageListFilter::default(), None, vec![])
        .await
        .unwrap();
    assert!(svc
        .layer_present(&lease, &l.blob_digest, &l.diff_id)
        .unwrap()
        .is_some());
    assert!(
        svc.unreferenced().unwrap().0.is_empty(),
        "pinned blobs are in use"
    );
    // The engine dies before the image is committed (the lease is gone with it): a restart
    // keeps the verified content for the next pull to resume from.
    drop(lease);
    drop(svc);
    let svc = ImageService::open(dir.path()).unwrap();
    let lease = svc.lease();
    assert!(svc
        .layer_present(&lease, &l.blob_digest, &l.diff_id)
        .unwrap()
        .is_some());
    drop(lease);
    // Once the mark is older than the grace period, a restart collects the content.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 24 * 3600);
    for d in [&l.blob_digest, &l.diff_id] {
        let p = dir.path().join("image/resumable").join(&d[7..]);
        fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    drop(svc);
    let svc = ImageService::open(dir.path()).unwrap();
    let lease = svc.lease();
    assert!(svc
        .layer_present(&lease, &l.blob_digest, &l.diff_id)
        .unwrap()
        .is_none());
    assert_eq!(
        fs::read_dir(dir.path().join("image/resumable"))
            .unwrap()
            .count(),
        0
    );
}
