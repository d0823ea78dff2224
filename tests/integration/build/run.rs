//! RUN: shell and exec forms, output (stderr in docker's red escape), a failing RUN's exit code
//! through the docker CLI, heredocs, every `--mount` type (cache persisting across builds, tmpfs,
//! bind from the context and from a stage, secret kept out of every layer and the history) and
//! `--network=none`.

use base64::Engine as _;

use super::{
    api_build, aux_id, build_err, build_ok, docker, history, messages, run_sh, stream_text, Ctx,
};
use crate::common::{self, TestEngine};

#[test]
fn shell_and_exec_forms_output_and_history() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(
        "FROM busybox\nRUN [\"sh\", \"-c\", \"echo exec > /e\"]\nRUN echo out; echo err >&2\n",
    );
    let r = api_build(&e, "t=forms", &[], &ctx.tar());
    assert_eq!(r.status, 200, "{}", r.text());
    let msgs = messages(&r);
    let text = stream_text(&msgs);
    assert!(
        text.contains("Step 2/3 : RUN [\"sh\", \"-c\", \"echo exec > /e\"]\n"),
        "{text}"
    );
    assert!(text.contains("out\n"), "{text}");
    // stderr travels in the stream wrapped in red, as dockerd sends it.
    assert!(
        msgs.iter()
            .any(|m| m["stream"].as_str() == Some("\u{1b}[91merr\n\u{1b}[0m")),
        "{}",
        r.text()
    );
    assert!(text.contains("Removing intermediate container "), "{text}");
    assert!(aux_id(&msgs).is_some());
    let h = history(&e, "forms");
    assert_eq!(h[0], "/bin/sh -c echo out; echo err >&2");
    assert_eq!(h[1], "sh -c echo exec > /e");
    assert_eq!(run_sh(&e, "forms", "cat /e"), "exec\n");
    // No build container is left behind.
    let o = docker(&e, &["ps", "-aq"]);
    assert_eq!(common::ok(&o), "");
}

#[test]
fn failing_run_exits_the_cli_with_its_code() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new("FROM busybox\nRUN echo before\nRUN exit 3\nRUN echo never\n");
    let (code, out, err) = build_err(&e, &ctx, &[]);
    assert_eq!(code, Some(3), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("The command '/bin/sh -c exit 3' returned a non-zero code: 3"),
        "{err}"
    );
    assert!(out.contains("Step 3/4 : RUN exit 3\n"), "{out}");
    assert!(!out.contains("Step 4/4"), "{out}");
    // The API's last message carries the code.
    let r = api_build(&e, "", &[], &ctx.tar());
    let msgs = messages(&r);
    let last = msgs.last().expect("messages");
    assert_eq!(last["errorDetail"]["code"], 3, "{}", r.text());
    assert_eq!(
        last["error"],
        "The command '/bin/sh -c exit 3' returned a non-zero code: 3"
    );
    // As dockerd: `rm` (the default) keeps a failed step's container for debugging, `forcerm`
    // removes it.
    let before = common::ok(&docker(&e, &["ps", "-aq"])).lines().count();
    assert_eq!(before, 2, "one container per failed build");
    let (code, _, _) = build_err(&e, &ctx, &["--force-rm"]);
    assert_eq!(code, Some(3));
    let after = common::ok(&docker(&e, &["ps", "-aq"])).lines().count();
    assert_eq!(after, before, "--force-rm leaves nothing");
    // An exec-form failure names its command as docker does.
    let ctx = Ctx::new("FROM busybox\nRUN [\"sh\", \"-c\", \"exit 7\"]\n");
    let (code, _, err) = build_err(&e, &ctx, &[]);
    assert_eq!(code, Some(7), "{err}");
    assert!(
        err.contains("The command 'sh -c exit 7' returned a non-zero code: 7"),
        "{err}"
    );
}

