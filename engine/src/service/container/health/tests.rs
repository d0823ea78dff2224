//! Unit tests of the healthcheck configuration and status transitions.

use std::time::Duration;

use serde_json::json;

use super::exec_probe::{Limited, MAX_OUTPUT};
use super::probe::{DEFAULT_INTERVAL, DEFAULT_RETRIES, DEFAULT_TIMEOUT, MAX_LOG_ENTRIES};
use super::*;
use crate::model::container::{Health, HealthcheckResult};

fn probe(start_period_ms: u64, retries: i64) -> Probe {
    Probe {
        argv: vec!["true".into()],
        interval: Duration::from_millis(100),
        timeout: Duration::from_millis(100),
        start_period: Duration::from_millis(start_period_ms),
        start_interval: Duration::from_millis(10),
        retries,
    }
}

fn result(code: i64) -> HealthcheckResult {
    HealthcheckResult {
        exit_code: code,
        ..HealthcheckResult::default()
    }
}

#[test]
fn config_parses_validates_and_merges() {
    let c = HealthConfig::from_value(&json!({"Test": "CMD-SHELL true", "Interval": 5})).unwrap();
    assert_eq!(c.test, ["CMD-SHELL true"]);
    let err = c.validate().unwrap_err().to_string();
    assert!(
        err.contains("Interval in Healthcheck cannot be less than 1ms"),
        "{err}"
    );
    assert!(validate(Some(&json!({"Test": ["CMD"], "Interval": 0}))).is_err());
    assert!(validate(Some(&json!({"Test": ["BOGUS", "x"]}))).is_err());
    assert!(validate(Some(&json!({"Retries": -1}))).is_err());
    assert!(validate(Some(&json!({"Test": ["NONE"]}))).is_ok());
    assert!(validate(Some(&json!({"Test": "x", "Timeout": "soon"}))).is_err());
    assert!(validate(None).is_ok());

    let image = json!({"Test": ["CMD", "img-check"], "Interval": 7_000_000_000i64, "Retries": 9});
    // Nothing asked: the image's, whole.
    assert_eq!(merge(None, Some(&image)).unwrap(), Some(image.clone()));
    // Only timings asked: the image's test fills in.
    let m = merge(Some(json!({"Interval": 1_000_000})), Some(&image))
        .unwrap()
        .unwrap();
    assert_eq!(m["Test"], json!(["CMD", "img-check"]));
    assert_eq!(m["Interval"], 1_000_000);
    assert_eq!(m["Retries"], 9);
    // NONE overrides.
    let m = merge(Some(json!({"Test": ["NONE"]})), Some(&image))
        .unwrap()
        .unwrap();
    assert_eq!(m["Test"], json!(["NONE"]));
    assert_eq!(merge(None, None).unwrap(), None);
}

#[test]
fn probes_from_configs() {
    let sh = vec!["/bin/sh".to_string(), "-c".into()];
    let p = Probe::from_config(
        &HealthConfig {
            test: vec!["CMD-SHELL".into(), "exit 1".into()],
            ..HealthConfig::default()
        },
        &sh,
    )
    .unwrap();
    assert_eq!(p.argv, ["/bin/sh", "-c", "exit 1"]);
    assert_eq!(p.interval, DEFAULT_INTERVAL);
    assert_eq!(p.timeout, DEFAULT_TIMEOUT);
    assert_eq!(p.retries, DEFAULT_RETRIES);
    assert_eq!(p.start_period, Duration::ZERO);
    let p = Probe::from_config(
        &HealthConfig {
            test: vec!["CMD".into(), "cat".into(), "/ok".into()],
            interval: 2_000_000,
            retries: 1,
            ..HealthConfig::default()
        },
        &sh,
    )
    .unwrap();
    assert_eq!(p.argv, ["cat", "/ok"]);
    assert_eq!(p.interval, Duration::from_millis(2));
    for test in [vec![], vec!["NONE".to_string()], vec!["CMD".into()]] {
        let cfg = HealthConfig {
            test,
            ..HealthConfig::default()
        };
        assert!(Probe::from_config(&cfg, &sh).is_none());
    }
}

