//! The instruction level of the parser, a port of docker's `frontend/dockerfile/instructions`
//! (`parse.go`, `bflag.go`) as dockerd 20.10 runs it, with BuildKit's RUN/COPY/ADD options: each
//! line's arguments and `--flags` checked in docker's order with docker's messages, ARGs before the
//! first FROM collected as global args, stages formed and named.

use std::collections::HashMap;

use super::lines::{parse_lines, Node};
use super::{
    parse_mount, ArgDecl, CommandForm, Copy, Dockerfile, DockerfileError, ErrorKind, Instruction,
    Kind, Location, Run, Stage,
};

pub(crate) fn parse_dockerfile(text: &str) -> Result<Dockerfile, DockerfileError> {
    let parsed = parse_lines(text)?;
    let mut global_args = Vec::new();
    let mut global_arg_steps = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for node in &parsed.nodes {
        let location = Location {
            line: node.line,
            column: node.column,
        };
        let original = node.original.trim().to_string();
        match typed(node).map_err(|m| instruction_error(m, location))? {
            Typed::From {
                base,
                name,
                platform,
            } => {
                if let Some(n) = &name {
                    if stages.iter().any(|s| s.name.as_ref() == Some(n)) {
                        return Err(DockerfileError {
                            location: Some(location),
                            message: format!("{n} stage name already used"),
                            kind: ErrorKind::Plain,
                        });
                    }
                }
                stages.push(Stage {
                    index: stages.len(),
                    name,
                    base,
                    platform,
                    from: Instruction {
                        kind: Kind::From,
                        original,
                        location,
                    },
                    instructions: Vec::new(),
                });
            }
            Typed::Kind(kind) => {
                let inst = Instruction {
                    kind,
                    original,
                    location,
                };
                match stages.last_mut() {
                    Some(stage) => stage.instructions.push(inst),
                    None => match &inst.kind {
                        Kind::Arg(decls) => {
                            global_args.extend(decls.iter().cloned());
                            global_arg_steps.push(inst);
                        }
                        _ => {
                            return Err(DockerfileError {
                                location: Some(location),
                                message: "no build stage in current context".into(),
                                kind: ErrorKind::Plain,
                            })
                        }
                    },
                }
            }
        }
    }
    Ok(Dockerfile {
        escape: parsed.escape,
        syntax: parsed.syntax,
        global_args,
        global_arg_steps,
        stages,
        warnings: parsed.warnings,
    })
}

pub(crate) fn parse_triggers(triggers: &[String]) -> Result<Vec<Instruction>, DockerfileError> {
    if triggers.is_empty() {
        return Ok(Vec::new());
    }
    let parsed = parse_lines(&triggers.join("\n"))?;
    let mut out = Vec::new();
    for node in &parsed.nodes {
        let location = Location {
            line: node.line,
            column: node.column,
        };
        if matches!(node.cmd.as_str(), "onbuild" | "from" | "maintainer") {
            let what = node.cmd.to_uppercase();
            let message = if what == "ONBUILD" {
                "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".to_string()
            } else {
                format!("{what} isn't allowed as an ONBUILD trigger")
            };
            return Err(instruction_error(message, location));
        }
        match typed(node).map_err(|m| instruction_error(m, location))? {
            Typed::Kind(kind) => out.push(Instruction {
                kind,
                original: node.original.trim().to_string(),
                location,
            }),
            Typed::From { .. } => {
                return Err(instruction_error(
                    "FROM isn't allowed as an ONBUILD trigger".into(),
                    location,
                ))
            }
        }
    }
    Ok(out)
}

fn instruction_error(message: String, location: Location) -> DockerfileError {
    DockerfileError {
        location: Some(location),
        message,
        kind: ErrorKind::Instruction,
    }
}

enum Typed {
    From {
        base: String,
        name: Option<String>,
        platform: Option<String>,
    },
    Kind(Kind),
}

#[derive(Clone, Copy, PartialEq)]
enum FlagType {
    Bool,
    Str,
    Strs,
}

