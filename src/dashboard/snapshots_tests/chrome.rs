//! The frame and the app-wide dialogs: header, tabs, footer, help, palette, filter line,
//! engine-lost banner, status messages.

use insta::assert_snapshot;

use crate::dashboard::msg::Msg;
use crate::dashboard::testing::*;

fn three() -> crate::dashboard::app::App {
    let mut a = app();
    set_containers(
        &mut a,
        vec![
            container("web", "running", None),
            container("db", "exited", None),
            container("cache", "running", None),
        ],
    );
    a
}

#[test]
fn empty_engine_80x24() {
    let mut a = app();
    a.update(Msg::Containers(vec![]));
    assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn connecting_before_any_answer() {
    let mut a = crate::dashboard::app::App::new(Default::default());
    a.clock = Some(now());
    assert_snapshot!(render(&mut a, 80, 24));
}

#[test]
fn engine_lost_banner_keeps_the_last_data() {
    let mut a = three();
    a.update(Msg::Disconnected(
        "Cannot connect to the berth engine at unix:///run/berth/berth.sock".into(),
    ));
    assert_snapshot!(render(&mut a, 100, 12));
    // Keys still work while it is lost.
    press(&mut a, "j");
    a.update(Msg::Connected(Default::default()));
    let s = render(&mut a, 100, 12);
    assert!(!s.contains("connection lost"), "{s}");
    assert!(s.contains("reconnected"), "{s}");
}

#[test]
fn help_is_generated_from_the_keymap() {
    let mut a = three();
    press(&mut a, "?");
    assert_snapshot!(render(&mut a, 80, 40));
    press(&mut a, "esc");
    assert!(!a.dialog_open());
}

#[test]
fn palette_narrows_and_runs() {
    let mut a = three();
    press(&mut a, ": text:togall");
    assert_snapshot!(render(&mut a, 80, 24));
    press(&mut a, "enter");
    // "show all / running only": the stopped container disappears.
    let s = render(&mut a, 80, 24);
    assert!(!s.contains(" db "), "{s}");
}

#[test]
fn filter_line_filters_live_and_esc_clears() {
    let mut a = three();
    press(&mut a, "/ text:ca");
    assert_snapshot!(render(&mut a, 80, 10));
    press(&mut a, "enter");
    let s = render(&mut a, 80, 10);
    assert!(s.contains("cache") && !s.contains(" web "), "{s}");
    press(&mut a, "esc");
    let s = render(&mut a, 80, 10);
    assert!(s.contains(" web "), "{s}");
}

#[test]
fn tabs_switch_by_number_tab_and_click() {
    let mut a = three();
    press(&mut a, "2");
    assert_eq!(a.current(), crate::dashboard::views::ViewId::Images);
    press(&mut a, "tab tab");
    assert_eq!(a.current(), crate::dashboard::views::ViewId::Networks);
    press(&mut a, "shift-tab");
    assert_eq!(a.current(), crate::dashboard::views::ViewId::Volumes);
    render(&mut a, 120, 10);
    // The tab bar is row 1; "1 Containers" starts at column 0.
    click(&mut a, 3, 1);
    assert_eq!(a.current(), crate::dashboard::views::ViewId::Containers);
}

#[test]
fn mouse_toggle_says_what_it_did() {
    let mut a = three();
    press(&mut a, "m");
    assert!(!a.mouse);
    let effects = a.take_effects();
    assert!(effects.contains(&crate::dashboard::msg::Effect::SetMouse(false)));
    assert_snapshot!(render(&mut a, 100, 8));
}

#[test]
fn ctrl_c_and_q_quit() {
    let mut a = three();
    press(&mut a, "q");
    assert!(a.should_quit());
    let mut a = three();
    press(&mut a, "ctrl-c");
    assert!(a.should_quit());
}

#[test]
fn inspect_viewer_loads_searches_and_shows_errors() {
    let mut a = three();
    press(&mut a, "/ text:web enter i");
    let title = "inspect web".to_string();
    assert_eq!(
        calls(&a.take_effects()),
        vec![format!("GET /containers/{}/json", id_of("web"))]
    );
    assert!(render(&mut a, 80, 12).contains("loading…"));
    let doc = detail(&container("web", "running", None));
    a.update(Msg::CallDone {
        purpose: crate::dashboard::msg::Purpose::Inspect {
            title: title.clone(),
        },
        result: Ok(Some(doc)),
    });
    press(&mut a, "/ text:greeting enter");
    assert_snapshot!(render(&mut a, 80, 24));
    press(&mut a, "esc esc");
    assert!(!a.dialog_open());
    press(&mut a, "i");
    a.take_effects();
    a.update(Msg::CallDone {
        purpose: crate::dashboard::msg::Purpose::Inspect { title },
        result: Err("No such container: web".into()),
    });
    let s = render(&mut a, 80, 12);
    assert!(s.contains("No such container: web"), "{s}");
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut a = three();
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 8)] {
        render(&mut a, w, h);
        press(&mut a, "? esc : esc 2 3 4 5 1");
        render(&mut a, w, h);
    }
}
