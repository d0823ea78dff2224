//! A first run with no registry: the empty images view offers importing from a file and pulling
//! (with the keys the keymap has), the import prompt completes paths and lists the matches, an
//! image archive is loaded and a rootfs tarball named first, every problem shows in the prompt
//! with the path kept, and a pull that cannot reach its registry says what to do. The file
//! system's answers are fed as the session would deliver them, so no temporary paths show.

use insta::assert_snapshot;
use serde_json::json;

use crate::dashboard::app::App;
use crate::dashboard::files::FileRequest;
use crate::dashboard::files::{Archive, ArchiveKind, Completion, Compression, FileAnswer};
use crate::dashboard::msg::{Effect, Msg, StreamItem, StreamKey};
use crate::dashboard::testing::*;

/// The images view of an engine with no images.
fn empty() -> App {
    let mut a = app();
    set_images(&mut a, vec![]);
    press(&mut a, "2");
    a.take_effects();
    a
}

/// The file requests among the effects.
fn file_requests(effects: &[Effect]) -> Vec<FileRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Files(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn completed(typed: &str, text: &str, candidates: &[&str]) -> Msg {
    Msg::Files(FileAnswer::Completed {
        typed: typed.into(),
        result: Ok(Completion {
            text: text.into(),
            candidates: candidates.iter().map(|c| c.to_string()).collect(),
            matched: candidates.len(),
        }),
    })
}

fn inspected(typed: &str, path: &str, kind: ArchiveKind) -> Msg {
    Msg::Files(FileAnswer::Inspected {
        typed: typed.into(),
        result: Ok(Archive {
            path: path.into(),
            kind,
            compression: Compression::Gzip,
            size: 2_200_000,
        }),
    })
}

#[test]
fn empty_images_view_offers_import_and_pull() {
    let mut a = empty();
    let s = render(&mut a, 80, 24);
    assert!(s.contains("No images yet."), "{s}");
    assert!(
        s.contains("I  import a rootfs tarball or an image archive (docker save) from a file"),
        "{s}"
    );
    assert!(s.contains("p  pull from a registry"), "{s}");
    assert!(!s.contains("berth build"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn the_offer_shows_remapped_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let config = crate::dashboard::config::parse(
        &path,
        "[keys.images]\nimport = \"ctrl-o\"\npull = \"F\"\n",
    )
    .unwrap();
    let mut a = App::new(config);
    a.clock = Some(now());
    set_images(&mut a, vec![]);
    press(&mut a, "2");
    let s = render(&mut a, 100, 12);
    assert!(s.contains("ctrl-o  import a rootfs tarball"), "{s}");
    assert!(s.contains("F       pull from a registry"), "{s}");
    // And the remapped key opens the prompt.
    press(&mut a, "ctrl-o");
    assert!(render(&mut a, 100, 24).contains("Import an image from a file"));
}

#[test]
fn import_prompt_completes_and_lists_matches() {
    let mut a = empty();
    press(&mut a, "I text:~/ima tab");
    assert_eq!(
        file_requests(&a.take_effects()),
        vec![FileRequest::Complete {
            typed: "~/ima".into()
        }]
    );
    a.update(completed("~/ima", "~/images/", &[]));
    press(&mut a, "tab");
    a.take_effects();
    a.update(completed(
        "~/images/",
        "~/images/",
        &[
            "alpine-minirootfs-3.20.0-x86_64.tar.gz",
            "busybox-rootfs.tar",
            "busybox-save.tar",
            "nested/",
        ],
    ));
    press(&mut a, "text:b tab");
    a.take_effects();
    a.update(completed(
        "~/images/b",
        "~/images/busybox-",
        &["busybox-rootfs.tar", "busybox-save.tar"],
    ));
    let s = render(&mut a, 80, 24);
    assert!(s.contains("~/images/busybox-"), "{s}");
    assert!(s.contains("busybox-rootfs.tar  busybox-save.tar"), "{s}");
    assert_snapshot!(s);
    // Typing drops the list (it was about the text before), and a late answer to old text is
    // ignored.
    press(&mut a, "text:r");
    a.update(completed("~/images/b", "~/images/busybox-save.tar", &[]));
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("~/images/busybox-r") && !s.contains("busybox-save"),
        "{s}"
    );
}

#[test]
fn a_rootfs_tarball_is_named_then_imported_as_a_task() {
    let mut a = empty();
    press(&mut a, "I text:~/images/busybox-rootfs.tar enter");
    assert_eq!(
        file_requests(&a.take_effects()),
        vec![FileRequest::Inspect {
            typed: "~/images/busybox-rootfs.tar".into()
        }]
    );
    assert!(render(&mut a, 80, 24).contains("looking at ~/images/busybox-rootfs.tar…"));
    a.update(inspected(
        "~/images/busybox-rootfs.tar",
        "/home/ann/images/busybox-rootfs.tar",
        ArchiveKind::Rootfs,
    ));
    let s = render(&mut a, 80, 24);
    assert!(s.contains("busybox-rootfs:latest"), "{s}");
    assert_snapshot!("rootfs_name_form", s);
    // Esc goes back to the path as typed; enter looks again.
    press(&mut a, "esc");
    assert!(render(&mut a, 80, 24).contains("~/images/busybox-rootfs.tar"));
    press(&mut a, "enter");
    a.take_effects();
    a.update(inspected(
        "~/images/busybox-rootfs.tar",
        "/home/ann/images/busybox-rootfs.tar",
        ArchiveKind::Rootfs,
    ));
    // A bad name keeps the form open with the message.
    press(&mut a, "ctrl-a ctrl-k text:BusyBox enter");
    assert!(render(&mut a, 80, 24).contains("lowercase"));
    press(&mut a, "ctrl-a ctrl-k text:mybox:1 tab text:sh enter");
    let st = streams(&a.take_effects());
    assert_eq!(st.len(), 1);
    assert_eq!(
        st[0].path,
        "/images/create?fromSrc=-&repo=mybox&tag=1&changes=CMD+%5B%22sh%22%5D"
    );
    assert_eq!(
        st[0].upload.as_deref().and_then(|p| p.to_str()),
        Some("/home/ann/images/busybox-rootfs.tar")
    );
    assert_eq!(st[0].key, StreamKey::Task(1));
    // The task: the file's upload as a bar, then the engine's new image id.
    a.update(Msg::Stream {
        key: StreamKey::Task(1),
        item: StreamItem::Json(
            json!({"status": "Uploading", "id": "file", "progressDetail": {"current": 1_100_000, "total": 2_200_000}}),
        ),
    });
    let s = render(&mut a, 80, 24);
    assert!(s.contains("import busybox-rootfs.tar as mybox:1"), "{s}");
    assert_snapshot!("rootfs_import_task_mid_way", s);
    for v in [
        json!({"status": "sha256:5d6f3e1156593adf8f026869ba0ae9b4add9c18fc5bbcfb548cab19f544465ca"}),
        json!({"status": "Uploaded", "id": "file", "progressDetail": {"current": 2_200_000, "total": 2_200_000}}),
    ] {
        a.update(Msg::Stream {
            key: StreamKey::Task(1),
            item: StreamItem::Json(v),
        });
    }
    a.update(Msg::StreamEnd {
        key: StreamKey::Task(1),
        error: None,
    });
    let s = render(&mut a, 80, 24);
    assert!(s.contains("sha256:5d6f3e115659"), "{s}");
    assert_snapshot!("rootfs_import_task_done", s);
}

#[test]
fn an_image_archive_is_loaded_at_once() {
    let mut a = empty();
    press(&mut a, "I text:save.tar.gz enter");
    a.take_effects();
    a.update(inspected(
        "save.tar.gz",
        "/work/save.tar.gz",
        ArchiveKind::Image,
    ));
    let st = streams(&a.take_effects());
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].path, "/images/load?quiet=0");
    assert_eq!(
        st[0].upload.as_deref().and_then(|p| p.to_str()),
        Some("/work/save.tar.gz")
    );
    for v in [
        json!({"status": "Loading layer", "id": "3f4d90098f5b", "progressDetail": {"current": 4_200_000, "total": 4_200_000}}),
        json!({"stream": "Loaded image: busybox:latest\n"}),
    ] {
        a.update(Msg::Stream {
            key: StreamKey::Task(1),
            item: StreamItem::Json(v),
        });
    }
    a.update(Msg::StreamEnd {
        key: StreamKey::Task(1),
        error: None,
    });
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("load save.tar.gz: Loaded image: busybox:latest"),
        "{s}"
    );
    assert_snapshot!(s);
}

