//! Every Dockerfile instruction's effect on the image config (`docker inspect`) and on `docker
//! history`, with ARG scoping, build-arg overrides and warnings, and ONBUILD fired in a child
//! build. The expected configs and history texts are what dockerd 20.10's legacy builder gives
//! for the same Dockerfiles and the same busybox rootfs.

use serde_json::json;

use super::{build_ok, config, docker, history, image, Ctx};
use crate::common::{self, TestEngine};

const EVERYTHING: &str = r#"ARG BASE=busybox
ARG GLOBAL=g1
FROM ${BASE}
ENV A=1 B="two words"
ENV C 3 4
LABEL l1=v1 "l 2"="v 2"
MAINTAINER me@example.com
EXPOSE 80 443/udp 8000-8002
VOLUME /data
VOLUME ["/v2", "/v3"]
USER app:staff
WORKDIR /w
WORKDIR rel
SHELL ["/bin/sh", "-xc"]
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --retries=2 CMD true
RUN echo "global=[$GLOBAL] A=$A" > /tmp/g1
ARG GLOBAL
RUN echo "global2=[$GLOBAL]" > /tmp/g2
ARG LOCAL=d
RUN echo "local=[$LOCAL] proxy=[$HTTP_PROXY]" > /tmp/l
ENTRYPOINT ["/bin/echo", "ep"]
CMD ["x"]
"#;

#[test]
fn every_config_instruction_and_arg_scoping_match_docker() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(EVERYTHING);
    let (out, id) = build_ok(
        &e,
        &ctx,
        "every",
        &[
            "--build-arg",
            "LOCAL=o",
            "--build-arg",
            "HTTP_PROXY=http://p",
            "--build-arg",
            "UNUSED=1",
        ],
    );
    assert!(out.contains("Step 1/23 : ARG BASE=busybox\n"), "{out}");
    assert!(out.contains("Step 3/23 : FROM ${BASE}\n"), "{out}");
    assert!(
        out.contains("[Warning] One or more build-args [UNUSED] were not consumed\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!("Successfully built {}\n", &id[7..19])),
        "{out}"
    );
    assert!(out.ends_with("Successfully tagged every:latest\n"), "{out}");

    let cfg = config(&e, "every");
    let expected = json!({
        "User": "app:staff",
        "ExposedPorts": {"443/udp": {}, "80/tcp": {}, "8000/tcp": {}, "8001/tcp": {}, "8002/tcp": {}},
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1", "B=two words", "C=3 4"],
        "Entrypoint": ["/bin/echo", "ep"],
        "Cmd": ["x"],
        "Volumes": {"/data": {}, "/v2": {}, "/v3": {}},
        "WorkingDir": "/w/rel",
        "Labels": {"l 2": "v 2", "l1": "v1"},
        "StopSignal": "SIGUSR1",
        "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 5000000000u64, "Retries": 2},
        "Shell": ["/bin/sh", "-xc"],
    });
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&cfg[k], v, "Config.{k} in {cfg:#}");
    }
    assert_eq!(image(&e, "every")["Author"], "me@example.com");

    let h = history(&e, "every");
    let expected_history = [
        r#"/bin/sh -xc #(nop)  CMD ["x"]"#,
        r#"/bin/sh -xc #(nop)  ENTRYPOINT ["/bin/echo" "ep"]"#,
        r#"|2 GLOBAL=g1 LOCAL=o /bin/sh -xc echo "local=[$LOCAL] proxy=[$HTTP_PROXY]" > /tmp/l"#,
        r#"/bin/sh -xc #(nop)  ARG LOCAL=d"#,
        r#"|1 GLOBAL=g1 /bin/sh -xc echo "global2=[$GLOBAL]" > /tmp/g2"#,
        r#"/bin/sh -xc #(nop)  ARG GLOBAL"#,
        r#"|0 /bin/sh -xc echo "global=[$GLOBAL] A=$A" > /tmp/g1"#,
        r#"/bin/sh -xc #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" '\x02'}"#,
        r#"/bin/sh -xc #(nop)  STOPSIGNAL SIGUSR1"#,
        r#"/bin/sh -xc #(nop)  SHELL [/bin/sh -xc]"#,
        r#"/bin/sh -c #(nop) WORKDIR /w/rel"#,
        r#"/bin/sh -c #(nop) WORKDIR /w"#,
        r#"/bin/sh -c #(nop)  USER app:staff"#,
        r#"/bin/sh -c #(nop)  VOLUME [/v2 /v3]"#,
        r#"/bin/sh -c #(nop)  VOLUME [/data]"#,
        r#"/bin/sh -c #(nop)  EXPOSE 443/udp 80 8000-8002"#,
        r#"/bin/sh -c #(nop)  MAINTAINER me@example.com"#,
        r#"/bin/sh -c #(nop)  LABEL l1=v1 l 2=v 2"#,
        r#"/bin/sh -c #(nop)  ENV C=3 4"#,
        r#"/bin/sh -c #(nop)  ENV A=1 B=two words"#,
    ];
    assert_eq!(
        &h[..expected_history.len()],
        &expected_history.map(str::to_owned)[..],
        "history:\n{}",
        h.join("\n")
    );
    // The proxy build arg is usable in RUN but never recorded.
    assert!(
        !h.iter().any(|l| l.contains("http://p")),
        "proxy arg in history: {h:#?}"
    );

    // The global ARG is invisible until re-declared; the build arg overrides a stage default.
    let o = docker(
        &e,
        &[
            "run",
            "--rm",
            "--entrypoint",
            "cat",
            "every",
            "/tmp/g1",
            "/tmp/g2",
            "/tmp/l",
        ],
    );
    assert_eq!(
        common::ok(&o),
        "global=[] A=1\nglobal2=[g1]\nlocal=[o] proxy=[http://p]\n"
    );
    // USER and WORKDIR take effect in containers; WORKDIR created the directory.
    let o = docker(
        &e,
        &[
            "run",
            "--rm",
            "--entrypoint",
            "sh",
            "every",
            "-c",
            "id; pwd; test -d /w/rel",
        ],
    );
    assert_eq!(
        common::ok(&o),
        "uid=1000(app) gid=50(staff) groups=50(staff)\n/w/rel\n"
    );
    let o = docker(&e, &["run", "--rm", "every"]);
    assert_eq!(common::ok(&o), "ep x\n");
}

