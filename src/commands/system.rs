//! `version` and `info`.

use anyhow::Result;
use serde_json::Value;

use super::{out, Ctx};
use crate::client::CLIENT_API_VERSION;
use crate::format::units;

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn client_version_text() -> String {
    format!(
        "Client:\n Version:           {}\n API version:       {}\n OS/Arch:           {}/{}\n",
        env!("CARGO_PKG_VERSION"),
        CLIENT_API_VERSION,
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

pub fn server_version_text(v: &Value) -> String {
    format!(
        "\nServer:\n Engine:\n  Version:          {}\n  API version:      {} (minimum version {})\n  Go version:       {}\n  Git commit:       {}\n  Built:            {}\n  OS/Arch:          {}/{}\n  Kernel Version:   {}\n",
        s(&v["Version"]),
        s(&v["ApiVersion"]),
        s(&v["MinAPIVersion"]),
        s(&v["GoVersion"]),
        s(&v["GitCommit"]),
        s(&v["BuildTime"]),
        s(&v["Os"]),
        s(&v["Arch"]),
        s(&v["KernelVersion"]),
    )
}

pub async fn version(ctx: &Ctx) -> Result<i32> {
    out(&client_version_text());
    let client = ctx.client().await?;
    let v = client.version().await?;
    out(&server_version_text(&v));
    Ok(0)
}

pub fn info_text(v: &Value) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "Server:\n Containers: {}\n  Running: {}\n  Paused: {}\n  Stopped: {}\n Images: {}\n",
        s(&v["Containers"]),
        s(&v["ContainersRunning"]),
        s(&v["ContainersPaused"]),
        s(&v["ContainersStopped"]),
        s(&v["Images"]),
    ));
    let line = |t: &mut String, label: &str, key: &str| {
        if !v[key].is_null() {
            t.push_str(&format!(" {label}: {}\n", s(&v[key])));
        }
    };
    line(&mut t, "Server Version", "ServerVersion");
    line(&mut t, "Storage Driver", "Driver");
    line(&mut t, "Logging Driver", "LoggingDriver");
    line(&mut t, "Cgroup Driver", "CgroupDriver");
    line(&mut t, "Cgroup Version", "CgroupVersion");
    line(&mut t, "Kernel Version", "KernelVersion");
    line(&mut t, "Operating System", "OperatingSystem");
    line(&mut t, "OSType", "OSType");
    line(&mut t, "Architecture", "Architecture");
    line(&mut t, "CPUs", "NCPU");
    if let Some(m) = v["MemTotal"].as_f64() {
        t.push_str(&format!(" Total Memory: {}\n", human_binary(m)));
    }
    line(&mut t, "Name", "Name");
    line(&mut t, "ID", "ID");
    line(&mut t, "Docker Root Dir", "DockerRootDir");
    let warnings: Vec<&str> = v["Warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for w in warnings {
        t.push_str(&format!("{w}\n"));
    }
    t
}

/// docker prints Total Memory in binary units ("7.763GiB").
fn human_binary(bytes: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    let h = units::human_size(v);
    // human_size appends a decimal unit to the number; keep its number formatting only.
    let num: String = h
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    format!("{num}{}", UNITS[i])
}

pub async fn info(ctx: &Ctx) -> Result<i32> {
    let client = ctx.client().await?;
    let v = client.info().await?;
    out(&info_text(&v));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn info_and_version_text() {
        let t = info_text(&json!({
            "Containers": 3, "ContainersRunning": 1, "ContainersPaused": 0, "ContainersStopped": 2,
            "Images": 4, "ServerVersion": "0.1.0", "MemTotal": 8_335_000_000u64, "NCPU": 2
        }));
        assert!(t.contains(" Containers: 3\n  Running: 1\n"));
        assert!(t.contains(" Server Version: 0.1.0\n"));
        assert!(t.contains(" Total Memory: 7.763GiB\n"));
        assert!(t.contains(" CPUs: 2\n"));
        let v = server_version_text(&json!({"Version": "0.1.0", "ApiVersion": "1.44"}));
        assert!(v.contains("  Version:          0.1.0\n"));
    }
}
