//! The keymap's parsing, resolution order and conflict checks.

use super::*;

fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, mods)
}

#[test]
fn key_names_round_trip() {
    for s in [
        "q",
        "G",
        "?",
        "ctrl-a",
        "shift-tab",
        "enter",
        "esc",
        "space",
        "f5",
        "pageup",
        "alt-x",
        "-",
        "ctrl--",
        "[",
    ] {
        let k = Key::parse(s).unwrap();
        assert_eq!(k.to_string(), s, "{s}");
    }
    assert_eq!(Key::parse("shift-g").unwrap().to_string(), "G");
    assert_eq!(Key::parse("Ctrl-A").unwrap().to_string(), "ctrl-a");
}

#[test]
fn bad_key_names_say_why() {
    assert!(Key::parse("").unwrap_err().contains("empty"));
    assert!(Key::parse("hyper-x").unwrap_err().contains("modifier"));
    assert!(Key::parse("f99").unwrap_err().contains("function key"));
    assert!(Key::parse("enterr")
        .unwrap_err()
        .contains("unknown key name"));
    assert!(Key::parse("shift-?").unwrap_err().contains("shifted"));
}

#[test]
fn resolves_by_view_then_list_then_global() {
    let km = Keymap::default();
    let p = ev(KeyCode::Char('p'), KeyModifiers::NONE);
    assert_eq!(
        km.resolve(Context::Containers, &p),
        Some(Action::PauseToggle)
    );
    assert_eq!(km.resolve(Context::Images, &p), Some(Action::Pull));
    let j = ev(KeyCode::Char('j'), KeyModifiers::NONE);
    assert_eq!(km.resolve(Context::Volumes, &j), Some(Action::Down));
    let q = ev(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(km.resolve(Context::Logs, &q), Some(Action::Quit));
    // Terminals report shift with upper-case letters or not; both mean "G".
    let g1 = ev(KeyCode::Char('G'), KeyModifiers::SHIFT);
    let g2 = ev(KeyCode::Char('G'), KeyModifiers::NONE);
    assert_eq!(km.resolve(Context::Images, &g1), Some(Action::Bottom));
    assert_eq!(km.resolve(Context::Images, &g2), Some(Action::Bottom));
    let back = ev(KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(km.resolve(Context::Images, &back), Some(Action::PrevView));
    let ctrl_a = ev(KeyCode::Char('a'), KeyModifiers::CONTROL);
    assert_eq!(km.resolve(Context::Images, &ctrl_a), Some(Action::MarkAll));
    // The builds view: its own r, d and b; 6 reaches it from anywhere; b builds from
    // the images view too; ctrl-d scrolls a step's log there, as the detail pane does.
    let key = |c| ev(KeyCode::Char(c), KeyModifiers::NONE);
    assert_eq!(
        km.resolve(Context::Builds, &key('r')),
        Some(Action::Rebuild)
    );
    assert_eq!(
        km.resolve(Context::Builds, &key('d')),
        Some(Action::RemoveBuild)
    );
    assert_eq!(
        km.resolve(Context::Builds, &key('b')),
        Some(Action::NewBuild)
    );
    assert_eq!(
        km.resolve(Context::Images, &key('b')),
        Some(Action::BuildImage)
    );
    assert_eq!(
        km.resolve(Context::Logs, &key('6')),
        Some(Action::ViewBuilds)
    );
    assert_eq!(km.resolve(Context::Builds, &key('j')), Some(Action::Down));
    let ctrl_d = ev(KeyCode::Char('d'), KeyModifiers::CONTROL);
    assert_eq!(
        km.resolve(Context::Builds, &ctrl_d),
        Some(Action::BuildLogDown)
    );
}

#[test]
fn conflicts_are_refused() {
    let mut keys: HashMap<Action, Vec<Key>> = Action::ALL
        .iter()
        .map(|&a| {
            (
                a,
                a.default_keys()
                    .iter()
                    .map(|k| Key::parse(k).unwrap())
                    .collect(),
            )
        })
        .collect();
    keys.insert(Action::Restart, vec![Key::parse("s").unwrap()]);
    let (action, why) = Keymap::from_bindings(keys.clone()).unwrap_err();
    assert!(matches!(action, Action::Restart | Action::StartStop));
    assert!(why.contains("\"s\""), "{why}");
    keys.insert(Action::Restart, vec![Key::parse("q").unwrap()]);
    let (_, why) = Keymap::from_bindings(keys).unwrap_err();
    assert!(why.contains("global.quit"), "{why}");
}

#[test]
fn every_action_has_a_unique_name_in_its_context() {
    let mut seen = std::collections::HashSet::new();
    for a in Action::ALL {
        assert!(seen.insert((a.context(), a.name())), "{a:?}");
        assert!(!a.description().is_empty());
    }
}
