//! Go's encoding/json matches an object's keys to struct fields case-insensitively (an exact
//! match first), so dockerd honours `"TmpFs"` as `Tmpfs` and docker-py's `"detachKeys"` as
//! `DetachKeys`. serde matches exactly; request bodies are therefore rewritten to the canonical
//! names first, following the shape of docker's types: only levels that are structs in docker's
//! API are rewritten, never free-form maps (labels, options, the network names of
//! `EndpointsConfig`, the paths of `Volumes` and `Tmpfs`), whose keys are data.

use serde_json::Value;

/// The fields of one struct of docker's API, and which of them hold structs in turn.
pub struct Shape {
    pub names: &'static [&'static str],
    pub children: &'static [(&'static str, Child)],
}

pub enum Child {
    /// The field is a struct.
    Struct(&'static Shape),
    /// The field is a map whose values are structs (`EndpointsConfig`).
    EachValue(&'static Shape),
    /// The field is a list of structs (`Mounts`).
    EachItem(&'static Shape),
}

/// Rename `v`'s keys (and its nested structs' keys) to the canonical field names of `shape`.
pub fn canonicalize(v: &mut Value, shape: &Shape) {
    let Value::Object(map) = v else {
        return;
    };
    let misnamed: Vec<(String, &'static str)> = map
        .keys()
        .filter(|k| !shape.names.contains(&k.as_str()))
        .filter_map(|k| {
            shape
                .names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(k))
                .map(|n| (k.clone(), *n))
        })
        .collect();
    for (from, to) in misnamed {
        if let Some(value) = map.remove(&from) {
            // An exact key wins over a case-insensitive one, as in Go.
            map.entry(to).or_insert(value);
        }
    }
    for (name, child) in shape.children {
        let Some(field) = map.get_mut(*name) else {
            continue;
        };
        match child {
            Child::Struct(s) => canonicalize(field, s),
            Child::EachValue(s) => {
                if let Value::Object(m) = field {
                    m.values_mut().for_each(|v| canonicalize(v, s));
                }
            }
            Child::EachItem(s) => {
                if let Value::Array(a) = field {
                    a.iter_mut().for_each(|v| canonicalize(v, s));
                }
            }
        }
    }
}

/// `POST /containers/create`: the container's Config at top level, with HostConfig and
/// NetworkingConfig.
pub static CONTAINER_CREATE: Shape = Shape {
    names: &[
        "Hostname",
        "Domainname",
        "User",
        "AttachStdin",
        "AttachStdout",
        "AttachStderr",
        "ExposedPorts",
        "Tty",
        "OpenStdin",
        "StdinOnce",
        "Env",
        "Cmd",
        "Healthcheck",
        "ArgsEscaped",
        "Image",
        "Volumes",
        "WorkingDir",
        "Entrypoint",
        "NetworkDisabled",
        "MacAddress",
        "OnBuild",
        "Labels",
        "StopSignal",
        "StopTimeout",
        "Shell",
        "HostConfig",
        "NetworkingConfig",
    ],
    children: &[
        ("Healthcheck", Child::Struct(&HEALTHCHECK)),
        ("HostConfig", Child::Struct(&HOST_CONFIG)),
        ("NetworkingConfig", Child::Struct(&NETWORKING_CONFIG)),
    ],
};

static HEALTHCHECK: Shape = Shape {
    names: &[
        "Test",
        "Interval",
        "Timeout",
        "Retries",
        "StartPeriod",
        "StartInterval",
    ],
    children: &[],
};

/// `HostConfig` (with its embedded `Resources`); also the body of `POST /containers/{id}/update`.
pub static HOST_CONFIG: Shape = Shape {
    names: &[
        "CpuShares",
        "Memory",
        "CgroupParent",
        "BlkioWeight",
        "BlkioWeightDevice",
        "BlkioDeviceReadBps",
        "BlkioDeviceWriteBps",
        "BlkioDeviceReadIOps",
        "BlkioDeviceWriteIOps",
        "CpuPeriod",
        "CpuQuota",
        "CpuRealtimePeriod",
        "CpuRealtimeRuntime",
        "CpusetCpus",
        "CpusetMems",
        "Devices",
        "DeviceCgroupRules",
        "DeviceRequests",
        "KernelMemory",
        "KernelMemoryTCP",
        "MemoryReservation",
        "MemorySwap",
        "MemorySwappiness",
        "NanoCpus",
        "OomKillDisable",
        "Init",
        "PidsLimit",
        "Ulimits",
        "CpuCount",
        "CpuPercent",
        "IOMaximumIOps",
        "IOMaximumBandwidth",
        "Binds",
        "ContainerIDFile",
        "LogConfig",
        "NetworkMode",
        "PortBindings",
        "RestartPolicy",
        "AutoRemove",
        "VolumeDriver",
        "VolumesFrom",
        "Mounts",
        "ConsoleSize",
        "Annotations",
        "CapAdd",
        "CapDrop",
        "CgroupnsMode",
        "Dns",
        "DnsOptions",
        "DnsSearch",
        "ExtraHosts",
        "GroupAdd",
        "IpcMode",
        "Cgroup",
        "Links",
        "OomScoreAdj",
        "PidMode",
        "Privileged",
        "PublishAllPorts",
        "ReadonlyRootfs",
        "SecurityOpt",
        "StorageOpt",
        "Tmpfs",
        "UTSMode",
        "UsernsMode",
        "ShmSize",
        "Sysctls",
        "Runtime",
        "Isolation",
        "MaskedPaths",
        "ReadonlyPaths",
    ],
    children: &[
        ("LogConfig", Child::Struct(&LOG_CONFIG)),
        ("RestartPolicy", Child::Struct(&RESTART_POLICY)),
        ("Mounts", Child::EachItem(&MOUNT)),
    ],
};

static LOG_CONFIG: Shape = Shape {
    names: &["Type", "Config"],
    children: &[],
};

static RESTART_POLICY: Shape = Shape {
    names: &["Name", "MaximumRetryCount"],
    children: &[],
};

static MOUNT: Shape = Shape {
    names: &[
        "Target",
        "Source",
        "Type",
        "ReadOnly",
        "Consistency",
        "BindOptions",
        "VolumeOptions",
        "ImageOptions",
        "TmpfsOptions",
    ],
    children: &[],
};

static NETWORKING_CONFIG: Shape = Shape {
    names: &["EndpointsConfig"],
    children: &[("EndpointsConfig", Child::EachValue(&ENDPOINT_SETTINGS))],
};

/// One network's `EndpointSettings` (create's `EndpointsConfig`, `POST /networks/{id}/connect`).
pub static ENDPOINT_SETTINGS: Shape = Shape {
    names: &[
        "IPAMConfig",
        "Links",
        "MacAddress",
        "Aliases",
        "DriverOpts",
        "GwPriority",
        "NetworkID",
        "EndpointID",
        "Gateway",
        "IPAddress",
        "IPPrefixLen",
        "IPv6Gateway",
        "GlobalIPv6Address",
        "GlobalIPv6PrefixLen",
        "DNSNames",
    ],
    children: &[("IPAMConfig", Child::Struct(&IPAM_CONFIG))],
};

static IPAM_CONFIG: Shape = Shape {
    names: &["IPv4Address", "IPv6Address", "LinkLocalIPs"],
    children: &[],
};

/// `POST /containers/{id}/exec`.
pub static EXEC_CREATE: Shape = Shape {
    names: &[
        "AttachStdin",
        "AttachStdout",
        "AttachStderr",
        "ConsoleSize",
        "DetachKeys",
        "Tty",
        "Env",
        "Cmd",
        "Privileged",
        "User",
        "WorkingDir",
    ],
    children: &[],
};

/// `POST /exec/{id}/start`.
pub static EXEC_START: Shape = Shape {
    names: &["Detach", "Tty", "ConsoleSize"],
    children: &[],
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_take_docker_s_names_at_struct_levels_only() {
        let mut v = json!({
            "image": "busybox",
            "labels": {"image": "kept", "Tty": "kept"},
            "hostconfig": {"TmpFs": {"/run": "size=1m"}, "restartpolicy": {"name": "always"}},
            "NetworkingConfig": {"endpointsconfig": {"host": {"aliases": ["a"]}}},
            "Volumes": {"/data": {}},
        });
        canonicalize(&mut v, &CONTAINER_CREATE);
        assert_eq!(
            v,
            json!({
                "Image": "busybox",
                "Labels": {"image": "kept", "Tty": "kept"},
                "HostConfig": {"Tmpfs": {"/run": "size=1m"}, "RestartPolicy": {"Name": "always"}},
                "NetworkingConfig": {"EndpointsConfig": {"host": {"Aliases": ["a"]}}},
                "Volumes": {"/data": {}},
            })
        );
    }

    #[test]
    fn an_exact_key_wins_and_unknown_keys_stay() {
        let mut v = json!({"Tty": true, "tty": false, "detachKeys": "ctrl-p", "Whatever": 1});
        canonicalize(&mut v, &EXEC_CREATE);
        assert_eq!(
            v,
            json!({"Tty": true, "DetachKeys": "ctrl-p", "Whatever": 1})
        );
    }
}
