//! Stop and kill: the stop signal (the request's, the image's StopSignal, else SIGTERM), SIGKILL
//! once the timeout has elapsed, and the state checks (409 for a kill of a stopped container).

use std::time::{Duration, Instant};

use serde_json::json;

use super::Fixture;
use crate::error::EngineError;
use crate::model::container::{ContainerConfig, Status};
use crate::service::container::kill::kill_signal;
use crate::service::container::stop::StopPlan;

fn config(config: serde_json::Value) -> ContainerConfig {
    serde_json::from_value(config).expect("config")
}

#[test]
fn stop_plan_takes_the_request_then_the_container_then_the_defaults() {
    let plain = config(json!({}));
    assert_eq!(
        StopPlan::of(&plain, None, None).unwrap(),
        StopPlan {
            signal: libc::SIGTERM,
            grace: Some(Duration::from_secs(10))
        }
    );
    let image = config(json!({"StopSignal": "SIGQUIT", "StopTimeout": 3}));
    let plan = StopPlan::of(&image, None, None).unwrap();
    assert_eq!(
        (plan.signal, plan.grace),
        (libc::SIGQUIT, Some(Duration::from_secs(3)))
    );
    let plan = StopPlan::of(&image, Some(0), Some("USR1")).unwrap();
    assert_eq!(
        (plan.signal, plan.grace),
        (libc::SIGUSR1, Some(Duration::ZERO))
    );
    // A negative timeout waits for ever; an empty signal is no signal.
    let plan = StopPlan::of(&plain, Some(-1), Some("")).unwrap();
    assert_eq!((plan.signal, plan.grace), (libc::SIGTERM, None));
    assert!(matches!(
        StopPlan::of(&plain, None, Some("SIGNOPE")),
        Err(EngineError::InvalidArgument(_))
    ));
}

#[test]
fn kill_sends_sigkill_unless_told_otherwise() {
    assert_eq!(kill_signal(None).unwrap(), libc::SIGKILL);
    assert_eq!(kill_signal(Some("")).unwrap(), libc::SIGKILL);
    assert_eq!(kill_signal(Some("SIGHUP")).unwrap(), libc::SIGHUP);
    assert_eq!(kill_signal(Some("10")).unwrap(), 10);
    assert!(kill_signal(Some("bogus")).is_err());
}

#[tokio::test]
async fn stop_sends_sigterm_and_the_container_exits() {
    let f = Fixture::new();
    let id = f.run(json!({})).await;
    assert_eq!(f.status(&id), Status::Running);
    f.svc.stop(&id, None, None).await.unwrap();
    assert_eq!(f.host.signals(), [libc::SIGTERM]);
    let rec = f.record(&id);
    assert_eq!(rec.state.status, Status::Exited);
    assert_eq!(rec.state.exit_code, 128 + libc::SIGTERM);
    assert!(rec.has_been_manually_stopped);
    assert_eq!(f.actions(), ["create", "start", "kill", "die", "stop"]);
    // A second stop changes nothing (304).
    assert!(matches!(
        f.svc.stop(&id, None, None).await,
        Err(EngineError::NotModified(_))
    ));
}

#[tokio::test]
async fn stop_escalates_to_sigkill_after_the_timeout() {
    let f = Fixture::new();
    let id = f.run(json!({})).await;
    f.host.dies_of(&[libc::SIGKILL]);
    let t0 = Instant::now();
    f.svc.stop(&id, Some(1), None).await.unwrap();
    assert!(t0.elapsed() >= Duration::from_secs(1), "{:?}", t0.elapsed());
    assert_eq!(f.host.signals(), [libc::SIGTERM, libc::SIGKILL]);
    assert_eq!(f.record(&id).state.exit_code, 128 + libc::SIGKILL);
    assert_eq!(
        f.actions(),
        ["create", "start", "kill", "kill", "die", "stop"]
    );
}

#[tokio::test]
async fn stop_uses_the_image_stop_signal_and_the_request_overrides_it() {
    let f = Fixture::new();
    f.host.dies_of(&[libc::SIGQUIT, libc::SIGUSR2]);
    let id = f.run(json!({"StopSignal": "SIGQUIT"})).await;
    f.svc.stop(&id, Some(5), None).await.unwrap();
    assert_eq!(f.host.signals(), [libc::SIGQUIT]);
    f.svc.start(&id).await.unwrap();
    f.svc.stop(&id, Some(5), Some("SIGUSR2")).await.unwrap();
    assert_eq!(f.host.signals(), [libc::SIGQUIT, libc::SIGUSR2]);
}

#[tokio::test]
async fn kill_signals_a_running_container_and_refuses_a_stopped_one() {
    let f = Fixture::new();
    let id = f.create(json!({}));
    // Created, never started: nothing to signal (409).
    assert!(matches!(
        f.svc.kill(&id, None).await,
        Err(EngineError::Conflict(_))
    ));
    f.svc.start(&id).await.unwrap();
    // A signal the process survives: still running.
    f.svc.kill(&id, Some("SIGUSR1")).await.unwrap();
    assert_eq!(f.status(&id), Status::Running);
    // SIGKILL returns once the container is gone.
    f.svc.kill(&id, None).await.unwrap();
    assert_eq!(f.host.signals(), [libc::SIGUSR1, libc::SIGKILL]);
    assert_eq!(f.status(&id), Status::Exited);
    let err = f.svc.kill(&id, None).await.unwrap_err();
    assert!(matches!(err, EngineError::Conflict(_)), "{err:?}");
    assert_eq!(err.to_string(), format!("Container {id} is not running"));
    assert_eq!(f.host.signals().len(), 2);
}

#[tokio::test]
async fn remove_refuses_a_running_container_unless_forced() {
    let f = Fixture::new();
    let id = f.run(json!({})).await;
    assert!(matches!(
        f.svc.remove(&id, false).await,
        Err(EngineError::Conflict(_))
    ));
    f.svc.remove(&id, true).await.unwrap();
    assert_eq!(f.host.signals(), [libc::SIGKILL]);
    assert!(matches!(f.svc.get(&id), Err(EngineError::NotFound(_))));
    assert_eq!(f.actions(), ["create", "start", "kill", "die", "destroy"]);
}
