//! BuildKit's lexer tests (frontend/dockerfile/shell/lex_test.go), with its data files
//! `testdata/envVarTest` and `testdata/wordsTest` copied verbatim (into `dockerfile/testdata/`).

use std::collections::BTreeMap;

use super::*;

/// (input, variables, expected)
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn word(input: &str, env: &dyn Lookup) -> Result<String, DockerfileError> {
    ShellLex::default().expand_word(input, env)
}

#[test]
fn env_var_test_file() {
    let envs: Vec<String> = ["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut checked = 0;
    for (n, line) in include_str!("../testdata/envVarTest").lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.trim().split('|').collect();
        assert_eq!(parts.len(), 3, "line {}", n + 1);
        let (platform, source, expected) = (parts[0].trim(), parts[1].trim(), parts[2].trim());
        if platform == "W" {
            continue;
        }
        let got = word(source, &envs);
        if expected == "error" {
            assert!(got.is_err(), "line {}: {source:?} gave {got:?}", n + 1);
        } else {
            assert_eq!(
                got.as_deref().map_err(|e| e.to_string()),
                Ok(expected),
                "line {}: {source:?}",
                n + 1
            );
        }
        checked += 1;
    }
    assert!(checked > 200);
}

#[test]
fn words_test_file() {
    let mut envs: Vec<String> = Vec::new();
    let mut checked = 0;
    for (n, line) in include_str!("../testdata/wordsTest").lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("ENV ") {
            envs.push(rest.trim_start_matches(' ').to_string());
            continue;
        }
        let parts: Vec<&str> = line.split('|').collect();
        assert_eq!(parts.len(), 2, "line {}", n + 1);
        let test = parts[0].trim();
        let expected: Vec<&str> = parts[1].trim_start_matches(' ').split(',').collect();
        let got = ShellLex::default()
            .expand_words(test, &envs)
            .unwrap_or_else(|_| vec!["error".into()]);
        assert_eq!(got, expected, "line {}: {test:?}", n + 1);
        checked += 1;
    }
    assert!(checked > 20);
}

#[test]
fn mandatory_env_vars() {
    let set = env(&[("VAR", "plain"), ("ARG", "x")]);
    let empty = env(&[("VAR", ""), ("ARG", "x")]);
    let unset = env(&[("ARG", "x")]);
    let no_empty = "${VAR:?message here$ARG}";
    let no_unset = "${VAR?message here$ARG}";

    assert_eq!(word(no_empty, &set).unwrap(), "plain");
    let e = word(no_empty, &empty).unwrap_err().to_string();
    assert!(e.contains("message herex"), "{e}");
    let e = word(no_empty, &unset).unwrap_err().to_string();
    assert!(e.contains("message herex"), "{e}");

    assert_eq!(word(no_unset, &set).unwrap(), "plain");
    assert_eq!(word(no_unset, &empty).unwrap(), "");
    let e = word(no_unset, &unset).unwrap_err().to_string();
    assert_eq!(
        e,
        "failed to process \"${VAR?message here$ARG}\": VAR: message herex"
    );
}

