//! Image service: import of a real busybox rootfs, resolution, tag/untag/delete rules, and store
//! crash safety.

use std::fs;
use std::io::{Cursor, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use berth_engine::error::EngineError;
use berth_engine::image::import::host_platform;
use berth_engine::image::reference::Reference;
use berth_engine::model::image::{ImageContainerConfig, ImageDeleteItem};
use berth_engine::service::image::{ImageListFilter, ImageService, ImportOptions};
use tar::{EntryType, Header};

/// A busybox rootfs tar from the host's static busybox.
fn busybox_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let dir = |b: &mut tar::Builder<Vec<u8>>, p: &str| {
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, p, &b""[..]).unwrap();
    };
    for d in ["bin", "etc", "tmp"] {
        dir(&mut b, d);
    }
    let bb = fs::read("/bin/busybox").expect("busybox-static is installed");
    let mut h = Header::new_gnu();
    h.set_mode(0o755);
    h.set_size(bb.len() as u64);
    b.append_data(&mut h, "bin/busybox", &bb[..]).unwrap();
    for applet in ["sh", "ls", "echo", "cat"] {
        let mut h = Header::new_gnu();
        h.set_entry_type(EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        b.append_link(&mut h, format!("bin/{applet}"), "busybox")
            .unwrap();
    }
    for (p, c) in [
        (
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        ),
        ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    ] {
        let mut h = Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(c.len() as u64);
        b.append_data(&mut h, p, c.as_bytes()).unwrap();
    }
    b.into_inner().unwrap()
}

fn small_tar(content: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(content.len() as u64);
    b.append_data(&mut h, "hello.txt", content.as_bytes())
        .unwrap();
    b.into_inner().unwrap()
}

fn opts(reference: Option<&str>) -> ImportOptions {
    ImportOptions {
        reference: reference.map(|r| Reference::parse(r).unwrap().with_default_tag()),
        config: ImageContainerConfig::default(),
        message: None,
        platform: host_platform(),
    }
}

async fn import(svc: &ImageService, tar: Vec<u8>, reference: Option<&str>) -> String {
    svc.import(Box::new(Cursor::new(tar)), opts(reference))
        .await
        .unwrap()
}

fn is_conflict(e: &EngineError, needle: &str) -> bool {
    matches!(e, EngineError::Conflict(m) if m.contains(needle))
}

#[tokio::test]
async fn images_import_busybox_and_resolve_all_forms() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = ImageService::open(tmp.path()).unwrap();
    let mut o = opts(Some("busybox"));
    o.config.cmd = Some(vec!["sh".into()]);
    o.message = Some("from the host".into());
    // gzip-compressed input is detected by its magic bytes.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&busybox_tar()).unwrap();
    let id = svc
        .import(Box::new(Cursor::new(gz.finish().unwrap())), o)
        .await
        .unwrap();
    assert!(id.starts_with("sha256:") && id.len() == 71);
    let hex = id.trim_start_matches("sha256:");

    for name in [
        "busybox",
        "busybox:latest",
        "library/busybox",
        "docker.io/library/busybox",
        "docker.io/library/busybox:latest",
        id.as_str(),
        hex,
        &hex[..12],
        &hex[..1],
        &format!("sha256:{}", &hex[..6]),
    ] {
        assert_eq!(svc.resolve(name).unwrap().id, id, "{name}");
    }
    let r = svc.resolve("busybox").unwrap();
    assert_eq!(r.config.cmd.unwrap(), vec!["sh"]);
    assert_eq!(r.layer_dirs.len(), 1);
    let root = &r.layer_dirs[0];
    let bb = fs::metadata(root.join("bin/busybox")).unwrap();
    assert_eq!(bb.len(), fs::metadata("/bin/busybox").unwrap().len());
    assert_eq!(bb.mode() & 0o777, 0o755);
    assert_eq!(
        fs::read_link(root.join("bin/sh")).unwrap(),
        Path::new("busybox")
    );
    assert!(fs::read_to_string(root.join("etc/passwd"))
        .unwrap()
        .starts_with("root:"));

    // Named as dockerd names them: familiar, with the default tag.
    for (missing, shown) in [
        ("busybox:1.36", "busybox:1.36"),
        ("nope", "nope:latest"),
        ("ffff", "ffff:latest"),
        ("docker.io/library/nope", "nope:latest"),
    ] {
        let e = svc.resolve(missing).unwrap_err();
        assert_eq!(e.to_string(), format!("No such image: {shown}"));
        assert!(matches!(e, EngineError::NotFound(_)));
    }
    assert!(matches!(
        svc.resolve("Foo").unwrap_err(),
        EngineError::InvalidArgument(_)
    ));

    let list = svc.list(&ImageListFilter::default()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].repo_tags, vec!["busybox:latest"]);
    assert_eq!(list[0].shared_size, -1);
    assert!(list[0].size as u64 >= bb.len());
    let ins = svc.inspect("busybox").unwrap();
    assert_eq!(ins.id, id);
    assert_eq!(ins.os, "linux");
    assert_eq!(ins.comment, "from the host");
    assert_eq!(ins.root_fs.layers.len(), 1);
    assert_eq!(ins.graph_driver.name, "overlay2");
    assert_ne!(ins.metadata.last_tag_time, "0001-01-01T00:00:00Z");
    let v = serde_json::to_value(&ins).unwrap();
    for k in [
        "Id",
        "RepoTags",
        "Created",
        "Config",
        "RootFS",
        "GraphDriver",
        "Metadata",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }

    // The id is the digest of the stored config bytes, and the store is private.
    let cfg = fs::read(tmp.path().join("image/blobs/sha256").join(hex)).unwrap();
    assert_eq!(berth_engine::store::blobs::sha256_digest(&cfg), id);
    let mode = fs::metadata(tmp.path().join("image"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);

    // A reopened store sees the same image.
    drop(svc);
    let svc = ImageService::open(tmp.path()).unwrap();
    assert_eq!(svc.count(), 1);
    assert_eq!(svc.resolve("busybox").unwrap().id, id);
}

