//! The feed's decisions: which lists an event makes stale, when builds are polled.

use super::*;
use serde_json::json;

#[test]
fn builds_are_polled_while_one_runs_or_one_sent_from_here_has_not_ended() {
    assert!(poll_builds(Some(true), 0));
    assert!(poll_builds(Some(false), 1));
    assert!(!poll_builds(Some(false), 0));
    // An engine that keeps no records (docker) is not asked again and again.
    assert!(!poll_builds(None, 1));
}

#[test]
fn events_mark_only_what_they_touch() {
    let s = Stale::from_event(&json!({"Type": "container", "Action": "start"}));
    assert_eq!(
        s,
        Stale {
            containers: true,
            ..Default::default()
        }
    );
    let s = Stale::from_event(&json!({"Type": "container", "Action": "exec_start: sh"}));
    assert!(!s.any());
    let s = Stale::from_event(&json!({"Type": "network", "Action": "connect"}));
    assert!(s.networks && s.containers && !s.images);
    let s = Stale::from_event(&json!({"Type": "image", "Action": "pull"}));
    assert_eq!(
        s,
        Stale {
            images: true,
            ..Default::default()
        }
    );
    // A build tags its image: the builds list changes with it.
    let s = Stale::from_event(&json!({"Type": "image", "Action": "tag"}));
    assert!(s.images && s.builds && !s.containers);
    let mut all = Stale::default();
    all.merge(Stale::BUILDS);
    assert!(all.any() && all.builds && !all.images);
    let s = Stale::from_event(&json!({"Type": "volume", "Action": "create"}));
    assert_eq!(
        s,
        Stale {
            volumes: true,
            ..Default::default()
        }
    );
}
