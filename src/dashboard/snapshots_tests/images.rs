//! The images view and its dialogs: the table at both widths, the dangling filter, pull (prompt,
//! task mid-way, done, failed), push, tag, prune, history and the run form with the create →
//! start chain. Each test drives the app with keys and checks the API calls it makes.

use clap::Parser;
use insta::assert_snapshot;
use serde_json::{json, Value};

use crate::dashboard::app::App;
use crate::dashboard::msg::{Effect, Msg, Purpose, StreamItem, StreamKey};
use crate::dashboard::testing::*;
use crate::dashboard::views::ViewId;

const BUSYBOX_ID: &str = "sha256:5d6f3e1156593adf8f026869ba0ae9b4add9c18fc5bbcfb548cab19f544465ca";

fn images() -> Vec<Value> {
    let mut busybox = image(
        "busybox",
        &["busybox:latest", "busybox:1.36"],
        4_261_000,
        86_400 * 20,
    );
    busybox["Id"] = json!(BUSYBOX_ID);
    vec![
        busybox,
        image("nginx", &["nginx:1.27"], 192_000_000, 86_400 * 3),
        image(
            "long",
            &["registry.example.com:5000/team/a-service-with-a-rather-long-name:2026.11.23-build.1234"],
            88_000_000,
            3_600 * 5,
        ),
        image("dangling", &[], 12_000_000, 3_600 * 30),
        image("alpine", &["alpine:3.20"], 7_800_000, 86_400 * 40),
    ]
}

/// The images view with five images, two containers using busybox.
fn many() -> App {
    let mut a = app();
    set_containers(
        &mut a,
        vec![
            container("web", "running", None),
            container("batch", "exited", None),
        ],
    );
    set_images(&mut a, images());
    press(&mut a, "2");
    a.take_effects();
    a
}

/// Selects the row whose text contains `what` (the filter narrows to it).
fn select(a: &mut App, what: &str) {
    press(a, &format!("/ text:{what} enter"));
    a.take_effects();
}

#[test]
fn table_at_80x24_drops_id_and_in_use() {
    let mut a = many();
    let s = render(&mut a, 80, 24);
    assert!(!s.contains("IMAGE ID") && !s.contains("IN USE"), "{s}");
    assert!(s.contains("REPOSITORY") && s.contains("busybox"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn table_at_200x50_has_every_column() {
    let mut a = many();
    let s = render(&mut a, 200, 50);
    assert!(s.contains("IMAGE ID") && s.contains("IN USE"), "{s}");
    // busybox is used by web and batch.
    assert!(
        s.lines()
            .any(|l| l.contains("busybox") && l.trim_end().ends_with('2')),
        "{s}"
    );
    assert_snapshot!(s);
}

#[test]
fn empty_and_tiny() {
    let mut a = app();
    set_images(&mut a, vec![]);
    press(&mut a, "2");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("p  pull from a registry"), "{s}");
    assert_snapshot!(s);
    // Every dialog of the view at a tiny size: nothing may panic.
    let mut a = many();
    for keys in ["p", "I", "r", "t", "X", "H", "ctrl-t"] {
        press(&mut a, keys);
        render(&mut a, 20, 5);
        render(&mut a, 1, 1);
        press(&mut a, "esc");
    }
    render(&mut a, 20, 5);
}

#[test]
fn dangling_filter() {
    let mut a = many();
    press(&mut a, "u");
    let s = render(&mut a, 100, 12);
    assert!(s.contains("<none>") && !s.contains("nginx"), "{s}");
    assert_snapshot!(s);
    press(&mut a, "u");
    assert!(render(&mut a, 100, 12).contains("nginx"));
}

#[test]
fn pull_prompt_validates_then_starts_a_task() {
    let mut a = many();
    press(&mut a, "p enter");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("type an image reference"), "{s}");
    press(&mut a, "text:my_image enter");
    let s = render(&mut a, 80, 24);
    assert!(s.contains("no spaces"), "{s}");
    press(&mut a, "ctrl-a ctrl-k text:busybox");
    assert_snapshot!(render(&mut a, 80, 24));
    press(&mut a, "enter");
    let st = streams(&a.take_effects());
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].key, StreamKey::Task(1));
    assert_eq!(st[0].method, hyper::Method::POST);
    assert_eq!(st[0].path, "/images/create?fromImage=busybox&tag=latest");
    assert_eq!(st[0].auth_for.as_deref(), Some("busybox"));
    assert!(!st[0].reopen);
}