#[test]
fn run_heredocs() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(
        "FROM busybox\nARG WHO=x\nRUN <<EOT\necho one > /h\necho \"two $WHO\" >> /h\nEOT\nRUN <<-EOT sh\n\techo three >> /h\n\tEOT\n",
    );
    build_ok(&e, &ctx, "rheredoc", &[]);
    assert_eq!(run_sh(&e, "rheredoc", "cat /h"), "one\ntwo x\nthree\n");
}

#[test]
fn cache_tmpfs_and_bind_mounts() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(
        r#"FROM busybox AS src
RUN echo from-stage > /made
FROM busybox
RUN --mount=type=cache,target=/cache sh -c 'cat /cache/f > /seen 2>/dev/null; echo run >> /cache/f'
RUN --mount=type=tmpfs,target=/t sh -c 'grep " /t tmpfs" /proc/mounts | cut -d" " -f3 > /tm; echo x > /t/f'
RUN --mount=type=bind,source=data,target=/b sh -c 'cat /b/x > /bound; touch /b/y 2>/dev/null || echo ro > /bind-ro'
RUN --mount=type=bind,from=src,source=/made,target=/m cat /m > /from-stage
"#,
    );
    ctx.file("data/x", "ctx-data\n");
    build_ok(&e, &ctx, "mounts", &[]);
    assert_eq!(
        run_sh(
            &e,
            "mounts",
            "cat /seen /tm /bound /bind-ro /from-stage; cat /t/f /cache/f 2>/dev/null; echo end"
        ),
        "tmpfs\nctx-data\nro\nfrom-stage\nend\n"
    );
    // The cache mount persists across builds, even with --no-cache.
    build_ok(&e, &ctx, "mounts", &["--no-cache"]);
    assert_eq!(run_sh(&e, "mounts", "cat /seen"), "run\n");
    build_ok(&e, &ctx, "mounts", &["--no-cache"]);
    assert_eq!(run_sh(&e, "mounts", "cat /seen"), "run\nrun\n");
    // The context's file was mounted, never copied.
    assert_eq!(
        run_sh(&e, "mounts", "cat /b/x 2>/dev/null; echo end"),
        "end\n"
    );
}

#[test]
fn secret_mount_never_lands_in_a_layer_or_the_history() {
    let e = TestEngine::with_busybox();
    let secret = "s3cr3t-VALUE-7f1c";
    let ctx = Ctx::new(
        // The Dockerfile never names the secret's value: a digest of it proves the RUN read it.
        "FROM busybox\nRUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -c1-64 > /proof\nRUN --mount=type=secret,id=tok,target=/etc/tok,required=true wc -c < /etc/tok > /size\n",
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let header = b64.encode(serde_json::json!({ "tok": b64.encode(secret) }).to_string());
    let r = api_build(
        &e,
        "t=secret",
        &[("X-Berth-Build-Secrets", &header)],
        &ctx.tar(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let msgs = messages(&r);
    assert!(aux_id(&msgs).is_some(), "{}", r.text());
    assert!(!r.text().contains(secret));
    assert_eq!(
        run_sh(&e, "secret", "cat /proof /size"),
        format!(
            "{}\n{}\n",
            common::sha256(secret.as_bytes()).trim_start_matches("sha256:"),
            secret.len()
        )
    );
    // Neither the secret file nor its content in the image.
    assert_eq!(
        run_sh(
            &e,
            "secret",
            "test -s /etc/tok && echo file || echo none; cat /run/secrets/tok 2>/dev/null; echo end"
        ),
        "none\nend\n"
    );
    for line in history(&e, "secret") {
        assert!(!line.contains(secret), "history: {line}");
    }
    let saved = e.dir.path().join("secret-save.tar");
    let o = docker(&e, &["save", "-o", saved.to_str().unwrap(), "secret"]);
    common::ok(&o);
    let bytes = std::fs::read(&saved).unwrap();
    assert!(bytes.len() > 1000);
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is in the saved image"
    );
    // Nor in the build record.
    let rec = e.api("GET", "/berth/v1/builds", None).text();
    assert!(!rec.contains(secret));
    let id = e.api_json("GET", "/berth/v1/builds", None)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!e
        .api("GET", &format!("/berth/v1/builds/{id}"), None)
        .text()
        .contains(secret));

    // A required secret that was not given fails the build.
    let r = api_build(&e, "nocache=1", &[], &ctx.tar());
    let last = messages(&r).pop().unwrap();
    assert!(last.get("error").is_some(), "{}", r.text());
}

#[test]
fn network_none_has_only_loopback() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(
        "FROM busybox\nRUN --network=none sh -c \"tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /none\"\nRUN sh -c \"tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort > /default\"\n",
    );
    build_ok(&e, &ctx, "netnone", &[]);
    assert_eq!(run_sh(&e, "netnone", "cat /none"), "lo\n");
    let default = run_sh(&e, "netnone", "cat /default");
    assert!(
        default.contains("eth0"),
        "the default network has an interface: {default}"
    );
}

