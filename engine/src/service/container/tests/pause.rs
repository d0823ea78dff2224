//! Pause and unpause: which states allow them, the freezer calls they make, and the thaw that
//! comes before a stop or a SIGKILL of a paused container.

use serde_json::json;

use super::Fixture;
use crate::error::EngineError;
use crate::model::container::Status;
use crate::service::container::host::fake::Call;

fn conflict(r: crate::error::Result<()>) -> String {
    match r {
        Err(EngineError::Conflict(msg)) => msg,
        other => panic!("expected a 409, got {other:?}"),
    }
}

#[tokio::test]
async fn pause_and_unpause_check_the_state() {
    let f = Fixture::new();
    let id = f.create(json!({}));
    let cg = format!("berth/{id}");
    assert!(conflict(f.svc.pause(&id).await).contains("is not running"));
    f.svc.start(&id).await.unwrap();
    assert!(conflict(f.svc.unpause(&id).await).contains("is not paused"));

    f.svc.pause(&id).await.unwrap();
    assert_eq!(f.status(&id), Status::Paused);
    assert!(conflict(f.svc.pause(&id).await).contains("is already paused"));
    // A paused container is not started again.
    let err = f.svc.start(&id).await.unwrap_err();
    assert!(err.to_string().contains("try unpause"), "{err}");

    f.svc.unpause(&id).await.unwrap();
    assert_eq!(f.status(&id), Status::Running);
    let freezer: Vec<Call> = f
        .host
        .calls()
        .into_iter()
        .filter(|c| matches!(c, Call::Freeze(_) | Call::Thaw(_)))
        .collect();
    assert_eq!(freezer, [Call::Freeze(cg.clone()), Call::Thaw(cg)]);
    assert_eq!(f.actions(), ["create", "start", "pause", "unpause"]);
}

#[tokio::test]
async fn a_paused_container_is_thawed_before_a_stop() {
    let f = Fixture::new();
    let id = f.run(json!({})).await;
    let cg = format!("berth/{id}");
    f.svc.pause(&id).await.unwrap();
    f.svc.stop(&id, None, None).await.unwrap();
    let tail: Vec<Call> = f.host.calls().into_iter().skip(1).collect();
    assert_eq!(
        tail,
        [
            Call::Freeze(cg.clone()),
            Call::Thaw(cg),
            Call::Signal(libc::SIGTERM)
        ]
    );
    assert_eq!(f.status(&id), Status::Exited);
}

#[tokio::test]
async fn only_sigkill_thaws_a_paused_container() {
    let f = Fixture::new();
    let id = f.run(json!({})).await;
    f.svc.pause(&id).await.unwrap();
    // Other signals stay pending until unpause, as in docker.
    f.svc.kill(&id, Some("SIGUSR1")).await.unwrap();
    assert_eq!(f.status(&id), Status::Paused);
    assert!(!f.host.calls().iter().any(|c| matches!(c, Call::Thaw(_))));
    f.svc.kill(&id, Some("SIGKILL")).await.unwrap();
    let calls = f.host.calls();
    let thaw = calls.iter().position(|c| matches!(c, Call::Thaw(_)));
    let kill = calls.iter().position(|c| *c == Call::Signal(libc::SIGKILL));
    assert!(thaw.is_some() && thaw < kill, "{calls:?}");
    assert_eq!(f.status(&id), Status::Exited);
}

#[tokio::test]
async fn top_and_update_reach_the_cgroup_of_a_running_container() {
    let f = Fixture::new();
    let id = f.create(json!({}));
    assert!(conflict(f.svc.top(&id).await.map(|_| ())).contains("is not running"));
    let update = |mem: i64| {
        serde_json::from_value::<crate::service::container::update::UpdateRequest>(
            json!({"Memory": mem}),
        )
        .unwrap()
    };
    // Stopped: only the record changes.
    crate::service::container::update::update(&f.svc, &id, update(64 << 20))
        .await
        .unwrap();
    assert!(f.host.calls().is_empty());
    f.svc.start(&id).await.unwrap();
    f.svc.top(&id).await.unwrap();
    crate::service::container::update::update(&f.svc, &id, update(128 << 20))
        .await
        .unwrap();
    let cg = format!("berth/{id}");
    assert_eq!(
        f.host.calls()[1..],
        [
            Call::Pids(cg.clone()),
            Call::UpdateLimits {
                path: cg,
                memory: Some(128 << 20)
            }
        ]
    );
    assert_eq!(f.record(&id).host_config.memory, 128 << 20);
}
