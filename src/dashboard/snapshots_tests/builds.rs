//! The builds view: the table (running, cached, failed, cancelled, untagged builds from docker
//! build) at 80x24 and 200x50, what it says with no builds or an engine that keeps none, the
//! detail of a failed build (the failing step highlighted, its log), step and log keys,
//! rebuild, remove, the build form from the images view, and a build task's live progress.

use berth_engine::model::build::BuildRecord;
use crossterm::event::{KeyCode, KeyModifiers};
use insta::assert_snapshot;
use serde_json::{json, Value};

use crate::dashboard::app::App;
use crate::dashboard::msg::{BuildSpec, Effect, FeedRequest, Msg, Purpose, StreamItem, StreamKey};
use crate::dashboard::testing::*;
use crate::dashboard::views::ViewId;

/// A build id from a seed, as the engine makes them (64 hex digits).
fn build_id(seed: &str) -> String {
    id_of(seed)
}

fn step(n: usize, instruction: &str, status: &str, ms: Option<u64>, size: Option<u64>) -> Value {
    json!({"number": n, "stage": "0", "instruction": instruction, "status": status,
           "duration_ms": ms, "layer_size": size,
           "image_id": format!("sha256:{}", id_of(&format!("step{n}"))), "log": ""})
}

/// A record as `GET /berth/v1/builds` lists it.
fn record(seed: &str, tags: &[&str], status: &str, age_secs: i64, steps: Vec<Value>) -> Value {
    let finished = status != "running";
    json!({
        "id": build_id(seed), "tags": tags,
        "context_dir": format!("/home/me/src/{seed}"), "dockerfile": "Dockerfile",
        "target": null, "build_args": {}, "status": status,
        "started": rfc3339_ago(age_secs),
        "finished": if finished { json!(rfc3339_ago(age_secs - 40)) } else { Value::Null },
        "duration_ms": if finished { json!(72_400) } else { Value::Null },
        "image_id": if status == "succeeded" { json!(format!("sha256:{}", id_of(seed))) } else { Value::Null },
        "error": if status == "failed" { json!("The command '/bin/sh -c make test' returned a non-zero code: 2") } else { Value::Null },
        "steps": steps,
    })
}

fn web() -> Value {
    let mut steps = vec![
        step(1, "FROM golang:1.23 AS build", "cached", None, None),
        step(2, "WORKDIR /src", "cached", None, None),
        step(3, "COPY go.mod go.sum ./", "cached", None, Some(2_100)),
        step(4, "RUN go mod download", "cached", None, Some(48_000_000)),
        step(5, "COPY . .", "cached", None, Some(310_000)),
        step(
            6,
            "RUN go build -o /web ./cmd/web",
            "done",
            Some(41_800),
            Some(18_200_000),
        ),
        step(7, "FROM debian:13-slim", "done", Some(10), None),
        step(
            8,
            "COPY --from=build /web /usr/local/bin/web",
            "done",
            Some(120),
            Some(18_200_000),
        ),
        step(9, "CMD [\"web\"]", "done", Some(15), None),
    ];
    for (i, s) in steps.iter_mut().enumerate() {
        s["stage"] = json!(if i < 6 { "build" } else { "1" });
    }
    record(
        "web",
        &["shop/web:dev", "shop/web:latest"],
        "succeeded",
        3_600,
        steps,
    )
}

fn api_failed() -> Value {
    let mut r = record(
        "api",
        &["shop/api:dev"],
        "failed",
        600,
        vec![
            step(1, "FROM busybox", "cached", None, None),
            step(2, "COPY . /src", "done", Some(90), Some(52_000)),
            step(3, "RUN make -C /src", "done", Some(3_100), Some(1_400_000)),
            step(4, "RUN make -C /src test", "failed", Some(1_900), None),
            step(5, "CMD [\"/src/api\"]", "pending", None, None),
        ],
    );
    r["build_args"] = json!({"VERSION": "1.4"});
    r["target"] = json!("test");
    r
}

fn running() -> Value {
    record(
        "worker",
        &["shop/worker:dev"],
        "running",
        75,
        vec![
            step(1, "FROM busybox", "cached", None, None),
            step(2, "COPY . /app", "cached", None, Some(8_000)),
            step(3, "RUN ./build.sh", "running", None, None),
            step(4, "CMD [\"/app/worker\"]", "pending", None, None),
        ],
    )
}

