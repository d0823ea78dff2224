use super::list::{glob_match, reference_matches};
use super::remove::single_repository;
use super::tag::target_reference;

#[test]
fn images_glob_and_reference_filters() {
    assert!(glob_match(b"busy*", b"busybox"));
    assert!(!glob_match(b"*", b"a/b"));
    assert!(glob_match(b"a/*", b"a/b"));
    assert!(glob_match(b"b?sybox:*", b"busybox:1.36"));
    assert!(reference_matches(
        "busybox",
        "docker.io/library/busybox:latest"
    ));
    assert!(reference_matches(
        "busybox:latest",
        "docker.io/library/busybox:latest"
    ));
    assert!(!reference_matches(
        "busybox:1",
        "docker.io/library/busybox:latest"
    ));
    assert!(reference_matches("user/*", "docker.io/user/app:1"));
    assert!(glob_match(b"busybox:[0-9]*", b"busybox:1.36"));
    assert!(!glob_match(b"busybox:[^0-9]*", b"busybox:1.36"));
    assert!(glob_match(b"a[b-d]e", b"ace"));
    assert!(!glob_match(b"a[b-d]e", b"aee"));
    assert!(glob_match(b"a\\*", b"a*"));
    assert!(!glob_match(b"a\\*", b"ab"));
}

#[test]
fn images_target_reference_rules() {
    assert_eq!(
        target_reference("busybox", None).unwrap().full(),
        "docker.io/library/busybox:latest"
    );
    assert_eq!(
        target_reference("busybox:1.36", None).unwrap().full(),
        "docker.io/library/busybox:1.36"
    );
    assert_eq!(
        target_reference("busybox", Some("x")).unwrap().full(),
        "docker.io/library/busybox:x"
    );
    assert!(target_reference("busybox", Some("bad tag")).is_err());
    let d = format!("busybox@sha256:{}", "a".repeat(64));
    assert!(target_reference(&d, None).is_err());
    assert!(single_repository(&[
        "docker.io/library/a:1".into(),
        "docker.io/library/a:2".into()
    ]));
    assert!(!single_repository(&[
        "docker.io/library/a:1".into(),
        "docker.io/library/b:1".into()
    ]));
}
