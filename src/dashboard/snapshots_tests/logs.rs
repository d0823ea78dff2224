//! The logs view: one container and merged streams, following and scrolling, search with
//! highlights and `n`/`N`, only-matching, regex errors, timestamps, wrapping and sideways
//! scrolling, since presets, saving, and how a stopped container or a failed stream shows.

use insta::assert_snapshot;

use crate::dashboard::app::App;
use crate::dashboard::msg::{Effect, Msg, StreamKey};
use crate::dashboard::testing::*;
use crate::dashboard::views::ViewId;

/// A log line as the engine sends it with `timestamps=1`: `i` tenths of a second after 11:58.
fn line(i: usize, text: &str) -> String {
    let ms = i * 100;
    format!(
        "2026-11-23T11:{:02}:{:02}.{:03}000000Z {text}",
        58 + ms / 60_000,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn lines(range: std::ops::Range<usize>, f: impl Fn(usize) -> String) -> Vec<String> {
    range.map(|i| line(i, &f(i))).collect()
}

/// An app with a few containers; `web` and the three of compose project `shop` are running,
/// `batch` has exited.
fn engine() -> App {
    let mut a = app();
    set_containers(
        &mut a,
        vec![
            container("web", "running", None),
            container("batch", "exited", None),
            container("shop-api-1", "running", Some("shop")),
            container("shop-db-1", "running", Some("shop")),
            container("shop-worker-1", "running", Some("shop")),
        ],
    );
    a
}

/// Opens the logs of the rows matching `filter` (the first row: a container, or the group)
/// and returns the streams it opened.
fn open_logs(a: &mut App, filter: &str) -> Vec<StreamKey> {
    press(a, &format!("/ text:{filter} enter g L"));
    assert_eq!(a.current(), ViewId::Logs);
    opened(&a.take_effects())
}

/// `web` with `n` lines: every 10th is an error on stderr.
fn web(n: usize) -> (App, StreamKey) {
    let mut a = engine();
    let keys = open_logs(&mut a, "web");
    assert_eq!(keys.len(), 1);
    let key = keys[0].clone();
    for i in 0..n {
        let (text, stderr) = if i % 10 == 7 {
            (
                format!("ERROR request {i} failed: upstream timed out"),
                true,
            )
        } else {
            (format!("GET /api/items/{i} 200 OK in {}ms", i % 13), false)
        };
        feed_lines(&mut a, &key, &[line(i, &text)], stderr);
    }
    (a, key)
}

#[test]
fn single_container_follows_the_newest_lines() {
    let mut a = engine();
    press(&mut a, "/ text:web enter g L");
    let effects = a.take_effects();
    assert_eq!(
        calls(&effects),
        vec![format!(
            "OPEN GET /containers/{}/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail=1000",
            id_of("web")
        )]
    );
    let key = opened(&effects).remove(0);
    assert_eq!(key, StreamKey::Logs(id_of("web"), 1));
    feed_lines(&mut a, &key, &lines(0..40, |i| format!("tick {i}")), false);
    let s = render(&mut a, 80, 24);
    assert!(s.contains("tick 39") && !s.contains("tick 10\n"), "{s}");
    assert!(s.contains("web · following · last 1000 · 40 lines"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn empty_logs_say_so() {
    let mut a = engine();
    open_logs(&mut a, "web");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("no log lines yet"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn merged_streams_are_prefixed_by_container() {
    let mut a = engine();
    let keys = open_logs(&mut a, "shop");
    assert_eq!(keys.len(), 3, "{keys:?}");
    let names = ["api", "db", "worker"];
    for i in 0..30 {
        let k = i % 3;
        feed_lines(
            &mut a,
            &keys[k],
            &[line(i, &format!("{} says hello #{i}", names[k]))],
            false,
        );
    }
    let s = render(&mut a, 80, 24);
    assert!(s.contains("project shop"), "{s}");
    // Each line starts with its container's name, padded to the longest.
    assert!(s.contains("shop-api-1    | api says hello #27"), "{s}");
    assert!(s.contains("shop-worker-1 | worker says hello #29"), "{s}");
    assert_snapshot!(s);
    // Prefix colours differ by container.
    let buf = render_buffer(&mut a, 80, 24);
    let row_of = |needle: &str| {
        (0..24)
            .find(|&y| {
                (0..80)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .contains(needle)
            })
            .unwrap()
    };
    let api = buf[(0, row_of("api says hello #27"))].fg;
    let db = buf[(0, row_of("db says hello #28"))].fg;
    assert_ne!(api, db);
    // Leaving closes all three streams.
    press(&mut a, "esc");
    assert_eq!(a.current(), ViewId::Containers);
    let closed = calls(&a.take_effects());
    assert_eq!(closed.len(), 3, "{closed:?}");
    assert!(
        closed.iter().all(|c| c.starts_with("CLOSE Logs(")),
        "{closed:?}"
    );
}

#[test]
fn merged_at_200x50_with_long_names() {
    let mut a = app();
    let long = "a-container-with-a-very-long-name-that-does-not-fit-anywhere";
    set_containers(
        &mut a,
        vec![
            container(long, "running", Some("p")),
            container("short", "running", Some("p")),
        ],
    );
    let keys = open_logs(&mut a, "p");
    assert_eq!(keys.len(), 2);
    for i in 0..10 {
        feed_lines(
            &mut a,
            &keys[i % 2],
            &[line(i, &format!("message {i}"))],
            false,
        );
    }
    let s = render(&mut a, 200, 50);
    // The prefix is cut to a quarter of the width at most.
    assert!(s.contains("a-container-with-a-very… | message 0"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn search_highlights_every_match_and_counts() {
    let (mut a, _) = web(60);
    press(&mut a, "/ text:error");
    // Live: the header counts while typing.
    let s = render(&mut a, 80, 24);
    assert!(s.contains("6 matches"), "{s}");
    press(&mut a, "enter N");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("6/6 matches") && s.contains("follow off"), "{s}");
    assert_snapshot!(s);
    let buf = render_buffer(&mut a, 80, 24);
    let theme = crate::dashboard::theme::Theme::default();
    // Every "ERROR" on screen is highlighted, and nothing else is.
    let mut highlighted = 0;
    for y in 2..23 {
        let row: String = (0..80).map(|x| buf[(x, y)].symbol().to_string()).collect();
        if let Some(x) = row.find("ERROR") {
            for dx in 0..5 {
                assert_eq!(buf[(x as u16 + dx, y)].bg, theme.highlight_bg, "{row}");
            }
            // Only the match: the space after it is not highlighted.
            assert_ne!(buf[(x as u16 + 5, y)].bg, theme.highlight_bg, "{row}");
            highlighted += 1;
        } else {
            assert!(
                (0..80).all(|x| buf[(x, y)].bg != theme.highlight_bg),
                "{row}"
            );
        }
    }
    assert!(highlighted >= 2, "{highlighted}");
}

#[test]
fn n_and_prev_jump_between_matches_and_scroll_there() {
    let (mut a, _) = web(200);
    render(&mut a, 80, 24);
    press(&mut a, "/ text:request_7_failed enter");
    // From the bottom, `n` wraps to the oldest match: line 7, far above the screen.
    press(&mut a, "n");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("ERROR request 7 failed") && s.contains("1/1 matches"),
        "{s}"
    );
    assert!(!s.contains("items/199"), "{s}");
    press(&mut a, "/ ctrl-u text:error enter n");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("1/20 matches"), "{s}");
    press(&mut a, "n n");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("3/20 matches"), "{s}");
    press(&mut a, "N N N");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("20/20 matches") && s.contains("ERROR request 197"),
        "{s}"
    );
    // G follows again; esc clears the search before it leaves the view.
    press(&mut a, "G esc");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("following") && !s.contains("matches"), "{s}");
    assert_eq!(a.current(), ViewId::Logs);
}

#[test]
fn only_matching_lines() {
    let (mut a, _) = web(100);
    press(&mut a, "/ text:error enter F");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("only matching"), "{s}");
    assert!(!s.contains("200 OK"), "{s}");
    assert_eq!(s.matches("ERROR request").count(), 10, "{s}");
    assert_snapshot!(s);
    // A search nothing matches shows an empty screen that says why.
    press(&mut a, "/ ctrl-u text:nomatch enter");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("no line matches \"nomatch\""), "{s}");
}

#[test]
fn a_bad_regex_shows_its_error_and_matches_nothing() {
    let (mut a, _) = web(30);
    press(&mut a, "ctrl-r / text:(ERROR|WARN enter");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("regex error: unclosed group"), "{s}");
    assert_snapshot!(s);
    press(&mut a, "F n");
    let s = render(&mut a, 80, 24);
    assert!(!s.contains("200 OK"), "{s}");
    assert_eq!(
        a.status().map(|(_, t)| t),
        Some("regex error: unclosed group")
    );
    // Fixing it matches again.
    press(&mut a, "/ end text:) enter");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("3 matches") && s.contains("ERROR request 27"),
        "{s}"
    );
}

