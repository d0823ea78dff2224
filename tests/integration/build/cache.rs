//! The build cache: an unchanged rebuild gives the same image, a touched file (mtime only) keeps
//! it, changed content or mode changes it and re-runs only the steps from that COPY on;
//! `--no-cache`; `cachefrom` limits hits to the named images' chains; the cache survives an engine
//! restart; `docker builder prune -af` and `POST /build/prune` empty it, and `system df` counts it.

use super::{api_build, aux_id, build_ok, cache_hits, docker, messages, ran, stream_text, Ctx};
use crate::common::{self, urlencode, TestEngine};

const DOCKERFILE: &str =
    "FROM busybox\nRUN echo first > /first\nCOPY f.txt /f.txt\nRUN cat /f.txt > /copy\nENV X=1\n";

#[test]
fn rebuilds_hit_the_cache_by_content_never_mtime() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(DOCKERFILE);
    let f = ctx.file("f.txt", "v1\n");
    let (out, id1) = build_ok(&e, &ctx, "cached", &[]);
    assert_eq!(cache_hits(&out), 0, "{out}");
    assert_eq!(ran(&out), 2, "{out}");

    let (out, id) = build_ok(&e, &ctx, "cached", &[]);
    assert_eq!(id, id1, "unchanged rebuild:\n{out}");
    assert_eq!(cache_hits(&out), 4, "{out}");
    assert_eq!(ran(&out), 0, "{out}");

    // Only the mtime changes.
    let st = std::process::Command::new("touch")
        .args(["-d", "2001-02-03 04:05:06"])
        .arg(&f)
        .status()
        .unwrap();
    assert!(st.success());
    let (out, id) = build_ok(&e, &ctx, "cached", &[]);
    assert_eq!(id, id1, "touched file:\n{out}");
    assert_eq!(cache_hits(&out), 4, "{out}");

    // New content: the RUN before the COPY is cached, the COPY and everything after re-run.
    ctx.file("f.txt", "v2\n");
    let (out, id2) = build_ok(&e, &ctx, "cached", &[]);
    assert_ne!(id2, id1, "{out}");
    assert_eq!(cache_hits(&out), 1, "{out}");
    assert_eq!(ran(&out), 1, "{out}");
    let idx_cache = out.find(" ---> Using cache").unwrap();
    let idx_copy = out.find("Step 3/5 : COPY f.txt /f.txt").unwrap();
    assert!(
        idx_cache < idx_copy,
        "the cached step is the first RUN:\n{out}"
    );
    let o = docker(&e, &["run", "--rm", "cached", "cat", "/copy"]);
    assert_eq!(common::ok(&o), "v2\n");

    // The mode is part of the key too.
    let mut perm = std::fs::metadata(&f).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&f, perm).unwrap();
    let (out, id3) = build_ok(&e, &ctx, "cached", &[]);
    assert_ne!(id3, id2, "{out}");
    assert_eq!(cache_hits(&out), 1, "{out}");

    // --no-cache runs everything again.
    let (out, _) = build_ok(&e, &ctx, "cached", &["--no-cache"]);
    assert_eq!(cache_hits(&out), 0, "{out}");
    assert_eq!(ran(&out), 2, "{out}");
}

#[test]
fn cachefrom_uses_only_the_named_chain() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(DOCKERFILE);
    ctx.file("f.txt", "v1\n");
    let (_, id1) = build_ok(&e, &ctx, "seed", &[]);
    let tar = ctx.tar();

    let q = format!("cachefrom={}", urlencode(r#"["seed"]"#));
    let r = api_build(&e, &q, &[], &tar);
    let msgs = messages(&r);
    let text = stream_text(&msgs);
    assert_eq!(aux_id(&msgs).as_deref(), Some(id1.as_str()), "{text}");
    assert_eq!(cache_hits(&text), 4, "{text}");

    let q = format!("cachefrom={}", urlencode(r#"["no-such-image:latest"]"#));
    let r = api_build(&e, &q, &[], &tar);
    let msgs = messages(&r);
    let text = stream_text(&msgs);
    assert!(aux_id(&msgs).is_some(), "{}", r.text());
    assert_eq!(cache_hits(&text), 0, "{text}");
    assert_eq!(ran(&text), 2, "{text}");
}

#[test]
fn cache_survives_restart_and_prune_empties_it() {
    let mut e = TestEngine::with_busybox();
    let ctx = Ctx::new(DOCKERFILE);
    ctx.file("f.txt", "v1\n");
    let (_, id1) = build_ok(&e, &ctx, "persist", &[]);

    e.terminate();
    e.spawn();
    let (out, id) = build_ok(&e, &ctx, "persist", &[]);
    assert_eq!(id, id1, "{out}");
    assert_eq!(cache_hits(&out), 4, "{out}");

    // system df counts the cache.
    let o = docker(
        &e,
        &["system", "df", "--format", "{{.Type}} {{.TotalCount}}"],
    );
    let df = common::ok(&o);
    let count = df
        .lines()
        .find_map(|l| l.strip_prefix("Build Cache "))
        .unwrap_or_else(|| panic!("no Build Cache row: {df}"));
    assert!(count.parse::<u32>().unwrap() > 0, "{df}");
    let sdf = e.api_json("GET", "/system/df", None);
    assert!(
        sdf["BuildCache"].as_array().is_some_and(|a| !a.is_empty()),
        "{sdf:#}"
    );

    let o = docker(&e, &["builder", "prune", "-af"]);
    let pruned = common::ok(&o);
    assert!(pruned.contains("Total reclaimed space:"), "{pruned}");
    let (out, _) = build_ok(&e, &ctx, "persist", &[]);
    assert_eq!(cache_hits(&out), 0, "after builder prune:\n{out}");

    // And through the API.
    let r = e.api("POST", "/build/prune?all=1", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert!(
        v["CachesDeleted"].as_array().is_some_and(|a| !a.is_empty()),
        "{v}"
    );
    assert!(v["SpaceReclaimed"].is_u64(), "{v}");
    let sdf = e.api_json("GET", "/system/df", None);
    assert!(
        sdf["BuildCache"].as_array().is_none_or(|a| a.is_empty()),
        "{sdf:#}"
    );
    let (out, _) = build_ok(&e, &ctx, "persist", &[]);
    assert_eq!(cache_hits(&out), 0, "after POST /build/prune:\n{out}");
}

#[test]
fn prune_filters_keep_recent_cache() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(DOCKERFILE);
    ctx.file("f.txt", "v1\n");
    build_ok(&e, &ctx, "recent", &[]);
    // Nothing is older than a day: the cache stays.
    let o = docker(&e, &["builder", "prune", "-af", "--filter", "until=24h"]);
    common::ok(&o);
    let (out, _) = build_ok(&e, &ctx, "recent", &[]);
    assert_eq!(cache_hits(&out), 4, "{out}");
    let r = e.api(
        "POST",
        &format!(
            "/build/prune?all=1&filters={}",
            urlencode(r#"{"until":["24h"]}"#)
        ),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (out, _) = build_ok(&e, &ctx, "recent", &[]);
    assert_eq!(cache_hits(&out), 4, "{out}");
}
