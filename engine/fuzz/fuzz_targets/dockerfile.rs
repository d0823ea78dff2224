//! The Dockerfile parser (`dockerfile::parse`, heredocs, `# escape=`, `RUN --mount`) and the
//! ONBUILD trigger parser: any text is a Dockerfile or a `DockerfileError`.
#![no_main]

use berth_engine::dockerfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(df) = dockerfile::parse(text) {
        let _ = df.step_count();
        let _ = df.stage_by_name("a");
    }
    let triggers: Vec<String> = text.lines().map(str::to_owned).collect();
    let _ = dockerfile::parse_triggers(&triggers);
});
