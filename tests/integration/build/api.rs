//! `POST /build` options and context shapes: `q`, repeated `t`, `labels`, compressed contexts
//! (gzip, bzip2, xz), a bare Dockerfile as the body, `dockerfile=` a nested path, dockerd's
//! errors for a bad or missing Dockerfile and for `squash`, and berth's build records
//! (`/berth/v1/builds`) after a success and a failure.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{api_build, aux_id, config, docker, messages, run_sh, stream_text, Ctx};
use crate::common::{self, urlencode, TestEngine};

/// `program -c` over `data` (gzip, bzip2, xz).
fn compress(program: &str, data: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let w = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    w.join().unwrap().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn quiet_tags_and_labels() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new("FROM busybox\nRUN echo noisy\n");
    // docker build -q prints the id and nothing else.
    let o = docker(&e, &["build", "-q", ctx.arg()]);
    let out = common::ok(&o);
    assert!(
        out.starts_with("sha256:") && out.len() == 72 && out.ends_with('\n'),
        "{out:?}"
    );
    let r = api_build(&e, "q=1&nocache=1", &[], &ctx.tar());
    let msgs = messages(&r);
    assert_eq!(msgs.len(), 1, "{}", r.text());
    let only = msgs[0]["stream"].as_str().unwrap();
    assert!(
        only.starts_with("sha256:") && only.ends_with('\n'),
        "{only:?}"
    );

    let labels = urlencode(r#"{"com.example.k":"v","other":"x y"}"#);
    let r = api_build(
        &e,
        &format!("t=first&t=second:v2&labels={labels}"),
        &[],
        &ctx.tar(),
    );
    let msgs = messages(&r);
    let text = stream_text(&msgs);
    assert!(
        text.contains("Successfully tagged first:latest\n"),
        "{text}"
    );
    assert!(text.contains("Successfully tagged second:v2\n"), "{text}");
    let id = aux_id(&msgs).unwrap();
    assert_eq!(super::image(&e, "first")["Id"], id.as_str());
    assert_eq!(super::image(&e, "second:v2")["Id"], id.as_str());
    let cfg = config(&e, "second:v2");
    assert_eq!(cfg["Labels"]["com.example.k"], "v");
    assert_eq!(cfg["Labels"]["other"], "x y");
}

#[test]
fn compressed_contexts_bare_dockerfile_and_nested_dockerfile() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new("FROM busybox\nCOPY payload /payload\n");
    ctx.file("payload", "carried\n");
    let tar = ctx.tar();
    for (program, tag) in [("gzip", "gz"), ("bzip2", "bz"), ("xz", "xz")] {
        let body = compress(program, &tar);
        let r = api_build(&e, &format!("t={tag}"), &[], &body);
        assert_eq!(r.status, 200, "{program}: {}", r.text());
        assert!(aux_id(&messages(&r)).is_some(), "{program}: {}", r.text());
        assert_eq!(run_sh(&e, tag, "cat /payload"), "carried\n", "{program}");
    }

    // The body is the Dockerfile itself.
    let r = api_build(&e, "t=bare", &[], b"FROM busybox\nRUN echo bare > /bare\n");
    assert!(aux_id(&messages(&r)).is_some(), "{}", r.text());
    assert_eq!(run_sh(&e, "bare", "cat /bare"), "bare\n");

    // A Dockerfile elsewhere in the context, through the API and `docker build -f`.
    let nested = Ctx::new("FROM busybox\nRUN echo root > /which\n");
    nested.file("sub/dir/My.Dockerfile", "FROM busybox\nCOPY sub/dir/x /x\n");
    nested.file("sub/dir/x", "nested\n");
    let r = api_build(
        &e,
        "t=nested&dockerfile=sub/dir/My.Dockerfile",
        &[],
        &nested.tar(),
    );
    assert!(aux_id(&messages(&r)).is_some(), "{}", r.text());
    assert_eq!(run_sh(&e, "nested", "cat /x"), "nested\n");
    let f = nested.path().join("sub/dir/My.Dockerfile");
    let o = docker(
        &e,
        &[
            "build",
            "-t",
            "nested-cli",
            "-f",
            f.to_str().unwrap(),
            nested.arg(),
        ],
    );
    common::ok(&o);
    assert_eq!(run_sh(&e, "nested-cli", "cat /x"), "nested\n");
    // `-f -`: the Dockerfile on stdin.
    let mut c = e.docker_command(&["build", "-t", "stdin-df", "-f", "-", nested.arg()]);
    c.env("DOCKER_BUILDKIT", "0");
    let o = common::with_stdin(c, b"FROM busybox\nCOPY sub/dir/x /got/\n");
    common::ok(&o);
    assert_eq!(run_sh(&e, "stdin-df", "ls /got"), "x\n");
}

