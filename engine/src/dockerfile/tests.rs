//! Parser tests. The expected `original` texts and error messages were checked against dockerd
//! 20.10's legacy builder (`DOCKER_BUILDKIT=0 docker build`).

use std::collections::BTreeMap;

use super::*;

fn one(df: &str) -> Instruction {
    let d = parse(&format!("FROM busybox\n{df}")).unwrap_or_else(|e| panic!("{df}: {e}"));
    d.stages[0].instructions[0].clone()
}

fn kind(df: &str) -> Kind {
    one(df).kind
}

fn err(df: &str) -> String {
    parse(df).unwrap_err().to_string()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn step_text_joins_continuations_as_docker() {
    // Checked against dockerd: "Step 2/13 : RUN echo a   b", "RUN echo a   b   c".
    let d = parse(
        "FROM busybox\nRUN echo a \\\n  b\nRUN echo a\\\n   b \\\n\n  c\nCMD [ \"a\" ]   \n   RUN echo \\\n# comment\n  z\n",
    )
    .unwrap();
    let st = &d.stages[0];
    let originals: Vec<&str> = st
        .instructions
        .iter()
        .map(|i| i.original.as_str())
        .collect();
    assert_eq!(
        originals,
        vec![
            "RUN echo a   b",
            "RUN echo a   b   c",
            "CMD [ \"a\" ]",
            "RUN echo   z"
        ]
    );
    assert_eq!(
        d.warnings,
        vec![
            "[WARNING]: Empty continuation line found in:\n    RUN echo a   b   c".to_string(),
            "[WARNING]: Empty continuation lines will become errors in a future release.".into()
        ]
    );
    assert_eq!(
        st.instructions[0].kind,
        Kind::Run(Run {
            command: CommandForm::Shell("echo a   b".into()),
            heredocs: vec![],
            mounts: vec![],
            mount_specs: vec![],
            network: None,
            security: None,
        })
    );
    assert_eq!(st.from.original, "FROM busybox");
    assert_eq!(st.instructions[3].location, Location { line: 9, column: 4 });
    assert_eq!(d.step_count(), 5);
}

#[test]
fn from_forms() {
    let d = parse(
        "ARG V=1\nARG A B=\"x y\"\nFROM --platform=linux/amd64 alpine:$V AS Build\nFROM scratch as out\nFROM build\n",
    )
    .unwrap();
    assert_eq!(
        d.global_args,
        vec![
            ArgDecl {
                name: "V".into(),
                default: Some("1".into())
            },
            ArgDecl {
                name: "A".into(),
                default: None
            },
            ArgDecl {
                name: "B".into(),
                default: Some("\"x y\"".into())
            },
        ]
    );
    assert_eq!(d.global_arg_steps.len(), 2);
    assert_eq!(d.global_arg_steps[1].original, "ARG A B=\"x y\"");
    assert_eq!(d.stages.len(), 3);
    let s0 = &d.stages[0];
    assert_eq!(
        (
            s0.index,
            s0.name.as_deref(),
            s0.base.as_str(),
            s0.platform.as_deref()
        ),
        (0, Some("build"), "alpine:$V", Some("linux/amd64"))
    );
    assert_eq!(s0.from.location, Location { line: 3, column: 1 });
    assert_eq!(d.stages[1].name.as_deref(), Some("out"));
    assert_eq!(d.stages[2].name, None);
    assert_eq!(d.stages[2].base, "build");
    assert!(d.stage_by_name("BUILD").is_some());
    assert_eq!(d.step_count(), 5);
}

#[test]
fn run_cmd_entrypoint_forms() {
    assert_eq!(
        kind("CMD [\"echo\", \"x\"]"),
        Kind::Cmd(CommandForm::Exec(s(&["echo", "x"])))
    );
    // An invalid JSON array is shell form, as docker runs `/bin/sh -c ["echo", x]`.
    assert_eq!(
        kind("CMD [\"echo\", x]"),
        Kind::Cmd(CommandForm::Shell("[\"echo\", x]".into()))
    );
    assert_eq!(
        kind("ENTRYPOINT"),
        Kind::Entrypoint(CommandForm::Shell(String::new()))
    );
    assert_eq!(kind("CMD []"), Kind::Cmd(CommandForm::Exec(vec![])));
    let Kind::Run(r) = kind("RUN [\"/bin/sh\", \"-c\", \"echo hi\"]") else {
        panic!()
    };
    assert_eq!(
        r.command,
        CommandForm::Exec(s(&["/bin/sh", "-c", "echo hi"]))
    );
    let Kind::Run(r) = kind("RUN   echo \"$HOME\"  ") else {
        panic!()
    };
    assert_eq!(r.command, CommandForm::Shell("echo \"$HOME\"".into()));
    assert_eq!(
        err("FROM busybox\nRUN [\"a\", 1]\n"),
        "failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised of strings only"
    );
}

#[test]
fn run_options() {
    let Kind::Run(r) = kind(
        "RUN --mount=type=cache,target=/root/.cache,sharing=locked --mount=type=secret,id=tok --network=none --security=sandbox make",
    ) else {
        panic!()
    };
    assert_eq!(r.command, CommandForm::Shell("make".into()));
    assert_eq!(r.network.as_deref(), Some("none"));
    assert_eq!(r.security.as_deref(), Some("sandbox"));
    assert_eq!(r.mount_specs.len(), 2);
    assert!(matches!(
        &r.mounts[0],
        RunMount::Cache { target, sharing: Sharing::Locked, read_only: false, .. } if target == "/root/.cache"
    ));
    assert!(matches!(&r.mounts[1], RunMount::Secret { id, .. } if id == "tok"));

    let Kind::Run(r) = kind("RUN --mount=type=bind,target=$SRC,from=build true") else {
        panic!()
    };
    let env: BTreeMap<String, String> = [("SRC".to_string(), "/src".to_string())].into();
    assert_eq!(
        r.expand_mounts(&ShellLex::default(), &env).unwrap(),
        vec![RunMount::Bind {
            target: "/src".into(),
            source: None,
            from: Some("build".into()),
            read_write: false
        }]
    );

    assert_eq!(
        err("FROM busybox\nRUN --network=bridge true\n"),
        "dockerfile parse error line 2: invalid network mode \"bridge\""
    );
    assert_eq!(
        err("FROM busybox\nRUN --mount=type=bogus,target=/x true\n"),
        "dockerfile parse error line 2: unsupported mount type \"bogus\""
    );
    assert_eq!(
        err("FROM busybox\nRUN --security=x true\n"),
        "dockerfile parse error line 2: security \"x\" is not valid"
    );
    assert_eq!(
        err("FROM busybox\nRUN --device=/dev/x true\n"),
        "dockerfile parse error line 2: Unknown flag: device"
    );
}

#[test]
fn env_both_forms() {
    assert_eq!(kind("ENV a b c"), Kind::Env(pairs(&[("a", "b c")])));
    assert_eq!(
        kind("ENV a   \"b  c\""),
        Kind::Env(pairs(&[("a", "\"b  c\"")]))
    );
    assert_eq!(
        kind("ENV x=1 y=\"2 3\" z=4\\ 5 e="),
        Kind::Env(pairs(&[
            ("x", "1"),
            ("y", "\"2 3\""),
            ("z", "4\\ 5"),
            ("e", "")
        ]))
    );
    assert_eq!(
        one("ENV x=1 y=\"2 3\" z=4\\ 5").original,
        "ENV x=1 y=\"2 3\" z=4\\ 5"
    );
    // The model keeps words; expansion removes the quotes as docker does.
    let Kind::Env(p) = kind("ENV y=\"2 3\" z=4\\ 5") else {
        panic!()
    };
    let lex = ShellLex::default();
    let none = BTreeMap::new();
    assert_eq!(lex.expand_word(&p[0].1, &none).unwrap(), "2 3");
    assert_eq!(lex.expand_word(&p[1].1, &none).unwrap(), "4 5");

    assert_eq!(
        err("FROM busybox\nENV\n"),
        "dockerfile parse error line 2: ENV requires at least one argument"
    );
    assert_eq!(
        err("FROM busybox\nENV a\n"),
        "failed to parse Dockerfile: ENV must have two arguments"
    );
    assert_eq!(
        err("FROM busybox\nENV =x\n"),
        "dockerfile parse error line 2: ENV names can not be blank"
    );
}

#[test]
fn label_pairs_with_quotes() {
    assert_eq!(
        kind("LABEL \"a b\"=\"c d\" e=f"),
        Kind::Label(pairs(&[("\"a b\"", "\"c d\""), ("e", "f")]))
    );
    assert_eq!(
        kind("LABEL version 1.0"),
        Kind::Label(pairs(&[("version", "1.0")]))
    );
    assert_eq!(
        err("FROM busybox\nLABEL a\n"),
        "failed to parse Dockerfile: LABEL must have two arguments"
    );
    assert_eq!(
        err("FROM busybox\nLABEL a=b c\n"),
        "failed to parse Dockerfile: Syntax error - can't find = in \"c\". Must be of the form: name=value"
    );
}

#[test]
fn simple_instructions() {
    assert_eq!(
        kind("EXPOSE 80 443/tcp  $P"),
        Kind::Expose(s(&["80", "443/tcp", "$P"]))
    );
    assert_eq!(
        kind("MAINTAINER Jane Doe <j@d>"),
        Kind::Maintainer("Jane Doe <j@d>".into())
    );
    assert_eq!(kind("USER app:app"), Kind::User("app:app".into()));
    assert_eq!(kind("USER a b"), Kind::User("a b".into()));
    assert_eq!(kind("WORKDIR /a b"), Kind::Workdir("/a b".into()));
    assert_eq!(
        kind("STOPSIGNAL SIGKILL"),
        Kind::Stopsignal("SIGKILL".into())
    );
    assert_eq!(kind("VOLUME /a /b"), Kind::Volume(s(&["/a", "/b"])));
    assert_eq!(
        kind("VOLUME [\"/a\", \"/b c\"]"),
        Kind::Volume(s(&["/a", "/b c"]))
    );
    assert_eq!(
        kind("SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]"),
        Kind::Shell(s(&["/bin/bash", "-o", "pipefail", "-c"]))
    );
    assert_eq!(
        kind("ARG a b=2 c=\"x y\""),
        Kind::Arg(vec![
            ArgDecl {
                name: "a".into(),
                default: None
            },
            ArgDecl {
                name: "b".into(),
                default: Some("2".into())
            },
            ArgDecl {
                name: "c".into(),
                default: Some("\"x y\"".into())
            },
        ])
    );
    // Lowercase instructions are fine.
    assert_eq!(kind("expose 1"), Kind::Expose(s(&["1"])));
}

#[test]
fn copy_and_add() {
    let Kind::Copy(c) = kind("COPY --from=build --chown=1:2 --chmod=755 --link a b* /dst/") else {
        panic!()
    };
    assert_eq!(c.sources, s(&["a", "b*"]));
    assert_eq!(c.dest, "/dst/");
    assert_eq!(c.from.as_deref(), Some("build"));
    assert_eq!(c.chown.as_deref(), Some("1:2"));
    assert_eq!(c.chmod.as_deref(), Some("755"));
    assert!(c.link);
    let Kind::Copy(c) = kind("COPY [\"a b\", \"/c d/\"]") else {
        panic!()
    };
    assert_eq!((c.sources, c.dest), (s(&["a b"]), "/c d/".to_string()));
    let Kind::Add(a) =
        kind("ADD --checksum=sha256:24454f830cdd --keep-git-dir=true https://x/y.tar.gz /")
    else {
        panic!()
    };
    assert_eq!(a.checksum.as_deref(), Some("sha256:24454f830cdd"));
    assert!(a.keep_git_dir);
    assert_eq!(a.sources, s(&["https://x/y.tar.gz"]));

    assert_eq!(
        err("FROM busybox\nCOPY a\n"),
        "dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined"
    );
    assert_eq!(
        err("FROM busybox\nCOPY --foo=1 a b\n"),
        "dockerfile parse error line 2: Unknown flag: foo"
    );
    assert_eq!(
        err("FROM busybox\nCOPY --from a b\n"),
        "dockerfile parse error line 2: Missing a value on flag: from"
    );
    assert_eq!(
        err("FROM busybox\nADD --from=x a b\n"),
        "dockerfile parse error line 2: Unknown flag: from"
    );
    assert_eq!(
        err("FROM busybox\nCOPY --link=maybe a b\n"),
        "dockerfile parse error line 2: Expecting boolean value for flag link, not: maybe"
    );
    assert_eq!(
        err("FROM busybox\nCOPY --from=a --from=b a b\n"),
        "dockerfile parse error line 2: Duplicate flag specified: from"
    );
}

#[test]
fn heredocs() {
    let d = parse(
        "FROM busybox\nRUN <<EOT\necho $HOME\n  two\nEOT\nRUN cat <<A >a && cat <<\"B\" > b\nfirst $x\nA\nsecond $y\nB\nCOPY <<EOF /etc/conf\nk=v\nEOF\nRUN <<-EOT\n\t\techo tabbed\n\tEOT\nENV after=1\n",
    )
    .unwrap();
    let ins = &d.stages[0].instructions;
    assert_eq!(ins.len(), 5);
    let Kind::Run(r) = &ins[0].kind else { panic!() };
    assert_eq!(ins[0].original, "RUN <<EOT");
    assert_eq!(r.command, CommandForm::Shell("<<EOT".into()));
    assert_eq!(
        r.heredocs,
        vec![Heredoc {
            name: "EOT".into(),
            content: "echo $HOME\n  two\n".into(),
            expand: true,
            chomp: false
        }]
    );
    let Kind::Run(r) = &ins[1].kind else { panic!() };
    assert_eq!(ins[1].location.line, 6);
    assert_eq!(
        r.command,
        CommandForm::Shell("cat <<A >a && cat <<\"B\" > b".into())
    );
    assert_eq!(
        r.heredocs,
        vec![
            Heredoc {
                name: "A".into(),
                content: "first $x\n".into(),
                expand: true,
                chomp: false
            },
            Heredoc {
                name: "B".into(),
                content: "second $y\n".into(),
                expand: false,
                chomp: false
            },
        ]
    );
    let Kind::Copy(c) = &ins[2].kind else {
        panic!()
    };
    assert!(c.sources.is_empty());
    assert_eq!(c.dest, "/etc/conf");
    assert_eq!(
        c.heredocs,
        vec![Heredoc {
            name: "EOF".into(),
            content: "k=v\n".into(),
            expand: true,
            chomp: false
        }]
    );
    let Kind::Run(r) = &ins[3].kind else { panic!() };
    assert_eq!(
        r.heredocs,
        vec![Heredoc {
            name: "EOT".into(),
            content: "echo tabbed\n".into(),
            expand: true,
            chomp: true
        }]
    );
    assert_eq!(ins[4].kind, Kind::Env(pairs(&[("after", "1")])));
    assert_eq!(ins[4].location.line, 17);

    // COPY with two heredocs and a regular source.
    let Kind::Copy(c) = kind("COPY <<A <<'B' src /dir/\naaa\nA\nbbb\nB") else {
        panic!()
    };
    assert_eq!(c.sources, s(&["src"]));
    assert_eq!(
        c.heredocs
            .iter()
            .map(|h| (h.name.as_str(), h.content.as_str(), h.expand))
            .collect::<Vec<_>>(),
        vec![("A", "aaa\n", true), ("B", "bbb\n", false)]
    );

    assert_eq!(
        err("FROM busybox\nRUN <<EOT\necho\n"),
        "failed to parse Dockerfile: unterminated heredoc"
    );
    let e = parse("FROM busybox\nRUN <<EOT\necho\n").unwrap_err();
    assert_eq!(e.location.map(|l| l.line), Some(2));
    // A heredoc marker inside quotes, and exec form, are not heredocs.
    let Kind::Run(r) = kind("RUN echo '<<EOT'") else {
        panic!()
    };
    assert!(r.heredocs.is_empty());
}

#[test]
fn onbuild() {
    assert_eq!(
        kind("ONBUILD   RUN echo hi"),
        Kind::Onbuild("RUN echo hi".into())
    );
    assert_eq!(
        one("ONBUILD   RUN echo hi").original,
        "ONBUILD   RUN echo hi"
    );
    assert_eq!(kind("onbuild copy a b"), Kind::Onbuild("copy a b".into()));
    assert_eq!(
        err("FROM busybox\nONBUILD ONBUILD RUN x\n"),
        "dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    );
    assert_eq!(
        err("FROM busybox\nONBUILD from x\n"),
        "dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        err("FROM busybox\nONBUILD MAINTAINER x\n"),
        "dockerfile parse error line 2: MAINTAINER isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        err("FROM busybox\nONBUILD\n"),
        "dockerfile parse error line 2: ONBUILD requires at least one argument"
    );
    // The trigger's own syntax is checked when the parent is built, as docker does.
    assert_eq!(
        err("FROM busybox\nONBUILD ENV a\n"),
        "failed to parse Dockerfile: ENV must have two arguments"
    );

    let Kind::Onbuild(t) = kind("ONBUILD RUN <<EOT\necho in child\nEOT") else {
        panic!()
    };
    assert_eq!(t, "RUN <<EOT\necho in child\nEOT");
    let trig = parse_triggers(&[t, "ENV a=b".into(), "COPY x /y".into()]).unwrap();
    assert_eq!(trig.len(), 3);
    let Kind::Run(r) = &trig[0].kind else {
        panic!()
    };
    assert_eq!(r.heredocs[0].content, "echo in child\n");
    assert_eq!(trig[1].kind, Kind::Env(pairs(&[("a", "b")])));
    assert_eq!(trig[2].original, "COPY x /y");
    assert!(parse_triggers(&["FROM x".into()]).is_err());
    assert!(parse_triggers(&[]).unwrap().is_empty());
}

#[test]
fn healthcheck() {
    assert_eq!(
        kind("HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/"),
        Kind::Healthcheck("--interval=5s --retries=3 CMD curl -f http://localhost/".into())
    );
    assert_eq!(kind("HEALTHCHECK NONE"), Kind::Healthcheck("NONE".into()));
    assert_eq!(
        kind("HEALTHCHECK CMD [\"/bin/check\", \"-q\"]"),
        Kind::Healthcheck("CMD [\"/bin/check\", \"-q\"]".into())
    );
    assert_eq!(
        err("FROM busybox\nHEALTHCHECK FOO\n"),
        "dockerfile parse error line 2: Unknown type \"FOO\" in HEALTHCHECK (try CMD)"
    );
    assert_eq!(
        err("FROM busybox\nHEALTHCHECK\n"),
        "dockerfile parse error line 2: HEALTHCHECK requires at least one argument"
    );
    assert_eq!(
        err("FROM busybox\nHEALTHCHECK CMD\n"),
        "dockerfile parse error line 2: Missing command after HEALTHCHECK CMD"
    );
    assert_eq!(
        err("FROM busybox\nHEALTHCHECK --bogus=1 CMD x\n"),
        "dockerfile parse error line 2: Unknown flag: bogus"
    );
    // Durations are checked now, with the line.
    let e = parse("FROM busybox\n\nHEALTHCHECK --interval=1 CMD x\n").unwrap_err();
    assert_eq!(e.location.map(|l| l.line), Some(3));
    assert!(
        e.to_string().starts_with("dockerfile parse error line 3: "),
        "{e}"
    );
}

#[test]
fn directives() {
    let d = parse("# syntax=docker/dockerfile:1.4\n# escape=`\nFROM busybox\nRUN echo a `\n  b\nCOPY a` b c\n").unwrap();
    assert_eq!(d.escape, '`');
    assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1.4"));
    assert_eq!(d.stages[0].instructions[0].original, "RUN echo a   b");
    let Kind::Copy(c) = &d.stages[0].instructions[1].kind else {
        panic!()
    };
    assert_eq!(c.sources, s(&["a`", "b"]));
    // A backslash is an ordinary character with the backtick escape (Windows paths).
    let d = parse("# escape=`\nFROM busybox\nWORKDIR C:\\dir\\\nRUN x\n").unwrap();
    assert_eq!(
        d.stages[0].instructions[0].kind,
        Kind::Workdir("C:\\dir\\".into())
    );
    // Directives only count before anything else.
    let d = parse("FROM busybox\n# escape=`\nRUN a \\\n b\n").unwrap();
    assert_eq!(d.escape, '\\');
    assert_eq!(d.stages[0].instructions[0].original, "RUN a  b");
    let d = parse("# comment\n# escape=`\nFROM busybox\n").unwrap();
    assert_eq!(d.escape, '\\');

    assert_eq!(
        err("# escape=x\nFROM busybox\n"),
        "failed to parse Dockerfile: invalid escape token 'x' does not match ` or \\"
    );
    assert_eq!(
        err("# escape=`\n# escape=\\\nFROM busybox\n"),
        "failed to parse Dockerfile: only one escape parser directive can be used"
    );
    // A byte order mark is ignored.
    assert_eq!(parse("\u{feff}FROM busybox\n").unwrap().stages.len(), 1);
}

#[test]
fn errors_name_the_line() {
    assert_eq!(
        err("FROM busybox\nRUN true\n\n\nFOO bar\n"),
        "dockerfile parse error line 5: unknown instruction: FOO"
    );
    let e = parse("FROM busybox\n  foo bar\n").unwrap_err();
    assert_eq!(e.location, Some(Location { line: 2, column: 3 }));
    assert_eq!(e.kind, ErrorKind::Instruction);
    assert_eq!(e.message, "unknown instruction: FOO");
    assert_eq!(
        err("# just a comment\n\n"),
        "failed to parse Dockerfile: file with no instructions"
    );
    assert_eq!(
        err(""),
        "failed to parse Dockerfile: file with no instructions"
    );
    assert_eq!(
        err("RUN echo\nFROM busybox\n"),
        "no build stage in current context"
    );
    assert_eq!(
        err("FROM busybox a\n"),
        "dockerfile parse error line 1: FROM requires either one or three arguments"
    );
    assert_eq!(
        err("FROM\n"),
        "dockerfile parse error line 1: FROM requires either one or three arguments"
    );
    assert_eq!(
        err("FROM busybox AS 1x\n"),
        "dockerfile parse error line 1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols"
    );
    assert_eq!(
        err("FROM busybox AS a\nFROM busybox AS A\n"),
        "a stage name already used"
    );
    assert_eq!(
        err("FROM busybox\nSHELL /bin/sh -c\n"),
        "dockerfile parse error line 2: SHELL requires the arguments to be in JSON form"
    );
    for (df, msg) in [
        ("WORKDIR", "WORKDIR requires exactly one argument"),
        ("USER", "USER requires exactly one argument"),
        ("STOPSIGNAL", "STOPSIGNAL requires exactly one argument"),
        ("MAINTAINER", "MAINTAINER requires exactly one argument"),
        ("EXPOSE", "EXPOSE requires at least one argument"),
        ("VOLUME", "VOLUME requires at least one argument"),
        ("ARG", "ARG requires at least one argument"),
        ("ARG =x", "ARG names can not be blank"),
        ("LABEL", "LABEL requires at least one argument"),
        ("SHELL []", "SHELL requires at least one argument"),
        ("ADD x", "ADD requires at least two arguments, but only one was provided. Destination could not be determined"),
        ("VOLUME [\"\"]", "VOLUME specified can not be an empty string"),
        ("COPY --chown a b", "Missing a value on flag: chown"),
        ("ENV --x=1 a=b", "Unknown flag: x"),
    ] {
        assert_eq!(
            err(&format!("FROM busybox\n{df}\n")),
            format!("dockerfile parse error line 2: {msg}"),
            "{df}"
        );
    }
    // A syntax error later in the file is reported before an instruction error earlier, as
    // docker reads all lines first.
    assert_eq!(
        err("FROM busybox\nFOO\nENV a\n"),
        "failed to parse Dockerfile: ENV must have two arguments"
    );
    // Engine errors are 400s with docker's text.
    let e: crate::error::EngineError = parse("FROM busybox\nFOO\n").unwrap_err().into();
    assert!(
        matches!(e, crate::error::EngineError::InvalidArgument(ref m) if m == "dockerfile parse error line 2: unknown instruction: FOO")
    );
}

#[test]
fn bare_run_and_cmd_are_accepted() {
    // docker accepts both (RUN then fails in the shell).
    assert_eq!(kind("CMD"), Kind::Cmd(CommandForm::Shell(String::new())));
    let Kind::Run(r) = kind("RUN") else { panic!() };
    assert_eq!(r.command, CommandForm::Shell(String::new()));
}

#[test]
fn crlf_and_comments() {
    let d =
        parse("FROM busybox\r\n# c\r\n  # indented comment\r\nRUN a \\\r\n  # inside\r\n  b\r\n")
            .unwrap();
    assert_eq!(d.stages[0].instructions.len(), 1);
    assert_eq!(d.stages[0].instructions[0].original, "RUN a   b");
}