#[tokio::test]
async fn images_tag_untag_delete_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = ImageService::open(tmp.path()).unwrap();
    let id = import(&svc, small_tar("a"), Some("app")).await;
    let short = &id[7..19];
    svc.tag("app", "app", Some("v2")).await.unwrap();
    svc.tag(&id, "other/repo", None).await.unwrap();
    let mut tags = svc.inspect(&id).unwrap().repo_tags;
    tags.sort();
    assert_eq!(tags, vec!["app:latest", "app:v2", "other/repo:latest"]);

    // Deleting by name while other tags remain only untags.
    let r = svc.remove("app:v2", false, false, vec![]).await.unwrap();
    assert_eq!(r, vec![ImageDeleteItem::Untagged("app:v2".into())]);

    // By id with tags in several repositories needs force.
    let e = svc.remove(&id, false, false, vec![]).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories")
    );

    // In use by a running container: refused even with force.
    let cid = "c".repeat(64);
    let running = vec![(id.clone(), cid.clone(), true)];
    let e = svc
        .remove(&id, true, false, running.clone())
        .await
        .unwrap_err();
    assert!(
        is_conflict(
            &e,
            "(cannot be forced) - image is being used by running container cccccccccccc"
        ),
        "{e}"
    );
    // Stopped container: refused without force.
    let stopped = vec![(id.clone(), cid.clone(), false)];
    svc.remove("other/repo", false, false, vec![])
        .await
        .unwrap();
    let e = svc
        .remove(&id, false, false, stopped.clone())
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("conflict: unable to delete {short} (must be forced) - image is being used by stopped container cccccccccccc")
    );
    // Last tag of an image a container uses.
    let e = svc
        .remove("app", false, false, stopped.clone())
        .await
        .unwrap_err();
    assert!(
        is_conflict(
            &e,
            "unable to remove repository reference \"app\" (must force)"
        ),
        "{e}"
    );
    // Forced untag of the last tag keeps the image (dangling) while a container uses it.
    let r = svc.remove("app", true, false, running).await.unwrap();
    assert_eq!(r, vec![ImageDeleteItem::Untagged("app:latest".into())]);
    assert_eq!(svc.count(), 1);
    let dangling = ImageListFilter {
        dangling: Some(true),
        ..Default::default()
    };
    assert_eq!(svc.list(&dangling).unwrap().len(), 1);

    // Forced delete by short id with a stopped user deletes image and layer.
    let r = svc.remove(short, true, false, stopped).await.unwrap();
    assert_eq!(r[0], ImageDeleteItem::Deleted(id.clone()));
    assert_eq!(svc.count(), 0);
    let layers: Vec<_> = fs::read_dir(tmp.path().join("image/layers"))
        .unwrap()
        .collect();
    assert!(layers.is_empty(), "layer removed");
    let e = svc.remove(&id, false, false, vec![]).await.unwrap_err();
    assert!(matches!(e, EngineError::NotFound(_)));
}