/// A build sent by `docker build`: no tags, no directory the engine could know.
fn untagged_from_docker() -> Value {
    let mut r = record(
        "anon",
        &[],
        "cancelled",
        86_400,
        vec![step(1, "FROM busybox", "done", Some(5), None)],
    );
    r["context_dir"] = Value::Null;
    r
}

fn set_builds(a: &mut App, list: Vec<Value>) {
    let list: Vec<BuildRecord> = serde_json::from_value(Value::Array(list)).unwrap();
    a.update(Msg::Builds(Ok(list)));
}

fn many() -> App {
    let mut a = app();
    set_builds(
        &mut a,
        vec![running(), api_failed(), web(), untagged_from_docker()],
    );
    press(&mut a, "6");
    a.take_effects();
    a
}

/// The full record of the failed build, with each step's log.
fn api_failed_full() -> Value {
    let mut r = api_failed();
    r["steps"][2]["log"] = json!(
        "make: Entering directory '/src'\ncc -O2 -o api main.c\nmake: Leaving directory '/src'\n"
    );
    let mut log = String::from("make: Entering directory '/src'\n");
    for i in 1..=30 {
        log.push_str(&format!("test {i:02} ... ok\n"));
    }
    log.push_str("test 31 ... \u{1b}[91mFAILED\u{1b}[0m\nassertion failed: status == 200 (got 500)\nmake: *** [Makefile:12: test] Error 2\n");
    r["steps"][3]["log"] = json!(log);
    r
}

fn open_failed_detail() -> App {
    let mut a = many();
    // The failed build is the second row (newest first).
    press(&mut a, "j enter");
    let calls = calls(&a.take_effects());
    assert_eq!(
        calls,
        vec![format!("GET /berth/v1/builds/{}", build_id("api"))]
    );
    a.update(Msg::CallDone {
        purpose: Purpose::BuildDetail {
            id: build_id("api"),
        },
        result: Ok(Some(api_failed_full())),
    });
    a
}

