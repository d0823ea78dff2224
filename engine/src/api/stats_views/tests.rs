//! Unit tests of docker's stats JSON shape.

use serde_json::json;

use super::*;
use crate::service::container::stats::tests::sample;

#[test]
fn json_has_docker_shape_and_client_cpu_percent() {
    let prev = sample(1_000, 10_000, Some(4000));
    let cur = sample(3_000, 14_000, Some(4000));
    let v = to_json("web", "abc", &cur, Some(&prev));
    assert_eq!(v["name"], "/web");
    assert_eq!(v["id"], "abc");
    assert_eq!(v["memory_stats"]["limit"], 4000);
    assert_eq!(v["memory_stats"]["stats"]["inactive_file"], 100);
    assert_eq!(v["pids_stats"]["current"], 3);
    assert!(v["pids_stats"].get("limit").is_none());
    assert_eq!(
        v["blkio_stats"]["io_service_bytes_recursive"][0],
        json!({"major": 8, "minor": 0, "op": "read", "value": 42})
    );
    assert_eq!(v["networks"]["eth0"]["rx_bytes"], 5000);
    assert_eq!(v["networks"]["eth0"]["tx_dropped"], 4);
    assert!(v["networks"].get("lo").is_none());
    // The clients' formula: Δtotal/Δsystem × online × 100 = 2000/4000 × 2 × 100.
    let d_cpu = v["cpu_stats"]["cpu_usage"]["total_usage"].as_f64().unwrap()
        - v["precpu_stats"]["cpu_usage"]["total_usage"]
            .as_f64()
            .unwrap();
    let d_sys = v["cpu_stats"]["system_cpu_usage"].as_f64().unwrap()
        - v["precpu_stats"]["system_cpu_usage"].as_f64().unwrap();
    let online = v["cpu_stats"]["online_cpus"].as_f64().unwrap();
    assert_eq!(d_cpu / d_sys * online * 100.0, 100.0);
    assert_ne!(v["preread"], ZERO_TIME);

    // Unlimited memory and a limit above the host's both show the host's memory.
    assert_eq!(
        to_json("w", "i", &sample(0, 0, None), None)["memory_stats"]["limit"],
        8000
    );
    assert_eq!(
        to_json("w", "i", &sample(0, 0, Some(1 << 40)), None)["memory_stats"]["limit"],
        8000
    );
    let first = to_json("w", "i", &cur, None);
    assert_eq!(first["preread"], ZERO_TIME);
    assert_eq!(first["precpu_stats"]["cpu_usage"]["total_usage"], 0);
}

#[test]
fn zero_stats_of_a_stopped_container() {
    let v = zero_stats("db", "123");
    assert_eq!(v["name"], "/db");
    assert_eq!(v["read"], ZERO_TIME);
    assert_eq!(v["cpu_stats"]["cpu_usage"]["total_usage"], 0);
    assert_eq!(v["memory_stats"], json!({}));
    assert!(v["blkio_stats"]["io_service_bytes_recursive"].is_null());
    assert!(v.get("networks").is_none());
}
