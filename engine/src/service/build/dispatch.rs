//! One instruction's effect, as a build step: the config-only instructions (ENV, LABEL, CMD,
//! HEALTHCHECK, ARG, ...) change the stage's config and commit it through
//! `StageState::config_step`; RUN goes to `run`, COPY/ADD/WORKDIR to `copy`. Also the LABEL step
//! a build's `labels=` adds.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::config::{go_list, go_quote_list, healthcheck_history, healthcheck_test, set_env};
use super::output::Out;
use super::stage::{fail, StageState, StepDone};
use super::{Build, BuildFailure};
use crate::dockerfile::{CommandForm, Instruction, Kind, Stage};

/// Append `labels=` of the query as a LABEL step (dockerd adds it to the target stage).
pub fn append_labels(stage: &mut Stage, labels: &BTreeMap<String, String>) {
    let pairs: Vec<(String, String)> = labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let text = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_word(k), quote_word(v)))
        .collect::<Vec<_>>()
        .join(" ");
    let location = stage
        .instructions
        .last()
        .map(|i| i.location)
        .unwrap_or(stage.from.location);
    stage.instructions.push(Instruction {
        kind: Kind::Label(
            pairs
                .iter()
                .map(|(k, v)| (quote_word(k), quote_word(v)))
                .collect(),
        ),
        original: format!("LABEL {text}"),
        location,
    });
}

