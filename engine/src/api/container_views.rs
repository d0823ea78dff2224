//! Docker's JSON shapes for containers: the `ps` summary and the full inspect document.

use serde_json::{json, Value};

use std::collections::HashMap;

use crate::model::container::{
    ContainerRecord, ContainerSummary, EndpointSettings, HostConfig, Status, SummaryHealth,
    SummaryHostConfig, SummaryNetworkSettings,
};
use crate::runtime::spec::files;
use crate::service::container::{health, log_driver, shared_net};
use crate::util::humanize;

fn unix_seconds(ts: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// "Up 3 minutes", "Exited (0) 2 seconds ago", "Created" — docker's STATUS column.
pub fn status_text(rec: &ContainerRecord) -> String {
    let s = &rec.state;
    match s.status {
        Status::Created => "Created".into(),
        Status::Running => {
            let up = format!(
                "Up {}",
                humanize::duration(humanize::since(&s.started_at).unwrap_or(0))
            );
            match health_suffix(rec) {
                Some(h) => format!("{up} {h}"),
                None => up,
            }
        }
        Status::Paused => format!(
            "Up {} (Paused)",
            humanize::duration(humanize::since(&s.started_at).unwrap_or(0))
        ),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            s.exit_code,
            humanize::duration(humanize::since(&s.finished_at).unwrap_or(0))
        ),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Exited => match humanize::since(&s.finished_at) {
            Some(secs) => format!("Exited ({}) {} ago", s.exit_code, humanize::duration(secs)),
            None => format!("Exited ({})", s.exit_code),
        },
    }
}

/// What `ps --filter health=` calls a container without health state.
const NO_HEALTH: &str = "none";

/// Health status as `ps` filters see it: "none" without health state.
pub fn health_status(rec: &ContainerRecord) -> &str {
    rec.state
        .health
        .as_ref()
        .map(|h| h.status.as_str())
        .unwrap_or(NO_HEALTH)
}

/// The text docker appends to "Up 3 seconds": "(healthy)", "(health: starting)".
fn health_suffix(rec: &ContainerRecord) -> Option<String> {
    let h = rec.state.health.as_ref()?;
    Some(if h.status == health::STARTING {
        "(health: starting)".into()
    } else {
        format!("({})", h.status)
    })
}

fn command_line(rec: &ContainerRecord) -> String {
    let mut parts = vec![rec.path.clone()];
    parts.extend(rec.args.iter().cloned());
    parts.join(" ")
}

fn network_mode(rec: &ContainerRecord) -> String {
    if rec.host_config.network_mode.is_empty() {
        "bridge".into()
    } else {
        rec.host_config.network_mode.clone()
    }
}

/// `{mode: {}}` until networking fills it; empty for a container sharing another's network,
/// as in docker.
fn networks(rec: &ContainerRecord) -> HashMap<String, EndpointSettings> {
    let mode = network_mode(rec);
    if shared_net::target(&mode).is_some() {
        return HashMap::new();
    }
    HashMap::from([(mode, EndpointSettings::default())])
}

pub fn summary(rec: &ContainerRecord) -> ContainerSummary {
    let mode = network_mode(rec);
    ContainerSummary {
        id: rec.id.clone(),
        names: vec![format!("/{}", rec.name)],
        image: rec.image.clone(),
        image_id: rec.image_id.clone(),
        command: command_line(rec),
        created: unix_seconds(&rec.created),
        ports: Vec::new(),
        labels: rec.config.labels.clone(),
        state: rec.state.status.as_str(),
        status: status_text(rec),
        host_config: SummaryHostConfig { network_mode: mode },
        network_settings: SummaryNetworkSettings {
            networks: networks(rec),
        },
        health: SummaryHealth {
            status: health_status(rec).to_owned(),
            failing_streak: rec.state.health.as_ref().map_or(0, |h| h.failing_streak),
        },
        mounts: rec.mounts.iter().map(|m| m.to_api()).collect(),
    }
}