fn build_requests(effects: &[Effect]) -> Vec<BuildSpec> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Feed(r) => match &r.0 {
                FeedRequest::Build(b) => Some(b.spec.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn the_view_is_tab_six_and_reads_the_list_when_opened() {
    let mut a = app();
    press(&mut a, "6");
    assert_eq!(a.current(), ViewId::Builds);
    assert_eq!(calls(&a.take_effects()), vec!["REFRESH BUILDS"]);
    let s = render(&mut a, 80, 8);
    assert!(s.contains("loading…"), "{s}");
    // Tab from the events view lands here, and on to stacks, then containers.
    press(&mut a, "5 tab");
    assert_eq!(a.current(), ViewId::Builds);
    press(&mut a, "tab");
    assert_eq!(a.current(), ViewId::Stacks);
    press(&mut a, "tab");
    assert_eq!(a.current(), ViewId::Containers);
    press(&mut a, "shift-tab shift-tab");
    assert_eq!(a.current(), ViewId::Builds);
}

#[test]
fn empty_and_an_engine_without_records() {
    let mut a = app();
    set_builds(&mut a, vec![]);
    press(&mut a, "6");
    let s = render(&mut a, 80, 6);
    assert!(
        s.contains("no builds yet: build an image (b), or run berth build or docker build"),
        "{s}"
    );
    assert_snapshot!("empty", s);
    a.update(Msg::Builds(Err(
        "this engine keeps no build records (berth's engine does)".into(),
    )));
    let s = render(&mut a, 80, 6);
    assert!(s.contains("this engine keeps no build records"), "{s}");
}

#[test]
fn list_80x24() {
    let mut a = many();
    let s = render(&mut a, 80, 24);
    assert!(s.contains("shop/web:dev, shop/web:latest"), "{s}");
    assert!(s.contains("9/9, 5 cached"), "{s}");
    assert!(s.contains("3/5, 1 cached"), "{s}");
    assert!(s.contains("<none> 616e6f6e0000"), "{s}");
    // Where the running build is, under the table.
    assert!(
        s.contains("⟳ shop/worker:dev: step 3/4 : RUN ./build.sh"),
        "{s}"
    );
    assert_snapshot!(s);
}

#[test]
fn list_200x50() {
    let mut a = many();
    let s = render(&mut a, 200, 50);
    // The image the build made, and how long the running one has run.
    assert!(s.contains("776562000000"), "{s}");
    assert!(s.contains("1m15s"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn statuses_are_coloured_by_the_theme() {
    let mut a = many();
    let buf = render_buffer(&mut a, 120, 10);
    let theme = crate::dashboard::theme::Theme::default();
    let fg_of = |word: &str| {
        let text = text_of(&buf);
        let (y, line) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(word))
            .unwrap();
        let x = line.find(word).unwrap();
        let x = line[..x].chars().count() as u16;
        buf[(x, y as u16)].fg
    };
    assert_eq!(fg_of("running"), theme.warning);
    assert_eq!(fg_of("failed"), theme.error);
    assert_eq!(fg_of("succeeded"), theme.ok);
    assert_eq!(fg_of("cancelled"), theme.muted);
}

#[test]
fn detail_with_a_failed_step() {
    let mut a = open_failed_detail();
    let s = render(&mut a, 80, 24);
    // The failing step is selected and its log's end (the error) is in view.
    assert!(s.contains("step 4/5 log"), "{s}");
    assert!(s.contains("make: *** [Makefile:12: test] Error 2"), "{s}");
    assert!(s.contains("test 31 ... FAILED"), "{s}");
    assert!(s.contains("--target test --build-arg VERSION=1.4"), "{s}");
    // Why it failed closes its log, in the error colour; the log itself is plain.
    let lines: Vec<&str> = s.lines().collect();
    let at = lines.iter().position(|l| l.contains("Error 2")).unwrap();
    assert!(
        lines[at + 1].starts_with("The command '/bin/sh -c make test' returned"),
        "{s}"
    );
    assert!(
        s.contains("fg:LightRed+BOLD \"The command '/bin/sh -c"),
        "{s}"
    );
    assert!(!s.contains("fg:LightRed+BOLD \"test 30"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn detail_at_200x50() {
    let mut a = open_failed_detail();
    assert_snapshot!(render(&mut a, 200, 50));
}

#[test]
fn detail_keys_pick_steps_and_scroll_the_log() {
    let mut a = open_failed_detail();
    // Up: step 3's log.
    press(&mut a, "k");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("step 3/5 log") && s.contains("cc -O2 -o api main.c"),
        "{s}"
    );
    // Down to the failed step again; ctrl-u scrolls back to its beginning.
    press(&mut a, "j ctrl-u ctrl-u ctrl-u ctrl-u ctrl-u");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("make: Entering directory"), "{s}");
    assert!(s.contains("more"), "{s}");
    press(&mut a, "ctrl-d ctrl-d ctrl-d ctrl-d ctrl-d ctrl-d");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("Error 2") && !s.contains("more"), "{s}");
    // A cached step says why it has no log.
    press(&mut a, "g");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("from the cache: this step did not run in this build"),
        "{s}"
    );
    // Esc back to the table, on the same build.
    press(&mut a, "esc");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("TAG(S)"), "{s}");
    press(&mut a, "enter");
    assert_eq!(
        calls(&a.take_effects()),
        vec![format!("GET /berth/v1/builds/{}", build_id("api"))]
    );
}

#[test]
fn a_running_build_is_read_again_until_it_ends() {
    let mut a = many();
    press(&mut a, "enter");
    a.take_effects();
    a.update(Msg::CallDone {
        purpose: Purpose::BuildDetail {
            id: build_id("worker"),
        },
        result: Ok(Some(running())),
    });
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("step 3/4 log") && s.contains("running, nothing printed yet"),
        "{s}"
    );
    a.update(Msg::Tick);
    assert!(calls(&a.take_effects()).is_empty());
    a.update(Msg::Tick);
    assert_eq!(
        calls(&a.take_effects()),
        vec![format!("GET /berth/v1/builds/{}", build_id("worker"))]
    );
    // No second read while one is under way.
    a.update(Msg::Tick);
    a.update(Msg::Tick);
    assert!(calls(&a.take_effects()).is_empty());
    let mut done = running();
    done["status"] = json!("succeeded");
    done["steps"][2]["status"] = json!("done");
    done["steps"][3]["status"] = json!("done");
    a.update(Msg::CallDone {
        purpose: Purpose::BuildDetail {
            id: build_id("worker"),
        },
        result: Ok(Some(done.clone())),
    });
    set_builds(&mut a, vec![done, api_failed(), web()]);
    a.update(Msg::Tick);
    a.update(Msg::Tick);
    a.update(Msg::Tick);
    assert!(calls(&a.take_effects()).is_empty());
}

#[test]
fn rebuild_sends_the_same_build_again() {
    let mut a = many();
    press(&mut a, "j r");
    let effects = a.take_effects();
    assert_eq!(
        build_requests(&effects),
        vec![BuildSpec {
            context_dir: "/home/me/src/api".into(),
            dockerfile: None,
            tags: vec!["shop/api:dev".into()],
            target: Some("test".into()),
            build_args: vec![("VERSION".into(), "1.4".into())],
        }]
    );
    assert_eq!(calls(&effects), vec!["BUILD /home/me/src/api Task(1)"]);
    // Its progress opens at once.
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("build shop/api:dev from /home/me/src/api"),
        "{s}"
    );
    // A build from docker build has no directory to send again.
    press(&mut a, "esc G r");
    assert!(build_requests(&a.take_effects()).is_empty());
    let s = render(&mut a, 120, 24);
    assert!(
        s.contains(
            "cannot rebuild build 616e6f6e0000: its client did not say which directory it built"
        ),
        "{s}"
    );
}

