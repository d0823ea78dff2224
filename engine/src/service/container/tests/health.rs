//! Health checks on the fake host: starting → unhealthy after `Retries` failures → healthy on a
//! success, the start period, the kept log, and `unhealthy` once the container stops.

use serde_json::json;

use super::Fixture;
use crate::service::container::health::{HEALTHY, STARTING, UNHEALTHY};

/// A healthcheck probing every millisecond.
fn healthcheck(retries: i64, start_period_ns: i64) -> serde_json::Value {
    json!({"Healthcheck": {
        "Test": ["CMD", "check"],
        "Interval": 1_000_000,
        "StartInterval": 1_000_000,
        "StartPeriod": start_period_ns,
        "Retries": retries,
    }})
}

fn health_events(f: &Fixture) -> Vec<String> {
    f.actions()
        .into_iter()
        .filter_map(|a| a.strip_prefix("health_status: ").map(str::to_owned))
        .collect()
}

fn health(f: &Fixture, id: &str) -> crate::model::container::Health {
    f.record(id).state.health.expect("health state")
}

#[tokio::test]
async fn failures_make_it_unhealthy_after_the_retries_and_a_success_healthy() {
    let f = Fixture::new();
    f.host.probe_results(&[1, 1, 1, 0]);
    let id = f.create(healthcheck(3, 0));
    f.svc.start(&id).await.unwrap();
    assert_eq!(health(&f, &id).status, STARTING);
    f.until_events(&["health_status: unhealthy", "health_status: healthy"])
        .await;
    // Two failures are not enough with three retries: no status before the third.
    assert_eq!(health_events(&f), [UNHEALTHY, HEALTHY]);
    assert_eq!(health(&f, &id).failing_streak, 0);
    // The log keeps the last five results.
    f.until(&id, "a full log", |r| {
        r.state.health.as_ref().is_some_and(|h| h.log.len() == 5)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(health(&f, &id).log.len(), 5);
}

#[tokio::test]
async fn failures_in_the_start_period_do_not_count() {
    let f = Fixture::new();
    f.host.probe_results(&[1, 1, 1, 0, 1]);
    // Ten seconds of start period, one retry.
    let id = f.create(healthcheck(1, 10_000_000_000));
    f.svc.start(&id).await.unwrap();
    f.until_events(&["health_status: healthy", "health_status: unhealthy"])
        .await;
    let events = health_events(&f);
    // Still starting through three failures; once healthy, one failure counts.
    assert_eq!(&events[..2], [HEALTHY, UNHEALTHY]);
}

#[tokio::test]
async fn a_stopped_container_reads_unhealthy_and_a_start_begins_again() {
    let f = Fixture::new();
    let id = f.create(healthcheck(3, 0));
    f.svc.start(&id).await.unwrap();
    f.until(&id, "healthy", |r| {
        r.state.health.as_ref().is_some_and(|h| h.status == HEALTHY)
    })
    .await;
    f.svc.stop(&id, None, None).await.unwrap();
    assert_eq!(health(&f, &id).status, UNHEALTHY);
    f.svc.start(&id).await.unwrap();
    assert_eq!(health(&f, &id).status, STARTING);
}
