//! The client's `--format` templates (`format::template`, a subset of Go's text/template):
//! parse, then render against a container-like JSON context in both missing-key modes.
#![no_main]

use berth::format::template::{Missing, Template};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(format) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(t) = Template::parse(format) else {
        return;
    };
    let ctx = serde_json::json!({
        "ID": "0123456789ab",
        "Names": ["web", "db"],
        "Labels": {"a": "b", "com.example": "x,y"},
        "Ports": [{"PrivatePort": 80, "Type": "tcp"}],
        "Size": 1234567,
        "State": {"Running": true, "ExitCode": 0, "Health": null},
        "Command": "sh -c 'echo hi'"
    });
    let _ = t.render(&ctx, Missing::Error);
    let _ = t.render(&ctx, Missing::NoValue);
});
