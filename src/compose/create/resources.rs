//! The cgroup part of `HostConfig` (docker's `container.Resources`, embedded in it), as
//! docker compose's `getDeployResources` fills it: the service's own limits, then `blkio_config`,
//! then `deploy.resources` limits and reservations over them, devices (CDI names as a device
//! request), `gpus` and ulimits.

use serde_json::{json, Map, Value};

use super::{str_list, str_map};
use crate::compose::types::{BlkioConfig, DeviceRequest, ServiceConfig, ThrottleDevice};

/// Go's `float32 * 1e9` then `int64(...)`: the product is rounded to float32 before the
/// truncation, as Go computes it.
fn nanos(cpus: f32) -> i64 {
    (cpus * 1e9f32) as i64
}

/// `getDeployResources`, as the fields it contributes to `HostConfig`.
pub fn resources(s: &ServiceConfig) -> Map<String, Value> {
    let mut r = Map::new();
    let mut memory = s.mem_limit.0;
    let mut nano_cpus = nanos(s.cpus);
    let mut memory_reservation = s.mem_reservation.0;
    let mut pids_limit = (s.pids_limit != 0).then_some(s.pids_limit);
    let mut device_requests: Vec<Value> = Vec::new();

    if let Some(res) = s.deploy.as_ref().map(|d| &d.resources) {
        // setLimits: only what is set replaces the service's own values.
        if let Some(l) = &res.limits {
            if l.memory_bytes.0 != 0 {
                memory = l.memory_bytes.0;
            }
            if l.nano_cpus.0 != 0.0 {
                nano_cpus = nanos(l.nano_cpus.0);
            }
            if l.pids > 0 {
                pids_limit = Some(l.pids);
            }
        }
        // setReservations: CPU reservations are a swarm notion and pids only a limit.
        if let Some(rv) = &res.reservations {
            if rv.memory_bytes.0 != 0 {
                memory_reservation = rv.memory_bytes.0;
            }
            for d in &rv.devices {
                device_requests.push(device_request(d, vec![str_list(&d.capabilities)]));
            }
        }
    }

    let mut devices = Vec::new();
    let mut cdi_names = Vec::new();
    for d in &s.devices {
        if d.source == d.target && is_qualified_cdi_name(&d.source) {
            cdi_names.push(d.source.clone());
            continue;
        }
        devices.push(json!({
            "PathOnHost": d.source,
            "PathInContainer": d.target,
            "CgroupPermissions": d.permissions,
        }));
    }
    if !cdi_names.is_empty() {
        device_requests.push(json!({
            "Driver": "cdi",
            "Count": 0,
            "DeviceIDs": cdi_names,
            "Capabilities": null,
            "Options": null,
        }));
    }
    for g in &s.gpus {
        let mut caps = g.capabilities.clone();
        caps.push("gpu".into());
        device_requests.push(device_request(g, vec![json!(caps)]));
    }

    r.insert("CpuShares".into(), json!(s.cpu_shares));
    r.insert("Memory".into(), json!(memory));
    r.insert("NanoCpus".into(), json!(nano_cpus));
    r.insert("CgroupParent".into(), json!(s.cgroup_parent));
    blkio(s.blkio_config.as_ref(), &mut r);
    r.insert("CpuPeriod".into(), json!(s.cpu_period));
    r.insert("CpuQuota".into(), json!(s.cpu_quota));
    r.insert("CpuRealtimePeriod".into(), json!(s.cpu_rt_period));
    r.insert("CpuRealtimeRuntime".into(), json!(s.cpu_rt_runtime));
    r.insert("CpusetCpus".into(), json!(s.cpuset));
    r.insert("CpusetMems".into(), json!(""));
    r.insert("Devices".into(), list(devices));
    r.insert("DeviceCgroupRules".into(), str_list(&s.device_cgroup_rules));
    r.insert("DeviceRequests".into(), list(device_requests));
    r.insert("MemoryReservation".into(), json!(memory_reservation));
    r.insert("MemorySwap".into(), json!(s.mem_swap_limit.0));
    let swappiness = (s.mem_swappiness.0 != 0).then_some(s.mem_swappiness.0);
    r.insert("MemorySwappiness".into(), json!(swappiness));
    r.insert("OomKillDisable".into(), json!(s.oom_kill_disable));
    r.insert("PidsLimit".into(), json!(pids_limit));
    r.insert("Ulimits".into(), ulimits(s));
    r.insert("CpuCount".into(), json!(s.cpu_count));
    r.insert("CpuPercent".into(), json!((s.cpu_percent * 100f32) as i64));
    r.insert("IOMaximumIOps".into(), json!(0));
    r.insert("IOMaximumBandwidth".into(), json!(0));
    r
}

