//! `docker import --change` / `docker commit --change`: Dockerfile instructions applied to an image
//! config (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL).

use std::collections::HashMap;

use crate::error::{EngineError, Result};
use crate::model::image::ImageContainerConfig;

/// Apply each change line, in order, to `config`.
pub fn apply_changes(config: &mut ImageContainerConfig, changes: &[&str]) -> Result<()> {
    for change in changes {
        // The CLI sends one instruction per value, but a value may carry several lines.
        for line in change.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            apply_one(config, line)?;
        }
    }
    Ok(())
}

fn apply_one(config: &mut ImageContainerConfig, line: &str) -> Result<()> {
    let (instr, rest) = match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], line[i..].trim()),
        None => (line, ""),
    };
    let upper = instr.to_ascii_uppercase();
    let need_args = || {
        if rest.is_empty() {
            Err(EngineError::invalid(format!(
                "{upper} requires at least one argument"
            )))
        } else {
            Ok(())
        }
    };
    match upper.as_str() {
        "CMD" => {
            need_args()?;
            config.cmd = Some(exec_or_shell(rest)?);
        }
        "ENTRYPOINT" => {
            need_args()?;
            config.entrypoint = Some(exec_or_shell(rest)?);
        }
        "ENV" => {
            need_args()?;
            let env = config.env.get_or_insert_with(Vec::new);
            for (k, v) in key_values(&upper, rest)? {
                let prefix = format!("{k}=");
                env.retain(|e| !e.starts_with(&prefix) && e != &k);
                env.push(format!("{k}={v}"));
            }
        }
        "LABEL" => {
            need_args()?;
            let labels = config.labels.get_or_insert_with(HashMap::new);
            for (k, v) in key_values(&upper, rest)? {
                labels.insert(k, v);
            }
        }
        "WORKDIR" => {
            need_args()?;
            let dir = unquote_single(rest)?;
            // A relative WORKDIR continues from the previous one, as in a Dockerfile.
            let joined = if dir.starts_with('/') {
                dir
            } else {
                let base = config.working_dir.clone().unwrap_or_else(|| "/".into());
                format!("{}/{}", base.trim_end_matches('/'), dir)
            };
            config.working_dir = Some(joined);
        }
        "USER" => {
            need_args()?;
            config.user = Some(unquote_single(rest)?);
        }
        "STOPSIGNAL" => {
            need_args()?;
            config.stop_signal = Some(unquote_single(rest)?);
        }
        "EXPOSE" => {
            need_args()?;
            let ports = config.exposed_ports.get_or_insert_with(HashMap::new);
            for word in split_words(rest)? {
                for p in expand_port(&word)? {
                    ports.insert(p, serde_json::json!({}));
                }
            }
        }
        "VOLUME" => {
            need_args()?;
            let list = if rest.starts_with('[') {
                parse_json_array(rest)?
            } else {
                split_words(rest)?
            };
            let vols = config.volumes.get_or_insert_with(HashMap::new);
            for v in list {
                if v.trim().is_empty() {
                    return Err(EngineError::invalid(
                        "VOLUME specified can not be an empty string",
                    ));
                }
                vols.insert(v, serde_json::json!({}));
            }
        }
        "HEALTHCHECK" => {
            need_args()?;
            config.healthcheck = Some(crate::model::health::parse_instruction(rest)?);
        }
        "ONBUILD" => {
            return Err(EngineError::invalid(
                "ONBUILD is not supported in --change: this engine does not build images from a Dockerfile",
            ));
        }
        _ => {
            return Err(EngineError::invalid(format!(
                "{instr} is not a valid change command"
            )));
        }
    }
    Ok(())
}

/// JSON (exec) form when the argument is a JSON string array, else shell form.
fn exec_or_shell(rest: &str) -> Result<Vec<String>> {
    if rest.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(rest) {
            return Ok(v);
        }
    }
    Ok(vec!["/bin/sh".into(), "-c".into(), rest.to_string()])
}

fn parse_json_array(rest: &str) -> Result<Vec<String>> {
    serde_json::from_str::<Vec<String>>(rest)
        .map_err(|e| EngineError::invalid(format!("invalid JSON array {rest:?}: {e}")))
}

/// `K=V K2="v 2"` or the legacy `K V with spaces`.
fn key_values(instr: &str, rest: &str) -> Result<Vec<(String, String)>> {
    let words = split_words(rest)?;
    let first_has_eq = words.first().map(|w| w.contains('=')).unwrap_or(false);
    if !first_has_eq {
        // Legacy form: the key is the first word, the value the remainder of the line as written.
        let (k, v) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => {
                return Err(EngineError::invalid(format!(
                    "{instr} must have two arguments"
                )))
            }
        };
        return Ok(vec![(k.to_string(), unquote_single(v)?)]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(EngineError::invalid(format!(
                "{instr} names can not be blank"
            ))),
        })
        .collect()
}