#[tokio::test]
async fn images_delete_by_name_removes_last_tag_and_shared_layers_survive() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = ImageService::open(tmp.path()).unwrap();
    let a = import(&svc, small_tar("same"), Some("a")).await;
    let b = import(&svc, small_tar("same"), Some("b:1")).await;
    assert_ne!(
        a, b,
        "different created time → different config → different id"
    );
    let la = svc.resolve("a").unwrap().layer_dirs;
    assert_eq!(la, svc.resolve("b:1").unwrap().layer_dirs, "layer shared");

    let r = svc.remove("a", false, false, vec![]).await.unwrap();
    assert_eq!(r[0], ImageDeleteItem::Untagged("a:latest".into()));
    assert_eq!(r[1], ImageDeleteItem::Deleted(a.clone()));
    assert_eq!(r.len(), 2, "the shared layer is not deleted: {r:?}");
    assert!(la[0].join("hello.txt").exists());
    let r = svc.remove("b:1", false, false, vec![]).await.unwrap();
    assert_eq!(r.len(), 3, "untag, image, layer: {r:?}");
    assert!(!la[0].exists());

    // Retagging moves a tag; the old image becomes dangling.
    let x = import(&svc, small_tar("x"), Some("t")).await;
    let y = import(&svc, small_tar("y"), Some("t")).await;
    assert_eq!(svc.resolve("t").unwrap().id, y);
    assert!(svc.inspect(&x).unwrap().repo_tags.is_empty());
    let refs = ImageListFilter {
        references: vec!["t".into()],
        ..Default::default()
    };
    let l = svc.list(&refs).unwrap();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].id, y);
}

#[tokio::test]
async fn images_store_recovers_from_interrupted_work() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = ImageService::open(tmp.path()).unwrap();
    let keep = import(&svc, small_tar("keep"), Some("keep")).await;
    let broken = import(&svc, small_tar("broken"), Some("broken")).await;
    let broken_layer = svc.resolve("broken").unwrap().layer_dirs[0].clone();
    drop(svc);

    let img = tmp.path().join("image");
    // Leftovers of a kill -9 at various points.
    fs::create_dir_all(img.join("layers/.tmp-deadbeef/diff/bin")).unwrap();
    fs::create_dir_all(img.join("layers/.del-deadbeef/diff")).unwrap();
    fs::write(img.join("blobs/tmp/upload"), b"partial").unwrap();
    fs::write(img.join("images/.x.json.tmp-123"), b"{").unwrap();
    fs::write(img.join(".refs.json.tmp-123"), b"{").unwrap();
    // A layer unpacked and renamed into place but never referenced by metadata.
    let orphan = "e".repeat(64);
    fs::create_dir_all(img.join("layers").join(&orphan).join("diff")).unwrap();
    // An image whose layer vanished.
    fs::remove_dir_all(broken_layer.parent().unwrap()).unwrap();

    let svc = ImageService::open(tmp.path()).unwrap();
    assert_eq!(svc.count(), 1);
    assert_eq!(svc.resolve("keep").unwrap().id, keep);
    assert!(matches!(
        svc.resolve("broken").unwrap_err(),
        EngineError::NotFound(_)
    ));
    assert!(matches!(
        svc.resolve(&broken).unwrap_err(),
        EngineError::NotFound(_)
    ));
    let names: Vec<String> = fs::read_dir(img.join("layers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "only the kept layer remains: {names:?}");
    assert!(fs::read_dir(img.join("blobs/tmp"))
        .unwrap()
        .next()
        .is_none());
    assert!(!img.join("images/.x.json.tmp-123").exists());
    assert!(!img.join(".refs.json.tmp-123").exists());
    let refs = fs::read_to_string(img.join("refs.json")).unwrap();
    assert!(!refs.contains("broken"), "dangling ref dropped: {refs}");
}

#[tokio::test]
async fn images_failed_import_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let svc = ImageService::open(tmp.path()).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = Header::new_gnu();
    h.set_size(1);
    h.as_old_mut().name[..9].copy_from_slice(b"../escape");
    h.set_cksum();
    b.append(&h, &b"x"[..]).unwrap();
    let e = svc
        .import(
            Box::new(Cursor::new(b.into_inner().unwrap())),
            opts(Some("evil")),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::InvalidArgument(_)), "{e}");
    assert_eq!(svc.count(), 0);
    let img = tmp.path().join("image");
    assert!(fs::read_dir(img.join("layers")).unwrap().next().is_none());
    assert!(fs::read_dir(img.join("blobs/tmp"))
        .unwrap()
        .next()
        .is_none());
    assert!(fs::read_dir(img.join("blobs/sha256"))
        .unwrap()
        .next()
        .is_none());
    // An empty body is not a failure: dockerd imports it as an empty image, and so do we.
    let id = svc
        .import(Box::new(Cursor::new(Vec::new())), opts(None))
        .await
        .unwrap();
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(svc.count(), 1);
}
