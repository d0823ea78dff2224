//! The containers view: groups, states, stats columns, actions and their confirmations, at the
//! three widths the columns adapt to.

use insta::assert_snapshot;

use crate::dashboard::app::App;
use crate::dashboard::msg::{Msg, Purpose};
use crate::dashboard::testing::*;

fn many() -> App {
    let mut a = app();
    let mut web = container("web", "running", None);
    web["Ports"] = serde_json::json!([{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]);
    set_containers(
        &mut a,
        vec![
            web,
            container("shop-api-1", "running", Some("shop")),
            container("shop-db-1", "running", Some("shop")),
            container("shop-worker-1", "exited", Some("shop")),
            container("batch", "exited", None),
            container("paused-one", "paused", None),
            container("fresh", "created", None),
            container(
                "a-container-with-a-very-long-name-that-does-not-fit-anywhere",
                "running",
                None,
            ),
        ],
    );
    for n in ["web", "shop-api-1", "shop-db-1"] {
        feed_stats(&mut a, n, 20);
    }
    a
}

#[test]
fn many_at_80x24() {
    let mut a = many();
    assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn many_at_120x30() {
    let mut a = many();
    assert_snapshot!(render(&mut a, 120, 30));
}

#[test]
fn many_at_200x50() {
    let mut a = many();
    assert_snapshot!(render(&mut a, 200, 50));
}

#[test]
fn one_container() {
    let mut a = app();
    set_containers(&mut a, vec![container("solo", "running", None)]);
    assert_snapshot!(render(&mut a, 100, 10));
}

#[test]
fn groups_fold_and_unfold() {
    let mut a = many();
    // The first row is the "shop" group.
    press(&mut a, "g z");
    let s = render(&mut a, 120, 14);
    assert!(!s.contains("shop-api-1"), "{s}");
    assert_snapshot!(s);
    press(&mut a, "enter");
    assert!(render(&mut a, 120, 14).contains("shop-api-1"));
}

#[test]
fn toggle_all_hides_stopped() {
    let mut a = many();
    press(&mut a, "a");
    let s = render(&mut a, 120, 14);
    assert!(!s.contains("batch") && s.contains("web"), "{s}");
}

#[test]
fn start_stop_calls_the_api_and_reports() {
    let mut a = many();
    press(&mut a, "G");
    // The last row (sorted by name, loose containers after groups) is "web".
    press(&mut a, "k k");
    let before = render(&mut a, 120, 14);
    assert!(before.contains("paused-one"), "{before}");
    let mut a = many();
    press(&mut a, "/ text:batch enter");
    render(&mut a, 120, 14);
    press(&mut a, "s");
    let calls = calls(&a.take_effects());
    assert_eq!(
        calls,
        vec![format!("POST /containers/{}/start", id_of("batch"))]
    );
    a.update(Msg::CallDone {
        purpose: Purpose::Action {
            label: "start batch".into(),
        },
        result: Err("cannot start: no such file".into()),
    });
    assert_snapshot!(render(&mut a, 100, 8));
}

#[test]
fn remove_asks_first() {
    let mut a = many();
    press(&mut a, "/ text:batch enter d");
    assert!(calls(&a.take_effects()).is_empty());
    assert_snapshot!(render(&mut a, 80, 16));
    press(&mut a, "y");
    assert_eq!(
        calls(&a.take_effects()),
        vec![format!("DELETE /containers/{}", id_of("batch"))]
    );
}

#[test]
fn marks_make_bulk_actions() {
    let mut a = many();
    press(&mut a, "/ text:shop enter");
    render(&mut a, 120, 14);
    // Rows: group, api, db, worker. Mark api and db, then restart both.
    press(&mut a, "j space space r");
    let calls = calls(&a.take_effects());
    assert_eq!(
        calls,
        vec![
            format!("POST /containers/{}/restart", id_of("shop-api-1")),
            format!("POST /containers/{}/restart", id_of("shop-db-1")),
        ]
    );
}

#[test]
fn rename_prompt() {
    let mut a = many();
    press(&mut a, "/ text:batch enter R");
    press(&mut a, "ctrl-a");
    assert_snapshot!(render(&mut a, 80, 16));
}

#[test]
fn exec_and_copy_are_effects() {
    let mut a = many();
    press(&mut a, "/ text:web enter");
    render(&mut a, 120, 14);
    press(&mut a, "e");
    let effects = local_effects(a.take_effects());
    assert!(
        matches!(&effects[..], [crate::dashboard::msg::Effect::Exec { container, .. }] if *container == id_of("web")),
        "{effects:?}"
    );
    press(&mut a, "Y");
    assert!(a
        .take_effects()
        .contains(&crate::dashboard::msg::Effect::Clipboard("web".into())));
    press(&mut a, "w");
    assert!(a
        .take_effects()
        .contains(&crate::dashboard::msg::Effect::OpenUrl(
            "http://localhost:8080".into()
        )));
}

#[test]
fn very_narrow_keeps_the_names() {
    let mut a = many();
    let s = render(&mut a, 40, 12);
    assert!(s.contains("shop-api-1") && s.contains("batch"), "{s}");
    assert_snapshot!(s);
}
