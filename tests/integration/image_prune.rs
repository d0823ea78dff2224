//! `image prune` through the API, the stock docker CLI and `berth --headless`: dangling images by
//! default, every unused image with -a, never an image a container (running or not) uses.

use crate::common;

use common::{image, ok, TestEngine};

fn image_ids(e: &TestEngine) -> Vec<String> {
    let v = e.api_json("GET", "/images/json?all=1", None);
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i["Id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn prune_dangling_then_all_unused_keeps_images_in_use() {
    let e = TestEngine::start();
    let old = e.import_busybox("busybox:old");
    let keep = e.import_busybox("busybox:keep");
    // An untagged (dangling) image: imported without a name.
    let r = common::http::request(
        &e.socket,
        "POST",
        "/images/create?fromSrc=-",
        Some(&image::busybox_rootfs_tar()),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    let ids = image_ids(&e);
    assert_eq!(ids.len(), 3);
    let dangling = ids
        .iter()
        .find(|id| **id != old && **id != keep)
        .unwrap()
        .clone();
    // A stopped container still holds its image.
    ok(&e.docker(&["create", "--name", "holder", "busybox:keep", "true"]));

    let out = ok(&e.docker(&["image", "prune", "-f"]));
    assert!(out.contains(&format!("deleted: {dangling}")), "{out}");
    assert!(out.contains("Total reclaimed space"), "{out}");
    let ids = image_ids(&e);
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&dangling));

    let out = ok(&e.berth(&["image", "prune", "-a", "-f"]));
    assert!(out.contains("untagged: busybox:old"), "{out}");
    assert!(out.contains(&format!("deleted: {old}")), "{out}");
    assert_eq!(image_ids(&e), vec![keep.clone()]);

    // Nothing left to prune: an empty report, still a success.
    let v = e.api_json(
        "POST",
        "/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D",
        None,
    );
    assert!(v["ImagesDeleted"].is_null(), "{v}");
    assert_eq!(v["SpaceReclaimed"], 0);

    // Bad filters are 400s and remove nothing.
    let r = e.api(
        "POST",
        "/images/prune?filters=%7B%22dangling%22%3A%5B%22maybe%22%5D%7D",
        None,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = e.api(
        "POST",
        "/images/prune?filters=%7B%22color%22%3A%5B%22red%22%5D%7D",
        None,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(image_ids(&e), vec![keep]);
}
