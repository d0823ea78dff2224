//! Local image management: history (API, stock docker CLI, berth), images listing flags and
//! filters, rmi of several names, and the store check (`system check [--repair]`).

mod common;

use common::{stderr, stdout, TestEngine};

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}\n{}", stdout(o), stderr(o));
    stdout(o)
}

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
