//! The container `Config` half of the create body (docker's `container.Config`): the labels
//! docker compose stamps on every container (`prepareLabels`), the environment
//! (`ToMobyEnv`), the healthcheck (`ToMobyHealthCheck`), the stop timeout (`ToSeconds`) and the
//! plain fields, with Go's encoding: every non-`omitempty` field present, nil as `null`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{image_name, ports, str_list, version_at_least, CreateError, CreateOptions, Resolved};
use crate::compose::labels;
use crate::compose::types::{service_hash, HealthCheckConfig, Project, ServiceConfig};

/// `prepareLabels`: the caller's merged labels, the image digest, then the config hash, the
/// container number (one-off containers, number 0, have none) and the dependencies.
pub fn prepare_labels(
    opts: &CreateOptions,
    service: &ServiceConfig,
    number: u32,
    r: &Resolved,
) -> BTreeMap<String, String> {
    let mut l = opts.labels.clone();
    if let Some(d) = &r.image_digest {
        // A custom label in docker compose (set when the image is found or built), so it
        // overrides a user label of the same name, as mergeLabels lets custom labels do.
        l.insert(labels::IMAGE_DIGEST.into(), d.clone());
    }
    l.insert(labels::CONFIG_HASH.into(), service_hash(service));
    if number > 0 {
        l.insert(labels::CONTAINER_NUMBER.into(), number.to_string());
    }
    // Go ranges over a map here, so docker compose's order varies run to run; sorted by
    // service name here.
    let deps: Vec<String> = service
        .depends_on
        .iter()
        .map(|(name, d)| format!("{name}:{}:{}", d.condition, d.restart))
        .collect();
    l.insert(labels::DEPENDENCIES.into(), deps.join(","));
    l
}

/// The `Config` fields of the body (`HostConfig` and `NetworkingConfig` are added beside).
pub fn container_config(
    project: &Project,
    service: &ServiceConfig,
    opts: &CreateOptions,
    r: &Resolved,
    labels: BTreeMap<String, String>,
    mac_address: String,
) -> Result<Map<String, Value>, CreateError> {
    let healthcheck = healthcheck(service.health_check.as_ref(), &r.api_version)?;
    let mut c = Map::new();
    c.insert("Hostname".into(), json!(service.hostname));
    c.insert("Domainname".into(), json!(service.domain_name));
    c.insert("User".into(), json!(service.user));
    c.insert("AttachStdin".into(), json!(opts.attach_stdin));
    c.insert("AttachStdout".into(), json!(true));
    c.insert("AttachStderr".into(), json!(true));
    let exposed = ports::exposed_ports(service);
    if !exposed.is_empty() {
        c.insert("ExposedPorts".into(), Value::Object(exposed));
    }
    c.insert("Tty".into(), json!(service.tty));
    c.insert("OpenStdin".into(), json!(service.stdin_open));
    c.insert(
        "StdinOnce".into(),
        json!(opts.attach_stdin && service.stdin_open),
    );
    c.insert("Env".into(), str_list(&environment(service, r)));
    // A present empty command is `[]` (it clears the image's), an absent one `null`.
    let cmd = |v: &Option<crate::compose::types::ShellCommand>| match v {
        Some(c) => json!(c.0),
        None => Value::Null,
    };
    c.insert("Cmd".into(), cmd(&service.command));
    if let Some(h) = healthcheck {
        c.insert("Healthcheck".into(), h);
    }
    c.insert("Image".into(), json!(image_name(&project.name, service)));
    c.insert("Volumes".into(), Value::Null);
    c.insert("WorkingDir".into(), json!(service.working_dir));
    c.insert("Entrypoint".into(), cmd(&service.entrypoint));
    if service.network_mode == "disabled" {
        c.insert("NetworkDisabled".into(), json!(true));
    }
    // docker's client clears the container-wide address from API 1.44 on (it moved to the
    // endpoint), as docker compose already did.
    if !mac_address.is_empty() && !version_at_least(&r.api_version, "1.44") {
        c.insert("MacAddress".into(), json!(mac_address));
    }
    c.insert("OnBuild".into(), Value::Null);
    c.insert("Labels".into(), json!(labels));
    if !service.stop_signal.is_empty() {
        c.insert("StopSignal".into(), json!(service.stop_signal));
    }
    if let Some(d) = &service.stop_grace_period {
        // `int(time.Duration(d).Seconds())`: whole seconds, truncated.
        c.insert("StopTimeout".into(), json!(d.0 / 1_000_000_000));
    }
    Ok(c)
}

/// `ToMobyEnv(proxyConfig.OverrideBy(service.Environment))`: `KEY=value`, or a bare `KEY`
/// for a variable declared without a value. Go ranges over a map: sorted here.
pub fn environment(service: &ServiceConfig, r: &Resolved) -> Vec<String> {
    let mut env: BTreeMap<&String, Option<&String>> =
        r.proxy_env.iter().map(|(k, v)| (k, Some(v))).collect();
    for (k, v) in service.environment.iter() {
        env.insert(k, v.as_ref());
    }
    env.into_iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.clone(),
        })
        .collect()
}

/// `ToMobyHealthCheck`: durations in nanoseconds, each left out when zero (docker's
/// `HealthConfig` is all `omitempty`); `disable` is the `NONE` test.
pub fn healthcheck(
    check: Option<&HealthCheckConfig>,
    api_version: &str,
) -> Result<Option<Value>, CreateError> {
    let Some(check) = check else {
        return Ok(None);
    };
    let ns = |d: &Option<crate::compose::types::Duration>| d.as_ref().map_or(0, |d| d.0);
    let mut start_interval = 0;
    if let Some(si) = &check.start_interval {
        if !version_at_least(api_version, "1.44") {
            return Err(CreateError::new(
                "can't set healthcheck.start_interval as feature require Docker Engine v25 or later",
            ));
        }
        start_interval = si.0;
        if check.start_period.is_none() {
            // see https://github.com/moby/moby/issues/48874
            return Err(CreateError::new(
                "healthcheck.start_interval requires healthcheck.start_period to be set",
            ));
        }
    }
    let test: Vec<String> = if check.disable {
        vec!["NONE".into()]
    } else {
        check.test.0.clone()
    };
    let mut h = Map::new();
    if !test.is_empty() {
        h.insert("Test".into(), json!(test));
    }
    for (key, v) in [
        ("Interval", ns(&check.interval)),
        ("Timeout", ns(&check.timeout)),
        ("StartPeriod", ns(&check.start_period)),
        ("StartInterval", start_interval),
        ("Retries", check.retries.unwrap_or(0) as i64),
    ] {
        if v != 0 {
            h.insert(key.into(), json!(v));
        }
    }
    Ok(Some(Value::Object(h)))
}
