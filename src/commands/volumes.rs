//! `volume create/ls/inspect/rm/prune`, `system df`, and the `-v`/`--mount`/`--tmpfs` flags of
//! run/create (mapped to docker's `Binds`, `Config.Volumes`, `Mounts` and `Tmpfs` exactly as the
//! docker CLI sends them).

use anyhow::Result;
use berth_engine::model::container::{ContainerConfig, HostConfig};
use clap::Args;
use serde_json::{json, Map, Value};

use super::{for_each, out, Ctx};
use crate::cli::VolumeCmd;
use crate::client::api::volumes::{self, VolumeCreate};
use crate::client::api::Filters;
use crate::exit::{flag_error, ExitError};
use crate::format::{render_rows, units};

#[derive(Args, Debug)]
pub struct VolumeCreateArgs {
    pub name: Option<String>,
    /// Specify volume name.
    #[arg(long = "name")]
    pub name_flag: Option<String>,
    /// Specify volume driver name.
    #[arg(short = 'd', long, default_value = "local")]
    pub driver: String,
    /// Set driver specific options.
    #[arg(short = 'o', long = "opt")]
    pub opts: Vec<String>,
    /// Set metadata for a volume.
    #[arg(long = "label")]
    pub labels: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumeLsArgs {
    /// Only display volume names.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(short = 'f', long = "filter")]
    pub filters: Vec<String>,
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Args, Debug)]
pub struct VolumeRmArgs {
    /// Force the removal of one or more volumes.
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(required = true)]
    pub volumes: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VolumePruneArgs {
    /// Remove all unused volumes, not just anonymous ones.
    #[arg(short = 'a', long)]
    pub all: bool,
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(long = "filter")]
    pub filters: Vec<String>,
}

/// The mount-related parts of a create body.
#[derive(Debug, Default, PartialEq)]
pub struct MountFlags {
    pub binds: Vec<String>,
    /// `-v /path`: anonymous volumes go to `Config.Volumes`, as the docker CLI does.
    pub volumes: Map<String, Value>,
    pub mounts: Vec<Value>,
    pub tmpfs: Map<String, Value>,
}

/// Map `-v`, `--mount` and `--tmpfs` values; malformed ones are docker's flag errors (125).
pub fn mount_flags(
    cmd: &str,
    volumes: &[String],
    mounts: &[String],
    tmpfs: &[String],
) -> Result<MountFlags> {
    let mut f = MountFlags::default();
    for v in volumes {
        if v.is_empty() {
            return Err(flag_error(cmd, "-v, --volume", v, "bad format for path: "));
        }
        match v.split_once(':') {
            Some((src, _)) if !src.is_empty() => f.binds.push(v.clone()),
            Some(_) => {
                return Err(flag_error(
                    cmd,
                    "-v, --volume",
                    v,
                    &format!("bad format for path: {v}"),
                ))
            }
            None => {
                f.volumes.insert(v.clone(), json!({}));
            }
        }
    }
    for m in mounts {
        f.mounts.push(parse_mount(cmd, m)?);
    }
    for t in tmpfs {
        let (path, opts) = t.split_once(':').unwrap_or((t.as_str(), ""));
        if path.is_empty() {
            return Err(flag_error(cmd, "--tmpfs", t, "empty tmpfs path"));
        }
        f.tmpfs.insert(path.to_string(), json!(opts));
    }
    Ok(f)
}

fn parse_bool(cmd: &str, raw: &str, key: &str, v: Option<&str>) -> Result<bool> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("1") | Some("true") => Ok(true),
        Some("0") | Some("false") => Ok(false),
        _ => Err(flag_error(
            cmd,
            "--mount",
            raw,
            &format!("invalid value for {key}: {}", v.unwrap_or("")),
        )),
    }
}

