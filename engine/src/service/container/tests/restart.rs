//! Restart policies: the pure decision and back-off of `RestartState`, then the lifecycle on the
//! fake host (restarting → running again, the restart count, a stop that cancels).

use std::time::Duration;

use serde_json::json;

use super::Fixture;
use crate::model::container::Status;
use crate::service::container::restart::{Policy, RestartState};

const SHORT: Duration = Duration::from_millis(5);
const LONG: Duration = Duration::from_secs(11);

#[test]
fn no_never_restarts_and_always_always_does() {
    let mut st = RestartState::default();
    assert_eq!(st.after_exit(Policy::No, 1, false, 0, SHORT), None);
    assert_eq!(st.after_exit(Policy::No, 0, false, 0, SHORT), None);
    let mut st = RestartState::default();
    assert!(st.after_exit(Policy::Always, 0, false, 0, SHORT).is_some());
    // A manual stop does not matter to `always` (a cancel does, below).
    assert!(st.after_exit(Policy::Always, 0, true, 7, SHORT).is_some());
}

#[test]
fn the_backoff_doubles_caps_at_a_minute_and_resets_after_a_long_run() {
    let mut st = RestartState::default();
    let waits: Vec<u128> = (0..12)
        .map(|n| {
            st.after_exit(Policy::Always, 1, false, n, SHORT)
                .unwrap()
                .as_millis()
        })
        .collect();
    assert_eq!(&waits[..5], &[100, 200, 400, 800, 1600]);
    assert_eq!(waits[11], 60_000);
    // Ten seconds or more of running start the back-off over.
    assert_eq!(
        st.after_exit(Policy::Always, 1, false, 12, LONG),
        Some(Duration::from_millis(100))
    );
    assert_eq!(
        st.after_exit(Policy::Always, 1, false, 13, SHORT),
        Some(Duration::from_millis(200))
    );
}

#[test]
fn on_failure_restarts_failures_up_to_its_count() {
    let p = Policy::OnFailure { max: 2 };
    let mut st = RestartState::default();
    assert_eq!(st.after_exit(p, 0, false, 0, SHORT), None);
    assert!(st.after_exit(p, 1, false, 0, SHORT).is_some());
    assert!(st.after_exit(p, 137, false, 1, SHORT).is_some());
    assert_eq!(st.after_exit(p, 1, false, 2, SHORT), None);
    // 0 is no limit.
    let mut st = RestartState::default();
    assert!(st
        .after_exit(Policy::OnFailure { max: 0 }, 1, false, 1000, SHORT)
        .is_some());
}

#[test]
fn unless_stopped_respects_a_manual_stop() {
    let mut st = RestartState::default();
    assert!(st
        .after_exit(Policy::UnlessStopped, 0, false, 0, SHORT)
        .is_some());
    assert_eq!(
        st.after_exit(Policy::UnlessStopped, 0, true, 1, SHORT),
        None
    );
}

#[test]
fn a_cancel_holds_until_a_reset() {
    let mut st = RestartState::default();
    st.after_exit(Policy::Always, 1, false, 0, SHORT);
    st.after_exit(Policy::Always, 1, false, 1, SHORT);
    st.cancel();
    assert_eq!(st.after_exit(Policy::Always, 1, false, 2, SHORT), None);
    st.reset();
    // The back-off starts over too.
    assert_eq!(
        st.after_exit(Policy::Always, 1, false, 0, SHORT),
        Some(Duration::from_millis(100))
    );
}