#[test]
fn cmd_entrypoint_forms_and_onbuild_across_two_builds() {
    let e = TestEngine::with_busybox();
    let parent = Ctx::new(
        "FROM busybox\nCMD [\"base\"]\nONBUILD RUN echo triggered > /trig\nONBUILD ENV FROM_TRIGGER=yes\n",
    );
    build_ok(&e, &parent, "parent", &[]);
    let cfg = config(&e, "parent");
    assert_eq!(
        cfg["OnBuild"],
        json!(["RUN echo triggered > /trig", "ENV FROM_TRIGGER=yes"])
    );
    assert_eq!(cfg["Cmd"], json!(["base"]));
    let o = docker(&e, &["run", "--rm", "parent", "ls", "/trig"]);
    assert!(!o.status.success(), "the parent must not run its triggers");

    // The child fires both triggers right after FROM; a shell-form ENTRYPOINT drops the
    // inherited CMD.
    let child = Ctx::new("FROM parent\nENTRYPOINT echo \"$HOME\"\n");
    let (out, _) = build_ok(&e, &child, "child", &[]);
    assert!(out.contains("Step 1/2 : FROM parent\n"), "{out}");
    assert!(out.contains("# Executing 2 build triggers\n"), "{out}");
    let cfg = config(&e, "child");
    assert_eq!(
        cfg["OnBuild"],
        json!(null),
        "triggers are consumed: {cfg:#}"
    );
    assert_eq!(cfg["Cmd"], json!(null), "{cfg:#}");
    assert_eq!(
        cfg["Entrypoint"],
        json!(["/bin/sh", "-c", "echo \"$HOME\""])
    );
    assert_eq!(
        cfg["Env"],
        json!([
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "FROM_TRIGGER=yes"
        ])
    );
    let h = history(&e, "child");
    assert_eq!(
        &h[..4],
        &[
            r#"/bin/sh -c #(nop)  ENTRYPOINT ["/bin/sh" "-c" "echo \"$HOME\""]"#,
            "/bin/sh -c #(nop)  ENV FROM_TRIGGER=yes",
            "/bin/sh -c echo triggered > /trig",
            "/bin/sh -c #(nop)  ONBUILD ENV FROM_TRIGGER=yes",
        ],
        "{h:#?}"
    );
    let o = docker(
        &e,
        &["run", "--rm", "--entrypoint", "cat", "child", "/trig"],
    );
    assert_eq!(common::ok(&o), "triggered\n");
    let o = docker(&e, &["run", "--rm", "child"]);
    assert_eq!(common::ok(&o), "/root\n");

    // Shell-form CMD, and an exec ENTRYPOINT with a CMD after it keeps both.
    let forms = Ctx::new("FROM busybox\nSHELL [\"/bin/sh\", \"-ec\"]\nCMD echo a b\n");
    build_ok(&e, &forms, "forms", &[]);
    let cfg = config(&e, "forms");
    assert_eq!(cfg["Cmd"], json!(["/bin/sh", "-ec", "echo a b"]), "{cfg:#}");
    assert_eq!(cfg["Entrypoint"], json!(null));
    let h = history(&e, "forms");
    assert_eq!(
        h[0],
        r#"/bin/sh -ec #(nop)  CMD ["/bin/sh" "-ec" "echo a b"]"#
    );
    let two = Ctx::new("FROM busybox\nENTRYPOINT [\"echo\", \"e\"]\nCMD [\"c\"]\n");
    build_ok(&e, &two, "two", &[]);
    let o = docker(&e, &["run", "--rm", "two"]);
    assert_eq!(common::ok(&o), "e c\n");
}

#[test]
fn directives_and_from_platform() {
    let e = TestEngine::with_busybox();
    // A syntax line is accepted as the built-in language; escape= makes ` the escape character
    // and the backslash a plain one.
    let ctx = Ctx::new(
        "# syntax=docker/dockerfile:1.4\n# escape=`\nFROM busybox\nRUN echo a `\n    b > /e\nENV P=C:\\dir\n",
    );
    build_ok(&e, &ctx, "directives", &[]);
    assert_eq!(super::run_sh(&e, "directives", "cat /e"), "a b\n");
    assert_eq!(config(&e, "directives")["Env"][1], "P=C:\\dir");

    // FROM --platform: the host's platform builds, another one is refused.
    let arch = crate::common::registry::host_arch();
    let ctx = Ctx::new(&format!(
        "FROM --platform=linux/{arch} busybox\nRUN echo ok > /ok\n"
    ));
    build_ok(&e, &ctx, "platform", &[]);
    let other = if arch == "s390x" { "ppc64le" } else { "s390x" };
    ctx.file(
        "Dockerfile",
        &format!("FROM --platform=linux/{other} busybox\nRUN echo ok > /ok\n"),
    );
    let (code, _, _) = super::build_err(&e, &ctx, &[]);
    assert_eq!(code, Some(1));
}
