//! Request bodies with `null` where dockerd (Go's encoding/json) reads the zero value: every
//! request type decodes them, nested parts and map values included (see `model::go_json`).

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::body::json_or_default;
use super::query::Filters;
use crate::model::container::{
    ContainerConfig, CreateRequest, HostConfig, LogConfig, RestartPolicy,
};
use crate::model::health::{self, HealthConfig};
use crate::model::volume::VolumeCreateRequest;
use crate::registry::auth::Credentials;
use crate::service::container::exec::{ExecConfig, StartOptions};
use crate::service::container::mounts::{self, Requested};
use crate::service::container::update::UpdateRequest;

/// `fields` all null, decoded as `T`.
fn all_null<T: DeserializeOwned>(fields: &[&str]) -> T {
    let body: serde_json::Map<String, Value> = fields
        .iter()
        .map(|f| (f.to_string(), Value::Null))
        .collect();
    serde_json::from_value(Value::Object(body))
        .unwrap_or_else(|e| panic!("{} with null fields: {e}", std::any::type_name::<T>()))
}

/// The wire names of every field of `T` (as serialized from its default), plus `more`.
fn field_names<T: Serialize + Default>(more: &[&'static str]) -> Vec<String> {
    let v = serde_json::to_value(T::default()).unwrap();
    let mut names: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    names.extend(more.iter().map(|s| s.to_string()));
    names
}

#[test]
fn every_field_of_every_request_type_may_be_null() {
    let names = field_names::<ContainerConfig>(&[
        "ExposedPorts",
        "Healthcheck",
        "Volumes",
        "NetworkDisabled",
        "StopSignal",
        "StopTimeout",
        "HostConfig",
        "NetworkingConfig",
        "MacAddress",
        "OnBuild",
        "Shell",
        "ArgsEscaped",
    ]);
    let req: CreateRequest = all_null(&names.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(req.host_config.is_none() && req.networking_config.is_none());
    assert!(req.config.cmd.is_none() && req.config.exposed_ports.is_none());
    assert!(req.config.env.is_empty() && req.config.labels.is_empty());
    assert!(req.config.extra.is_empty(), "null extras are absent ones");

    let names = field_names::<HostConfig>(&["PidsLimit", "Init", "ConsoleSize", "Binds", "Mounts"]);
    let h: HostConfig = all_null(&names.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(h.restart_policy, RestartPolicy::default());
    assert!(h.log_config.kind.is_empty() && h.log_config.config.is_empty());
    assert!(h.extra.is_empty());
    all_null::<RestartPolicy>(&["Name", "MaximumRetryCount"]);
    all_null::<LogConfig>(&["Type", "Config"]);

    let hc: HealthConfig = all_null(&[
        "Test",
        "Interval",
        "Timeout",
        "StartPeriod",
        "StartInterval",
        "Retries",
    ]);
    assert_eq!(hc, HealthConfig::default());
    all_null::<ExecConfig>(&[
        "AttachStdin",
        "AttachStdout",
        "AttachStderr",
        "DetachKeys",
        "Tty",
        "Env",
        "Cmd",
        "Privileged",
        "User",
        "WorkingDir",
        "ConsoleSize",
    ]);
    all_null::<StartOptions>(&["Detach", "Tty", "ConsoleSize"]);
    let u: UpdateRequest = all_null(&[
        "CpuShares",
        "Memory",
        "MemorySwap",
        "NanoCpus",
        "CpuPeriod",
        "CpuQuota",
        "PidsLimit",
        "RestartPolicy",
        "CpusetCpus",
        "CpusetMems",
        "BlkioWeight",
        "MemoryReservation",
        "KernelMemory",
        "CpuRealtimePeriod",
        "CpuRealtimeRuntime",
    ]);
    assert!(u.restart_policy.is_none() && u.memory == 0);
    all_null::<VolumeCreateRequest>(&["Name", "Driver", "DriverOpts", "Labels"]);
    let c: Credentials = all_null(&[
        "username",
        "password",
        "serveraddress",
        "identitytoken",
        "registrytoken",
        "email",
    ]);
    assert!(c.is_anonymous());
}

/// What docker-compose 1.29 (docker-py) sends, with more nulls than it does.
fn compose_body() -> Value {
    json!({
        "Hostname": null, "User": null, "AttachStdout": null, "Tty": null, "Env": null,
        "Cmd": ["sh", "-c", "sleep 300"], "Entrypoint": null, "WorkingDir": null,
        "ExposedPorts": {"80/tcp": null, "81/tcp": {}}, "Volumes": {"/data": null},
        "Labels": {"com.example": null, "b": "x"}, "StopSignal": null, "MacAddress": null,
        "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": null, "Timeout": null,
                        "Retries": null, "StartPeriod": null},
        "HostConfig": {
            "NetworkMode": "none", "Binds": null, "Links": null, "Privileged": null,
            "Memory": null, "CpuShares": null, "PidsLimit": null, "Init": null, "CapAdd": null,
            "RestartPolicy": {"Name": null, "MaximumRetryCount": null},
            "LogConfig": {"Type": null, "Config": null},
            "PortBindings": {"80/tcp": null}, "Tmpfs": {"/run/t": null},
            "Mounts": [{"Type": "tmpfs", "Target": "/mnt/t", "Source": null, "ReadOnly": null,
                        "BindOptions": null, "VolumeOptions": null,
                        "TmpfsOptions": {"SizeBytes": null, "Mode": null, "Options": null}}],
            "Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": null}],
        },
        "NetworkingConfig": null,
    })
}