#[test]
fn dockerfile_errors_and_refusals_as_dockerd() {
    let e = TestEngine::with_busybox();
    let bad = Ctx::new("FROM busybox\nFOO bar\n");
    let r = api_build(&e, "", &[], &bad.tar());
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"message": "dockerfile parse error line 2: unknown instruction: FOO"})
    );
    let r = api_build(&e, "dockerfile=Nope", &[], &bad.tar());
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.message(), "Cannot locate specified Dockerfile: Nope");
    let r = api_build(&e, "squash=1", &[], &bad.tar());
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(!r.message().is_empty());
    // The CLI shows dockerd's words and fails.
    let o = docker(&e, &["build", bad.arg()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        common::stderr(&o).contains("dockerfile parse error line 2: unknown instruction: FOO"),
        "{}",
        common::stderr(&o)
    );
}

#[test]
fn build_records_after_success_and_failure() {
    let e = TestEngine::with_busybox();
    let good = Ctx::new("FROM busybox\nRUN echo record-me\nENV A=1\n");
    let r = api_build(&e, "t=rec", &[], &good.tar());
    let id = aux_id(&messages(&r)).expect("built");
    let bad = Ctx::new("FROM busybox\nRUN echo ok\nRUN echo failing-output; exit 4\n");
    let r = api_build(&e, "t=recbad", &[], &bad.tar());
    assert!(r.text().contains("returned a non-zero code: 4"));

    let list = e.api_json("GET", "/berth/v1/builds", None);
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 2, "{list:#?}");
    // Newest first.
    assert_eq!(list[0]["status"], "failed", "{:#}", list[0]);
    assert_eq!(list[1]["status"], "succeeded", "{:#}", list[1]);
    assert_eq!(list[1]["image_id"], id.as_str());
    assert_eq!(list[1]["tags"], serde_json::json!(["rec"]));
    assert_eq!(list[0]["tags"], serde_json::json!(["recbad"]));
    assert!(list[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["log"] == ""));

    let ok_id = list[1]["id"].as_str().unwrap();
    let rec = e.api_json("GET", &format!("/berth/v1/builds/{ok_id}"), None);
    let steps = rec["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3, "{rec:#}");
    assert_eq!(steps[1]["instruction"], "RUN echo record-me");
    assert_eq!(steps[1]["status"], "done");
    assert!(
        steps[1]["log"].as_str().unwrap().contains("record-me"),
        "{rec:#}"
    );
    assert!(rec["duration_ms"].is_u64());

    // A unique prefix finds the failed record; its failing step is marked and keeps its output.
    let bad_id = list[0]["id"].as_str().unwrap();
    let rec = e.api_json("GET", &format!("/berth/v1/builds/{}", &bad_id[..12]), None);
    let steps = rec["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3, "{rec:#}");
    assert_eq!(steps[1]["status"], "done", "{rec:#}");
    assert_eq!(steps[2]["status"], "failed", "{rec:#}");
    assert!(
        steps[2]["log"].as_str().unwrap().contains("failing-output"),
        "{rec:#}"
    );
    assert_eq!(
        rec["error"],
        "The command '/bin/sh -c echo failing-output; exit 4' returned a non-zero code: 4"
    );

    // A rebuild of the good one is all cache.
    api_build(&e, "t=rec", &[], &good.tar());
    let list = e.api_json("GET", "/berth/v1/builds", None);
    let steps = list[0]["steps"].as_array().unwrap();
    assert_eq!(steps[1]["status"], "cached", "{:#}", list[0]);
    assert_eq!(steps[2]["status"], "cached", "{:#}", list[0]);

    let r = e.api("GET", "/berth/v1/builds/ffffffffffff", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "no such build: ffffffffffff");
    let r = e.api("DELETE", &format!("/berth/v1/builds/{bad_id}"), None);
    assert_eq!(r.status, 204);
    let list = e.api_json("GET", "/berth/v1/builds", None);
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[test]
fn cli_flags_label_add_host_network_and_iidfile() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(
        "FROM busybox\nRUN grep myhost /etc/hosts | cut -f1 > /h; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /n\n",
    );
    let (_, id) = super::build_ok(
        &e,
        &ctx,
        "flags",
        &[
            "--label",
            "org.example.a=b",
            "--add-host",
            "myhost:10.1.2.3",
            "--network",
            "none",
        ],
    );
    assert_eq!(super::image(&e, "flags")["Id"], id.as_str());
    assert_eq!(config(&e, "flags")["Labels"]["org.example.a"], "b");
    assert_eq!(run_sh(&e, "flags", "cat /h /n"), "10.1.2.3\nlo\n");
}

/// A build response with every id replaced: 12-hex short ids by `<id>`, 64-hex by `<ID>`.
fn normalize_ids(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        match run.len() {
            64 => out.push_str("<ID>"),
            12 => out.push_str("<id>"),
            _ => out.push_str(run),
        }
        run.clear();
    };
    for ch in text.chars() {
        if ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase() {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
            out.push(ch);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[test]
fn response_stream_is_dockerds_byte_for_byte() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new("FROM busybox\nRUN echo hi\n");
    let r = api_build(
        &e,
        "t=shape",
        &[("Content-Type", "application/x-tar")],
        &ctx.tar(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    // dockerd 20.10's bytes for the same build (Go's encoder escapes '>' as \u003e).
    let first = r#"{"stream":"Step 1/2 : FROM busybox"}
{"stream":"\n"}
{"stream":" ---\u003e <id>\n"}
{"stream":"Step 2/2 : RUN echo hi"}
{"stream":"\n"}
{"stream":" ---\u003e Running in <id>\n"}
{"stream":"hi\n"}
{"stream":"Removing intermediate container <id>\n"}
{"stream":" ---\u003e <id>\n"}
{"aux":{"ID":"sha256:<ID>"}}
{"stream":"Successfully built <id>\n"}
{"stream":"Successfully tagged shape:latest\n"}
"#;
    assert_eq!(normalize_ids(&r.text()), first);
    let r = api_build(
        &e,
        "t=shape",
        &[("Content-Type", "application/x-tar")],
        &ctx.tar(),
    );
    let cached = r#"{"stream":"Step 1/2 : FROM busybox"}
{"stream":"\n"}
{"stream":" ---\u003e <id>\n"}
{"stream":"Step 2/2 : RUN echo hi"}
{"stream":"\n"}
{"stream":" ---\u003e Using cache\n"}
{"stream":" ---\u003e <id>\n"}
{"aux":{"ID":"sha256:<ID>"}}
{"stream":"Successfully built <id>\n"}
{"stream":"Successfully tagged shape:latest\n"}
"#;
    assert_eq!(normalize_ids(&r.text()), cached);
}

#[test]
fn tagging_emits_image_tag_events() {
    let e = TestEngine::with_busybox();
    let since = common::now_ts();
    let ctx = Ctx::new("FROM busybox\nENV A=1\n");
    let r = api_build(&e, "t=ev1&t=ev2:x", &[], &ctx.tar());
    let id = aux_id(&messages(&r)).expect("built");
    let until = common::now_ts();
    let filters = urlencode(r#"{"type":["image"],"event":["tag"]}"#);
    let r = e.api(
        "GET",
        &format!("/events?since={since}&until={until}&filters={filters}"),
        None,
    );
    let events: Vec<serde_json::Value> = r
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = events
        .iter()
        .filter_map(|v| v["Actor"]["Attributes"]["name"].as_str())
        .collect();
    assert_eq!(names, ["ev1:latest", "ev2:x"], "{events:#?}");
    assert!(
        events.iter().all(|v| v["Actor"]["ID"] == id.as_str()),
        "{events:#?}"
    );
}

#[test]
fn from_a_private_registry_with_x_registry_config_and_pull() {
    use base64::Engine as _;
    use common::registry::{self, Auth, Compression, Layer, OciImage, Registry};
    let reg = Registry::start_with(Auth::Basic);
    let e = TestEngine::with_busybox();
    let push = |img: &OciImage| {
        let dir = tempfile::tempdir().unwrap();
        img.write_layout(dir.path(), "v1");
        reg.push_layout(dir.path(), "private/base:v1");
    };
    let base = || {
        OciImage::new(registry::host_arch())
            .raw_layer(common::image::busybox_rootfs_tar(), Compression::Gzip)
    };
    push(&base());
    let ctx = Ctx::new(&format!(
        "FROM {}/private/base:v1\nRUN ls /marker 2>/dev/null > /seen; true\n",
        reg.addr
    ));

    // Without credentials the base cannot be pulled.
    let r = api_build(&e, "", &[], &ctx.tar());
    assert!(r.text().contains("error"), "{}", r.text());

    let config = base64::engine::general_purpose::URL_SAFE.encode(
        serde_json::json!({ reg.addr.clone(): {
            "username": registry::USER, "password": registry::PASSWORD, "serveraddress": reg.addr,
        }})
        .to_string(),
    );
    let r = api_build(
        &e,
        "t=frompriv",
        &[("X-Registry-Config", &config)],
        &ctx.tar(),
    );
    assert!(aux_id(&messages(&r)).is_some(), "{}", r.text());
    assert_eq!(run_sh(&e, "frompriv", "cat /seen"), "");

    // A new version in the registry: a plain rebuild keeps the local base, pull=1 takes the new.
    push(&base().layer(Layer::new(Compression::Gzip).file("marker", b"new\n")));
    api_build(
        &e,
        "t=frompriv",
        &[("X-Registry-Config", &config)],
        &ctx.tar(),
    );
    assert_eq!(run_sh(&e, "frompriv", "cat /seen"), "");
    let r = api_build(
        &e,
        "t=frompriv&pull=1",
        &[("X-Registry-Config", &config)],
        &ctx.tar(),
    );
    assert!(aux_id(&messages(&r)).is_some(), "{}", r.text());
    assert_eq!(run_sh(&e, "frompriv", "cat /seen"), "/marker\n");
}

#[test]
fn dockerfile_on_stdin_as_the_whole_context() {
    let e = TestEngine::with_busybox();
    // `docker build -`: the body is the Dockerfile alone.
    let mut c = e.docker_command(&["build", "-t", "stdin-only", "-"]);
    c.env("DOCKER_BUILDKIT", "0");
    let o = common::with_stdin(c, b"FROM busybox\nRUN echo piped > /p\n");
    common::ok(&o);
    assert_eq!(run_sh(&e, "stdin-only", "cat /p"), "piped\n");
}