#[test]
fn results_drive_the_status() {
    let p = probe(0, 2);
    let mut h = Health {
        status: STARTING.into(),
        ..Health::default()
    };
    assert_eq!(apply_result(&mut h, &p, result(1), Duration::ZERO), None);
    assert_eq!(h.failing_streak, 1);
    assert_eq!(
        apply_result(&mut h, &p, result(1), Duration::ZERO).as_deref(),
        Some(UNHEALTHY)
    );
    assert_eq!(
        apply_result(&mut h, &p, result(0), Duration::ZERO).as_deref(),
        Some(HEALTHY)
    );
    assert_eq!(h.failing_streak, 0);
    for _ in 0..10 {
        apply_result(&mut h, &p, result(-1), Duration::ZERO);
    }
    assert_eq!(h.log.len(), MAX_LOG_ENTRIES);
    assert_eq!(h.failing_streak, 10);
    assert_eq!(h.status, UNHEALTHY);
}

#[test]
fn start_period_failures_do_not_count_until_a_success() {
    let p = probe(1000, 1);
    let mut h = Health {
        status: STARTING.into(),
        ..Health::default()
    };
    let early = Duration::from_millis(10);
    assert_eq!(apply_result(&mut h, &p, result(1), early), None);
    assert_eq!((h.failing_streak, h.status.as_str()), (0, STARTING));
    // After the period they count.
    assert_eq!(
        apply_result(&mut h, &p, result(1), Duration::from_secs(2)).as_deref(),
        Some(UNHEALTHY)
    );
    // Once healthy, failures count even within the period.
    let mut h = Health {
        status: STARTING.into(),
        ..Health::default()
    };
    apply_result(&mut h, &p, result(0), early);
    assert_eq!(
        apply_result(&mut h, &p, result(1), early).as_deref(),
        Some(UNHEALTHY)
    );
    // The start interval applies only while starting within the period.
    assert_eq!(p.next_wait(true, early), Duration::from_millis(10));
    assert_eq!(p.next_wait(false, early), Duration::from_millis(100));
    assert_eq!(
        p.next_wait(true, Duration::from_secs(5)),
        Duration::from_millis(100)
    );
}

#[test]
fn output_is_limited() {
    let mut l = Limited::default();
    l.push(&[b'a'; 3000]);
    l.push(&[b'b'; 3000]);
    let t = l.text();
    assert_eq!(t.len(), MAX_OUTPUT + 3);
    assert!(t.ends_with("b..."));
}

#[test]
fn durations_like_go() {
    assert_eq!(crate::util::parse_go_duration("30s"), Some(30_000_000_000));
    assert_eq!(
        crate::util::parse_go_duration("1m30s"),
        Some(90_000_000_000)
    );
    assert_eq!(crate::util::parse_go_duration("200ms"), Some(200_000_000));
    assert_eq!(crate::util::parse_go_duration("0"), Some(0));
    assert_eq!(crate::util::parse_go_duration("10"), None);
    assert_eq!(crate::util::parse_go_duration("abc"), None);
    assert_eq!(go_duration(Duration::from_millis(300)), "300ms");
    assert_eq!(go_duration(Duration::from_secs(30)), "30s");
    assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
    assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
}

#[test]
fn dockerfile_instruction() {
    let v =
        parse_instruction("--interval=5s --retries=2 CMD wget -q -O- localhost || exit 1").unwrap();
    assert_eq!(
        v["Test"],
        json!(["CMD-SHELL", "wget -q -O- localhost || exit 1"])
    );
    assert_eq!(v["Interval"], 5_000_000_000i64);
    assert_eq!(v["Retries"], 2);
    let v = parse_instruction(r#"CMD ["cat", "/ok"]"#).unwrap();
    assert_eq!(v["Test"], json!(["CMD", "cat", "/ok"]));
    assert_eq!(parse_instruction("NONE").unwrap()["Test"], json!(["NONE"]));
    assert!(parse_instruction("").is_err());
    assert!(parse_instruction("CMD").is_err());
    assert!(parse_instruction("--interval=fast CMD true").is_err());
    assert!(parse_instruction("--bogus=1 CMD true").is_err());
    assert!(parse_instruction("RUN true").is_err());
}
