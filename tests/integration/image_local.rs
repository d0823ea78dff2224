//! Local image management: history (API, stock docker CLI, berth), images listing flags and
//! filters, rmi of several names, and the store check (`system check [--repair]`).

use crate::common;

use common::{ok, sha256, stderr, stdout, TestEngine};

#[test]
fn history_through_api_docker_and_berth() {
    let e = TestEngine::start();
    let id = e.import_busybox("histbox:1");
    e.api("POST", "/images/histbox:1/tag?repo=histbox&tag=2", None);

    let v = e.api_json("GET", "/images/histbox:1/history", None);
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!(items[0]["Id"], id.as_str());
    assert_eq!(items[0]["Comment"], "Imported from -");
    assert_eq!(
        items[0]["Tags"],
        serde_json::json!(["histbox:1", "histbox:2"])
    );
    assert!(items[0]["Size"].as_i64().unwrap() > 100_000, "{v}");
    assert!(items[0]["Created"].as_i64().unwrap() > 1_700_000_000);

    let r = e.api("GET", "/images/nosuch:1/history", None);
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(
        r.message().contains("No such image: nosuch:1"),
        "{}",
        r.text()
    );

    let out = ok(&e.docker(&["history", "histbox:1"]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("IMAGE"), "{out}");
    assert!(lines[1].starts_with(&id[7..19]), "{out}");
    assert!(lines[1].contains("Imported from -"), "{out}");

    let out = ok(&e.berth(&["history", "histbox:1"]));
    let blines: Vec<&str> = out.lines().collect();
    assert_eq!(blines[0], lines[0], "{out}");
    assert!(blines[1].starts_with(&id[7..19]), "{out}");

    let out = ok(&e.berth(&["history", "-q", "--no-trunc", "histbox:1"]));
    assert_eq!(out, format!("{id}\n"));
    let out = ok(&e.berth(&[
        "image",
        "history",
        "--human=false",
        "--format",
        "{{.Size}}",
        &id,
    ]));
    assert_eq!(out.trim(), items[0]["Size"].as_i64().unwrap().to_string());
    let o = e.berth(&["history", "nosuch"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("No such image"), "{}", stderr(&o));
}

/// A one-file image tar (distinct content per `tag`).
fn small_tar(tag: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let data = format!("content of {tag}\n");
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, format!("{tag}.txt"), data.as_bytes())
        .unwrap();
    b.into_inner().unwrap()
}

fn import_tar(e: &TestEngine, tar: &[u8], repo: &str, tag: &str) -> String {
    let r = common::http::request(
        &e.socket,
        "POST",
        &format!("/images/create?fromSrc=-&repo={repo}&tag={tag}"),
        Some(tar),
    )
    .unwrap();
    let text = r.text();
    assert!(r.status == 200 && !text.contains("error"), "{text}");
    let v: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    v["status"].as_str().unwrap().to_owned()
}

fn layer_of(e: &TestEngine, name: &str) -> String {
    let v = e.api_json("GET", &format!("/images/{name}/json"), None);
    v["RootFS"]["Layers"][0].as_str().unwrap().to_owned()
}

fn hex(d: &str) -> &str {
    d.strip_prefix("sha256:").unwrap()
}

#[test]
fn system_check_finds_and_repairs_broken_store() {
    let e = TestEngine::start();
    let a = import_tar(&e, &small_tar("a"), "checka", "1");
    let b = import_tar(&e, &small_tar("b"), "checkb", "1");
    let c = e.import_busybox("checkc:1");
    let out = ok(&e.berth(&["system", "check"]));
    assert!(out.contains("Checked 3 images"), "{out}");
    assert!(out.ends_with("The image store is healthy\n"), "{out}");

    let blobs = e.data_path("image/blobs/sha256");
    let layers = e.data_path("image/layers");
    // a: its layer blob (an imported layer's blob is its plain tar, named by its diff_id) gets a
    // flipped byte. b: its unpacked layer directory disappears.
    let la = layer_of(&e, "checka:1");
    let blob_a = blobs.join(hex(&la));
    let mut data = std::fs::read(&blob_a).unwrap();
    data[600] ^= 0xff;
    std::fs::write(&blob_a, &data).unwrap();
    let lb = layer_of(&e, "checkb:1");
    std::fs::remove_dir_all(layers.join(hex(&lb))).unwrap();
    // Orphans: a valid blob no image names, a blob whose bytes do not match its name, a layer.
    let orphan = sha256(b"nobody uses me");
    std::fs::write(blobs.join(hex(&orphan)), b"nobody uses me").unwrap();
    let liar = sha256(b"the truth");
    std::fs::write(blobs.join(hex(&liar)), b"a lie").unwrap();
    let orphan_layer = sha256(b"orphan layer");
    std::fs::create_dir_all(layers.join(hex(&orphan_layer)).join("diff/etc")).unwrap();

    let o = e.berth(&["system", "check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let broken: Vec<&str> = r["BrokenImages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Id"].as_str().unwrap())
        .collect();
    assert_eq!(broken.len(), 2, "{r}");
    assert!(
        broken.contains(&a.as_str()) && broken.contains(&b.as_str()),
        "{r}"
    );
    let text = r.to_string();
    assert!(text.contains(&format!("layer blob {la} is corrupt")), "{r}");
    assert!(text.contains(&format!("layer {lb} is missing")), "{r}");
    let corrupt = r["CorruptBlobs"].as_array().unwrap();
    assert!(corrupt.contains(&serde_json::json!(la)), "{r}");
    assert!(corrupt.contains(&serde_json::json!(liar)), "{r}");
    assert!(
        r["OrphanBlobs"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(orphan)),
        "{r}"
    );
    assert_eq!(r["OrphanLayers"], serde_json::json!([orphan_layer]), "{r}");
    // Nothing was removed by a plain check.
    assert!(blobs.join(hex(&orphan)).exists());
    assert_eq!(
        e.api_json("GET", "/images/json", None)
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let out = ok(&e.berth(&["system", "check", "--repair"]));
    assert!(out.contains(&format!("Removed image: {a}")), "{out}");
    assert!(out.contains("Removed tag: checkb:1"), "{out}");
    assert!(out.contains(&format!("Removed blob: {orphan}")), "{out}");
    assert!(
        out.contains(&format!("Removed layer: {orphan_layer}")),
        "{out}"
    );
    assert!(!blobs.join(hex(&orphan)).exists());
    assert!(!blobs.join(hex(&liar)).exists());
    assert!(!layers.join(hex(&orphan_layer)).exists());
    let list = e.api_json("GET", "/images/json", None);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![c.as_str()]);
    let r = e.api("GET", "/images/checka:1/json", None);
    assert_eq!(r.status, 404);

    // Healthy afterwards, through the API too, and the remaining image still runs.
    let r = e.api_json("POST", "/berth/v1/system/check", None);
    assert_eq!(r["BrokenImages"], serde_json::json!([]), "{r}");
    assert_eq!(r["OrphanBlobs"], serde_json::json!([]), "{r}");
    assert_eq!(r["OrphanLayers"], serde_json::json!([]), "{r}");
    assert_eq!(r["CorruptBlobs"], serde_json::json!([]), "{r}");
    assert_eq!(r["ImagesChecked"], 1);
    let out = ok(&e.docker(&["run", "--rm", "checkc:1", "cat", "/etc/group"]));
    assert!(out.contains("staff:x:50:app"), "{out}");
    let r = e.api("POST", "/berth/v1/system/check?repair=maybe", None);
    assert_eq!(r.status, 400, "{}", r.text());
}

/// Three images a second apart: "filt/old:1", "filt/labelled:2" (label tier=gold) and
/// "busybox:latest". Returns the ids of the oldest and the newest.
fn three_images_a_second_apart(e: &TestEngine) -> (String, String) {
    let old = import_tar(e, &small_tar("old"), "filt/old", "1");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = common::http::request(
        &e.socket,
        "POST",
        "/images/create?fromSrc=-&repo=filt/labelled&tag=2&changes=LABEL%20tier%3Dgold",
        Some(&small_tar("labelled")),
    )
    .unwrap();
    assert!(!r.text().contains("error"), "{}", r.text());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let new = e.import_busybox("busybox:latest");
    (old, new)
}

/// `berth images -q --no-trunc ARGS`, one id per line.
fn q(e: &TestEngine, args: &[&str]) -> Vec<String> {
    let mut v = vec!["images", "-q", "--no-trunc"];
    v.extend_from_slice(args);
    ok(&e.berth(&v)).lines().map(str::to_owned).collect()
}

#[test]
fn images_filters_select_by_reference_label_time_and_dangling() {
    let e = TestEngine::start();
    let (old, _) = three_images_a_second_apart(&e);
    assert_eq!(q(&e, &[]).len(), 3);
    assert_eq!(q(&e, &["--filter", "reference=filt/*"]).len(), 2);
    assert_eq!(q(&e, &["--filter", "reference=filt/[lm]*"]).len(), 1);
    assert_eq!(q(&e, &["filt/old"]), vec![old.clone()]);
    assert_eq!(q(&e, &["--filter", "label=tier=gold"]).len(), 1);
    assert_eq!(q(&e, &["--filter", "label=tier"]).len(), 1);
    assert_eq!(q(&e, &["--filter", "before=busybox"]).len(), 2);
    assert_eq!(q(&e, &["--filter", "since=filt/old:1"]).len(), 2);
    assert_eq!(q(&e, &["--filter", "dangling=true"]).len(), 0);
    assert_eq!(q(&e, &["--filter", "dangling=false"]).len(), 3);
    assert_eq!(q(&e, &["--filter", "until=2000-01-01"]).len(), 0);
    assert_eq!(q(&e, &["--filter", "until=1m"]).len(), 0);
    assert_eq!(q(&e, &["--filter", "until=2100-01-01"]).len(), 3);
}

#[test]
fn bad_image_filters_get_dockers_messages_from_both_clis() {
    let e = TestEngine::start();
    three_images_a_second_apart(&e);
    // docker's messages for bad filters, through the stock CLI and berth.
    for (filter, msg) in [
        ("dangling=maybe", "invalid filter 'dangling=[maybe]'"),
        ("color=red", "invalid filter 'color'"),
        ("reference=busy[", "syntax error in pattern"),
        ("before=nosuch", "No such image: nosuch"),
    ] {
        let o = e.docker(&["images", "--filter", filter]);
        assert!(!o.status.success(), "{filter}");
        assert!(stderr(&o).contains(msg), "{filter}: {}", stderr(&o));
        let o = e.berth(&["images", "--filter", filter]);
        assert!(!o.status.success(), "{filter}");
        assert!(stderr(&o).contains(msg), "{filter}: {}", stderr(&o));
    }
}

#[test]
fn images_digests_column_and_format_template() {
    let e = TestEngine::start();
    let (_, new) = three_images_a_second_apart(&e);
    let out = ok(&e.berth(&["images", "--digests"]));
    let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "REPOSITORY",
            "TAG",
            "DIGEST",
            "IMAGE",
            "ID",
            "CREATED",
            "SIZE"
        ],
        "{out}"
    );
    assert!(out.lines().nth(1).unwrap().contains("<none>"), "{out}");
    let out = ok(&e.berth(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}} {{.ID}}",
        "busybox",
    ]));
    assert_eq!(out, format!("busybox:latest {}\n", &new[7..19]));
}