/// The HostConfig fields dockerd shows for a container whose client left them out, with dockerd's
/// values (lists a client did not send are null; the docker CLI sends [] for most, kept as sent):
/// inspect has the same keys on both engines, so clients that index them (docker-py's tests,
/// compose's diff) find them.
fn host_config_defaults(obj: &mut serde_json::Map<String, Value>, h: &HostConfig) {
    use crate::runtime::defaults::{MASKED_PATHS, READONLY_PATHS};
    use crate::service::container::spec::path_list;
    let defaults = [
        ("Binds", json!(null)),
        ("ContainerIDFile", json!("")),
        ("PortBindings", json!(null)),
        ("VolumeDriver", json!("")),
        ("VolumesFrom", json!(null)),
        ("CgroupnsMode", json!("host")),
        ("Dns", json!(null)),
        ("DnsOptions", json!(null)),
        ("DnsSearch", json!(null)),
        ("ExtraHosts", json!(null)),
        ("GroupAdd", json!(null)),
        ("IpcMode", json!("private")),
        ("Cgroup", json!("")),
        ("Links", json!(null)),
        ("OomScoreAdj", json!(0)),
        ("PidMode", json!("")),
        ("PublishAllPorts", json!(false)),
        ("UTSMode", json!("")),
        ("UsernsMode", json!("")),
        ("ShmSize", json!(64 << 20)),
        ("Runtime", json!("runc")),
        ("ConsoleSize", json!([0, 0])),
        ("Isolation", json!("")),
        ("CgroupParent", json!("")),
        ("BlkioWeight", json!(0)),
        ("BlkioWeightDevice", json!(null)),
        ("BlkioDeviceReadBps", json!(null)),
        ("BlkioDeviceWriteBps", json!(null)),
        ("BlkioDeviceReadIOps", json!(null)),
        ("BlkioDeviceWriteIOps", json!(null)),
        ("CpuRealtimePeriod", json!(0)),
        ("CpuRealtimeRuntime", json!(0)),
        ("CpusetCpus", json!("")),
        ("CpusetMems", json!("")),
        ("Devices", json!(null)),
        ("DeviceCgroupRules", json!(null)),
        ("DeviceRequests", json!(null)),
        ("KernelMemory", json!(0)),
        ("KernelMemoryTCP", json!(0)),
        ("MemoryReservation", json!(0)),
        ("MemorySwappiness", json!(null)),
        ("OomKillDisable", json!(false)),
        ("PidsLimit", json!(null)),
        ("Ulimits", json!(null)),
        ("CpuCount", json!(0)),
        ("CpuPercent", json!(0)),
        ("IOMaximumIOps", json!(0)),
        ("IOMaximumBandwidth", json!(0)),
        (
            "MaskedPaths",
            json!(path_list(h, "MaskedPaths", MASKED_PATHS)),
        ),
        (
            "ReadonlyPaths",
            json!(path_list(h, "ReadonlyPaths", READONLY_PATHS)),
        ),
    ];
    for (k, v) in defaults {
        obj.entry(k).or_insert(v);
    }
    // The docker CLI sends zero values that dockerd replaces with its defaults at create.
    let zero_to = |obj: &mut serde_json::Map<String, Value>, k: &str, zero: Value, v: Value| {
        if obj.get(k) == Some(&zero) {
            obj.insert(k.into(), v);
        }
    };
    zero_to(obj, "ShmSize", json!(0), json!(64 << 20));
    zero_to(obj, "IpcMode", json!(""), json!("private"));
    zero_to(obj, "CgroupnsMode", json!(""), json!("host"));
    zero_to(obj, "MemorySwappiness", json!(-1), Value::Null);
    if obj
        .get("PidsLimit")
        .and_then(Value::as_i64)
        .is_some_and(|p| p <= 0)
    {
        obj.insert("PidsLimit".into(), Value::Null);
    }
    // Lists the client did not give are null in dockerd's answer, not [].
    for k in ["CapAdd", "CapDrop", "SecurityOpt"] {
        if obj
            .get(k)
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            obj.insert(k.into(), Value::Null);
        }
    }
}

