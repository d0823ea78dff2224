//! The containers view's detail pane: each tab with a running and a stopped container, empty
//! and long values, at 80x24 and 200x50; the logs stream it opens and closes as the selection
//! moves, and the Top tab's polling.

use insta::assert_snapshot;
use serde_json::{json, Value};

use crate::dashboard::app::App;
use crate::dashboard::msg::{Msg, Purpose, StreamItem, StreamKey};
use crate::dashboard::testing::*;

/// The inspect document of `name` after `edit` (replaces what `set_containers` fed).
fn set_detail(app: &mut App, name: &str, edit: impl FnOnce(&mut Value)) {
    let c = app
        .store
        .container(&id_of(name))
        .expect("the container is in the store")
        .clone();
    let row = json!({
        "Id": c.id, "Names": c.names, "State": c.state, "Labels": c.labels,
        "Mounts": [], "NetworkSettings": {"Networks": {}}
    });
    let mut d = detail(&row);
    edit(&mut d);
    app.update(Msg::CallDone {
        purpose: Purpose::ContainerDetail { id: c.id },
        result: Ok(Some(d)),
    });
    app.take_effects();
}

/// "web" (running, a port, a volume, env) and "batch" (exited), with web's stats.
fn two() -> App {
    let mut a = app();
    let mut web = container("web", "running", None);
    web["Ports"] = json!([{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]);
    set_containers(&mut a, vec![web, container("batch", "exited", None)]);
    set_detail(&mut a, "web", |d| {
        d["Config"]["Env"] = json!([
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "NGINX_VERSION=1.27.3",
            "DATABASE_URL=postgres://shop:secret@db.internal.example.com:5432/shop?sslmode=require&application_name=web-frontend-with-a-long-name",
            "EMPTY=",
        ]);
        d["Config"]["ExposedPorts"] = json!({"80/tcp": {}, "443/tcp": {}});
        d["HostConfig"]["PortBindings"] = json!({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]});
        d["NetworkSettings"]["Ports"] = json!({
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
            "443/tcp": null
        });
        d["Mounts"] = json!([
            {"Type": "volume", "Name": "web-data", "Source": "/var/lib/berth/volumes/web-data/_data",
             "Destination": "/usr/share/nginx/html", "Mode": "z", "RW": true},
            {"Type": "bind", "Source": "/home/me/projects/shop/nginx.conf",
             "Destination": "/etc/nginx/nginx.conf", "Mode": "ro", "RW": false}
        ]);
    });
    feed_stats(&mut a, "web", 40);
    a
}

fn logs_open(id: &str) -> String {
    format!("OPEN GET /containers/{id}/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail=200")
}

fn logs_close(id: &str) -> String {
    format!("CLOSE DetailLogs(\"{id}\")")
}

fn log_line(app: &mut App, name: &str, text: &str, stderr: bool) {
    app.update(Msg::Stream {
        key: StreamKey::DetailLogs(id_of(name)),
        item: StreamItem::Text {
            line: format!("2026-11-23T11:59:00.000000000Z {text}\n"),
            stderr,
        },
    });
}

/// Selects `name` (rows are sorted by name: batch, web) and opens the pane.
fn open_on(app: &mut App, name: &str) {
    let keys = if name == "batch" { "g" } else { "G" };
    press(app, keys);
    render(app, 80, 24);
    press(app, "enter");
}

#[test]
fn logs_tab_follows_the_selected_container() {
    let mut a = two();
    open_on(&mut a, "web");
    assert_eq!(calls(&a.take_effects()), vec![logs_open(&id_of("web"))]);
    for i in 0..30 {
        log_line(&mut a, "web", &format!("GET /index.html 200 {i}ms"), false);
    }
    log_line(&mut a, "web", "warn: upstream slow", true);
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("warn: upstream slow") && s.contains("following"),
        "{s}"
    );
    assert!(!s.contains("200 0ms"), "only the tail fits: {s}");
    assert_snapshot!("logs_80x24", s);
    assert_snapshot!("logs_200x50", render(&mut a, 200, 50));

    // Scrolling up shows older lines and says so.
    render(&mut a, 80, 24);
    press(&mut a, "ctrl-u");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("lines up"), "{s}");
}