#[test]
fn rebuild_from_the_detail() {
    let mut a = open_failed_detail();
    press(&mut a, "r");
    assert_eq!(build_requests(&a.take_effects()).len(), 1);
}

#[test]
fn build_task_shows_its_current_step() {
    let mut a = many();
    press(&mut a, "j r");
    a.take_effects();
    for m in [
        json!({"stream": "Step 1/5 : FROM busybox"}),
        json!({"stream": "\n"}),
        json!({"stream": " ---> Using cache\n"}),
        json!({"stream": "Step 2/5 : COPY . /src"}),
        json!({"stream": "\n"}),
        json!({"stream": "Step 3/5 : RUN make -C /src"}),
        json!({"stream": "\n"}),
        json!({"stream": " ---> Running in 0a1b2c3d4e5f\n"}),
        json!({"stream": "cc -O2 -o api main.c\n"}),
    ] {
        a.update(Msg::Stream {
            key: StreamKey::Task(1),
            item: StreamItem::Json(m),
        });
    }
    let s = render(&mut a, 80, 24);
    assert!(s.contains("Step 3/5 : RUN make -C /src"), "{s}");
    assert!(s.contains("cc -O2 -o api main.c"), "{s}");
    assert_snapshot!(s);
    // In the background, the header counts it; the end names the tags.
    press(&mut a, "esc");
    let s = render(&mut a, 120, 24);
    assert!(s.contains("⟳ 1 task"), "{s}");
    for m in [
        json!({"aux": {"ID": "sha256:9f8e7d6c5b4a"}}),
        json!({"stream": "Successfully built 9f8e7d6c5b4a\n"}),
        json!({"stream": "Successfully tagged shop/api:dev\n"}),
    ] {
        a.update(Msg::Stream {
            key: StreamKey::Task(1),
            item: StreamItem::Json(m),
        });
    }
    a.update(Msg::StreamEnd {
        key: StreamKey::Task(1),
        error: None,
    });
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("build shop/api:dev from /home/me/src/api: built shop/api:dev"),
        "{s}"
    );
}

#[test]
fn remove_asks_then_forgets_the_record() {
    let mut a = many();
    press(&mut a, "j d");
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("Remove the record of build shop/api:dev? (its image stays)"),
        "{s}"
    );
    assert_snapshot!(s);
    press(&mut a, "y");
    let effects = a.take_effects();
    assert_eq!(
        calls(&effects),
        vec![format!("DELETE /berth/v1/builds/{}", build_id("api"))]
    );
    a.update(Msg::CallDone {
        purpose: Purpose::BuildRemove {
            id: build_id("api"),
            label: "remove build shop/api:dev".into(),
        },
        result: Ok(None),
    });
    assert_eq!(calls(&a.take_effects()), vec!["REFRESH BUILDS"]);
    let s = render(&mut a, 80, 24);
    assert!(!s.contains("shop/api:dev  "), "{s}");
    assert!(s.contains("remove build shop/api:dev: done"), "{s}");
    // The engine's refusal is shown as it said it.
    press(&mut a, "d y");
    a.take_effects();
    a.update(Msg::CallDone {
        purpose: Purpose::BuildRemove {
            id: build_id("worker"),
            label: "remove build shop/worker:dev".into(),
        },
        result: Err("no such build: 776f726b6572".into()),
    });
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("remove build shop/worker:dev: no such build"),
        "{s}"
    );
}

