//! Unit tests of the shim's pure parts: exit codes and init's error lines.

use super::*;

#[test]
fn exit_codes_follow_docker() {
    // Encoded wait statuses: exited(3) = 3<<8, killed by SIGKILL = 9.
    assert_eq!(exit_code_from_status(3 << 8), 3);
    assert_eq!(exit_code_from_status(0), 0);
    assert_eq!(exit_code_from_status(9), 137);
    assert_eq!(exit_code_from_status(15), 143);
}

#[test]
fn init_error_lines() {
    assert_eq!(
        parse_init_error(b"127 exec: \"x\": executable file not found in $PATH\n"),
        (
            127,
            "exec: \"x\": executable file not found in $PATH".to_string()
        )
    );
    assert_eq!(parse_init_error(b"garbage"), (1, "garbage".to_string()));
}
