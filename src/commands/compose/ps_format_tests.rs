//! `compose ps` output against docker compose v2.40.3's for the same containers (a project of
//! four brought up by docker compose on a berth engine; the engine's list entries below are
//! what it answered). Only the label order differs: Go's map order, which berth sorts.

use chrono::TimeZone;

use super::*;
use crate::compose::labels;

const CREATED: i64 = 1_796_669_938;

fn entry(n: u32, service: &str, image: &str, command: &str, state: &str, status: &str) -> Value {
    json!({
        "Id": format!("{n}f01dbe526091c4efd99efab77c8c3f152824dc885504bfebe64b7ac6e2f429d"),
        "Names": [format!("/demo-{service}")],
        "Image": image,
        "Command": command,
        "Created": CREATED,
        "Ports": [],
        "Labels": {
            labels::PROJECT: "demo",
            labels::SERVICE: service.split('-').next().unwrap(),
            labels::ONEOFF: "False",
        },
        "State": state,
        "Status": status,
        "NetworkSettings": {"Networks": {"demo_default": {"NetworkID": "n"}}},
        "Mounts": [],
    })
}

fn running() -> Value {
    json!({"State": {"Status": "running", "ExitCode": 0}})
}

fn project(status_db: &str, status_once: &str, status_web: &str) -> Vec<Summary> {
    let db = "sh -c echo db ready; printf 'no newline'; sleep 1000";
    let mut once = entry(
        3,
        "once-1",
        "busybox",
        "sh -c echo one shot; exit 3",
        "exited",
        status_once,
    );
    once["Mounts"] = json!([{"Type": "volume", "Name": "demo_data", "Driver": "local",
        "Source": "/var/lib/x", "Destination": "/data"}]);
    let mut web = entry(
        4,
        "web-1",
        "busybox",
        "sh -c echo hello from web; echo oops >&2; i=0; while true; do sleep 1; done",
        "running",
        status_web,
    );
    web["Ports"] = json!([
        {"IP": "0.0.0.0", "PrivatePort": 9001, "PublicPort": 9001, "Type": "udp"},
        {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
        {"IP": "0.0.0.0", "PrivatePort": 9000, "PublicPort": 9000, "Type": "udp"},
    ]);
    vec![
        Summary::new(
            &entry(1, "database-1", "busybox:latest", db, "running", status_db),
            &running(),
        ),
        Summary::new(
            &entry(2, "database-2", "busybox:latest", db, "running", status_db),
            &running(),
        ),
        Summary::new(
            &once,
            &json!({"State": {"Status": "exited", "ExitCode": 3}}),
        ),
        Summary::new(&web, &running()),
    ]
}

fn at(seconds_after: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(CREATED + seconds_after, 0).unwrap()
}

#[test]
fn default_table_as_docker_compose_prints_it() {
    let list = project(
        "Up Less than a second",
        "Exited (3) Less than a second ago",
        "Up Less than a second",
    );
    let text = render(&list, None, true, at(0)).unwrap();
    assert_eq!(
        text,
        r#"NAME              IMAGE            COMMAND                  SERVICE    CREATED                  STATUS                              PORTS
demo-database-1   busybox:latest   "sh -c echo db ready…"   database   Less than a second ago   Up Less than a second               
demo-database-2   busybox:latest   "sh -c echo db ready…"   database   Less than a second ago   Up Less than a second               
demo-once-1       busybox          "sh -c echo one shot…"   once       Less than a second ago   Exited (3) Less than a second ago   
demo-web-1        busybox          "sh -c echo hello fr…"   web        Less than a second ago   Up Less than a second               0.0.0.0:9000-9001->9000-9001/udp, 0.0.0.0:8080->80/tcp
"#
    );
}

#[test]
fn no_trunc_table_as_docker_compose_prints_it() {
    let list = project("Up 4 seconds", "Exited (3) 5 seconds ago", "Up 5 seconds");
    let text = render(&list, Some("table"), false, at(5)).unwrap();
    assert_eq!(
        text,
        r#"NAME              IMAGE            COMMAND                                                                         SERVICE    CREATED         STATUS                     PORTS
demo-database-1   busybox:latest   "sh -c echo db ready; printf 'no newline'; sleep 1000"                          database   5 seconds ago   Up 4 seconds               
demo-database-2   busybox:latest   "sh -c echo db ready; printf 'no newline'; sleep 1000"                          database   5 seconds ago   Up 4 seconds               
demo-once-1       busybox          "sh -c echo one shot; exit 3"                                                   once       5 seconds ago   Exited (3) 5 seconds ago   
demo-web-1        busybox          "sh -c echo hello from web; echo oops >&2; i=0; while true; do sleep 1; done"   web        5 seconds ago   Up 5 seconds               0.0.0.0:9000-9001->9000-9001/udp, 0.0.0.0:8080->80/tcp
"#
    );
}

#[test]
fn json_lines_as_docker_compose_prints_them() {
    let list = project(
        "Up 16 seconds",
        "Exited (3) 16 seconds ago",
        "Up 16 seconds",
    );
    let text = render(&list, Some("json"), true, at(16)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    let created_at = units::created_at(CREATED);
    let labels = "com.docker.compose.oneoff=False,com.docker.compose.project=demo";
    assert_eq!(
        lines[3],
        format!(
            r#"{{"Command":"\"sh -c echo hello fr…\"","CreatedAt":"{created_at}","ExitCode":0,"Health":"","ID":"4f01dbe52609","Image":"busybox","Labels":"{labels},com.docker.compose.service=web","LocalVolumes":"0","Mounts":"","Name":"demo-web-1","Names":"demo-web-1","Networks":"demo_default","Ports":"0.0.0.0:9000-9001-\u003e9000-9001/udp, 0.0.0.0:8080-\u003e80/tcp","Project":"demo","Publishers":[{{"URL":"0.0.0.0","TargetPort":80,"PublishedPort":8080,"Protocol":"tcp"}},{{"URL":"0.0.0.0","TargetPort":9000,"PublishedPort":9000,"Protocol":"udp"}},{{"URL":"0.0.0.0","TargetPort":9001,"PublishedPort":9001,"Protocol":"udp"}}],"RunningFor":"16 seconds ago","Service":"web","Size":"0B","State":"running","Status":"Up 16 seconds"}}"#
        )
    );
    assert_eq!(
        lines[2],
        format!(
            r#"{{"Command":"\"sh -c echo one shot…\"","CreatedAt":"{created_at}","ExitCode":3,"Health":"","ID":"3f01dbe52609","Image":"busybox","Labels":"{labels},com.docker.compose.service=once","LocalVolumes":"1","Mounts":"demo_data","Name":"demo-once-1","Names":"demo-once-1","Networks":"demo_default","Ports":"","Project":"demo","Publishers":[],"RunningFor":"16 seconds ago","Service":"once","Size":"0B","State":"exited","Status":"Exited (3) 16 seconds ago"}}"#
        )
    );
}

#[test]
fn templates_see_docker_composes_fields() {
    let list = project("Up 4 seconds", "Exited (3) 5 seconds ago", "Up 5 seconds");
    let text = render(
        &list,
        Some("{{.Name}} {{.Service}} {{.State}} {{.ExitCode}} {{.ID}}"),
        true,
        at(5),
    )
    .unwrap();
    assert_eq!(
        text.lines().nth(2).unwrap(),
        "demo-once-1 once exited 3 3f01dbe52609"
    );
    let text = render(
        &list[..1],
        Some("table {{.Name}}\t{{.Networks}}\t{{.Status}}"),
        true,
        at(5),
    )
    .unwrap();
    assert_eq!(
        text,
        "NAME              <no value>     STATUS\ndemo-database-1   demo_default   Up 4 seconds\n"
    );
}

#[test]
fn ports_group_like_docker() {
    let p = |url: &str, target: u16, published: u16, protocol: &str| Publisher {
        url: url.into(),
        target_port: target,
        published_port: published,
        protocol: protocol.into(),
    };
    assert_eq!(displayable_ports(&[]), "");
    assert_eq!(
        displayable_ports(&[
            p("", 80, 0, "tcp"),
            p("", 81, 0, "tcp"),
            p("", 443, 0, "tcp")
        ]),
        "80-81/tcp, 443/tcp"
    );
    assert_eq!(
        displayable_ports(&[p("::", 8080, 80, "tcp"), p("0.0.0.0", 8080, 8080, "tcp")]),
        "0.0.0.0:8080->8080/tcp, [::]:80->8080/tcp"
    );
    assert_eq!(
        displayable_ports(&[p("::", 53, 53, "udp"), p("::", 54, 54, "udp")]),
        "[::]:53-54->53-54/udp"
    );
}

#[test]
fn canonical_names_skip_links() {
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(canonical_name(&names(&["/a/b", "/b"]), "x"), "b");
    assert_eq!(
        canonical_name(&names(&[]), "0123456789abcdef"),
        "0123456789ab"
    );
}
