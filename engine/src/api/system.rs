//! `/_ping`, `/version`, `/info`.

use hyper::{Method, Response, StatusCode};

use super::backend::SystemBackend;
use super::response::{empty_body, full, ok_json, ApiResponse};
use super::ApiRequest;
use crate::config::{API_VERSION, MIN_API_VERSION};
use crate::error::Result;

pub fn matches(method: &Method, segments: &[String]) -> bool {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(
        (method, s.as_slice()),
        (&Method::GET | &Method::HEAD, ["_ping"]) | (&Method::GET, ["version"] | ["info"])
    )
}

pub async fn handle<B: SystemBackend>(r: ApiRequest<B>) -> Result<ApiResponse> {
    match r.segments[0].as_str() {
        "_ping" => Ok(ping(r.method == Method::HEAD)),
        "version" => Ok(ok_json(&version_body())),
        _ => Ok(ok_json(&info_body(&r))),
    }
}

fn ping(head: bool) -> ApiResponse {
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Builder-Version", "1")
        .header("Cache-Control", "no-cache, no-store, must-revalidate")
        .header("Pragma", "no-cache")
        .body(if head { empty_body() } else { full("OK") })
        .expect("static response")
}

pub fn kernel_version() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn version_body() -> serde_json::Value {
    let version = env!("CARGO_PKG_VERSION");
    serde_json::json!({
        "Platform": { "Name": "berth" },
        "Components": [{
            "Name": "Engine",
            "Version": version,
            "Details": {
                "ApiVersion": API_VERSION,
                "MinAPIVersion": MIN_API_VERSION,
                "Os": "linux",
                "Arch": arch(),
                "KernelVersion": kernel_version(),
                "GitCommit": option_env!("BERTH_GIT_COMMIT").unwrap_or("unknown"),
                "GoVersion": "n/a (rust)",
                "BuildTime": "",
                "Experimental": "false",
            }
        }],
        "Version": version,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": option_env!("BERTH_GIT_COMMIT").unwrap_or("unknown"),
        "GoVersion": "n/a (rust)",
        "Os": "linux",
        "Arch": arch(),
        "KernelVersion": kernel_version(),
        "BuildTime": "",
    })
}

fn os_pretty_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| "Linux".into())
}

fn mem_total() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("MemTotal:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn info_body<B: SystemBackend>(r: &ApiRequest<B>) -> serde_json::Value {
    let backend = &r.backend;
    let counts = backend.container_counts();
    let cgroup_version = match crate::runtime::cgroups::detect() {
        crate::runtime::cgroups::CgroupVersion::V1 => "1",
        crate::runtime::cgroups::CgroupVersion::V2 => "2",
    };
    let hostname = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ncpu = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    serde_json::json!({
        "ID": backend.engine_id(),
        "Containers": counts.total,
        "ContainersRunning": counts.running,
        "ContainersPaused": counts.paused,
        "ContainersStopped": counts.stopped,
        "Images": backend.image_count(),
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
        "Plugins": {
            "Volume": ["local"],
            "Network": ["host", "null"],
            "Authorization": null,
            "Log": ["json-file"]
        },
        "MemoryLimit": true,
        "SwapLimit": true,
        "CpuCfsPeriod": true,
        "CpuCfsQuota": true,
        "CPUShares": true,
        "CPUSet": true,
        "PidsLimit": true,
        "OomKillDisable": false,
        "IPv4Forwarding": true,
        "Debug": false,
        "NFd": count_fds(),
        "NGoroutines": 0,
        "SystemTime": crate::util::now_rfc3339(),
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": cgroup_version,
        "NEventsListener": 0,
        "KernelVersion": kernel_version(),
        "OperatingSystem": os_pretty_name(),
        "OSVersion": "",
        "OSType": "linux",
        "Architecture": std::env::consts::ARCH,
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {
            "IndexConfigs": {},
            "InsecureRegistryCIDRs": ["127.0.0.0/8"],
            "Mirrors": []
        },
        "NCPU": ncpu,
        "MemTotal": mem_total(),
        "DockerRootDir": backend.data_root(),
        "Name": hostname,
        "Labels": [],
        "ExperimentalBuild": false,
        "ServerVersion": env!("CARGO_PKG_VERSION"),
        // dockerd's names: clients and compose files ask for "runc", the default; berth's shim
        // is what runs behind it.
        "Runtimes": {
            "io.containerd.runc.v2": { "path": "runc" },
            "io.containerd.runtime.v1.linux": { "path": "runc" },
            "runc": { "path": "runc" }
        },
        "DefaultRuntime": "runc",
        "Swarm": {
            "NodeID": "",
            "NodeAddr": "",
            "LocalNodeState": "inactive",
            "ControlAvailable": false,
            "Error": "",
            "RemoteManagers": null
        },
        "LiveRestoreEnabled": true,
        "Isolation": "",
        "InitBinary": "",
        "ContainerdCommit": { "ID": "" },
        "RuncCommit": { "ID": "" },
        "InitCommit": { "ID": "" },
        "SecurityOptions": ["name=seccomp,profile=builtin"],
        "Warnings": backend
            .network_host_error()
            .map(|e| vec![format!("WARNING: bridge networking is not available: {e}")])
            .unwrap_or_default(),
    })
}

fn count_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}
