//! Request bodies with `null` for fields, as docker-compose 1.29 (docker-py) and other clients
//! send them: dockerd (Go's encoding/json) reads null as the zero value, and so does berth. A
//! create body with nulls everywhere runs, and inspect shows the defaults; exec, update, volume
//! and network bodies with nulls work too.

use crate::common;

use std::time::Duration;

use common::api::{inspect, start};
use common::http::demux;
use common::{eventually, TestEngine};
use serde_json::json;

/// What docker-compose 1.29 sends for a service with a healthcheck, nulls for every unset
/// duration, and more nulls than it sends elsewhere (HostConfig fields, map values, options).
const COMPOSE_BODY: &str = r#"{
    "Hostname": null, "Domainname": null, "User": null,
    "AttachStdin": null, "AttachStdout": null, "AttachStderr": null,
    "Tty": null, "OpenStdin": null, "StdinOnce": null,
    "Env": null,
    "Cmd": ["sh", "-c",
            "grep -E ' /(mnt|run)/t tmpfs' /proc/mounts | cut -d' ' -f2; echo up; sleep 300"],
    "Entrypoint": null, "WorkingDir": null, "Image": "busybox",
    "ExposedPorts": {"80/tcp": null, "81/tcp": {}},
    "Volumes": {"/data": null},
    "Labels": {"com.example.empty": null, "com.example.set": "x"},
    "StopSignal": null, "StopTimeout": null, "MacAddress": null, "NetworkDisabled": null,
    "OnBuild": null, "Shell": null, "ArgsEscaped": null,
    "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": null, "Timeout": null,
                    "Retries": null, "StartPeriod": null},
    "HostConfig": {
        "NetworkMode": null, "Binds": null, "ContainerIDFile": null, "VolumesFrom": null,
        "LogConfig": {"Type": null, "Config": null},
        "RestartPolicy": {"Name": null, "MaximumRetryCount": null},
        "PortBindings": {"80/tcp": null}, "PublishAllPorts": null,
        "AutoRemove": null, "Privileged": null, "ReadonlyRootfs": null, "Init": null,
        "CapAdd": null, "CapDrop": null, "SecurityOpt": null, "GroupAdd": null,
        "Dns": null, "DnsOptions": null, "DnsSearch": null, "ExtraHosts": null,
        "Links": null, "IpcMode": null, "PidMode": null, "UTSMode": null, "UsernsMode": null,
        "CgroupnsMode": null, "Cgroup": null, "CgroupParent": null, "OomScoreAdj": null,
        "ShmSize": null, "Sysctls": null, "StorageOpt": null, "Runtime": null,
        "ConsoleSize": null, "Isolation": null,
        "Memory": null, "MemorySwap": null, "MemoryReservation": null,
        "MemorySwappiness": null, "KernelMemory": null, "OomKillDisable": null,
        "NanoCpus": null, "CpuShares": null, "CpuPeriod": null, "CpuQuota": null,
        "CpusetCpus": null, "CpusetMems": null, "PidsLimit": null, "BlkioWeight": null,
        "BlkioWeightDevice": null, "Devices": null, "DeviceCgroupRules": null,
        "DeviceRequests": null, "Ulimits": null, "MaskedPaths": null, "ReadonlyPaths": null,
        "Tmpfs": {"/run/t": null},
        "Mounts": [{"Type": "tmpfs", "Target": "/mnt/t", "Source": null, "ReadOnly": null,
                    "Consistency": null, "BindOptions": null, "VolumeOptions": null,
                    "TmpfsOptions": {"SizeBytes": null, "Mode": null}}]
    },
    "NetworkingConfig": null
}"#;

fn logs(e: &TestEngine, id: &str) -> String {
    let r = e.api(
        "GET",
        &format!("/containers/{id}/logs?stdout=1&stderr=1"),
        None,
    );
    assert_eq!(r.status, 200, "logs: {}", r.text());
    let (out, err) = demux(&r.body);
    out + &err
}