/// One `--mount` value (docker's CSV `key=value` list) → a `mount.Mount` object.
fn parse_mount(cmd: &str, raw: &str) -> Result<Value> {
    let mut kind = "volume".to_string();
    let mut m = Map::new();
    let mut bind = Map::new();
    let mut vol = Map::new();
    let mut tmpfs = Map::new();
    let mut labels = Map::new();
    let mut driver = Map::new();
    let mut driver_opts = Map::new();
    let bad = |why: String| flag_error(cmd, "--mount", raw, &why);
    for field in raw.split(',') {
        let (k, v) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        let need =
            || v.ok_or_else(|| bad(format!("invalid field '{field}' must be a key=value pair")));
        match k.as_str() {
            "type" => kind = need()?.to_string(),
            "source" | "src" => {
                m.insert("Source".into(), json!(need()?));
            }
            "target" | "destination" | "dst" => {
                m.insert("Target".into(), json!(need()?));
            }
            "readonly" | "ro" => {
                m.insert("ReadOnly".into(), json!(parse_bool(cmd, raw, &k, v)?));
            }
            "consistency" => {
                m.insert("Consistency".into(), json!(need()?));
            }
            "bind-propagation" => {
                bind.insert("Propagation".into(), json!(need()?));
            }
            "bind-create-mountpoint" => {
                bind.insert(
                    "CreateMountpoint".into(),
                    json!(parse_bool(cmd, raw, &k, v)?),
                );
            }
            "volume-nocopy" => {
                vol.insert("NoCopy".into(), json!(parse_bool(cmd, raw, &k, v)?));
            }
            "volume-label" => {
                let (lk, lv) = need()?.split_once('=').unwrap_or((need()?, ""));
                labels.insert(lk.into(), json!(lv));
            }
            "volume-driver" => {
                driver.insert("Name".into(), json!(need()?));
            }
            "volume-opt" => {
                let (ok, ov) = need()?
                    .split_once('=')
                    .ok_or_else(|| bad(format!("invalid volume-opt '{}'", v.unwrap_or(""))))?;
                driver_opts.insert(ok.into(), json!(ov));
            }
            "tmpfs-size" => {
                let n = units::parse_ram_size(need()?)
                    .map_err(|e| bad(format!("invalid value for tmpfs-size: {e}")))?;
                tmpfs.insert("SizeBytes".into(), json!(n));
            }
            "tmpfs-mode" => {
                let n = u32::from_str_radix(need()?, 8).map_err(|_| {
                    bad(format!("invalid value for tmpfs-mode: {}", v.unwrap_or("")))
                })?;
                tmpfs.insert("Mode".into(), json!(n));
            }
            _ => return Err(bad(format!("unexpected key '{k}' in '{field}'"))),
        }
    }
    if !matches!(kind.as_str(), "bind" | "volume" | "tmpfs") {
        return Err(bad(format!("invalid mount type {kind:?}")));
    }
    if !m.contains_key("Target") {
        return Err(bad("target is required".into()));
    }
    m.insert("Type".into(), json!(kind));
    if !labels.is_empty() {
        vol.insert("Labels".into(), Value::Object(labels));
    }
    if !driver_opts.is_empty() {
        driver.insert("Options".into(), Value::Object(driver_opts));
    }
    if !driver.is_empty() {
        vol.insert("DriverConfig".into(), Value::Object(driver));
    }
    let mismatch = |what: &str| {
        bad(format!(
            "cannot mix '{what}-*' options with mount type '{kind}'"
        ))
    };
    if !bind.is_empty() {
        if kind != "bind" {
            return Err(mismatch("bind"));
        }
        m.insert("BindOptions".into(), Value::Object(bind));
    }
    if !vol.is_empty() {
        if kind != "volume" {
            return Err(mismatch("volume"));
        }
        m.insert("VolumeOptions".into(), Value::Object(vol));
    }
    if !tmpfs.is_empty() {
        if kind != "tmpfs" {
            return Err(mismatch("tmpfs"));
        }
        m.insert("TmpfsOptions".into(), Value::Object(tmpfs));
    }
    Ok(Value::Object(m))
}

/// Add the mount flags to a create body (Config + HostConfig).
pub fn apply(f: MountFlags, config: &mut ContainerConfig, host: &mut HostConfig) {
    if !f.volumes.is_empty() {
        config.volumes = Some(f.volumes.into_iter().collect());
    }
    if !f.binds.is_empty() {
        host.extra.insert("Binds".into(), Value::from(f.binds));
    }
    if !f.mounts.is_empty() {
        host.extra.insert("Mounts".into(), Value::Array(f.mounts));
    }
    if !f.tmpfs.is_empty() {
        host.extra.insert("Tmpfs".into(), Value::Object(f.tmpfs));
    }
}

pub async fn dispatch(ctx: &Ctx, cmd: VolumeCmd) -> Result<i32> {
    match cmd {
        VolumeCmd::Create(a) => create(ctx, a).await,
        VolumeCmd::Ls(a) => list(ctx, a).await,
        VolumeCmd::Inspect(a) => {
            super::inspect::inspect(ctx, a.format, Some("volume".into()), a.names).await
        }
        VolumeCmd::Rm(a) => remove(ctx, a).await,
        VolumeCmd::Prune(a) => prune(ctx, a).await,
    }
}

fn key_values(
    cmd: &str,
    flag: &str,
    items: &[String],
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut m = std::collections::BTreeMap::new();
    for i in items {
        match i.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                m.insert(k.into(), v.into());
            }
            // A bare label is allowed (empty value); a bare driver option is not.
            None if flag == "--label" && !i.is_empty() => {
                m.insert(i.clone(), String::new());
            }
            _ => return Err(flag_error(cmd, flag, i, "expected key=value")),
        }
    }
    Ok(m)
}