#[test]
fn pull_splits_tags_digests_and_ports() {
    for (typed, path) in [
        ("nginx:1.27", "/images/create?fromImage=nginx&tag=1.27"),
        (
            "localhost:5000/app",
            "/images/create?fromImage=localhost%3A5000%2Fapp&tag=latest",
        ),
        (
            "alpine@sha256:0123",
            "/images/create?fromImage=alpine&tag=sha256%3A0123",
        ),
    ] {
        let mut a = many();
        press(&mut a, &format!("p text:{typed} enter"));
        let st = streams(&a.take_effects());
        assert_eq!(st[0].path, path, "{typed}");
        assert_eq!(st[0].auth_for.as_deref(), Some(typed));
    }
}

fn task_msg(a: &mut App, v: Value) {
    a.update(Msg::Stream {
        key: StreamKey::Task(1),
        item: StreamItem::Json(v),
    });
}

/// A pull of busybox started from the prompt, with the engine's first messages.
fn pulling() -> App {
    let mut a = many();
    press(&mut a, "p text:busybox enter");
    a.take_effects();
    for m in [
        json!({"status": "Pulling from library/busybox", "id": "latest"}),
        json!({"status": "Already exists", "progressDetail": {}, "id": "3f4d90098f5b"}),
        json!({"status": "Pulling fs layer", "progressDetail": {}, "id": "a1b2c3d4e5f6"}),
        json!({"status": "Pulling fs layer", "progressDetail": {}, "id": "0123456789ab"}),
        json!({"status": "Downloading", "progressDetail": {"current": 1_200_000, "total": 2_000_000}, "progress": "[===>  ]", "id": "a1b2c3d4e5f6"}),
        json!({"status": "Waiting", "progressDetail": {}, "id": "0123456789ab"}),
    ] {
        task_msg(&mut a, m);
    }
    a
}

#[test]
fn pull_task_mid_way() {
    let mut a = pulling();
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("a1b2c3d4e5f6") && s.contains("Downloading"),
        "{s}"
    );
    assert_snapshot!("pull_task_mid_way_80x24", s);
    assert_snapshot!("pull_task_mid_way_200x50", render(&mut a, 200, 50));
}

#[test]
fn pull_task_in_the_background_and_done() {
    let mut a = pulling();
    // Esc sends it to the background: the header counts it, ctrl-t lists it.
    press(&mut a, "esc");
    let s = render(&mut a, 100, 12);
    assert!(s.contains("1 task"), "{s}");
    for m in [
        json!({"status": "Downloading", "progressDetail": {"current": 2_000_000, "total": 2_000_000}, "id": "a1b2c3d4e5f6"}),
        json!({"status": "Pull complete", "progressDetail": {}, "id": "a1b2c3d4e5f6"}),
        json!({"status": "Pull complete", "progressDetail": {}, "id": "0123456789ab"}),
        json!({"status": "Digest: sha256:abcdef"}),
        json!({"status": "Status: Downloaded newer image for busybox:latest"}),
    ] {
        task_msg(&mut a, m);
    }
    a.update(Msg::StreamEnd {
        key: StreamKey::Task(1),
        error: None,
    });
    let s = render(&mut a, 100, 12);
    assert!(
        s.contains("pull busybox:latest: Downloaded newer image for busybox:latest"),
        "{s}"
    );
    press(&mut a, "ctrl-t");
    assert_snapshot!(render(&mut a, 100, 16));
}

#[test]
fn pull_task_failed() {
    let mut a = many();
    press(&mut a, "p text:nope/nothing:1 enter");
    a.take_effects();
    // Refused before any progress (the engine resolves the manifest first).
    a.update(Msg::StreamEnd {
        key: StreamKey::Task(1),
        error: Some("pull access denied for nope/nothing, repository does not exist".into()),
    });
    let s = render(&mut a, 100, 14);
    assert!(s.contains("pull access denied"), "{s}");
    assert_snapshot!(s);
    // An error inside the 200 stream fails it too, and the end does not undo that.
    let mut a = pulling();
    let long = "Get \"http://127.0.0.1:1/v2/library/busybox/blobs/sha256:a1b2c3\": error sending request for url (http://127.0.0.1:1/v2/library/busybox/blobs/sha256:a1b2c3): connection refused";
    task_msg(
        &mut a,
        json!({"errorDetail": {"message": long}, "error": long}),
    );
    a.update(Msg::StreamEnd {
        key: StreamKey::Task(1),
        error: None,
    });
    let s = render(&mut a, 80, 24);
    // The status line is cut; the task dialog wraps the whole message at words.
    assert!(
        s.contains("pull busybox:latest: Get \"http://127.0.0.1:1/v2"),
        "{s}"
    );
    assert!(s.contains("│  refused "), "{s}");
    assert_snapshot!("pull_task_failed_in_stream_80x24", s);
}

