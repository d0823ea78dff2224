use super::known_blobs::MAX_REPOS_PER_BLOB;
use super::layer::is_compressed_media_type;
use super::manifest::manifest_media_type;
use super::*;
use crate::registry::manifest::{DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_MANIFEST};

#[test]
fn push_human_sizes_like_go_units() {
    assert_eq!(human_size(0), "0B");
    assert_eq!(human_size(512), "512B");
    assert_eq!(human_size(1500), "1.5kB");
    assert_eq!(human_size(10_500_000), "10.5MB");
    assert_eq!(human_size(209_715_200), "209.7MB");
    let bar = progress_bar(5, 10);
    assert!(bar.starts_with("[=========================>"), "{bar}");
    assert!(progress_bar(10, 10).starts_with(&format!("[{}]", "=".repeat(50))));
    assert!(progress_bar(0, 0).starts_with("[>"));
}

#[test]
fn push_known_blobs_persist() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("image")).unwrap();
    let d = format!("sha256:{}", "a".repeat(64));
    {
        let k = KnownBlobs::open(dir.path());
        k.record("127.0.0.1:5000", &d, "one").unwrap();
        k.record("127.0.0.1:5000", &d, "two").unwrap();
    }
    let k = KnownBlobs::open(dir.path());
    assert_eq!(k.repositories("127.0.0.1:5000", &d), vec!["one", "two"]);
    assert!(k.repositories("other:5000", &d).is_empty());
    for i in 0..20 {
        k.record("h", &d, &format!("r{i:02}")).unwrap();
    }
    let repos = k.repositories("h", &d);
    assert_eq!(repos.len(), MAX_REPOS_PER_BLOB);
    assert!(repos.contains(&"r19".to_string()));
}

#[test]
fn push_manifest_media_types() {
    assert_eq!(manifest_media_type(b"{}"), OCI_MANIFEST);
    assert_eq!(
        manifest_media_type(format!("{{\"mediaType\":\"{DOCKER_MANIFEST}\"}}").as_bytes()),
        DOCKER_MANIFEST
    );
    assert!(is_compressed_media_type(DOCKER_LAYER_GZIP));
    assert!(is_compressed_media_type(
        "application/vnd.oci.image.layer.v1.tar+zstd"
    ));
    assert!(!is_compressed_media_type(
        "application/vnd.oci.image.layer.v1.tar"
    ));
    assert_eq!(compression_param(None).unwrap(), Compression::Gzip);
    assert!(compression_param(Some("lz4")).is_err());
}