#[test]
fn regex_search() {
    let (mut a, _) = web(50);
    press(&mut a, "ctrl-r / text:items/1[0-9]_ enter F");
    let s = render(&mut a, 80, 24);
    // items/10 to items/19 but 17, an error line.
    assert!(s.contains("regex") && s.contains("9 matches"), "{s}");
    assert!(
        s.contains("items/19 ") && !s.contains("items/20 ") && !s.contains("ERROR"),
        "{s}"
    );
}

#[test]
fn timestamps_on() {
    let (mut a, _) = web(30);
    press(&mut a, "t");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("11:58:02.900 GET /api/items/29"), "{s}");
    assert!(s.contains("timestamps"), "{s}");
    assert_snapshot!(s);
    press(&mut a, "t");
    assert!(!render(&mut a, 80, 24).contains("11:58:02.900"));
}

fn long_lines(a: &mut App, key: &StreamKey) {
    for i in 0..6 {
        let text = format!(
            "{i}: {}END{i}",
            (0..30)
                .map(|w| format!("word{w}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        feed_lines(a, key, &[line(i, &text)], false);
    }
}

#[test]
fn wrap_on_at_80x24() {
    let mut a = engine();
    let key = open_logs(&mut a, "web").remove(0);
    long_lines(&mut a, &key);
    let s = render(&mut a, 80, 24);
    assert!(!s.contains("END5"), "{s}");
    press(&mut a, "w");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("END5") && s.contains("wrap"), "{s}");
    assert_snapshot!(s);
    // Wrapped with timestamps and scrolled to the top: the first line starts the screen.
    press(&mut a, "t g");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("11:58:00.000 0: word0"), "{s}");
}

#[test]
fn long_lines_at_200x50_scroll_sideways() {
    let mut a = engine();
    let key = open_logs(&mut a, "web").remove(0);
    long_lines(&mut a, &key);
    let s = render(&mut a, 200, 50);
    assert!(!s.contains("END0"), "{s}");
    press(&mut a, "right");
    let s = render(&mut a, 200, 50);
    assert!(s.contains("END0") && s.contains("→"), "{s}");
    assert_snapshot!(s);
    // It stops where the longest line ends, and left goes back.
    press(&mut a, "right right right");
    let s = render(&mut a, 200, 50);
    assert!(s.contains("END0"), "{s}");
    press(&mut a, "left left left left left");
    let s = render(&mut a, 200, 50);
    assert!(s.contains("0: word0"), "{s}");
}

#[test]
fn a_stopped_container_shows_its_last_logs() {
    let mut a = engine();
    let key = open_logs(&mut a, "batch").remove(0);
    feed_lines(
        &mut a,
        &key,
        &lines(0..5, |i| format!("batch step {i}")),
        false,
    );
    a.update(Msg::StreamEnd {
        key: key.clone(),
        error: None,
    });
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("container stopped — showing its last logs") && s.contains("batch step 4"),
        "{s}"
    );
    assert_snapshot!(s);
}

