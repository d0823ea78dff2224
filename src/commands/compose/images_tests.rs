//! `compose images` against docker compose v2.40.3's output for the same project on a berth
//! engine (the image's inspect below is what the engine answered).

use chrono::TimeZone;
use serde_json::json;

use super::*;

fn busybox() -> Value {
    json!({
        "Id": "sha256:1e049dbd34b18fbdf0d26d33e5422c71d2a811cefe028229819c7620ceb427a0",
        "Created": "2026-12-07T18:58:55.083150199Z",
        "Os": "linux", "Architecture": "amd64", "Size": 1982256,
        "Metadata": {"LastTagTime": "2026-12-07T18:58:55.083150199Z"}
    })
}

fn container(name: &str, image: &str) -> Value {
    json!({"Id": "abc", "Names": [format!("/{name}")], "Image": image})
}

fn rows() -> Vec<ImageRow> {
    let mut rows: Vec<ImageRow> = [
        ("demo-web-1", "busybox"),
        ("demo-database-1", "busybox:latest"),
        ("demo-once-1", "busybox"),
        ("demo-database-2", "busybox:latest"),
    ]
    .iter()
    .map(|(n, i)| row(&container(n, i), &busybox()))
    .collect();
    rows.sort_by(|a, b| a.container.cmp(&b.container));
    rows
}

#[test]
fn table_as_docker_compose_prints_it() {
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 18, 59, 24).unwrap();
    assert_eq!(
        render(&rows(), "table", now).unwrap(),
        "CONTAINER           REPOSITORY          TAG                 PLATFORM            IMAGE ID            SIZE                CREATED\n\
         demo-database-1     busybox             latest              linux/amd64         1e049dbd34b1        1.98MB              28 seconds ago\n\
         demo-database-2     busybox             latest              linux/amd64         1e049dbd34b1        1.98MB              28 seconds ago\n\
         demo-once-1         busybox             latest              linux/amd64         1e049dbd34b1        1.98MB              28 seconds ago\n\
         demo-web-1          busybox             latest              linux/amd64         1e049dbd34b1        1.98MB              28 seconds ago\n"
    );
    assert_eq!(
        render(&[], "table", now).unwrap(),
        "CONTAINER           REPOSITORY          TAG                 PLATFORM            IMAGE ID            SIZE                CREATED\n"
    );
}

#[test]
fn json_as_docker_compose_prints_it() {
    let now = Utc::now();
    let text = render(&rows()[..1], "json", now).unwrap();
    assert_eq!(
        text,
        "[{\"ID\":\"sha256:1e049dbd34b18fbdf0d26d33e5422c71d2a811cefe028229819c7620ceb427a0\",\"ContainerName\":\"demo-database-1\",\"Repository\":\"busybox\",\"Tag\":\"latest\",\"Platform\":\"linux/amd64\",\"Size\":1982256,\"LastTagTime\":\"2026-12-07T18:58:55.083150199Z\"}]\n\n"
    );
    assert_eq!(render(&[], "json", now).unwrap(), "null\n\n");
    assert_eq!(
        render(&[], "foo", now).unwrap_err().to_string(),
        "format value \"foo\" could not be parsed: parsing failed"
    );
}

#[test]
fn references_read_as_docker_reads_them() {
    let rt = |s: &str| repository_and_tag(s);
    assert_eq!(rt("busybox"), ("busybox".into(), "latest".into()));
    assert_eq!(
        rt("docker.io/library/redis:7"),
        ("redis".into(), "7".into())
    );
    assert_eq!(
        rt("localhost:5000/app"),
        ("localhost:5000/app".into(), "latest".into())
    );
    assert_eq!(rt("ghcr.io/x/y:1.2"), ("ghcr.io/x/y".into(), "1.2".into()));
    assert_eq!(rt("app@sha256:abcd"), ("app".into(), String::new()));
    assert_eq!(rt("sha256:1e049dbd"), (String::new(), String::new()));
}

#[test]
fn times_read_back_as_go_writes_them() {
    let mut image = busybox();
    image["Metadata"]["LastTagTime"] = json!("0001-01-01T00:00:00Z");
    image["Created"] = json!("2026-12-07T18:58:55.5Z");
    let r = row(&container("demo-web-1", "busybox"), &image);
    assert_eq!(r.last_tag_time, "2026-12-07T18:58:55.5Z");
    assert!(r.tagged.is_none());
    let text = render(&[r], "table", Utc::now()).unwrap();
    assert!(text.ends_with("292 years ago\n"), "{text}");
}
