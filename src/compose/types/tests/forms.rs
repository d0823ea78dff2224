//! The other spellings compose-go accepts for a value decode to the same model: recorded
//! docker compose outputs are loaded with values replaced by an equivalent form (a string for a
//! number, a list for a map, a command line for a list…) and must still be written back as
//! docker compose wrote them.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::super::{to_go_json_indent, Project};

fn recorded(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compose/types")
        .join(format!("{name}.json"));
    std::fs::read_to_string(p).expect("recorded output")
}

/// Replaces values (by JSON pointer) in a recorded output, decodes it and writes it again.
fn assert_same_output(name: &str, replacements: &[(&str, Value)]) {
    let text = recorded(name);
    let mut v: Value = serde_json::from_str(&text).expect("valid JSON");
    for (ptr, new) in replacements {
        *v.pointer_mut(ptr)
            .unwrap_or_else(|| panic!("{name}: no {ptr}")) = new.clone();
    }
    let p = Project::from_canonical(v).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(to_go_json_indent(&p), text, "{name}");
}

#[test]
fn numbers_sizes_and_booleans_as_strings() {
    let s = "/services/limited";
    assert_same_output(
        "06-limits",
        &[
            (&format!("{s}/cpus"), json!("0.5")),
            (&format!("{s}/cpu_count"), json!("2")),
            (&format!("{s}/cpu_percent"), json!("50")),
            (&format!("{s}/mem_limit"), json!("1g")),
            (&format!("{s}/mem_reservation"), json!("512m")),
            (&format!("{s}/memswap_limit"), json!(2147483648u64)),
            (&format!("{s}/shm_size"), json!("64M")),
            (&format!("{s}/pids_limit"), json!("200")),
            (&format!("{s}/oom_kill_disable"), json!("true")),
            (&format!("{s}/oom_score_adj"), json!("-500")),
            (&format!("{s}/stop_grace_period"), json!("90s")),
            (
                &format!("{s}/sysctls"),
                json!(["net.core.somaxconn=1024", "net.ipv4.tcp_syncookies=0"]),
            ),
            (
                &format!("{s}/sysctls"),
                json!({"net.core.somaxconn": 1024, "net.ipv4.tcp_syncookies": 0}),
            ),
            (&format!("{s}/ulimits/nproc"), json!("65535")),
            (
                &format!("{s}/blkio_config/device_read_bps/0/Rate"),
                json!("12m"),
            ),
            (
                &format!("{s}/blkio_config/weight_device/0"),
                json!({"path": "/dev/sda", "weight": "400"}),
            ),
        ],
    );
}

#[test]
fn list_and_map_forms() {
    assert_same_output(
        "07-environment",
        &[
            (
                "/services/listenv/environment",
                json!([
                    "PLAIN=value",
                    "EMPTY=",
                    "UNSET_NO_VALUE",
                    "WITH_EQUALS=a=b=c",
                    "SPACES=hello world"
                ]),
            ),
            ("/services/mapenv/environment/NUMBER", json!(42)),
            ("/services/mapenv/environment/FLOAT", json!(1.5)),
            ("/services/mapenv/environment/BOOL", json!(true)),
        ],
    );
    assert_same_output(
        "13-extensions",
        &[(
            "/services/hosts/extra_hosts",
            json!({"somehost": "162.242.195.82", "otherhost": ["50.31.209.229", "[::1]"]}),
        )],
    );
    // compose-go's canonical form of build.ssh is a map (id → path or null).
    assert_same_output(
        "03-build",
        &[("/services/built/build/ssh", json!({"default": null}))],
    );
}

#[test]
fn command_lines_and_short_forms() {
    assert_same_output(
        "08-command",
        &[
            (
                "/services/quoted/command",
                json!("sh -c \"echo 'hello world' && sleep 1\""),
            ),
            (
                "/services/quoted/entrypoint",
                json!(r#"/bin/entry --flag='single quoted' "double \"escaped\"" plain\ space"#),
            ),
        ],
    );
    assert_same_output(
        "04-healthcheck",
        &[(
            "/services/shell/healthcheck/test",
            json!("curl -f http://localhost/ || exit 1"),
        )],
    );
    assert_same_output(
        "12-secrets-configs",
        &[
            ("/services/secretive/secrets/1/uid", json!(1000)),
            ("/services/secretive/secrets/1/mode", json!(0o440)),
        ],
    );
    assert_same_output("05-deploy", &[("/services/gpu/gpus/0/count", json!("all"))]);
    assert_same_output(
        "07-environment",
        &[("/services/filed/command", Value::Null)],
    );
}