fn unquote_single(s: &str) -> Result<String> {
    let words = split_words(s)?;
    Ok(if words.len() == 1 {
        words.into_iter().next().unwrap_or_default()
    } else {
        s.to_string()
    })
}

/// Split on unquoted whitespace, honouring "double", 'single' quotes and backslash escapes
/// (Dockerfile word rules), removing the quotes.
fn split_words(s: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(n) => cur.push(n),
                            None => return Err(unterminated(s)),
                        },
                        Some(n) => cur.push(n),
                        None => return Err(unterminated(s)),
                    }
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(n) => cur.push(n),
                        None => return Err(unterminated(s)),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

fn unterminated(s: &str) -> EngineError {
    EngineError::invalid(format!("unterminated quote in {s:?}"))
}

/// "80" → "80/tcp"; "53/udp"; "8000-8002/tcp" → three ports.
fn expand_port(word: &str) -> Result<Vec<String>> {
    let bad = || EngineError::invalid(format!("invalid containerPort: {word}"));
    let (range, proto) = match word.split_once('/') {
        Some((r, p)) => (r, p.to_ascii_lowercase()),
        None => (word, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(EngineError::invalid(format!("invalid proto: {proto}")));
    }
    let (lo, hi) = match range.split_once('-') {
        Some((a, b)) => (a, b),
        None => (range, range),
    };
    let lo: u16 = lo.parse().map_err(|_| bad())?;
    let hi: u16 = hi.parse().map_err(|_| bad())?;
    if lo == 0 || hi < lo {
        return Err(bad());
    }
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(changes: &[&str]) -> Result<ImageContainerConfig> {
        let mut c = ImageContainerConfig::default();
        apply_changes(&mut c, changes)?;
        Ok(c)
    }

    #[test]
    fn changes_cmd_and_entrypoint_forms() {
        let c = apply(&[
            "CMD [\"/bin/sh\", \"-c\", \"echo hi\"]",
            "ENTRYPOINT echo hello world",
        ])
        .unwrap();
        assert_eq!(c.cmd.unwrap(), vec!["/bin/sh", "-c", "echo hi"]);
        assert_eq!(
            c.entrypoint.unwrap(),
            vec!["/bin/sh", "-c", "echo hello world"]
        );
        let c = apply(&["cmd top"]).unwrap();
        assert_eq!(c.cmd.unwrap(), vec!["/bin/sh", "-c", "top"]);
    }

    #[test]
    fn changes_env_both_forms_and_override() {
        let c = apply(&[
            "ENV A=1 B=\"two words\" C=x\\ y",
            "ENV D some value here",
            "ENV A=3",
        ])
        .unwrap();
        assert_eq!(
            c.env.unwrap(),
            vec!["B=two words", "C=x y", "D=some value here", "A=3"]
        );
        assert!(apply(&["ENV ONLYKEY"]).is_err());
        assert!(apply(&["ENV =v"]).is_err());
    }

    #[test]
    fn changes_misc_instructions() {
        let c = apply(&[
            "WORKDIR /app",
            "WORKDIR sub",
            "USER nobody",
            "LABEL a=b \"c d\"=e",
            "EXPOSE 80 53/udp 8000-8001",
            "VOLUME [\"/data\", \"/logs\"]",
            "VOLUME /cache",
            "STOPSIGNAL SIGINT",
        ])
        .unwrap();
        assert_eq!(c.working_dir.as_deref(), Some("/app/sub"));
        assert_eq!(c.user.as_deref(), Some("nobody"));
        let labels = c.labels.unwrap();
        assert_eq!(labels["a"], "b");
        assert_eq!(labels["c d"], "e");
        let mut ports: Vec<_> = c.exposed_ports.unwrap().into_keys().collect();
        ports.sort();
        assert_eq!(ports, vec!["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
        let mut vols: Vec<_> = c.volumes.unwrap().into_keys().collect();
        vols.sort();
        assert_eq!(vols, vec!["/cache", "/data", "/logs"]);
        assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
    }

    #[test]
    fn changes_rejects_bad_input() {
        let e = apply(&["ONBUILD RUN x"]).unwrap_err();
        assert!(e.to_string().contains("ONBUILD"));
        let e = apply(&["FROM scratch"]).unwrap_err();
        assert_eq!(e.to_string(), "FROM is not a valid change command");
        assert!(matches!(e, EngineError::InvalidArgument(_)));
        assert!(apply(&["CMD"]).is_err());
        assert!(apply(&["EXPOSE abc"]).is_err());
        assert!(apply(&["EXPOSE 80/xyz"]).is_err());
        assert!(apply(&["ENV A=\"unterminated"]).is_err());
    }
}