async fn create(ctx: &Ctx, a: VolumeCreateArgs) -> Result<i32> {
    if a.name.is_some() && a.name_flag.is_some() && a.name != a.name_flag {
        return Err(ExitError::with(
            1,
            "conflicting options: cannot specify a volume-name through both --name and as a positional arg",
        ));
    }
    let name = a.name.or(a.name_flag).unwrap_or_default();
    let spec = VolumeCreate {
        name,
        driver: a.driver,
        driver_opts: Some(key_values("volume create", "--opt", &a.opts)?),
        labels: key_values("volume create", "--label", &a.labels)?,
    };
    let client = ctx.client().await?;
    let v = client.volume_create(&spec).await?;
    out(&format!("{}\n", v["Name"].as_str().unwrap_or_default()));
    Ok(0)
}

pub(super) fn volume_row(v: &Value) -> Value {
    let labels = v["Labels"]
        .as_object()
        .map(|m| {
            let mut l: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            l.sort();
            l.join(",")
        })
        .unwrap_or_default();
    json!({
        "Name": v["Name"], "Driver": v["Driver"], "Scope": v["Scope"],
        "Mountpoint": v["Mountpoint"], "Labels": labels,
        "CreatedAt": v["CreatedAt"],
        "Size": v["UsageData"]["Size"].as_i64().map(|s| units::human_size(s as f64)).unwrap_or_else(|| "N/A".into()),
        "Links": v["UsageData"]["RefCount"].as_i64().map(|n| n.to_string()).unwrap_or_else(|| "N/A".into()),
    })
}

async fn list(ctx: &Ctx, a: VolumeLsArgs) -> Result<i32> {
    let endpoint = volumes::list(&Filters::parse(&a.filters)?);
    let client = ctx.client().await?;
    let v: Value = client.send_as(endpoint).await?;
    let mut vols: Vec<Value> = v["Volumes"].as_array().cloned().unwrap_or_default();
    vols.sort_by(|a, b| a["Name"].as_str().cmp(&b["Name"].as_str()));
    if a.quiet {
        let text: String = vols
            .iter()
            .map(|v| format!("{}\n", v["Name"].as_str().unwrap_or_default()))
            .collect();
        out(&text);
        return Ok(0);
    }
    let rows: Vec<Value> = vols.iter().map(volume_row).collect();
    let headers = json!({"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE",
        "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "CreatedAt": "CREATED", "Size": "SIZE", "Links": "LINKS"});
    out(&render_rows(
        a.format.as_deref(),
        "table {{.Driver}}\t{{.Name}}",
        &headers,
        &rows,
    )?);
    Ok(0)
}

async fn remove(ctx: &Ctx, a: VolumeRmArgs) -> Result<i32> {
    let client = ctx.client().await?;
    for_each(&a.volumes, |name| {
        let client = client.clone();
        async move {
            client.volume_remove(&name, a.force).await?;
            out(&format!("{name}\n"));
            Ok(())
        }
    })
    .await
}

async fn prune(ctx: &Ctx, a: VolumePruneArgs) -> Result<i32> {
    let warning = if a.all {
        "all local volumes not used by at least one container"
    } else {
        "anonymous local volumes not used by at least one container"
    };
    let mut filters = a.filters.clone();
    if a.all {
        filters.push("all=true".into());
    }
    super::prune::Prune {
        warning,
        endpoint: crate::client::api::volumes::prune,
        deleted_key: "VolumesDeleted",
        heading: "Deleted Volumes",
        reports_space: true,
    }
    .run(ctx, a.force, &filters)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<MountFlags>) -> (i32, String) {
        let e = r.unwrap_err();
        let x = e.downcast_ref::<ExitError>().unwrap();
        (x.code, x.message.clone().unwrap_or_default())
    }

    #[test]
    fn volume_flags_map_like_the_docker_cli() {
        let f = mount_flags(
            "run",
            &["data:/data:ro".into(), "/anon".into(), "/h:/c".into()],
            &[
                "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700".into(),
                "src=v1,target=/v,volume-nocopy,ro".into(),
            ],
            &["/run:size=64m".into()],
        )
        .unwrap();
        assert_eq!(f.binds, vec!["data:/data:ro", "/h:/c"]);
        assert!(f.volumes.contains_key("/anon"));
        assert_eq!(
            f.mounts[0],
            json!({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 448}})
        );
        assert_eq!(
            f.mounts[1],
            json!({"Type": "volume", "Source": "v1", "Target": "/v", "ReadOnly": true, "VolumeOptions": {"NoCopy": true}})
        );
        assert_eq!(f.tmpfs["/run"], json!("size=64m"));
    }

    #[test]
    fn malformed_mounts_are_flag_errors() {
        for bad in [
            "type=bind,source=/a",
            "type=nfs,target=/x",
            "target=/x,bogus=1",
            "type=tmpfs,target=/x,volume-nocopy",
            "target=/x,readonly=maybe",
            "type=tmpfs,target=/x,tmpfs-mode=999",
        ] {
            let (c, m) = code(mount_flags("run", &[], &[bad.into()], &[]));
            assert_eq!(c, 125, "{bad}");
            assert!(m.contains("--mount"), "{m}");
        }
        assert_eq!(code(mount_flags("run", &[":/x".into()], &[], &[])).0, 125);
    }
}