#[test]
fn push_starts_a_task_with_credentials() {
    let mut a = many();
    select(&mut a, "nginx");
    press(&mut a, "P");
    let st = streams(&a.take_effects());
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].path, "/images/nginx/push?tag=1.27");
    assert_eq!(st[0].auth_for.as_deref(), Some("nginx"));
    let mut a = many();
    select(&mut a, "a-service");
    press(&mut a, "P");
    let st = streams(&a.take_effects());
    assert_eq!(
        st[0].path,
        "/images/registry.example.com:5000%2Fteam%2Fa-service-with-a-rather-long-name/push?tag=2026.11.23-build.1234"
    );
    // An untagged image has no name to push to.
    let mut a = many();
    select(&mut a, "none");
    press(&mut a, "P");
    assert!(streams(&a.take_effects()).is_empty());
    assert!(render(&mut a, 100, 8).contains("tag it first"));
}

#[test]
fn tag_prompt() {
    let mut a = many();
    select(&mut a, "nginx");
    press(&mut a, "t");
    assert_snapshot!(render(&mut a, 80, 24));
    press(&mut a, "ctrl-a ctrl-k text:Web:1 enter");
    assert!(render(&mut a, 80, 24).contains("must be lowercase"));
    assert!(calls(&a.take_effects()).is_empty());
    press(&mut a, "ctrl-a ctrl-k text:localhost:5000/web enter");
    let c = api_calls(&a.take_effects());
    assert_eq!(
        c[0].path,
        format!(
            "/images/sha256:{}/tag?repo=localhost%3A5000%2Fweb&tag=latest",
            id_of("nginx")
        )
    );
    assert_eq!(
        c[0].purpose,
        Purpose::Action {
            label: "tag nginx:1.27 as localhost:5000/web:latest".into()
        }
    );
}

#[test]
fn prune_asks_dangling_or_all() {
    let mut a = many();
    press(&mut a, "X");
    assert!(calls(&a.take_effects()).is_empty());
    assert_snapshot!(render(&mut a, 80, 24));
    press(&mut a, "y");
    assert_eq!(
        calls(&a.take_effects()),
        vec!["POST /images/prune?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D"]
    );
    a.update(Msg::CallDone {
        purpose: Purpose::PruneImages,
        result: Ok(Some(json!({
            "ImagesDeleted": [{"Deleted": "sha256:aa"}, {"Untagged": "x:1"}, {"Deleted": "sha256:bb"}],
            "SpaceReclaimed": 12_500_000
        }))),
    });
    let s = render(&mut a, 100, 8);
    assert!(
        s.contains("pruned 2 images (1 untagged), reclaimed 12.5MB"),
        "{s}"
    );
    press(&mut a, "X a");
    assert_eq!(
        calls(&a.take_effects()),
        vec!["POST /images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D"]
    );
    press(&mut a, "X n");
    assert!(calls(&a.take_effects()).is_empty());
}

fn history_answer() -> Value {
    json!([
        {"Id": format!("sha256:{}", id_of("nginx")), "Created": now().timestamp() - 86_400 * 3,
         "CreatedBy": "CMD [\"nginx\" \"-g\" \"daemon off;\"]", "Tags": ["nginx:1.27"], "Size": 0, "Comment": "buildkit.dockerfile.v0"},
        {"Id": "<missing>", "Created": now().timestamp() - 86_400 * 3,
         "CreatedBy": "RUN /bin/sh -c set -x && groupadd --system --gid 101 nginx && useradd --system --gid nginx --no-create-home --home /nonexistent --comment \"nginx user\" --shell /bin/false --uid 101 nginx && apt-get update && apt-get install --no-install-recommends --no-install-suggests -y gnupg1 ca-certificates # buildkit",
         "Tags": null, "Size": 112_000_000, "Comment": "buildkit.dockerfile.v0"},
        {"Id": "<missing>", "Created": now().timestamp() - 86_400 * 10,
         "CreatedBy": "/bin/sh -c #(nop) ADD file:4b1be1de1a1e5aa608c688cad2824587262081866180d7368feb79d33ca05953 in / ",
         "Tags": null, "Size": 80_000_000, "Comment": ""}
    ])
}