#[test]
fn a_stopped_container_without_logs() {
    let mut a = engine();
    let key = open_logs(&mut a, "batch").remove(0);
    a.update(Msg::StreamEnd { key, error: None });
    let s = render(&mut a, 80, 24);
    assert!(s.contains("stopped without writing any"), "{s}");
}

#[test]
fn a_stream_error_shows_the_engine_message() {
    let mut a = engine();
    let key = open_logs(&mut a, "web").remove(0);
    a.update(Msg::StreamEnd {
        key,
        error: Some("No such container: web".into()),
    });
    let s = render(&mut a, 80, 24);
    assert!(s.contains("error: No such container: web"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn since_presets_reopen_the_streams() {
    let (mut a, old) = web(20);
    render(&mut a, 80, 24);
    press(&mut a, "S");
    let effects = a.take_effects();
    let since = now().timestamp() - 60;
    assert_eq!(
        calls(&effects),
        vec![
            format!("CLOSE Logs(\"{}\", 1)", id_of("web")),
            format!(
                "OPEN GET /containers/{}/logs?follow=1&stdout=1&stderr=1&timestamps=1&since={since}",
                id_of("web")
            ),
        ]
    );
    let new = opened(&effects).remove(0);
    assert_eq!(new, StreamKey::Logs(id_of("web"), 2));
    // Lines of the old stream still in flight are dropped; the buffer starts over.
    feed_lines(&mut a, &old, &[line(50, "stale line")], false);
    feed_lines(&mut a, &new, &[line(51, "fresh line")], false);
    let s = render(&mut a, 80, 24);
    assert!(s.contains("since 1m") && s.contains("fresh line"), "{s}");
    assert!(!s.contains("stale line") && !s.contains("items/19"), "{s}");
    assert_snapshot!(s);
    // 10m, 1h, 1d, then back to the tail.
    press(&mut a, "S S S");
    let c = calls(&a.take_effects());
    assert!(
        c.last()
            .unwrap()
            .ends_with(&format!("since={}", now().timestamp() - 86_400)),
        "{c:?}"
    );
    press(&mut a, "S");
    let c = calls(&a.take_effects());
    assert!(c.last().unwrap().ends_with("tail=1000"), "{c:?}");
    assert!(render(&mut a, 80, 24).contains("last 1000"));
}

#[test]
fn save_prompts_for_a_path_and_writes_every_line() {
    let (mut a, _) = web(30);
    render(&mut a, 80, 24);
    // The search does not limit what is saved.
    press(&mut a, "/ text:error enter F ctrl-s");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("./web-20261123-120000.log"), "{s}");
    assert_snapshot!(s);
    press(&mut a, "enter");
    let effects = local_effects(a.take_effects());
    let [Effect::WriteFile { path, contents }] = &effects[..] else {
        panic!("{effects:?}");
    };
    assert_eq!(path, "./web-20261123-120000.log");
    assert_eq!(contents.lines().count(), 30);
    assert!(contents.starts_with("2026-11-23T11:58:00.000000000Z GET /api/items/0 200 OK"));
    // The session answers; a refusal shows the reason.
    a.update(Msg::CallDone {
        purpose: crate::dashboard::msg::Purpose::Action {
            label: format!("save to {path}"),
        },
        result: Err(format!("{path} already exists")),
    });
    assert!(render(&mut a, 80, 24).contains("already exists"));
}

#[test]
fn saving_merged_logs_keeps_the_prefixes() {
    let mut a = engine();
    let keys = open_logs(&mut a, "shop");
    feed_lines(&mut a, &keys[1], &[line(1, "db ready")], false);
    render(&mut a, 80, 24);
    press(&mut a, "ctrl-s ctrl-u text:/tmp/shop.log enter");
    let effects = local_effects(a.take_effects());
    assert_eq!(
        effects,
        vec![Effect::WriteFile {
            path: "/tmp/shop.log".into(),
            contents: "shop-db-1 | 2026-11-23T11:58:00.100000000Z db ready\n".into()
        }]
    );
}

#[test]
fn scrolling_stops_following_and_keeps_the_place() {
    let (mut a, key) = web(100);
    render(&mut a, 80, 24);
    press(&mut a, "k k");
    let before = render(&mut a, 80, 24);
    assert!(
        before.contains("follow off") && !before.contains("items/99 "),
        "{before}"
    );
    // New lines do not move a scrolled view.
    feed_lines(
        &mut a,
        &key,
        &lines(100..110, |i| format!("new {i}")),
        false,
    );
    let after = render(&mut a, 80, 24);
    let body = |s: &str| s.lines().skip(3).take(18).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&before), body(&after));
    // The wheel scrolls too; End follows again.
    a.update(Msg::Input(crossterm::event::Event::Mouse(
        crossterm::event::MouseEvent {
            kind: crossterm::event::MouseEventKind::ScrollUp,
            column: 10,
            row: 10,
            modifiers: crossterm::event::KeyModifiers::NONE,
        },
    )));
    assert_ne!(body(&render(&mut a, 80, 24)), body(&after));
    press(&mut a, "end");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("following") && s.contains("new 109"), "{s}");
    // Top, page down, and `f` toggles.
    press(&mut a, "g");
    assert!(render(&mut a, 80, 24).contains("items/0 "));
    press(&mut a, "pagedown");
    let s = render(&mut a, 80, 24);
    assert!(!s.contains("items/0 ") && s.contains("items/20 "), "{s}");
    press(&mut a, "f");
    assert!(render(&mut a, 80, 24).contains("new 109"));
}