#[test]
fn logs_stream_closes_when_the_selection_moves_the_tab_changes_or_the_pane_closes() {
    let mut a = two();
    open_on(&mut a, "web");
    a.take_effects();
    press(&mut a, "k");
    assert_eq!(
        calls(&a.take_effects()),
        vec![logs_close(&id_of("web")), logs_open(&id_of("batch"))]
    );
    // Another tab: no logs stream.
    press(&mut a, "]");
    assert_eq!(calls(&a.take_effects()), vec![logs_close(&id_of("batch"))]);
    press(&mut a, "[");
    assert_eq!(calls(&a.take_effects()), vec![logs_open(&id_of("batch"))]);
    // Enter closes the pane and its stream; Enter again reopens on the same tab.
    press(&mut a, "enter");
    assert_eq!(calls(&a.take_effects()), vec![logs_close(&id_of("batch"))]);
    assert!(!render(&mut a, 80, 24).contains("Mounts"));
    press(&mut a, "enter");
    assert_eq!(calls(&a.take_effects()), vec![logs_open(&id_of("batch"))]);
    // Esc closes it too.
    press(&mut a, "esc");
    assert_eq!(calls(&a.take_effects()), vec![logs_close(&id_of("batch"))]);
}

#[test]
fn ended_logs_of_a_stopped_container_reopen_when_it_starts() {
    let mut a = two();
    open_on(&mut a, "batch");
    a.take_effects();
    log_line(&mut a, "batch", "done: 42 rows", false);
    a.update(Msg::StreamEnd {
        key: StreamKey::DetailLogs(id_of("batch")),
        error: None,
    });
    let s = render(&mut a, 80, 24);
    assert!(s.contains("done: 42 rows") && s.contains("ended"), "{s}");
    assert_snapshot!("logs_stopped_80x24", s);
    a.update(Msg::Tick);
    assert!(calls(&a.take_effects()).is_empty());
    // It runs again: the next tick follows it anew.
    let mut web = container("web", "running", None);
    web["Ports"] = json!([{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]);
    set_containers(&mut a, vec![web, container("batch", "running", None)]);
    a.update(Msg::Tick);
    assert_eq!(calls(&a.take_effects()), vec![logs_open(&id_of("batch"))]);
}

#[test]
fn stats_tab_running_stopped_and_waiting() {
    let mut a = two();
    open_on(&mut a, "web");
    press(&mut a, "]");
    // A short pane: one sparkline row per series.
    let s = render(&mut a, 80, 16);
    assert!(
        s.contains("CPU") && s.contains("NET RX") && s.contains("BLOCK W"),
        "{s}"
    );
    assert_snapshot!("stats_80x16", s);
    // A taller one: charts.
    let s = render(&mut a, 80, 24);
    assert!(s.contains("CPU 20.0%") && s.contains("Block I/O"), "{s}");
    assert_snapshot!("stats_80x24", s);
    let s = render(&mut a, 200, 50);
    assert!(s.contains("Network rx") && s.contains("now"), "{s}");
    assert_snapshot!("stats_200x50", s);
    press(&mut a, "k");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("stats are only collected while it runs"), "{s}");
    assert_snapshot!("stats_stopped_80x24", s);

    let mut a = app();
    set_containers(&mut a, vec![container("fresh", "running", None)]);
    press(&mut a, "enter right");
    assert!(render(&mut a, 80, 24).contains("waiting for the first stats"));
}

#[test]
fn inspect_tab_scrolls_and_searches() {
    let mut a = two();
    open_on(&mut a, "web");
    press(&mut a, "] ]");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("\"Config\"") && s.contains("lines 1-"), "{s}");
    assert_snapshot!("inspect_80x24", s);
    // `/` searches the document, not the table.
    press(&mut a, "/ text:nginx");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("search inspect: nginx"), "{s}");
    assert!(s.contains("batch"), "the table is not filtered: {s}");
    press(&mut a, "enter");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("NGINX_VERSION"),
        "the first match is on screen: {s}"
    );
    press(&mut a, "n n");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("nginx.conf"), "{s}");
    assert_snapshot!("inspect_search_80x24", s);
    assert_snapshot!("inspect_200x50", render(&mut a, 200, 50));
    // Esc clears the search, a second Esc closes the pane.
    press(&mut a, "esc");
    assert!(!render(&mut a, 80, 24).contains("lines match"));
    press(&mut a, "esc");
    assert!(!render(&mut a, 80, 24).contains("Inspect"));
}

