//! A registry that cannot be reached (connection refused, a name that does not resolve): the
//! engine's one-line message says so and what would fix it, through `berth pull`, `berth run`
//! of a missing image, the raw API (docker's 500) and the stock docker CLI. The TLS case (HTTPS
//! to a plain-HTTP registry) is in registry_pull.rs, next to the registries it needs.

use crate::common;

use common::{http, stderr, TestEngine};

/// A registry that cannot be reached says so in one line, with what would fix it, to berth's CLI
/// (`pull`, `run` of a missing image) and to the stock docker CLI alike, with docker's statuses.
#[test]
fn unreachable_registries_say_so_and_what_to_do() {
    let e = TestEngine::start();
    // Connection refused: nothing listens on port 1.
    let o = e.berth(&["pull", "127.0.0.1:1/x"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with(
            "Error response from daemon: cannot reach registry 127.0.0.1:1: connection refused. \
             Is a registry listening on 127.0.0.1:1? Offline, load an image archive \
             (berth load -i FILE) or import a rootfs tarball (berth import FILE NAME)"
        ),
        "{err}"
    );
    let r = http::request(
        &e.socket,
        "POST",
        "/images/create?fromImage=127.0.0.1:1/x&tag=latest",
        None,
    )
    .unwrap();
    assert_eq!(r.status, 500, "docker answers 500 too: {}", r.text());

    // `run` of a missing image pulls first and fails the same way (docker's 125).
    let o = e.berth(&["run", "--rm", "127.0.0.1:1/x", "true"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot reach registry 127.0.0.1:1: connection refused"),
        "{}",
        stderr(&o)
    );

    // A name that does not resolve (.invalid never does, RFC 6761).
    let o = e.berth(&["pull", "registry.invalid/x"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("cannot reach registry registry.invalid: DNS lookup failed"),
        "{err}"
    );
    assert!(
        err.contains("Check the registry name registry.invalid."),
        "{err}"
    );

    // The stock docker CLI prints the engine's message as it is.
    let o = e.docker(&["pull", "127.0.0.1:1/x"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot reach registry 127.0.0.1:1: connection refused. Is a registry"),
        "{}",
        stderr(&o)
    );
}