#[test]
fn tiny_and_narrow_screens_do_not_panic() {
    let (mut a, _) = web(50);
    press(&mut a, "/ text:error enter t w");
    for (w, h) in [(20, 5), (1, 1), (5, 3), (30, 4), (80, 24)] {
        render(&mut a, w, h);
    }
    press(&mut a, "w F right k n");
    for (w, h) in [(20, 5), (2, 2), (80, 3)] {
        render(&mut a, w, h);
    }
    let s = render(&mut a, 40, 8);
    assert_snapshot!(s);
}

#[test]
fn streams_resume_after_the_last_line_when_the_engine_comes_back() {
    let (mut a, key) = web(3);
    // The engine goes away: the stream ends with an error, the last lines stay.
    a.update(Msg::Disconnected("connection refused".into()));
    a.update(Msg::StreamEnd {
        key: key.clone(),
        error: Some("the engine connection was lost".into()),
    });
    a.update(Msg::Tick);
    assert!(streams(&a.take_effects()).is_empty(), "no retry while lost");
    // Back: the next tick reopens it right after the last line it delivered, same buffer.
    a.update(Msg::Connected(Default::default()));
    a.update(Msg::Tick);
    let reopened = streams(&a.take_effects());
    assert_eq!(reopened.len(), 1, "{reopened:?}");
    assert_eq!(
        reopened[0].key, key,
        "same generation: lines keep their place"
    );
    let last = chrono::DateTime::parse_from_rfc3339(line(2, "x").split(' ').next().unwrap())
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
        + 1;
    let since = format!("since={}.{:09}", last / 1_000_000_000, last % 1_000_000_000);
    assert!(
        reopened[0].path.ends_with(&since),
        "{} vs {since}",
        reopened[0].path
    );
    assert!(
        render(&mut a, 80, 10).contains("/api/items/2 "),
        "the old lines stay"
    );
    // Once is enough: the next tick leaves the reopened stream alone.
    a.take_effects();
    a.update(Msg::Tick);
    assert!(opened(&a.take_effects()).is_empty());
}

#[test]
fn a_stopped_container_is_not_followed_until_it_runs_again() {
    let mut a = engine();
    let key = open_logs(&mut a, "batch").remove(0);
    feed_lines(
        &mut a,
        &key,
        &lines(0..2, |i| format!("batch step {i}")),
        false,
    );
    a.update(Msg::StreamEnd {
        key: key.clone(),
        error: None,
    });
    a.update(Msg::Tick);
    assert!(streams(&a.take_effects()).is_empty());
    // Started again (the list says running): its new lines follow the old ones.
    let mut rows = vec![container("batch", "running", None)];
    rows.push(container("web", "running", None));
    set_containers(&mut a, rows);
    a.update(Msg::Tick);
    let reopened = streams(&a.take_effects());
    assert_eq!(reopened.len(), 1, "{reopened:?}");
    assert!(reopened[0].path.contains("since="), "{}", reopened[0].path);
}