/// `Config` as dockerd shows it: `OnBuild` always there, an empty `Volumes` null.
fn config_view(rec: &ContainerRecord) -> Value {
    let mut v = json!(rec.config);
    if let Some(obj) = v.as_object_mut() {
        obj.entry("OnBuild").or_insert(Value::Null);
        if obj
            .get("Volumes")
            .and_then(Value::as_object)
            .is_some_and(|m| m.is_empty())
        {
            obj.insert("Volumes".into(), Value::Null);
        }
    }
    v
}

pub fn inspect(rec: &ContainerRecord, dir: &std::path::Path) -> Value {
    let s = &rec.state;
    let path = |f: &str| dir.join(f).to_string_lossy().into_owned();
    // A container sharing another's network uses that one's /etc files.
    let etc_dir = match shared_net::target(&rec.host_config.network_mode) {
        Some(id) if id.len() == 64 => dir.with_file_name(id),
        _ => dir.to_path_buf(),
    };
    let etc_path = |f: &str| etc_dir.join(f).to_string_lossy().into_owned();
    let mut host_config = serde_json::to_value(&rec.host_config).unwrap_or(Value::Null);
    if let Some(obj) = host_config.as_object_mut() {
        obj.entry("NetworkMode").or_insert(json!("bridge"));
        if obj.get("NetworkMode") == Some(&json!("")) {
            obj.insert("NetworkMode".into(), json!("bridge"));
        }
        obj.entry("LogConfig").and_modify(|lc| {
            if lc.get("Type") == Some(&json!("")) {
                *lc = json!({"Type": "json-file", "Config": lc.get("Config").cloned().unwrap_or(json!({}))});
            }
        });
        host_config_defaults(obj, &rec.host_config);
    }
    let mut lower: Vec<String> = rec
        .layer_dirs
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    lower.retain(|l| !l.is_empty());
    let mut doc = json!({
        "Id": rec.id,
        "Created": rec.created,
        "Path": rec.path,
        "Args": rec.args,
        "State": {
            "Status": s.status.as_str(),
            "Running": matches!(s.status, Status::Running | Status::Paused | Status::Restarting),
            "Paused": s.status == Status::Paused,
            "Restarting": s.status == Status::Restarting,
            "OOMKilled": s.oom_killed,
            "Dead": s.status == Status::Dead,
            "Pid": s.pid,
            "ExitCode": s.exit_code,
            "Error": s.error,
            "StartedAt": s.started_at,
            "FinishedAt": s.finished_at,
        },
        "Image": rec.image_id,
        "ResolvConfPath": etc_path(files::RESOLV_CONF),
        "HostnamePath": etc_path(files::HOSTNAME),
        "HostsPath": etc_path(files::HOSTS),
        "LogPath": if log_driver::shown_path(rec) { path(files::CONTAINER_LOG) } else { String::new() },
        "Name": format!("/{}", rec.name),
        "RestartCount": rec.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": null,
        "HostConfig": host_config,
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {
                "LowerDir": lower.join(":"),
                "UpperDir": path(files::UPPER),
                "WorkDir": path(files::WORK),
                "MergedDir": path(files::ROOTFS),
            }
        },
        "Mounts": rec.mounts.iter().map(|m| m.to_api()).collect::<Vec<_>>(),
        "Config": config_view(rec),
        "NetworkSettings": {
            "Bridge": "", "SandboxID": "", "SandboxKey": "", "HairpinMode": false,
            "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "Ports": {}, "SecondaryIPAddresses": null, "SecondaryIPv6Addresses": null,
            "EndpointID": "", "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
            "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "",
            "Networks": networks(rec),
        },
    });
    // docker leaves State.Health out for containers without health state.
    if let Some(h) = &s.health {
        doc["State"]["Health"] = json!(h);
    }
    doc
}
