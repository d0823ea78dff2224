//! `--privileged` and `--cap-add ALL` under an engine whose own bounding set lacks a capability:
//! the container gets everything the engine holds, not a capset failure. The engine runs under
//! `capsh --drop=cap_sys_module` (libcap2-bin), which removes CAP_SYS_MODULE from the bounding
//! set it is exec'd with. (dockerd on this host fails `--privileged` outright: its runc asks for
//! CAP_SYS_RESOURCE, which the host's own bounding set lacks.)

use super::{probe, status_lines};
use crate::common::TestEngine;

const CAP_SYS_MODULE: u32 = 16;

/// A `Cap*:` line's mask.
fn mask(status: &str, field: &str) -> u64 {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("{field} in {status}"));
    u64::from_str_radix(line.trim(), 16).unwrap()
}

#[test]
fn privileged_gets_every_capability_the_engine_holds_and_only_those() {
    let own = std::fs::read_to_string("/proc/self/status").unwrap();
    let held = mask(&own, "CapBnd:") & !(1 << CAP_SYS_MODULE);
    let e = TestEngine::start_under(
        &[
            "capsh",
            "--drop=cap_sys_module",
            "--",
            "-c",
            "exec \"$0\" \"$@\"",
        ],
        &[],
        &[],
    );
    e.import_busybox("busybox:latest");

    // The engine really runs without it.
    let caps = status_lines(&e, &["--privileged"]);
    for field in ["CapBnd:", "CapPrm:", "CapEff:"] {
        assert_eq!(mask(&caps, field), held, "{field} {caps}");
    }
    assert_eq!(mask(&caps, "CapInh:"), 0);
    assert_eq!(mask(&caps, "CapAmb:"), 0);
    let all = status_lines(&e, &["--cap-add", "ALL"]);
    assert_eq!(mask(&all, "CapEff:"), held, "{all}");
    // What privileged lifts works there: namespaces, mounts, keyrings.
    for call in ["unshare-user", "mount", "keyctl"] {
        assert_eq!(
            probe(&e, &["--privileged"], &[call]),
            format!("{call}: allowed")
        );
    }
    // And a default container under the same engine is still confined.
    let default = status_lines(&e, &[]);
    assert_eq!(mask(&default, "CapEff:"), 0xa80425fb, "{default}");
}