#[test]
fn env_tab_with_long_values_and_empty() {
    let mut a = two();
    open_on(&mut a, "web");
    press(&mut a, "] ] ]");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("NGINX_VERSION") && s.contains("1.27.3"), "{s}");
    assert_snapshot!("env_80x24", s);
    assert_snapshot!("env_200x50", render(&mut a, 200, 50));
    set_detail(&mut a, "web", |d| d["Config"]["Env"] = json!([]));
    let s = render(&mut a, 80, 24);
    assert!(s.contains("no environment variables"), "{s}");
}

#[test]
fn ports_tab_published_exposed_and_none() {
    let mut a = two();
    open_on(&mut a, "web");
    press(&mut a, "] ] ] ]");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("0.0.0.0:8080, [::]:8080") && s.contains("exposed, not published"),
        "{s}"
    );
    assert_snapshot!("ports_80x24", s);
    press(&mut a, "k");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("no ports exposed or published"), "{s}");
    assert_snapshot!("ports_none_200x50", render(&mut a, 200, 50));
}

#[test]
fn mounts_tab() {
    let mut a = two();
    open_on(&mut a, "web");
    press(&mut a, "[ [");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("web-data") && s.contains("rw,z") && s.contains("ro"),
        "{s}"
    );
    assert_snapshot!("mounts_80x24", s);
    assert_snapshot!("mounts_200x50", render(&mut a, 200, 50));
    press(&mut a, "k");
    assert!(render(&mut a, 80, 24).contains("no mounts"));
}

fn top_call(id: &str) -> String {
    format!("GET /containers/{id}/top")
}

fn top_answer(app: &mut App, name: &str) {
    app.update(Msg::CallDone {
        purpose: Purpose::Top { id: id_of(name) },
        result: Ok(Some(json!({
            "Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
            "Processes": [
                ["root", "4242", "4200", "0", "11:55", "?", "00:00:00", "nginx: master process nginx -g daemon off;"],
                ["nginx", "4250", "4242", "0", "11:55", "?", "00:00:01", "nginx: worker process"],
            ]
        }))),
    });
}

#[test]
fn top_tab_polls_every_two_seconds_while_shown() {
    let mut a = two();
    open_on(&mut a, "web");
    a.take_effects();
    press(&mut a, "[");
    let web = id_of("web");
    assert_eq!(
        calls(&a.take_effects()),
        vec![logs_close(&web), top_call(&web)]
    );
    assert!(render(&mut a, 80, 24).contains("loading…"));
    // One request at a time: ticks while it is out ask nothing.
    a.update(Msg::Tick);
    a.update(Msg::Tick);
    assert!(calls(&a.take_effects()).is_empty());
    top_answer(&mut a, "web");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("nginx: worker process"), "{s}");
    assert_snapshot!("top_80x24", s);
    assert_snapshot!("top_200x50", render(&mut a, 200, 50));
    a.update(Msg::Tick);
    a.update(Msg::Tick);
    assert_eq!(calls(&a.take_effects()), vec![top_call(&web)]);
    // Another view on screen: no polling.
    top_answer(&mut a, "web");
    press(&mut a, "2");
    for _ in 0..4 {
        a.update(Msg::Tick);
    }
    assert!(calls(&a.take_effects()).is_empty());
    // A stopped container is not asked.
    press(&mut a, "1 k");
    assert!(calls(&a.take_effects()).is_empty());
    for _ in 0..4 {
        a.update(Msg::Tick);
    }
    assert!(calls(&a.take_effects()).is_empty());
    let s = render(&mut a, 80, 24);
    assert!(s.contains("batch is exited: no processes"), "{s}");
}

