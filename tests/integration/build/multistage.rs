//! Multi-stage builds: only the stages the target needs are built (an unused failing stage does
//! not fail the build), `--target`, `COPY --from` by stage index, and `FROM scratch`.

use super::{build_err, build_ok, config, docker, image, run_sh, Ctx};
use crate::common::{self, TestEngine};

const STAGES: &str = r#"FROM busybox AS broken
RUN echo broken-ran; exit 9
FROM busybox AS base
RUN echo base > /base
FROM base AS final
COPY --from=base /base /copied
COPY --from=1 /base /by-index
RUN echo final > /final
"#;

#[test]
fn unused_failing_stage_and_target() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(STAGES);
    let (out, _) = build_ok(&e, &ctx, "multi", &[]);
    assert!(!out.contains("broken-ran"), "the unused stage ran:\n{out}");
    assert_eq!(
        run_sh(&e, "multi", "cat /base /copied /by-index /final"),
        "base\nbase\nbase\nfinal\n"
    );

    // --target stops at that stage.
    build_ok(&e, &ctx, "multi:base", &["--target", "base"]);
    assert_eq!(
        run_sh(
            &e,
            "multi:base",
            "cat /base; test -e /copied || echo no-copied"
        ),
        "base\nno-copied\n"
    );
    // Targeting the broken stage fails with its code.
    let (code, _, err) = build_err(&e, &ctx, &["--target", "broken"]);
    assert_eq!(code, Some(9), "{err}");
    // An unknown target is refused as docker refuses it.
    let (_, _, err) = build_err(&e, &ctx, &["--target", "nope"]);
    assert!(
        err.contains("failed to reach build target nope in Dockerfile"),
        "{err}"
    );
}

#[test]
fn from_scratch_with_copy_from() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(
        "FROM busybox AS b\nRUN echo base > /base\nFROM scratch\nCOPY --from=b /base /base\n",
    );
    build_ok(&e, &ctx, "scratchy", &[]);
    let img = image(&e, "scratchy");
    assert_eq!(
        img["RootFS"]["Layers"].as_array().map(Vec::len),
        Some(1),
        "{img:#}"
    );
    let cfg = config(&e, "scratchy");
    assert_eq!(
        cfg["Env"],
        serde_json::json!(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    );
    // Its only file, seen from another build's COPY --from an image.
    let user = Ctx::new("FROM busybox\nCOPY --from=scratchy / /s/\nRUN ls -A /s > /list\n");
    build_ok(&e, &user, "scratch-user", &[]);
    assert_eq!(
        run_sh(&e, "scratch-user", "cat /list /s/base"),
        "base\nbase\n"
    );
    // A scratch image has nothing to run.
    let o = docker(&e, &["run", "--rm", "scratchy", "sh"]);
    assert!(!o.status.success(), "{}", common::stdout(&o));
}

#[test]
fn independent_stages_build_in_parallel() {
    let e = TestEngine::with_busybox();
    // Three 3-second stages: 9 s one after another, about 3 s side by side. The bound leaves
    // room for a loaded machine while still failing a sequential build.
    let ctx = Ctx::new(
        "FROM busybox AS a\nRUN sleep 3; echo a > /a\nFROM busybox AS b\nRUN sleep 3; echo b > /b\nFROM busybox AS c\nRUN sleep 3; echo c > /c\nFROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\nCOPY --from=c /c /c\n",
    );
    let started = std::time::Instant::now();
    let (out, _) = build_ok(&e, &ctx, "parallel", &[]);
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_millis(7500),
        "took {took:?}:\n{out}"
    );
    // The output still reads in stage order, as docker prints it.
    let pos = |s: &str| out.find(s).unwrap_or_else(|| panic!("{s} in:\n{out}"));
    assert!(pos("Step 2/10 : RUN sleep 3; echo a") < pos("Step 4/10 : RUN sleep 3; echo b"));
    assert!(pos("Step 4/10 : RUN sleep 3; echo b") < pos("Step 6/10 : RUN sleep 3; echo c"));
    assert_eq!(run_sh(&e, "parallel", "cat /a /b /c"), "a\nb\nc\n");
}
