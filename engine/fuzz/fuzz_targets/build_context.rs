//! A build context as `POST /build` receives it (`builder::context::receive`: sniffing,
//! gzip or plain, tar extraction with `archive::tar_in`), then the Dockerfile and `.dockerignore`
//! read from it and applied. Nothing may land outside the context; dropping the context removes
//! it all. The process runs in a mount namespace of its own, so the per-context tmpfs mounts
//! never reach the host's.
#![no_main]

mod common;

use std::io::Write;
use std::sync::Once;

use berth_engine::builder::context::{receive, DEFAULT_DOCKERFILE};
use libfuzzer_sys::fuzz_target;
use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};

static INIT: Once = Once::new();

fn init() {
    unshare(CloneFlags::CLONE_NEWNS).expect("a private mount namespace (run as root)");
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .expect("making mounts private");
    common::reset_canary();
}

fuzz_target!(|data: &[u8]| {
    INIT.call_once(init);
    let Some((&how, rest)) = data.split_first() else {
        return;
    };
    let mut body = common::tar_from(rest);
    if how & 1 == 1 {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).expect("gzip into memory");
        body = gz.finish().expect("gzip into memory");
    }
    let base = common::base_with_root();
    let scratch = base.path().join("root");
    if let Ok(ctx) = receive(&body[..], &scratch) {
        if let Ok(name) = ctx.dockerfile_name(DEFAULT_DOCKERFILE) {
            let _ = ctx.read_dockerfile(&name);
            let _ = ctx.apply_ignore(&name);
        }
        assert_eq!(common::names(&scratch).len(), 1, "one context directory");
        common::assert_contained(base.path(), &["root", "sentinel"]);
    }
    assert!(
        common::names(&scratch).is_empty(),
        "the context removed itself"
    );
    common::assert_contained(base.path(), &["root", "sentinel"]);
});