#[test]
fn history_dialog() {
    let mut a = many();
    select(&mut a, "nginx");
    press(&mut a, "H");
    let id = format!("sha256:{}", id_of("nginx"));
    let c = api_calls(&a.take_effects());
    assert_eq!(c[0].path, format!("/images/{id}/history"));
    assert_eq!(c[0].purpose, Purpose::History { id: id.clone() });
    assert!(render(&mut a, 80, 24).contains("loading…"));
    a.update(Msg::CallDone {
        purpose: Purpose::History { id },
        result: Ok(Some(history_answer())),
    });
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("RUN /bin/sh -c set -x") && s.contains('…'),
        "{s}"
    );
    assert_snapshot!("history_80x24", s);
    assert_snapshot!("history_200x50", render(&mut a, 200, 50));
    // Enter shows the selected step whole.
    press(&mut a, "j enter");
    let s = render(&mut a, 200, 24);
    assert!(
        s.contains("step 2 of 3") && s.contains("    && apt-get update"),
        "{s}"
    );
    assert!(s.contains("gnupg1 ca-certificates"), "{s}");
    press(&mut a, "esc esc");
    assert!(!a.dialog_open());
}

#[test]
fn history_error_shows_the_engine_message() {
    let mut a = many();
    select(&mut a, "nginx");
    press(&mut a, "H");
    a.take_effects();
    a.update(Msg::CallDone {
        purpose: Purpose::History {
            id: format!("sha256:{}", id_of("nginx")),
        },
        result: Err("No such image: nginx:1.27".into()),
    });
    assert!(render(&mut a, 80, 12).contains("No such image: nginx:1.27"));
}

/// The run form opened on busybox:1.36 (the first row: sorted by creation, busybox rows first).
fn run_form() -> App {
    let mut a = many();
    select(&mut a, "1.36");
    press(&mut a, "r");
    a
}

#[test]
fn run_form_empty() {
    let mut a = run_form();
    let s = render(&mut a, 80, 24);
    assert!(
        s.contains("busybox:1.36") && s.contains("[x] detach"),
        "{s}"
    );
    assert_snapshot!("run_form_empty_80x24", s);
    assert_snapshot!("run_form_empty_200x50", render(&mut a, 200, 50));
}

/// Fills every field by typing (the form opens on the name field).
fn fill(a: &mut App) {
    press(
        a,
        "text:web tab text:8080:80,_8443:443/tcp tab text:A=1,_B=two_words tab \
         text:data:/data,_/srv/www:/usr/share/www:ro tab tab text:sh_-c_'echo_hi;_sleep_1d' \
         tab space",
    );
}

/// A create body as the engine reads it (its `CreateRequest`), written back: what a body
/// leaves out is there with the engine's default.
fn as_engine_reads(body: Value) -> Value {
    let spec: berth_engine::model::container::CreateRequest = serde_json::from_value(body).unwrap();
    serde_json::to_value(spec).unwrap()
}

#[test]
fn run_form_filled_sends_berth_runs_body_then_starts() {
    let mut a = run_form();
    fill(&mut a);
    assert_snapshot!(render(&mut a, 80, 24));
    press(&mut a, "ctrl-s");
    assert!(!a.dialog_open());
    let c = api_calls(&a.take_effects());
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].method, hyper::Method::POST);
    assert_eq!(c[0].path, "/containers/create?name=web");
    let body = c[0].body.clone().unwrap();
    // The body is the engine's typed create spec, every field present; compared as the
    // engine reads it.
    assert_eq!(
        body,
        as_engine_reads(json!({
            "Image": "busybox:1.36",
            "Cmd": ["sh", "-c", "echo hi; sleep 1d"],
            "Env": ["A=1", "B=two words"],
            "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
            "AttachStdin": false, "AttachStdout": false, "AttachStderr": false,
            "Tty": false, "OpenStdin": false, "StdinOnce": false,
            "Labels": {},
            "HostConfig": {
                "AutoRemove": true,
                "Binds": ["data:/data", "/srv/www:/usr/share/www:ro"],
                "NetworkMode": "bridge",
                "PortBindings": {
                    "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                    "443/tcp": [{"HostIp": "", "HostPort": "8443"}]
                },
                "ReadonlyRootfs": false
            }
        }))
    );
    // The same flags on the command line make the same body.
    let cli = crate::cli::Cli::try_parse_from([
        "berth",
        "run",
        "-d",
        "--rm",
        "--name",
        "web",
        "-p",
        "8080:80",
        "-p",
        "8443:443/tcp",
        "-e",
        "A=1",
        "-e",
        "B=two words",
        "-v",
        "data:/data",
        "-v",
        "/srv/www:/usr/share/www:ro",
        "--network",
        "bridge",
        "busybox:1.36",
        "sh",
        "-c",
        "echo hi; sleep 1d",
    ])
    .unwrap();
    let Some(crate::cli::Cmd::Run(r)) = cli.command else {
        panic!("run")
    };
    assert_eq!(
        as_engine_reads(
            serde_json::to_value(
                crate::commands::run::create_body(&r.opts, "run", r.detach, &|_| None).unwrap()
            )
            .unwrap()
        ),
        body
    );
    // create → start → the containers view with the new container selected.
    let new_id = id_of("web");
    let purpose = c[0].purpose.clone();
    a.update(Msg::CallDone {
        purpose,
        result: Ok(Some(json!({"Id": new_id, "Warnings": []}))),
    });
    let c = api_calls(&a.take_effects());
    assert_eq!(c[0].path, format!("/containers/{new_id}/start"));
    a.update(Msg::CallDone {
        purpose: c[0].purpose.clone(),
        result: Ok(None),
    });
    assert_eq!(a.current(), ViewId::Containers);
    // The list with the new container arrives after the start answer.
    set_containers(
        &mut a,
        vec![
            container("batch", "exited", None),
            container("other", "running", None),
            container("web", "running", None),
        ],
    );
    let s = render(&mut a, 100, 10);
    assert!(s.contains("started web"), "{s}");
    press(&mut a, "Y");
    assert!(a.take_effects().contains(&Effect::Clipboard("web".into())));
}

