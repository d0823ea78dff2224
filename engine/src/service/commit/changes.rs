//! `docker commit --change`: Dockerfile instructions applied to the committed config, as
//! dockerd's `dockerfile.BuildFromConfig` does. The builder's parser reads them (so quoting,
//! JSON forms and continuation lines are the builder's), words are expanded with the config's
//! own Env, and only dockerd's commit commands are accepted, in its words for the rest.

use std::collections::BTreeMap;

use serde_json::json;

use crate::dockerfile::{CommandForm, Kind, ShellLex};
use crate::error::{EngineError, Result};
use crate::service::build::config::{set_env, RunConfig};
use crate::service::build::dispatch::expand_port;

/// Apply `changes` (one instruction per entry, or several per entry on separate lines) to `c`.
pub fn apply(c: &mut RunConfig, changes: &[String]) -> Result<()> {
    let text = changes.join("\n");
    if text.trim().is_empty() {
        return Ok(());
    }
    // dockerd checks each instruction's keyword before it runs any.
    for line in text.lines() {
        let word = line.split_whitespace().next().unwrap_or("").to_lowercase();
        let valid = matches!(
            word.as_str(),
            "cmd"
                | "entrypoint"
                | "healthcheck"
                | "env"
                | "expose"
                | "label"
                | "onbuild"
                | "user"
                | "volume"
                | "workdir"
        );
        if !word.is_empty() && !word.starts_with('#') && !valid {
            return Err(EngineError::invalid(format!(
                "{word} is not a valid change command"
            )));
        }
    }
    let parsed = crate::dockerfile::parse(&format!("FROM scratch\n{text}"))
        .map_err(|e| EngineError::invalid(e.to_string()))?;
    let lex = ShellLex::default();
    let mut cmd_set = false;
    for ins in parsed.stages.iter().flat_map(|s| &s.instructions) {
        let env: BTreeMap<String, String> = c
            .env
            .iter()
            .flatten()
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (e.clone(), String::new()),
            })
            .collect();
        let expand = |w: &str| {
            lex.expand_word(w, &env)
                .map_err(|e| EngineError::invalid(e.to_string()))
        };
        match &ins.kind {
            Kind::Cmd(form) => {
                c.cmd = Some(command(form));
                cmd_set = true;
            }
            Kind::Entrypoint(form) => {
                let ep = command(form);
                c.entrypoint = (!ep.is_empty()).then_some(ep);
                if !cmd_set {
                    c.cmd = None;
                }
            }
            Kind::Env(pairs) => {
                for (k, v) in pairs {
                    let (k, v) = (expand(k)?, expand(v)?);
                    set_env(c.env.get_or_insert_with(Vec::new), &k, &v);
                }
            }
            Kind::Label(pairs) => {
                for (k, v) in pairs {
                    let (k, v) = (expand(k)?, expand(v)?);
                    c.labels.get_or_insert_with(BTreeMap::new).insert(k, v);
                }
            }
            Kind::Expose(words) => {
                for w in words {
                    for port in lex
                        .expand_words(w, &env)
                        .map_err(|e| EngineError::invalid(e.to_string()))?
                    {
                        for spec in
                            expand_port(&port).map_err(|f| EngineError::invalid(f.message))?
                        {
                            c.exposed_ports
                                .get_or_insert_with(BTreeMap::new)
                                .insert(spec, json!({}));
                        }
                    }
                }
            }
            Kind::Volume(words) => {
                for w in words {
                    let v = expand(w)?.trim().to_string();
                    if v.is_empty() {
                        return Err(EngineError::invalid(
                            "VOLUME specified can not be an empty string",
                        ));
                    }
                    c.volumes
                        .get_or_insert_with(BTreeMap::new)
                        .insert(v, json!({}));
                }
            }
            Kind::User(u) => c.user = expand(u)?,
            Kind::Workdir(w) => {
                let w = expand(w)?;
                // A relative WORKDIR is relative to the current one, as in a build.
                c.working_dir = if w.starts_with('/') {
                    w
                } else {
                    let base = if c.working_dir.is_empty() {
                        "/"
                    } else {
                        c.working_dir.as_str()
                    };
                    format!("{}/{w}", base.trim_end_matches('/'))
                };
            }
            Kind::Onbuild(trigger) => {
                c.on_build
                    .get_or_insert_with(Vec::new)
                    .push(trigger.clone());
            }
            Kind::Healthcheck(rest) => {
                c.healthcheck = Some(crate::model::health::parse_instruction(rest)?);
            }
            _ => {
                let word = ins.original.split_whitespace().next().unwrap_or("");
                return Err(EngineError::invalid(format!(
                    "{} is not a valid change command",
                    word.to_lowercase()
                )));
            }
        }
    }
    Ok(())
}

fn command(form: &CommandForm) -> Vec<String> {
    match form {
        CommandForm::Exec(v) => v.clone(),
        CommandForm::Shell(s) => vec!["/bin/sh".into(), "-c".into(), s.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::apply;
    use crate::service::build::config::RunConfig;

    #[test]
    fn applies_dockerds_commit_commands() {
        let mut c = RunConfig {
            env: Some(vec!["FOO=bar".into()]),
            cmd: Some(vec!["sh".into()]),
            ..RunConfig::default()
        };
        let changes = [
            r#"CMD ["cat","/hello"]"#,
            "ENV A=$FOO",
            "EXPOSE 80 53/udp",
            "LABEL x=\"y z\"",
            "WORKDIR /w",
            "WORKDIR sub",
            "USER nobody",
            "VOLUME /v",
            "ONBUILD RUN true",
        ];
        apply(&mut c, &changes.map(String::from)).unwrap();
        assert_eq!(c.cmd.as_deref().unwrap(), ["cat", "/hello"]);
        assert_eq!(c.env.as_deref().unwrap(), ["FOO=bar", "A=bar"]);
        let ports: Vec<_> = c.exposed_ports.unwrap().into_keys().collect();
        assert_eq!(ports, ["53/udp", "80/tcp"]);
        assert_eq!(c.labels.unwrap()["x"], "y z");
        assert_eq!(c.working_dir, "/w/sub");
        assert_eq!(c.user, "nobody");
        assert!(c.volumes.unwrap().contains_key("/v"));
        assert_eq!(c.on_build.unwrap(), ["RUN true"]);
    }

    #[test]
    fn entrypoint_without_cmd_clears_cmd() {
        let mut c = RunConfig {
            cmd: Some(vec!["sh".into()]),
            ..RunConfig::default()
        };
        apply(&mut c, &[r#"ENTRYPOINT ["x"]"#.into()]).unwrap();
        assert_eq!(c.cmd, None);
        assert_eq!(c.entrypoint.unwrap(), ["x"]);
    }

    #[test]
    fn other_instructions_are_refused_in_dockerds_words() {
        let mut c = RunConfig::default();
        let e = apply(&mut c, &["RUN true".into()]).unwrap_err();
        assert_eq!(e.to_string(), "run is not a valid change command");
        let e = apply(&mut c, &["STOPSIGNAL 9".into()]).unwrap_err();
        assert_eq!(e.to_string(), "stopsignal is not a valid change command");
    }
}