#[test]
fn network_host_and_shm_size() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(
        "FROM busybox\nRUN --network=host cut -d: -f1 /proc/net/dev | tr -d ' ' > /host-ifs\nRUN df -k /dev/shm | tail -1 | awk '{print $2}' > /shm\n",
    );
    build_ok(&e, &ctx, "nethost", &["--shm-size", "32m"]);
    // The host's namespace: this engine's bridge is one of its interfaces.
    let ifs = run_sh(&e, "nethost", "cat /host-ifs");
    assert!(
        ifs.lines().any(|l| l == e.net.bridge),
        "{} not in {ifs}",
        e.net.bridge
    );
    assert_eq!(run_sh(&e, "nethost", "cat /shm"), "32768\n");
}

#[test]
fn cache_mount_ids_are_shared_and_options_apply() {
    let e = TestEngine::with_busybox();
    let a = Ctx::new(
        "FROM busybox\nRUN --mount=type=cache,id=shared,target=/a sh -c 'echo from-a > /a/f'\n",
    );
    build_ok(&e, &a, "cache-a", &[]);
    // Another Dockerfile, another target, the same id: the same directory.
    let b = Ctx::new(
        "FROM busybox\nRUN --mount=type=cache,id=shared,target=/b cat /b/f > /got\nRUN --mount=type=cache,target=/owned,uid=1000,gid=50,mode=0700 stat -c '%u %g %a' /owned > /st\n",
    );
    build_ok(&e, &b, "cache-b", &[]);
    assert_eq!(
        run_sh(&e, "cache-b", "cat /got /st"),
        "from-a\n1000 50 700\n"
    );
}

#[test]
fn rm_false_keeps_each_step_container_with_its_changes() {
    // A removed step container's upper dir becomes the layer itself; a kept one (--rm=false)
    // must keep its changes, and the image must have them too.
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new("FROM busybox\nRUN echo kept > /kept\n");
    build_ok(&e, &ctx, "rmfalse", &["--rm=false"]);
    let ids = common::ok(&docker(&e, &["ps", "-aq"]));
    let cid = ids.lines().next().expect("the step's container is kept");
    let diff = common::ok(&docker(&e, &["diff", cid]));
    assert!(diff.contains("A /kept"), "{diff}");
    assert_eq!(run_sh(&e, "rmfalse", "cat /kept"), "kept\n");
    // And with the default --rm, nothing is left and the layer is whole.
    let ctx = Ctx::new("FROM busybox\nRUN mkdir -p /d && echo gone > /d/f && ln -s f /d/l\n");
    build_ok(&e, &ctx, "rmtrue", &[]);
    assert_eq!(common::ok(&docker(&e, &["ps", "-aq"])).lines().count(), 1);
    assert_eq!(run_sh(&e, "rmtrue", "cat /d/l"), "gone\n");
}
