//! Volumes, bind and tmpfs mounts, `system df` and volume events, with a real engine, real
//! containers, `berth --headless` and the stock docker CLI.
//!
//! `mounts`: what containers see (binds, tmpfs, named and anonymous volumes, symlink escapes);
//! `api`: the volume aggregate (create, list, filters, prune, in-use rules, df, events). Shared
//! here: the test image and small request helpers.

mod api;
mod mounts;

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::{eventually, http, ok, stderr, stdout, unix_now, urlencode, TestEngine};
use serde_json::{json, Value};

/// busybox plus test content: /data (a VOLUME) holding files owned by 1000:1000, a symlink and a
/// mode-0700 dir; /target → /etc; /escape → a relative path climbing to `host_victim`.
pub(crate) fn image_tar(host_victim: &Path) -> Vec<u8> {
    let base = common::image::busybox_rootfs_tar();
    let mut ar = tar::Archive::new(&base[..]);
    let mut b = tar::Builder::new(Vec::new());
    for entry in ar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut h = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        if h.entry_type() == tar::EntryType::Symlink {
            let target = entry.link_name().unwrap().unwrap().into_owned();
            b.append_link(&mut h, &path, &target).unwrap();
        } else {
            b.append_data(&mut h, &path, &mut entry).unwrap();
        }
    }
    let dir = |b: &mut tar::Builder<Vec<u8>>, p: &str, mode: u32, uid: u64| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(uid);
        h.set_size(0);
        b.append_data(&mut h, p, std::io::empty()).unwrap();
    };
    let link = |b: &mut tar::Builder<Vec<u8>>, p: &str, t: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        b.append_link(&mut h, p, t).unwrap();
    };
    dir(&mut b, "data", 0o755, 1000);
    dir(&mut b, "data/private", 0o700, 1000);
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o640);
    h.set_uid(1000);
    h.set_gid(1000);
    h.set_size(5);
    b.append_data(&mut h, "data/private/seed", &b"seed\n"[..])
        .unwrap();
    link(&mut b, "data/link", "private/seed");
    link(&mut b, "target", "/etc");
    let climb = format!("../../../../../../..{}", host_victim.display());
    link(&mut b, "escape", &climb);
    b.into_inner().unwrap()
}

/// Import `image_tar` as `name` with `VOLUME /data`.
fn import_volume_image(e: &TestEngine, name: &str, victim: &Path) {
    let r = http::request(
        &e.socket,
        "POST",
        &format!("/images/create?fromSrc=-&repo={name}&tag=latest&changes=VOLUME%20%2Fdata"),
        Some(&image_tar(victim)),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("errorDetail"), "{}", r.text());
}

fn volume_names(e: &TestEngine) -> Vec<String> {
    let v = e.api_json("GET", "/volumes", None);
    let mut names: Vec<String> = v["Volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["Name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn create(e: &TestEngine, body: Value) -> http::Response {
    e.api("POST", "/containers/create", Some(&body.to_string()))
}