#[test]
fn a_compose_create_body_with_nulls_reads_as_docker_does() {
    let req: CreateRequest = serde_json::from_value(compose_body()).unwrap();
    let c = &req.config;
    assert!(c.hostname.is_empty() && c.user.is_empty() && !c.tty && c.env.is_empty());
    assert!(c.entrypoint.is_none() && c.stop_signal.is_none());
    // Map keys of null values stay, with the zero value.
    let ports = c.exposed_ports.as_ref().unwrap();
    assert_eq!(ports["80/tcp"], json!({}));
    assert_eq!(ports["81/tcp"], json!({}));
    assert_eq!(c.volumes.as_ref().unwrap()["/data"], json!({}));
    assert_eq!(c.labels["com.example"], "");
    assert!(!c.extra.contains_key("MacAddress"));
    health::validate(c.healthcheck.as_ref()).unwrap();
    let merged = health::merge(c.healthcheck.clone(), None).unwrap().unwrap();
    assert_eq!(
        merged,
        json!({"Test": ["CMD-SHELL", "true"]}),
        "stored without its nulls"
    );

    let h = req.host_config.clone().unwrap();
    assert_eq!(h.network_mode, "none");
    assert!(!h.privileged && h.memory == 0 && h.pids_limit.is_none() && h.init.is_none());
    assert_eq!(h.restart_policy, RestartPolicy::default());
    assert!(h.log_config.kind.is_empty() && h.log_config.config.is_empty());
    assert!(!h.extra.contains_key("Binds") && !h.extra.contains_key("Links"));
    crate::network::ports::requested(&h.extra, c.exposed_ports.as_ref()).unwrap();
    let m = mounts::parse(c, &h, None).unwrap();
    let tmpfs: Vec<&str> = m
        .iter()
        .filter(|r| matches!(r, Requested::Tmpfs { .. }))
        .map(Requested::destination)
        .collect();
    assert_eq!(tmpfs, ["/mnt/t", "/run/t"]);
}

#[test]
fn nested_parts_may_be_null_as_a_whole() {
    let req: CreateRequest = serde_json::from_value(json!({
        "Image": "busybox", "HostConfig": {"RestartPolicy": null, "LogConfig": null,
        "Mounts": [null], "Tmpfs": null, "PortBindings": null},
        "Healthcheck": null, "Labels": null, "ExposedPorts": null, "Volumes": null,
    }))
    .unwrap();
    assert!(req.config.exposed_ports.is_none() && req.config.volumes.is_none());
    let h = req.host_config.unwrap();
    assert_eq!(h.restart_policy, RestartPolicy::default());
    // A null Mount is Go's zero Mount: refused for its empty type, like dockerd.
    let e = mounts::parse(&req.config, &h, None).unwrap_err();
    assert!(
        e.to_string().contains("mount type must not be empty"),
        "{e}"
    );
}

#[test]
fn null_is_not_a_wildcard_for_wrong_types() {
    for body in [
        json!({"Image": "b", "Hostname": 1}),
        json!({"Image": "b", "Labels": {"a": 1}}),
        json!({"Image": "b", "HostConfig": {"Memory": "1g"}}),
        json!({"Image": "b", "ExposedPorts": {"80/tcp": 1}}),
    ] {
        assert!(
            serde_json::from_value::<CreateRequest>(body.clone()).is_err(),
            "{body}"
        );
    }
}

#[test]
fn whole_bodies_and_query_json_may_be_null() {
    let e: ExecConfig = json_or_default(b"null").unwrap();
    assert!(e.cmd.is_empty());
    let v: VolumeCreateRequest =
        json_or_default(br#"{"Name": null, "DriverOpts": {"type": null}, "Labels": {"a": null}}"#)
            .unwrap();
    assert_eq!(
        v.driver_opts,
        HashMap::from([("type".into(), String::new())])
    );
    assert_eq!(v.labels, HashMap::from([("a".into(), String::new())]));
    assert!(Filters::parse(Some("null"))
        .unwrap()
        .get("label")
        .is_empty());
    let f = Filters::parse(Some(r#"{"label": null}"#)).unwrap();
    assert!(f.contains_key("label") && f.get("label").is_empty());
    let c: ContainerConfig = serde_json::from_value(json!({"Cmd": ["echo", null, "x"]})).unwrap();
    assert_eq!(
        c.cmd.unwrap(),
        ["echo", "", "x"],
        "a null StrSlice element is \"\""
    );
}
