//! `version`, `info` and `system df`.

use anyhow::Result;
use clap::Args;
use serde_json::{json, Value};

use super::volumes::volume_row;
use super::{out, Ctx};
use crate::client::CLIENT_API_VERSION;
use crate::format::{render_rows, units};

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

#[derive(Args, Debug)]
pub struct SystemDfArgs {
    /// Show detailed information on space usage.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[arg(long)]
    pub format: Option<String>,
}

fn size(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0).max(0.0)
}

fn reclaimable(part: f64, total: f64) -> String {
    if total > 0.0 {
        format!(
            "{} ({}%)",
            units::human_size(part),
            (part * 100.0 / total).round() as i64
        )
    } else {
        units::human_size(part)
    }
}

/// `system df [-v]`: docker's summary table (or the verbose per-object tables).
pub async fn system_df(ctx: &Ctx, a: SystemDfArgs) -> Result<i32> {
    let client = ctx.client().await?;
    let df = client.disk_usage().await?;
    let empty = Vec::new();
    let images = df["Images"].as_array().unwrap_or(&empty);
    let containers = df["Containers"].as_array().unwrap_or(&empty);
    let volumes = df["Volumes"].as_array().unwrap_or(&empty);

    let img_active = images
        .iter()
        .filter(|i| i["Containers"].as_i64().unwrap_or(0) > 0)
        .count();
    let img_total = size(&df["LayersSize"]);
    let img_used: f64 = images
        .iter()
        .filter(|i| i["Containers"].as_i64().unwrap_or(0) > 0)
        .map(|i| size(&i["Size"]) - size(&i["SharedSize"]))
        .sum::<f64>()
        + images
            .iter()
            .filter(|i| i["Containers"].as_i64().unwrap_or(0) > 0)
            .map(|i| size(&i["SharedSize"]))
            .fold(0.0, f64::max);
    let ctr_active = containers
        .iter()
        .filter(|c| c["State"] == "running")
        .count();
    let ctr_total: f64 = containers.iter().map(|c| size(&c["SizeRw"])).sum();
    let ctr_reclaim: f64 = containers
        .iter()
        .filter(|c| c["State"] != "running")
        .map(|c| size(&c["SizeRw"]))
        .sum();
    let vol_active = volumes
        .iter()
        .filter(|v| v["UsageData"]["RefCount"].as_i64().unwrap_or(0) > 0)
        .count();
    let vol_total: f64 = volumes.iter().map(|v| size(&v["UsageData"]["Size"])).sum();
    let vol_reclaim: f64 = volumes
        .iter()
        .filter(|v| v["UsageData"]["RefCount"].as_i64().unwrap_or(0) == 0)
        .map(|v| size(&v["UsageData"]["Size"]))
        .sum();
    let rows = vec![
        json!({"Type": "Images", "TotalCount": images.len().to_string(), "Active": img_active.to_string(),
            "Size": units::human_size(img_total), "Reclaimable": reclaimable((img_total - img_used).max(0.0), img_total)}),
        json!({"Type": "Containers", "TotalCount": containers.len().to_string(), "Active": ctr_active.to_string(),
            "Size": units::human_size(ctr_total), "Reclaimable": reclaimable(ctr_reclaim, ctr_total)}),
        json!({"Type": "Local Volumes", "TotalCount": volumes.len().to_string(), "Active": vol_active.to_string(),
            "Size": units::human_size(vol_total), "Reclaimable": reclaimable(vol_reclaim, vol_total)}),
        json!({"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}),
    ];
    if !a.verbose {
        let headers = json!({"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"});
        out(&render_rows(
            a.format.as_deref(),
            "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
            &headers,
            &rows,
        )?);
        return Ok(0);
    }
    if a.format.as_deref().map(str::trim) == Some("json") {
        out(&format!("{}\n", serde_json::to_string(&df)?));
        return Ok(0);
    }
    let mut text = String::from("Images space usage:\n\n");
    let img_rows: Vec<Value> = images
        .iter()
        .flat_map(|i| {
            let tags: Vec<String> = i["RepoTags"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let tags = if tags.is_empty() {
                vec!["<none>:<none>".to_string()]
            } else {
                tags
            };
            let id = i["Id"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches("sha256:")
                .chars()
                .take(12)
                .collect::<String>();
            tags.into_iter().map(move |t| {
                let (repo, tag) = t
                    .rsplit_once(':')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .unwrap_or((t.clone(), String::new()));
                json!({"Repository": repo, "Tag": tag, "ID": id,
                    "Size": units::human_size(size(&i["Size"])),
                    "SharedSize": units::human_size(size(&i["SharedSize"])),
                    "UniqueSize": units::human_size(size(&i["Size"]) - size(&i["SharedSize"])),
                    "Containers": i["Containers"].as_i64().unwrap_or(0).to_string()})
            })
        })
        .collect();
    text.push_str(&render_rows(None,
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
        &json!({"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Size": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS"}),
        &img_rows)?);
    text.push_str("\nContainers space usage:\n\n");
    let ctr_rows: Vec<Value> = containers
        .iter()
        .map(|c| json!({
            "ID": c["Id"].as_str().unwrap_or("").chars().take(12).collect::<String>(),
            "Image": c["Image"], "Command": format!("\"{}\"", c["Command"].as_str().unwrap_or("")),
            "LocalVolumes": c["Mounts"].as_array().map(|m| m.iter().filter(|x| x["Type"] == "volume").count()).unwrap_or(0).to_string(),
            "Size": units::human_size(size(&c["SizeRw"])), "Status": c["Status"],
            "Names": c["Names"][0].as_str().unwrap_or("").trim_start_matches('/'),
        }))
        .collect();
    text.push_str(&render_rows(None,
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.Status}}\t{{.Names}}",
        &json!({"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "LocalVolumes": "LOCAL VOLUMES", "Size": "SIZE", "Status": "STATUS", "Names": "NAMES"}),
        &ctr_rows)?);
    text.push_str("\nLocal Volumes space usage:\n\n");
    let vol_rows: Vec<Value> = volumes.iter().map(volume_row).collect();
    text.push_str(&render_rows(
        None,
        "table {{.Name}}\t{{.Links}}\t{{.Size}}",
        &json!({"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}),
        &vol_rows,
    )?);
    text.push_str("\nBuild cache usage: 0B\n");
    out(&text);
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