#[test]
fn run_form_field_error_keeps_it_open() {
    let mut a = run_form();
    press(&mut a, "tab text:8080:80,_99999:80 ctrl-s");
    assert!(a.dialog_open());
    assert!(calls(&a.take_effects()).is_empty());
    let s = render(&mut a, 80, 24);
    assert!(s.contains("ports: 99999:80"), "{s}");
    assert_snapshot!(s);
    // Fixing the field clears the message; shift-tab/up move back.
    for _ in 0..", 99999:80".len() {
        press(&mut a, "backspace");
    }
    assert!(!render(&mut a, 80, 24).contains("ports: 99999:80"));
    press(&mut a, "shift-tab down down text:x=1 ctrl-s");
    let c = api_calls(&a.take_effects());
    assert_eq!(c[0].body.as_ref().unwrap()["Env"], json!(["x=1"]));
    assert_eq!(c[0].path, "/containers/create");
}

#[test]
fn run_attached_attaches_after_start() {
    let mut a = run_form();
    // To the detach checkbox (last field), off, then enter on the last field submits.
    press(&mut a, "shift-tab shift-tab space enter");
    let c = api_calls(&a.take_effects());
    let body = c[0].body.clone().unwrap();
    assert_eq!(body["Tty"], true);
    assert_eq!(body["OpenStdin"], true);
    a.update(Msg::CallDone {
        purpose: c[0].purpose.clone(),
        result: Ok(Some(json!({"Id": "abc123"}))),
    });
    let c = api_calls(&a.take_effects());
    assert_eq!(c[0].path, "/containers/abc123/start");
    a.update(Msg::CallDone {
        purpose: c[0].purpose.clone(),
        result: Ok(None),
    });
    assert_eq!(
        local_effects(a.take_effects()),
        vec![Effect::Attach {
            container: "abc123".into()
        }]
    );
}

#[test]
fn run_engine_error_brings_the_form_back() {
    let mut a = run_form();
    press(&mut a, "text:web ctrl-s");
    let c = api_calls(&a.take_effects());
    a.update(Msg::CallDone {
        purpose: c[0].purpose.clone(),
        result: Err("Conflict. The container name \"/web\" is already in use by container \"f00\". You have to remove (or rename) that container to be able to reuse that name.".into()),
    });
    assert!(a.dialog_open());
    let s = render(&mut a, 80, 24);
    assert!(s.contains("name: Conflict"), "{s}");
    assert_snapshot!(s);
    // The values are still there: a new name and it goes again.
    press(&mut a, "text:2 ctrl-s");
    let c = api_calls(&a.take_effects());
    assert_eq!(c[0].path, "/containers/create?name=web2");
    // A start failure shows the message and the created container.
    a.update(Msg::CallDone {
        purpose: Purpose::RunStart {
            id: id_of("web2"),
            name: "web2".into(),
            detach: true,
        },
        result: Err("exec: \"nope\": executable file not found in $PATH".into()),
    });
    assert_eq!(a.current(), ViewId::Containers);
    assert!(render(&mut a, 100, 8).contains("start web2: exec"));
}