/// lex_test.go's TestProcessWithMatches (the results; berth does not report matches).
#[test]
fn process_with_matches_cases() {
    let ok: &[Case] = &[
        ("x", &[("DUMMY", "dummy")], "x"),
        ("x ${UNUSED}", &[("DUMMY", "dummy")], "x "),
        ("x ${FOO}", &[("FOO", "y")], "x y"),
        (
            "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            "xxx  ccc",
        ),
        (
            "${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            "xxx bbb ccc",
        ),
        ("${FOO:-}", &[("FOO", "xxx"), ("BAR", "")], "xxx"),
        ("${FOO:-}", &[], ""),
        (
            "${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            "aaa bbb ",
        ),
        (
            "${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}",
            &[("FOO", "xxx"), ("BAR", "")],
            "aaa  ",
        ),
        ("${FOO?aaa}", &[("FOO", "xxx"), ("BAR", "")], "xxx"),
        ("${BAR?bbb}", &[("FOO", "xxx"), ("BAR", "")], ""),
        ("${FOO:?aaa}", &[("FOO", "xxx"), ("BAR", "")], "xxx"),
        (
            "${FOO#()[]{\\}^$.\\*\\?|\\\\}",
            &[("FOO", "()[]{}^$.*?|\\x")],
            "x",
        ),
        ("${FOO%%\\**}", &[("FOO", "xx**")], "xx"),
        ("${FOO#*x*y}", &[("FOO", "xxyy")], "y"),
        ("${FOO#*}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "x")], "xyy"),
        ("${FOO#$BAR}", &[("FOO", "xxyy"), ("BAR", "")], "xxyy"),
        ("${FOO#}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO##*x}", &[("FOO", "xxyy")], "yy"),
        ("${FOO##}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO#?\\?}", &[("FOO", "???y")], "?y"),
        ("${ABC:-.}${FOO%x}${ABC:-.}", &[("FOO", "xxyy")], ".xxyy."),
        ("${FOO%%\\**\\*}", &[("FOO", "a***yy*")], "a"),
        ("${FOO%}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO%%$BAR}", &[("FOO", "xxyy"), ("BAR", "")], "xxyy"),
        (
            "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}",
            &[("FOO", "/foo*/*/*.txt"), ("NEEDLE", "\\*/")],
            "/foo.*/*.txt - /foo..*.txt",
        ),
        (
            "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}",
            &[("FOO", "/tmp/tmp/bar.txt"), ("NEEDLE", "/tmp")],
            "/tmp/bar.txt - /bar.txt",
        ),
        (
            "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
            &[
                ("FOO", "/a/foo/b/c.txt"),
                ("NEEDLE", "/?/"),
                ("REPLACEMENT", "/"),
            ],
            "/foo/b/c.txt - /foo/c.txt",
        ),
        (
            "${FOO/$NEEDLE/$REPLACEMENT}",
            &[
                ("FOO", "http://google.de"),
                ("NEEDLE", "http://"),
                ("REPLACEMENT", "https://"),
            ],
            "https://google.de",
        ),
        (
            "${FOO//\\//\\/}",
            &[("FOO", "/tmp/foo.txt")],
            "\\/tmp\\/foo.txt",
        ),
        ("${FOO/$BAR/ww}", &[("FOO", "xxyy"), ("BAR", "")], "wwxxyy"),
        ("${FOO///}", &[("FOO", "xxyy")], "xxyy"),
        ("${FOO///}", &[], ""),
    ];
    for (input, vars, expected) in ok {
        assert_eq!(
            word(input, &env(vars))
                .map_err(|e| e.to_string())
                .as_deref(),
            Ok(*expected),
            "{input}"
        );
    }
    let errs: &[(&str, &[(&str, &str)])] = &[
        ("${BAZ?ccc}", &[("FOO", "xxx"), ("BAR", "")]),
        ("${BAR:?bbb}", &[("FOO", "xxx"), ("BAR", "")]),
        ("${BAZ:?ccc}", &[("FOO", "xxx"), ("BAR", "")]),
        ("${BAZ:?}", &[("FOO", "xxx"), ("BAR", "")]),
        ("${FOO=aaa}", &[("FOO", "xxx"), ("BAR", "")]),
        ("${FOO=:aaa}", &[("FOO", "xxx"), ("BAR", "")]),
        ("${FOO=}", &[]),
        ("${FOO:#}", &[]),
        ("${FOO:##}", &[]),
        ("${FOO:%}", &[]),
        ("${FOO:%%}", &[]),
        ("${FOO//ww}", &[("FOO", "xxyy")]),
        ("${FOO//}", &[("FOO", "xxyy")]),
    ];
    for (input, vars) in errs {
        assert!(word(input, &env(vars)).is_err(), "{input} should fail");
    }
}

#[test]
fn platform_release_name() {
    let release =
        "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz";
    let base = [("VERSION", "v1.2.3"), ("TARGETOS", "linux")];
    let mut e = env(&base);
    e.insert("TARGETARCH".into(), "arm".into());
    e.insert("TARGETVARIANT".into(), "v7".into());
    assert_eq!(
        word(release, &e).unwrap(),
        "something-v1.2.3.linux-arm-v7.tar.gz"
    );
    e.insert("TARGETARCH".into(), "arm64".into());
    e.insert("TARGETVARIANT".into(), "".into());
    assert_eq!(
        word(release, &e).unwrap(),
        "something-v1.2.3.linux-arm64.tar.gz"
    );
    e.remove("TARGETVARIANT");
    assert_eq!(
        word(release, &e).unwrap(),
        "something-v1.2.3.linux-arm64.tar.gz"
    );
}

/// lex_test.go's TestGetEnv: a "K=V" list, last wins, a bare key is the empty string.
#[test]
fn env_list_lookup() {
    let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(l(&[]).get("foo"), None);
    assert_eq!(l(&["foo"]).get("foo").as_deref(), Some(""));
    assert_eq!(l(&["foo="]).get("foo").as_deref(), Some(""));
    assert_eq!(l(&["foo=bar"]).get("foo").as_deref(), Some("bar"));
    let two = l(&["foo=bar", "car=hat"]);
    assert_eq!(two.get("foo").as_deref(), Some("bar"));
    assert_eq!(two.get("car").as_deref(), Some("hat"));
    assert_eq!(
        l(&["foo=bar", "car=hat", "car=bike"]).get("car").as_deref(),
        Some("bike")
    );
    assert_eq!(l(&["a=b=c"]).get("a").as_deref(), Some("b=c"));
}

#[test]
fn backtick_escape() {
    let lex = ShellLex::new('`');
    let e = env(&[("A", "x")]);
    assert_eq!(lex.expand_word("a`$A", &e).unwrap(), "a$A");
    assert_eq!(lex.expand_word("C:\\dir\\$A", &e).unwrap(), "C:\\dir\\x");
    assert_eq!(lex.expand_word("\"q`\"q\"", &e).unwrap(), "q\"q");
    assert_eq!(lex.expand_words("a` b c", &e).unwrap(), vec!["a b", "c"]);
}

#[test]
fn go_quote_matches_percent_q() {
    assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    assert_eq!(go_quote("한"), "\"한\"");
}