fn list(v: Vec<Value>) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        Value::Array(v)
    }
}

/// docker's `DeviceRequest` (no `omitempty`), from a `gpus` or reservation entry.
fn device_request(d: &DeviceRequest, capabilities: Vec<Value>) -> Value {
    json!({
        "Driver": d.driver,
        "Count": d.count.0,
        "DeviceIDs": str_list(&d.ids),
        "Capabilities": capabilities,
        "Options": str_map(d.options.iter()),
    })
}

/// `toUlimits`: one value sets both limits; `soft`/`hard` override it. Go ranges over a map:
/// sorted by name here.
fn ulimits(s: &ServiceConfig) -> Value {
    let l: Vec<Value> = s
        .ulimits
        .iter()
        .filter_map(|(name, u)| u.as_ref().map(|u| (name, u)))
        .map(|(name, u)| {
            let soft = if u.soft != 0 { u.soft } else { u.single };
            let hard = if u.hard != 0 { u.hard } else { u.single };
            json!({"Name": name, "Hard": hard, "Soft": soft})
        })
        .collect();
    list(l)
}

/// `setBlkio`: the weight and the per-device lists (`null` when there are none).
fn blkio(b: Option<&BlkioConfig>, r: &mut Map<String, Value>) {
    let throttle = |l: Option<&Vec<ThrottleDevice>>| {
        list(
            l.into_iter()
                .flatten()
                .map(|t| json!({"Path": t.path, "Rate": t.rate.0 as u64}))
                .collect(),
        )
    };
    r.insert("BlkioWeight".into(), json!(b.map_or(0, |b| b.weight)));
    r.insert(
        "BlkioWeightDevice".into(),
        list(
            b.into_iter()
                .flat_map(|b| &b.weight_device)
                .map(|w| json!({"Path": w.path, "Weight": w.weight}))
                .collect(),
        ),
    );
    r.insert(
        "BlkioDeviceReadBps".into(),
        throttle(b.map(|b| &b.device_read_bps)),
    );
    r.insert(
        "BlkioDeviceWriteBps".into(),
        throttle(b.map(|b| &b.device_write_bps)),
    );
    r.insert(
        "BlkioDeviceReadIOps".into(),
        throttle(b.map(|b| &b.device_read_iops)),
    );
    r.insert(
        "BlkioDeviceWriteIOps".into(),
        throttle(b.map(|b| &b.device_write_iops)),
    );
}

/// The CDI parser's `IsQualifiedName`: `vendor/class=name`; vendor and class start with a
/// letter and hold letters, digits, `_`, `-`, `.`; the name starts with a letter or digit and
/// may also hold `:`; each ends with a letter or digit (ASCII, as the parser checks bytes).
pub fn is_qualified_cdi_name(device: &str) -> bool {
    if device.is_empty() || device.starts_with('/') {
        return false;
    }
    let Some((kind, name)) = device.split_once('=') else {
        return false;
    };
    let Some((vendor, class)) = kind.split_once('/') else {
        return false;
    };
    fn valid(s: &str, first: fn(&u8) -> bool, middle: &[u8]) -> bool {
        let b = s.as_bytes();
        let (Some(f), Some(l)) = (b.first(), b.last()) else {
            return false;
        };
        let inner = if b.len() > 2 {
            &b[1..b.len() - 1]
        } else {
            &[][..]
        };
        first(f)
            && l.is_ascii_alphanumeric()
            && inner
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || middle.contains(c))
    }
    valid(vendor, u8::is_ascii_alphabetic, b"_-.")
        && valid(class, u8::is_ascii_alphabetic, b"_-.")
        && valid(name, u8::is_ascii_alphanumeric, b"_-.:")
}