/// docker's BFlags: the flags an instruction accepts, checked in its order.
struct Flags(HashMap<&'static str, Vec<String>>);

impl Flags {
    fn parse(node: &Node, defs: &[(&'static str, FlagType)]) -> Result<Flags, String> {
        let mut seen: HashMap<&'static str, Vec<String>> = HashMap::new();
        for raw in &node.flags {
            let Some(arg) = raw.strip_prefix("--") else {
                return Err(format!("Arg should start with -- : {raw}"));
            };
            let (name, value) = match arg.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (arg, None),
            };
            let Some(&(key, ty)) = defs.iter().find(|(n, _)| *n == name) else {
                return Err(format!("Unknown flag: {name}"));
            };
            if ty != FlagType::Strs && seen.contains_key(key) {
                return Err(format!("Duplicate flag specified: {name}"));
            }
            let v = match ty {
                FlagType::Bool => match value {
                    Some("") => return Err(format!("Missing a value on flag: {name}")),
                    None => "true".to_string(),
                    Some(v) => match v.to_lowercase().as_str() {
                        l @ ("true" | "false") => l.to_string(),
                        _ => {
                            return Err(format!(
                                "Expecting boolean value for flag {name}, not: {v}"
                            ))
                        }
                    },
                },
                FlagType::Str | FlagType::Strs => match value {
                    None => return Err(format!("Missing a value on flag: {name}")),
                    Some(v) => v.to_string(),
                },
            };
            seen.entry(key).or_default().push(v);
        }
        Ok(Flags(seen))
    }

    fn string(&self, name: &str) -> Option<String> {
        self.0.get(name).and_then(|v| v.last().cloned())
    }

    fn bool(&self, name: &str) -> bool {
        self.string(name).as_deref() == Some("true")
    }

    fn strings(&self, name: &str) -> Vec<String> {
        self.0.get(name).cloned().unwrap_or_default()
    }
}

fn at_least_one(cmd: &str) -> String {
    format!("{cmd} requires at least one argument")
}

fn exactly_one(cmd: &str) -> String {
    format!("{cmd} requires exactly one argument")
}

fn no_destination(cmd: &str) -> String {
    format!(
        "{cmd} requires at least two arguments, but only one was provided. Destination could not be determined"
    )
}

/// docker's parseKvps: ENV and LABEL pairs.
fn kvps(args: &[String], cmd: &str) -> Result<Vec<(String, String)>, String> {
    if args.is_empty() {
        return Err(at_least_one(cmd));
    }
    if !args.len().is_multiple_of(2) {
        return Err(format!("Bad input to {cmd}, too many arguments"));
    }
    args.chunks(2)
        .map(|kv| {
            if kv[0].is_empty() {
                Err(format!("{cmd} names can not be blank"))
            } else {
                Ok((kv[0].clone(), kv[1].clone()))
            }
        })
        .collect()
}

fn command_form(node: &Node) -> CommandForm {
    if node.json {
        CommandForm::Exec(node.args.clone())
    } else {
        CommandForm::Shell(node.args.first().cloned().unwrap_or_default())
    }
}

fn typed(node: &Node) -> Result<Typed, String> {
    use FlagType::*;
    let args = &node.args;
    let kind = match node.cmd.as_str() {
        "from" => {
            let name = match args.len() {
                3 if args[1].eq_ignore_ascii_case("as") => {
                    let name = args[2].to_lowercase();
                    if !valid_stage_name(&name) {
                        return Err(format!(
                            "invalid name for build stage: {}, name can't start with a number or contain symbols",
                            super::shell_lex::go_quote(&args[2])
                        ));
                    }
                    Some(name)
                }
                1 => None,
                _ => return Err("FROM requires either one or three arguments".into()),
            };
            let flags = Flags::parse(node, &[("platform", Str)])?;
            return Ok(Typed::From {
                base: args[0].clone(),
                name,
                platform: flags.string("platform"),
            });
        }
        "env" => {
            Flags::parse(node, &[])?;
            Kind::Env(kvps(args, "ENV")?)
        }
        "maintainer" => {
            if args.len() != 1 {
                return Err(exactly_one("MAINTAINER"));
            }
            Flags::parse(node, &[])?;
            Kind::Maintainer(args[0].clone())
        }
        "label" => {
            Flags::parse(node, &[])?;
            Kind::Label(kvps(args, "LABEL")?)
        }
        "add" | "copy" => {
            let is_add = node.cmd == "add";
            if args.len() < 2 {
                return Err(no_destination(if is_add { "ADD" } else { "COPY" }));
            }
            let defs: &[(&str, FlagType)] = if is_add {
                &[
                    ("chown", Str),
                    ("chmod", Str),
                    ("link", Bool),
                    ("checksum", Str),
                    ("keep-git-dir", Bool),
                ]
            } else {
                &[
                    ("chown", Str),
                    ("from", Str),
                    ("chmod", Str),
                    ("link", Bool),
                ]
            };
            let flags = Flags::parse(node, defs)?;
            let (srcs, dest) = args.split_at(args.len() - 1);
            let mut copy = Copy {
                dest: dest[0].clone(),
                from: flags.string("from"),
                chown: flags.string("chown"),
                chmod: flags.string("chmod"),
                link: flags.bool("link"),
                checksum: flags.string("checksum"),
                keep_git_dir: flags.bool("keep-git-dir"),
                ..Copy::default()
            };
            for src in srcs {
                let doc = (!node.json)
                    .then(|| super::lines::parse_heredoc(src))
                    .flatten()
                    .and_then(|h| node.heredocs.iter().find(|d| d.name == h.name));
                match doc {
                    Some(d) => copy.heredocs.push(d.clone()),
                    None => copy.sources.push(src.clone()),
                }
            }
            if is_add {
                Kind::Add(copy)
            } else {
                Kind::Copy(copy)
            }
        }
        "onbuild" => {
            if args.is_empty() {
                return Err(at_least_one("ONBUILD"));
            }
            Flags::parse(node, &[])?;
            match args[0].trim().to_uppercase().as_str() {
                "ONBUILD" => {
                    return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into())
                }
                t @ ("MAINTAINER" | "FROM") => {
                    return Err(format!("{t} isn't allowed as an ONBUILD trigger"))
                }
                _ => {}
            }
            // docker strips `(?i)^\s*ONBUILD\s*` from the joined line.
            let line = node.original.trim_start();
            let mut trigger = line[7.min(line.len())..].trim_start().to_string();
            for doc in &node.heredocs {
                trigger.push('\n');
                trigger.push_str(&doc.content);
                trigger.push_str(&doc.name);
            }
            Kind::Onbuild(trigger)
        }
        "workdir" => {
            if args.len() != 1 {
                return Err(exactly_one("WORKDIR"));
            }
            Flags::parse(node, &[])?;
            Kind::Workdir(args[0].clone())
        }
        "run" => {
            let flags = Flags::parse(
                node,
                &[("mount", Strs), ("network", Str), ("security", Str)],
            )?;
            let mount_specs = flags.strings("mount");
            let mounts = mount_specs
                .iter()
                .map(|s| parse_mount(s, None).map_err(|e| e.message))
                .collect::<Result<Vec<_>, _>>()?;
            let network = flags.string("network");
            if let Some(n) = &network {
                if !matches!(n.as_str(), "default" | "none" | "host") {
                    return Err(format!(
                        "invalid network mode {}",
                        super::shell_lex::go_quote(n)
                    ));
                }
            }
            let security = flags.string("security");
            if let Some(s) = &security {
                if !matches!(s.as_str(), "sandbox" | "insecure") {
                    return Err(format!(
                        "security {} is not valid",
                        super::shell_lex::go_quote(s)
                    ));
                }
            }
            Kind::Run(Run {
                command: command_form(node),
                heredocs: node.heredocs.clone(),
                mounts,
                mount_specs,
                network,
                security,
            })
        }
        "cmd" => {
            Flags::parse(node, &[])?;
            Kind::Cmd(command_form(node))
        }
        "entrypoint" => {
            Flags::parse(node, &[])?;
            Kind::Entrypoint(command_form(node))
        }
        "healthcheck" => {
            if args.is_empty() {
                return Err(at_least_one("HEALTHCHECK"));
            }
            let line = node.original.trim();
            let rest = line
                .find(char::is_whitespace)
                .map_or("", |i| line[i..].trim());
            let typ = args[0].to_uppercase();
            if typ == "NONE" {
                if args.len() != 1 {
                    return Err("HEALTHCHECK NONE takes no arguments".into());
                }
            } else {
                Flags::parse(
                    node,
                    &[
                        ("interval", Str),
                        ("timeout", Str),
                        ("start-period", Str),
                        ("start-interval", Str),
                        ("retries", Str),
                    ],
                )?;
                if typ != "CMD" {
                    return Err(format!(
                        "Unknown type {} in HEALTHCHECK (try CMD)",
                        super::shell_lex::go_quote(&typ)
                    ));
                }
                if args.len() < 2 {
                    return Err("Missing command after HEALTHCHECK CMD".into());
                }
            }
            crate::model::health::parse_instruction(rest).map_err(|e| e.to_string())?;
            Kind::Healthcheck(rest.to_string())
        }
        "expose" => {
            if args.is_empty() {
                return Err(at_least_one("EXPOSE"));
            }
            Flags::parse(node, &[])?;
            Kind::Expose(args.clone())
        }
        "user" => {
            if args.len() != 1 {
                return Err(exactly_one("USER"));
            }
            Flags::parse(node, &[])?;
            Kind::User(args[0].clone())
        }
        "volume" => {
            if args.is_empty() {
                return Err(at_least_one("VOLUME"));
            }
            Flags::parse(node, &[])?;
            let mut vols = Vec::new();
            for v in args {
                let v = v.trim();
                if v.is_empty() {
                    return Err("VOLUME specified can not be an empty string".into());
                }
                vols.push(v.to_string());
            }
            Kind::Volume(vols)
        }
        "stopsignal" => {
            if args.len() != 1 {
                return Err(exactly_one("STOPSIGNAL"));
            }
            Kind::Stopsignal(args[0].clone())
        }
        "arg" => {
            if args.is_empty() {
                return Err(at_least_one("ARG"));
            }
            let mut decls = Vec::new();
            for a in args {
                let decl = match a.split_once('=') {
                    Some(("", _)) => return Err("ARG names can not be blank".into()),
                    Some((k, v)) => ArgDecl {
                        name: k.to_string(),
                        default: Some(v.to_string()),
                    },
                    None => ArgDecl {
                        name: a.clone(),
                        default: None,
                    },
                };
                decls.push(decl);
            }
            Kind::Arg(decls)
        }
        "shell" => {
            Flags::parse(node, &[])?;
            if args.is_empty() {
                return Err(at_least_one("SHELL"));
            }
            if !node.json {
                return Err("SHELL requires the arguments to be in JSON form".into());
            }
            Kind::Shell(args.clone())
        }
        other => return Err(format!("unknown instruction: {}", other.to_uppercase())),
    };
    Ok(Typed::Kind(kind))
}

/// `^[a-z][a-z0-9-_\.]*$`
fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}
