//! Image layer extraction (`image::extract::extract_layer`, what pull and load run on registry
//! tars) into a temporary root: hostile or malformed entries must fail the layer with a typed
//! error, and nothing may be written beside the root or into the canary directory.
#![no_main]

mod common;

use std::sync::Once;

use berth_engine::image::extract::extract_layer;
use libfuzzer_sys::fuzz_target;

static INIT: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    INIT.call_once(common::reset_canary);
    let tar = common::tar_from(data);
    let base = common::base_with_root();
    let mut tee = Vec::new();
    if let Ok(stats) = extract_layer(&tar[..], Some(&mut tee), &base.path().join("root")) {
        assert_eq!(
            stats.tar_size,
            tar.len() as u64,
            "the diff_id covers the whole stream"
        );
    }
    common::assert_contained(base.path(), &["root", "sentinel"]);
});