#[test]
fn rmi_of_several_names_goes_on_after_a_failure_and_exits_1() {
    let e = TestEngine::start();
    let (old, new) = three_images_a_second_apart(&e);
    // rmi of several names: a failure prints its line, the others go on, the status is 1.
    let o = e.berth(&[
        "rmi",
        "--no-prune",
        "filt/old:1",
        "nosuch:1",
        "filt/labelled:2",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("Untagged: filt/old:1"), "{out}");
    assert!(out.contains(&format!("Deleted: {old}")), "{out}");
    assert!(out.contains("Untagged: filt/labelled:2"), "{out}");
    assert!(
        stderr(&o).contains("No such image: nosuch:1"),
        "{}",
        stderr(&o)
    );
    assert_eq!(q(&e, &[]), vec![new.clone()]);
    let r = e.api("DELETE", "/images/busybox?noprune=1&force=0", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = e.api("DELETE", "/images/x?noprune=maybe", None);
    assert_eq!(r.status, 400, "{}", r.text());
}

#[test]
fn login_failure_stores_nothing_and_logout_removes_credentials() {
    let e = TestEngine::start();
    let cfg = e.dir.path().join("dockercfg");
    // Nothing listens on port 1: the engine cannot confirm the login, so nothing is stored.
    let o = e.berth_with_config(
        &cfg,
        &["login", "-u", "alice", "--password-stdin", "127.0.0.1:1"],
        b"s3cret\n",
    );
    assert!(!o.status.success(), "{}", stdout(&o));
    assert!(!cfg.join("config.json").exists());
    let o = e.berth_with_config(&cfg, &["login", "-p", "x", "--password-stdin", "h"], b"");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("mutually exclusive"), "{}", stderr(&o));

    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("config.json"),
        r#"{"auths":{"127.0.0.1:5000":{"auth":"YWxpY2U6czNjcmV0"},"https://index.docker.io/v1/":{"auth":"Ym9iOnB3"}},"psFormat":"table {{.ID}}"}"#,
    )
    .unwrap();
    let out = ok(&e.berth_with_config(&cfg, &["logout", "http://127.0.0.1:5000/"], b""));
    assert_eq!(out, "Removing login credentials for 127.0.0.1:5000\n");
    let out = ok(&e.berth_with_config(&cfg, &["logout"], b""));
    assert_eq!(
        out,
        "Removing login credentials for https://index.docker.io/v1/\n"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cfg.join("config.json")).unwrap()).unwrap();
    assert_eq!(v["auths"], serde_json::json!({}));
    assert_eq!(v["psFormat"], "table {{.ID}}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(cfg.join("config.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// A loaded image (legacy docker-archive) whose history has empty layers: docker's mapping of
/// history entries to layers, through the API and the stock docker CLI.
#[test]
fn history_with_empty_layers_of_a_loaded_image() {
    let e = TestEngine::start();
    let layer = common::image::busybox_rootfs_tar();
    let diff_id = sha256(&layer);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "created": "2024-03-01T00:00:00Z",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [
            {"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
            {"created": "2024-02-01T00:00:00Z", "created_by": "/bin/sh -c #(nop)  ENV A=1", "empty_layer": true},
            {"created": "2024-03-01T00:00:00Z", "created_by": "/bin/sh -c #(nop)  CMD [\"sh\"]", "empty_layer": true, "comment": "last"}
        ]
    })
    .to_string();
    let cfg_name = format!("{}.json", hex(&sha256(config.as_bytes())));
    let manifest = serde_json::json!([{
        "Config": cfg_name, "RepoTags": ["histload:2"], "Layers": ["l1/layer.tar"]
    }])
    .to_string();
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [
        (cfg_name.as_str(), config.as_bytes()),
        ("l1/layer.tar", &layer[..]),
        ("manifest.json", manifest.as_bytes()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data).unwrap();
    }
    let archive = b.into_inner().unwrap();
    let r =
        common::http::request(&e.socket, "POST", "/images/load?quiet=1", Some(&archive)).unwrap();
    assert!(
        r.status == 200 && !r.text().contains("error"),
        "{}",
        r.text()
    );

    let v = e.api_json("GET", "/images/histload:2/history", None);
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 3, "{v}");
    let id = sha256(config.as_bytes());
    assert_eq!(items[0]["Id"], id.as_str());
    assert_eq!(items[0]["Tags"], serde_json::json!(["histload:2"]));
    assert_eq!(items[0]["Size"], 0);
    assert_eq!(items[0]["Comment"], "last");
    assert_eq!(items[0]["Created"], 1_709_251_200);
    assert_eq!(items[1]["Id"], "<missing>");
    assert_eq!(items[1]["Size"], 0);
    assert!(items[1]["Tags"].is_null());
    assert_eq!(items[2]["Id"], "<missing>");
    let inspect = e.api_json("GET", "/images/histload:2/json", None);
    assert_eq!(items[2]["Size"], inspect["Size"], "{v}");

    let out = ok(&e.docker(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.ID}}|{{.CreatedBy}}|{{.Size}}",
        "histload:2",
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("{id}|/bin/sh -c #(nop)  CMD [\"sh\"]|0B"));
    assert_eq!(lines[1], "<missing>|/bin/sh -c #(nop)  ENV A=1|0B");
    assert!(
        lines[2].starts_with("<missing>|/bin/sh -c #(nop) ADD file:abc in / |"),
        "{out}"
    );
    let out = ok(&e.berth(&["history", "histload:2"]));
    assert!(out.lines().nth(1).unwrap().starts_with(&id[7..19]), "{out}");
    assert!(out.contains("/bin/sh -c #(nop)  CMD [\"sh\"]"), "{out}");
}