#[test]
fn build_form_from_the_images_view() {
    let mut a = app();
    set_images(
        &mut a,
        vec![image("busybox", &["busybox:latest"], 4_400_000, 86_400)],
    );
    press(&mut a, "2");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("b build"), "footer: {s}");
    press(&mut a, "b");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("Build an image"), "{s}");
    assert_snapshot!("form_empty", s);
    // Context stays ".", a Dockerfile, two tags, a target and build args.
    press(&mut a, "tab text:docker/Dockerfile tab text:shop/web:dev,shop/web tab text:runtime tab text:VERSION=1.2_DEBUG=1");
    assert_snapshot!("form_filled", render(&mut a, 80, 24));
    press(&mut a, "enter");
    let effects = a.take_effects();
    assert_eq!(
        build_requests(&effects),
        vec![BuildSpec {
            context_dir: ".".into(),
            dockerfile: Some("docker/Dockerfile".into()),
            tags: vec!["shop/web:dev".into(), "shop/web:latest".into()],
            target: Some("runtime".into()),
            build_args: vec![
                ("VERSION".into(), "1.2".into()),
                ("DEBUG".into(), "1".into())
            ],
        }]
    );
}

#[test]
fn build_form_keeps_bad_values_open_and_a_failed_build_comes_back() {
    let mut a = app();
    set_images(&mut a, vec![]);
    press(&mut a, "2");
    // The empty view offers a build too.
    let s = render(&mut a, 80, 24);
    assert!(s.contains("b  build one from a Dockerfile"), "{s}");
    press(&mut a, "b tab tab text:Shop/Web");
    press(&mut a, "enter");
    assert!(build_requests(&a.take_effects()).is_empty());
    let s = render(&mut a, 80, 24);
    assert!(s.contains("repository names must be lowercase"), "{s}");
    assert_snapshot!("form_error", s);
    // Fixed, sent; the engine refuses; the form offers the values again.
    for _ in 0..9 {
        crate::dashboard::testing::key(&mut a, KeyCode::Backspace, KeyModifiers::NONE);
    }
    press(&mut a, "text:shop/web enter");
    assert_eq!(build_requests(&a.take_effects()).len(), 1);
    a.update(Msg::StreamEnd {
        key: StreamKey::Task(1),
        error: Some("Cannot locate specified Dockerfile: Dockerfile".into()),
    });
    press(&mut a, "esc b");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("shop/web:latest"), "{s}");
    press(&mut a, "enter");
    let specs = build_requests(&a.take_effects());
    assert_eq!(specs.len(), 1);
    assert_eq!(specs[0].tags, vec!["shop/web:latest"]);
}

#[test]
fn help_lists_the_builds_keys() {
    let mut a = many();
    press(&mut a, "?");
    let s = render(&mut a, 100, 40);
    assert!(s.contains("Builds"), "{s}");
    assert!(
        s.contains("build again from the same directory and options"),
        "{s}"
    );
    assert!(
        s.contains("remove the build record (the image stays)"),
        "{s}"
    );
}

#[test]
fn a_multi_stage_build_names_each_steps_stage() {
    let mut a = many();
    press(&mut a, "j j enter");
    a.take_effects();
    a.update(Msg::CallDone {
        purpose: Purpose::BuildDetail {
            id: build_id("web"),
        },
        result: Ok(Some(web())),
    });
    let s = render(&mut a, 100, 30);
    assert!(s.contains("STAGE"), "{s}");
    assert!(
        s.contains("build      COPY --from") || s.contains("1          COPY --from"),
        "{s}"
    );
    assert!(s.contains("→ 776562000000"), "{s}");
    // Nothing failed: the last step is selected.
    assert!(s.contains("step 9/9 log"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn the_table_on_screen_is_read_again_every_five_seconds() {
    let mut a = many();
    for _ in 0..4 {
        a.update(Msg::Tick);
    }
    assert!(calls(&a.take_effects()).is_empty());
    a.update(Msg::Tick);
    assert_eq!(calls(&a.take_effects()), vec!["REFRESH BUILDS"]);
    // Not while another view is shown, nor from an engine that keeps no records.
    press(&mut a, "1");
    for _ in 0..10 {
        a.update(Msg::Tick);
    }
    assert!(calls(&a.take_effects()).is_empty());
    let mut docker = app();
    docker.update(Msg::Builds(
        Err("this engine keeps no build records".into()),
    ));
    press(&mut docker, "6");
    docker.take_effects();
    for _ in 0..10 {
        docker.update(Msg::Tick);
    }
    assert!(calls(&docker.take_effects()).is_empty());
}