#[test]
fn top_errors_show_the_engine_message() {
    let mut a = two();
    open_on(&mut a, "web");
    press(&mut a, "[");
    a.update(Msg::CallDone {
        purpose: Purpose::Top { id: id_of("web") },
        result: Err("Container web is not running".into()),
    });
    assert!(render(&mut a, 80, 24).contains("Container web is not running"));
}

#[test]
fn tabs_are_clickable() {
    let mut a = two();
    open_on(&mut a, "web");
    let s = render(&mut a, 80, 24);
    let (row, line) = s
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("[Logs]") && l.contains(" Mounts"))
        .expect("a tab bar");
    let col = line[..line.find(" Env").unwrap()].chars().count() + 2;
    click(&mut a, col as u16, row as u16);
    let s = render(&mut a, 80, 24);
    assert!(s.contains("[Env 4]") && s.contains("NGINX_VERSION"), "{s}");
}

#[test]
fn group_rows_keep_the_last_container_and_fold() {
    let mut a = app();
    set_containers(
        &mut a,
        vec![
            container("shop-api-1", "running", Some("shop")),
            container("shop-db-1", "running", Some("shop")),
        ],
    );
    // Rows: the group, api, db.
    press(&mut a, "j enter");
    assert_eq!(
        calls(&a.take_effects()),
        vec![logs_open(&id_of("shop-api-1"))]
    );
    press(&mut a, "k");
    assert!(calls(&a.take_effects()).is_empty());
    assert!(render(&mut a, 80, 24).contains("shop-api-1 · running"));
    // Enter on the group row folds it; the pane stays.
    press(&mut a, "enter");
    let s = render(&mut a, 80, 24);
    assert!(
        !s.contains("  shop-db-1") && s.contains("shop-api-1 · running"),
        "{s}"
    );
}

#[test]
fn the_pane_shares_the_height_with_the_table() {
    let mut a = app();
    let rows: Vec<Value> = (0..30)
        .map(|i| container(&format!("worker-{i:02}"), "running", None))
        .collect();
    set_containers(&mut a, rows);
    press(&mut a, "enter");
    let s = render(&mut a, 80, 24);
    // Header, tab bar, 10 table rows (header + 9), the pane, the footer.
    assert!(s.contains("worker-08") && !s.contains("worker-09"), "{s}");
    assert_snapshot!("many_rows_80x24", s);
    // Paging moves by what the table shows.
    press(&mut a, "pagedown");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("worker-09 · running"), "{s}");
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut a = two();
    open_on(&mut a, "web");
    for _ in 0..7 {
        for (w, h) in [(20, 5), (1, 1), (30, 8), (80, 6), (12, 24)] {
            render(&mut a, w, h);
        }
        top_answer(&mut a, "web");
        press(&mut a, "] ctrl-d ctrl-d ctrl-u");
    }
}

#[test]
fn footer_shows_the_pane_keys() {
    let mut a = two();
    open_on(&mut a, "web");
    let s = render(&mut a, 120, 24);
    let footer = s.lines().nth(23).unwrap();
    assert!(
        footer.contains("] tab") && footer.contains("ctrl-d scroll"),
        "{footer}"
    );
    press(&mut a, "] ]");
    let s = render(&mut a, 120, 24);
    let footer = s.lines().nth(23).unwrap();
    assert!(footer.contains("/ filter"), "{footer}");
}

#[test]
fn i_still_opens_the_json_viewer_which_shares_the_text_pane() {
    let mut a = two();
    press(&mut a, "G");
    render(&mut a, 80, 24);
    press(&mut a, "i");
    let web = id_of("web");
    assert_eq!(
        calls(&a.take_effects()),
        vec![format!("GET /containers/{web}/json")]
    );
    let doc = a.store.details[&web].clone();
    a.update(Msg::CallDone {
        purpose: Purpose::Inspect {
            title: "inspect web".into(),
        },
        result: Ok(Some(doc)),
    });
    press(&mut a, "/ text:nginx enter");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("4 lines match") && s.contains("inspect web"),
        "{s}"
    );
    press(&mut a, "n G");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("\"Status\": \"running\""),
        "G goes to the end: {s}"
    );
    press(&mut a, "esc esc");
    assert!(!a.dialog_open());
}