/// A word as a Dockerfile would spell it so that expansion gives it back unchanged: double
/// quotes when it has anything the lexer treats specially.
fn quote_word(w: &str) -> String {
    if !w.is_empty()
        && !w
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '$' | '\\' | '`' | '='))
    {
        return w.to_string();
    }
    let mut out = String::from("\"");
    for c in w.chars() {
        if matches!(c, '"' | '$' | '\\' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Carry out one instruction.
pub(super) async fn dispatch(
    b: &Arc<Build>,
    st: &mut StageState,
    ins: &Instruction,
    number: usize,
    out: &Out,
) -> Result<StepDone, BuildFailure> {
    match &ins.kind {
        Kind::From => Err(fail("FROM inside a stage")),
        Kind::Run(r) => super::run::run(b, st, r, number, out).await,
        Kind::Copy(c) => super::copy::run(b, st, c, false, number).await,
        Kind::Add(c) => super::copy::run(b, st, c, true, number).await,
        Kind::Workdir(w) => super::copy::workdir(b, st, w).await,
        Kind::Env(pairs) => {
            let mut text = Vec::new();
            for (k, v) in pairs {
                let key = st.expand(k)?;
                let value = st.expand(v)?;
                if key.is_empty() {
                    return Err(fail("ENV names can not be blank"));
                }
                let env = st.img.config.env.get_or_insert_with(Vec::new);
                set_env(env, &key, &value);
                text.push(format!("{key}={value}"));
            }
            st.config_step(b, &format!("ENV {}", text.join(" ")), "  ")
                .await
        }
        Kind::Label(pairs) => {
            let mut text = Vec::new();
            for (k, v) in pairs {
                let key = st.expand(k)?;
                let value = st.expand(v)?;
                if key.is_empty() {
                    return Err(fail("LABEL names can not be blank"));
                }
                st.img
                    .config
                    .labels
                    .get_or_insert_with(BTreeMap::new)
                    .insert(key.clone(), value.clone());
                text.push(format!("{key}={value}"));
            }
            st.config_step(b, &format!("LABEL {}", text.join(" ")), "  ")
                .await
        }
        Kind::Maintainer(m) => {
            let m = st.expand(m)?;
            st.img.author = Some(m.clone());
            st.config_step(b, &format!("MAINTAINER {m}"), "  ").await
        }
        Kind::Expose(words) => {
            let mut ports = Vec::new();
            for w in words {
                ports.extend(st.expand_words(w)?);
            }
            let exposed = st
                .img
                .config
                .exposed_ports
                .get_or_insert_with(BTreeMap::new);
            for p in &ports {
                for spec in expand_port(p)? {
                    exposed.insert(spec, json!({}));
                }
            }
            // dockerd's history lists the ports sorted (as strings).
            let mut listed = ports.clone();
            listed.sort();
            st.config_step(b, &format!("EXPOSE {}", listed.join(" ")), "  ")
                .await
        }
        Kind::Volume(words) => {
            let mut vols = Vec::new();
            for w in words {
                let v = st.expand(w)?;
                let v = v.trim().to_string();
                if v.is_empty() {
                    return Err(fail("VOLUME specified can not be an empty string"));
                }
                vols.push(v);
            }
            let map = st.img.config.volumes.get_or_insert_with(BTreeMap::new);
            for v in &vols {
                map.insert(v.clone(), json!({}));
            }
            st.config_step(b, &format!("VOLUME {}", go_list(&vols)), "  ")
                .await
        }
        Kind::User(u) => {
            let u = st.expand(u)?;
            st.img.config.user = u.clone();
            st.config_step(b, &format!("USER {u}"), "  ").await
        }
        Kind::Stopsignal(s) => {
            let s = st.expand(s)?;
            crate::util::signals::parse(&s).map_err(|_| fail(format!("Invalid signal: {s}")))?;
            st.img.config.stop_signal = Some(s.clone());
            st.config_step(b, &format!("STOPSIGNAL {s}"), "  ").await
        }
        Kind::Cmd(form) => {
            let cmd = command(st, form);
            st.img.config.cmd = Some(cmd.clone());
            st.cmd_set = true;
            st.config_step(b, &format!("CMD {}", go_quote_list(&cmd)), "  ")
                .await
        }
        Kind::Entrypoint(form) => {
            let ep = command(st, form);
            // `ENTRYPOINT []` (or a bare ENTRYPOINT) clears it: dockerd stores null.
            st.img.config.entrypoint = (!ep.is_empty()).then(|| ep.clone());
            if !st.cmd_set {
                st.img.config.cmd = None;
            }
            st.config_step(b, &format!("ENTRYPOINT {}", go_quote_list(&ep)), "  ")
                .await
        }
        Kind::Shell(sh) => {
            if sh.is_empty() {
                return Err(fail("SHELL requires at least one argument"));
            }
            st.img.config.shell = Some(sh.clone());
            st.config_step(b, &format!("SHELL {}", go_list(sh)), "  ")
                .await
        }
        Kind::Healthcheck(rest) => {
            let mut hc: Value = crate::model::health::parse_instruction(rest)?;
            // The history shows the instruction's own values; the config gets the merge below.
            let text = healthcheck_history(&hc);
            if let Some(old) = &st.img.config.healthcheck {
                let old_test = healthcheck_test(old);
                if old_test.first().is_some_and(|t| t != "NONE") {
                    out.stream(&format!(
                        "Note: overriding previous HEALTHCHECK: {}\n",
                        go_list(&old_test)
                    ));
                }
                // dockerd's commit merges the new config over the image's: the timings the
                // instruction leaves unset come from the previous HEALTHCHECK.
                for k in [
                    "Interval",
                    "Timeout",
                    "StartPeriod",
                    "StartInterval",
                    "Retries",
                ] {
                    let unset = hc.get(k).and_then(Value::as_i64).unwrap_or(0) == 0;
                    if let (true, Some(v)) =
                        (unset, old.get(k).filter(|v| v.as_i64().unwrap_or(0) != 0))
                    {
                        hc[k] = v.clone();
                    }
                }
            }
            st.img.config.healthcheck = Some(hc);
            st.config_step(b, &text, "  ").await
        }
        Kind::Arg(decls) => {
            let mut text = Vec::new();
            for a in decls {
                let value = match b.opts.build_args.get(&a.name) {
                    Some(Some(v)) => Some(v.clone()),
                    _ => match &a.default {
                        Some(d) => Some(st.expand(d)?),
                        // `ARG NAME` re-declaring a global ARG takes its value.
                        None => b.meta_args.get(&a.name).cloned(),
                    },
                };
                b.consumed_args
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(a.name.clone());
                match value {
                    Some(v) => {
                        st.args.insert(a.name.clone(), v);
                    }
                    None => {
                        st.args.remove(&a.name);
                    }
                }
                text.push(match &a.default {
                    Some(d) => format!("{}={d}", a.name),
                    None => a.name.clone(),
                });
            }
            st.config_step(b, &format!("ARG {}", text.join(" ")), "  ")
                .await
        }
        Kind::Onbuild(trigger) => {
            let t = trigger.trim().to_string();
            st.img
                .config
                .on_build
                .get_or_insert_with(Vec::new)
                .push(t.clone());
            st.config_step(b, &format!("ONBUILD {t}"), "  ").await
        }
    }
}

/// CMD/ENTRYPOINT argv: the exec form as written, the shell form through the stage's shell.
fn command(st: &StageState, form: &CommandForm) -> Vec<String> {
    match form {
        CommandForm::Exec(v) => v.clone(),
        CommandForm::Shell(s) => {
            let mut c = st.shell();
            c.push(s.clone());
            c
        }
    }
}

/// One EXPOSE word as docker's nat.ParsePortSpecs reads it: `80`, `80/udp`, `8000-8002/tcp`.
pub(crate) fn expand_port(word: &str) -> Result<Vec<String>, BuildFailure> {
    let (ports, proto) = match word.split_once('/') {
        Some((p, proto)) => (p, proto.to_ascii_lowercase()),
        None => (word, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(fail(format!("invalid proto: {proto}")));
    }
    // An `ip:hostPort:containerPort` form keeps only the container port (docker warns).
    let ports = ports.rsplit(':').next().unwrap_or(ports);
    let bad = || fail(format!("invalid containerPort: {ports}"));
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (
            a.parse::<u16>().map_err(|_| bad())?,
            b.parse::<u16>().map_err(|_| bad())?,
        ),
        None => {
            let p = ports.parse::<u16>().map_err(|_| bad())?;
            (p, p)
        }
    };
    if hi < lo {
        return Err(fail(format!(
            "invalid range specified for container port: {ports}"
        )));
    }
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

#[cfg(test)]
mod tests {
    use super::expand_port;

    #[test]
    fn ports_expand_as_docker() {
        assert_eq!(expand_port("80").unwrap(), vec!["80/tcp"]);
        assert_eq!(expand_port("53/UDP").unwrap(), vec!["53/udp"]);
        assert_eq!(
            expand_port("8000-8002").unwrap(),
            vec!["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert!(expand_port("x").is_err());
        assert!(expand_port("80/foo").is_err());
    }
}