#[test]
fn a_compose_body_with_nulls_creates_a_container_that_runs_with_defaults() {
    let e = TestEngine::with_busybox();
    let r = e.api("POST", "/containers/create?name=nulls", Some(COMPOSE_BODY));
    assert_eq!(r.status, 201, "create: {}", r.text());
    let id = r.json()["Id"].as_str().unwrap().to_owned();
    start(&e, &id);
    let out = eventually(Duration::from_secs(20), || {
        let out = logs(&e, &id);
        out.contains("up\n").then_some(out)
    })
    .unwrap_or_else(|| panic!("container output: {:?}", logs(&e, &id)));
    // Both tmpfs mounts are there: the Mounts entry with null options, the Tmpfs null value.
    assert!(
        out.contains("/mnt/t\n") && out.contains("/run/t\n"),
        "{out}"
    );

    let v = inspect(&e, &id);
    assert_eq!(v["State"]["Status"], "running", "{v}");
    assert_eq!(v["State"]["Health"]["Status"], "starting", "{v}");
    let c = &v["Config"];
    assert_eq!(c["Hostname"], &id[..12]);
    assert_eq!(c["User"], "");
    assert_eq!(c["WorkingDir"], "");
    assert_eq!(c["Tty"], false);
    assert!(c["Env"][0].as_str().unwrap().starts_with("PATH="), "{c}");
    assert_eq!(c["ExposedPorts"], json!({"80/tcp": {}, "81/tcp": {}}));
    assert_eq!(c["Volumes"], json!({"/data": {}}));
    assert_eq!(c["Labels"]["com.example.empty"], "");
    assert_eq!(c["Labels"]["com.example.set"], "x");
    // Durations left out (zero), as docker shows them; no nulls kept for absent fields.
    assert_eq!(c["Healthcheck"], json!({"Test": ["CMD-SHELL", "true"]}));
    assert!(
        c.get("MacAddress").is_none() && c.get("Shell").is_none(),
        "{c}"
    );
    let h = &v["HostConfig"];
    assert_eq!(h["NetworkMode"], "bridge");
    assert_eq!(
        h["RestartPolicy"],
        json!({"Name": "", "MaximumRetryCount": 0})
    );
    assert_eq!(h["LogConfig"]["Type"], "json-file");
    assert_eq!(h["Memory"], 0);
    assert_eq!(h["Privileged"], false);
    // Left out (null) as dockerd shows them, not turned into empty values.
    assert!(h["Binds"].is_null() && h["Ulimits"].is_null(), "{h}");
    assert_eq!(h["PortBindings"], json!({"80/tcp": null}));
    let volume = v["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Destination"] == "/data");
    assert_eq!(volume.expect("anonymous volume")["Type"], "volume", "{v}");

    // Exec create and start with nulls: runs, as root, in the container's directory.
    let exec = e.api_json(
        "POST",
        &format!("/containers/{id}/exec"),
        Some(
            r#"{"AttachStdin":null,"AttachStdout":null,"AttachStderr":null,"DetachKeys":null,
                "Tty":null,"Env":null,"Privileged":null,"User":null,"WorkingDir":null,
                "ConsoleSize":null,"Cmd":["sh","-c","echo exec-$(id -u) > /proc/1/fd/1"]}"#,
        ),
    );
    let exec = exec["Id"].as_str().unwrap().to_owned();
    let r = e.api(
        "POST",
        &format!("/exec/{exec}/start"),
        Some(r#"{"Detach":true,"Tty":null,"ConsoleSize":null}"#),
    );
    assert_eq!(r.status, 200, "exec start: {}", r.text());
    eventually(Duration::from_secs(10), || {
        logs(&e, &id).contains("exec-0\n").then_some(())
    })
    .unwrap_or_else(|| panic!("exec output: {:?}", logs(&e, &id)));

    // Update with nulls changes nothing.
    let r = e.api(
        "POST",
        &format!("/containers/{id}/update"),
        Some(
            r#"{"Memory":null,"MemorySwap":null,"CpuShares":null,"NanoCpus":null,
                "CpuPeriod":null,"CpuQuota":null,"PidsLimit":null,"RestartPolicy":null,
                "CpusetCpus":null,"BlkioWeight":null,"KernelMemory":null}"#,
        ),
    );
    assert_eq!(r.status, 200, "update: {}", r.text());
    let h = inspect(&e, &id)["HostConfig"].clone();
    assert_eq!(h["Memory"], 0);
    assert_eq!(h["RestartPolicy"]["Name"], "");
}

#[test]
fn volume_and_network_bodies_with_nulls_work() {
    let e = TestEngine::with_busybox();
    let v = e.api_json(
        "POST",
        "/volumes/create",
        Some(r#"{"Name":"nv","Driver":null,"DriverOpts":null,"Labels":{"a":null}}"#),
    );
    assert_eq!(v["Driver"], "local");
    assert_eq!(v["Labels"], json!({"a": ""}));

    let r = e.api(
        "POST",
        "/networks/create",
        Some(
            r#"{"Name":"nn","Driver":null,"Labels":{"a":null},"Options":null,"IPAM":null,
                "Internal":null,"Attachable":null,"EnableIPv6":null,"CheckDuplicate":null}"#,
        ),
    );
    assert_eq!(r.status, 201, "network create: {}", r.text());
    let n = e.api_json("GET", "/networks/nn", None);
    assert_eq!(n["Labels"], json!({"a": ""}));
    assert_eq!(n["Internal"], false);

    let id = common::api::run_detached(&e, common::api::sh("sleep 300"));
    let r = e.api(
        "POST",
        "/networks/nn/connect",
        Some(&json!({"Container": id, "EndpointConfig": null}).to_string()),
    );
    assert_eq!(r.status, 200, "connect: {}", r.text());
    let nets = inspect(&e, &id)["NetworkSettings"]["Networks"].clone();
    assert!(nets.get("nn").is_some(), "{nets}");
    let r = e.api(
        "POST",
        "/networks/nn/disconnect",
        Some(&json!({"Container": id, "Force": null}).to_string()),
    );
    assert_eq!(r.status, 200, "disconnect: {}", r.text());
}

#[test]
fn build_query_json_with_nulls_reads_as_docker_does() {
    use crate::build::{api_build, config, messages, stream_text, Ctx};

    let e = TestEngine::with_busybox();
    let ctx = Ctx::new("FROM busybox\nARG A\nLABEL from_arg=\"[${A}]\"\n");
    // A null label is "", a null build arg one without a value, null cache sources "".
    let query = format!(
        "t=nulls&labels={}&buildargs={}&cachefrom={}",
        common::urlencode(r#"{"empty":null,"set":"x"}"#),
        common::urlencode(r#"{"A":null}"#),
        common::urlencode("null"),
    );
    let r = api_build(&e, &query, &[], &ctx.tar());
    let text = stream_text(&messages(&r));
    assert!(
        text.contains("Successfully tagged nulls:latest"),
        "{}",
        r.text()
    );
    let labels = config(&e, "nulls")["Labels"].clone();
    assert_eq!(labels, json!({"empty": "", "set": "x", "from_arg": "[]"}));
}