#[test]
fn problems_show_in_the_prompt_and_keep_the_path() {
    let mut a = empty();
    press(&mut a, "I enter");
    assert!(render(&mut a, 80, 24).contains("type the path of a tar file"));
    press(&mut a, "text:notes.txt enter");
    a.take_effects();
    a.update(Msg::Files(FileAnswer::Inspected {
        typed: "notes.txt".into(),
        result: Err(
            "/work/notes.txt: not a tar archive (nor a gzip- or zstd-compressed one)".into(),
        ),
    }));
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("not a tar archive") && s.contains("notes.txt"),
        "{s}"
    );
    assert_snapshot!(s);
    // A completion that finds nothing says so, the text unchanged.
    press(&mut a, "tab");
    a.take_effects();
    a.update(Msg::Files(FileAnswer::Completed {
        typed: "notes.txt".into(),
        result: Err("nothing in /work starts with \"notes.txt\"".into()),
    }));
    let s = render(&mut a, 80, 24);
    assert!(s.contains("nothing in /work starts with"), "{s}");
    // An engine error fails the task; the next import offers the same file again.
    press(&mut a, "ctrl-a ctrl-k text:rootfs.tar.xz enter");
    a.take_effects();
    a.update(inspected(
        "rootfs.tar.xz",
        "/work/rootfs.tar.xz",
        ArchiveKind::Image,
    ));
    a.take_effects();
    a.update(Msg::StreamEnd {
        key: StreamKey::Task(1),
        error: Some("invalid tar header".into()),
    });
    press(&mut a, "esc I");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("/work/rootfs.tar.xz"), "{s}");
    // Nothing here is able to crash the dialog at odd sizes.
    render(&mut a, 20, 5);
    render(&mut a, 1, 1);
}

#[test]
fn a_pull_that_cannot_reach_its_registry_says_what_to_do() {
    let mut a = empty();
    press(&mut a, "p text:busybox enter");
    a.take_effects();
    let message = "cannot reach registry registry-1.docker.io: DNS lookup failed (failed to lookup address information: Name or service not known). To pull docker.io images through a mirror, start the engine with --registry-mirror URL. Offline, load an image archive (berth load -i FILE) or import a rootfs tarball (berth import FILE NAME)";
    a.update(Msg::StreamEnd {
        key: StreamKey::Task(1),
        error: Some(message.into()),
    });
    let s = render(&mut a, 80, 24);
    // The whole message, wrapped at words, and the dashboard's own way to a file.
    assert!(s.contains("--registry-mirror URL"), "{s}");
    assert!(s.contains("(berth import FILE NAME)"), "{s}");
    assert!(s.contains("I: import an image from a file"), "{s}");
    assert_snapshot!(s);
}