#[tokio::test]
async fn always_starts_the_container_again_after_each_exit() {
    let f = Fixture::new();
    let id = f
        .run(json!({"HostConfig": {"RestartPolicy": {"Name": "always"}}}))
        .await;
    f.host.exit(0);
    f.until(&id, "the first restart", |r| {
        r.restart_count == 1 && r.state.status == Status::Running
    })
    .await;
    f.host.exit(3);
    f.until(&id, "the second restart", |r| {
        r.restart_count == 2 && r.state.status == Status::Running
    })
    .await;
    assert_eq!(f.host.starts(), 3);
    // A user's stop ends it: exited, and no further start.
    f.svc.stop(&id, None, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.status(&id), Status::Exited);
    assert_eq!(f.host.starts(), 3);
    // A user's start counts from zero again.
    f.svc.start(&id).await.unwrap();
    assert_eq!(f.record(&id).restart_count, 0);
}

#[tokio::test]
async fn on_failure_stops_restarting_at_its_count() {
    let f = Fixture::new();
    let id = f
        .run(json!({"HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 1}}}))
        .await;
    f.host.exit(1);
    f.until(&id, "the restart", |r| {
        r.restart_count == 1 && r.state.status == Status::Running
    })
    .await;
    f.host.exit(1);
    f.until(&id, "the final exit", |r| r.state.status == Status::Exited)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.status(&id), Status::Exited);
    assert_eq!(f.host.starts(), 2);
}

#[tokio::test]
async fn a_stop_during_the_backoff_cancels_the_restart() {
    let f = Fixture::new();
    let id = f
        .run(json!({"HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}}}))
        .await;
    // Two quick restarts (100 ms, 200 ms): the next back-off is 400 ms, long enough to stop in.
    for n in 1..=2 {
        f.host.exit(1);
        f.until(&id, "a restart", |r| {
            r.restart_count == n && r.state.status == Status::Running
        })
        .await;
    }
    f.host.exit(1);
    f.until(&id, "restarting", |r| r.state.status == Status::Restarting)
        .await;
    // Within the back-off: nothing to signal, the restart is dropped.
    f.svc.stop(&id, None, None).await.unwrap();
    assert_eq!(f.status(&id), Status::Exited);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(f.host.starts(), 3);
    assert!(f.host.signals().is_empty());
    assert!(f.record(&id).has_been_manually_stopped);
    assert_eq!(f.actions().last().map(String::as_str), Some("stop"));
    assert_eq!(f.actions().iter().filter(|a| *a == "die").count(), 3);
}

/// dockerd 20.10: a container that never ran stays Created after a refused start, with the
/// error and exit code 128; one that ran before stays Exited.
#[tokio::test]
async fn a_failed_start_keeps_the_status_and_records_the_error() {
    let f = Fixture::new();
    let id = f.create(json!({}));
    f.host.fail_next_start(crate::error::EngineError::invalid(
        "exec: \"sleep\": not found",
    ));
    let err = f.svc.start(&id).await.unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
    let rec = f.record(&id);
    assert_eq!(rec.state.status, Status::Created);
    assert_eq!(rec.state.exit_code, 128);
    assert!(rec.state.error.contains("not found"), "{:?}", rec.state);
    assert_eq!(f.actions(), ["create", "die"]);

    let ran = f.run(json!({})).await;
    f.host.exit(0);
    f.until(&ran, "exited", |r| r.state.status == Status::Exited)
        .await;
    f.host
        .fail_next_start(crate::error::EngineError::internal("no cgroup"));
    f.svc.start(&ran).await.unwrap_err();
    let rec = f.record(&ran);
    assert_eq!(rec.state.status, Status::Exited);
    assert_eq!(
        (rec.state.exit_code, rec.state.error.as_str()),
        (128, "no cgroup")
    );
}

#[tokio::test]
async fn a_policy_start_that_fails_is_not_retried() {
    let f = Fixture::new();
    let id = f
        .run(json!({"HostConfig": {"RestartPolicy": {"Name": "always"}}}))
        .await;
    f.host
        .fail_next_start(crate::error::EngineError::internal("no cgroup"));
    f.host.exit(1);
    f.until(&id, "the failed restart", |r| {
        r.state.status == Status::Exited && r.state.error == "no cgroup"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(f.host.starts(), 2);
    assert_eq!(f.status(&id), Status::Exited);
}
