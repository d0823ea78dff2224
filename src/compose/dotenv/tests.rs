//! compose-go's dotenv tests (dotenv/godotenv_test.go), the parsing ones case for case.

use super::*;

fn none(_: &str) -> Option<String> {
    None
}

fn parse_none(src: &str) -> Result<EnvFile, String> {
    parse(src, &none, &mut |_| {})
}

fn one(src: &str, key: &str, value: &str) {
    let env = parse_none(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    assert_eq!(env.get(key), Some(value), "{src:?}: {env:?}");
}

#[test]
fn parsing() {
    one("FOO=bar", "FOO", "bar");
    one("FOO =bar", "FOO", "bar");
    one("FOO= bar", "FOO", "bar");
    one(r#"FOO="bar""#, "FOO", "bar");
    one("FOO='bar'", "FOO", "bar");
    one(r#"FOO="escaped\"bar""#, "FOO", r#"escaped"bar"#);
    one(r#"FOO="\"quoted\"""#, "FOO", r#""quoted""#);
    one(r#"FOO="'d'""#, "FOO", "'d'");
    one("OPTION_A: 1", "OPTION_A", "1");
    one("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar");
    one("OPTION_A=1:B", "OPTION_A", "1:B");
    one("export OPTION_A=2", "OPTION_A", "2");
    one(r"export OPTION_B='\n'", "OPTION_B", r"\n");
    one("export exportFoo=2", "exportFoo", "2");
    one("exportFOO=2", "exportFOO", "2");
    one("export_FOO =2", "export_FOO", "2");
    one("export.FOO= 2", "export.FOO", "2");
    one("export\tOPTION_A=2", "OPTION_A", "2");
    one("  export OPTION_A=2", "OPTION_A", "2");
    one("\texport OPTION_A=2", "OPTION_A", "2");
    one(r#"export OPTION_A="export A""#, "OPTION_A", "export A");
    one(r#"FOO="bar\nbaz""#, "FOO", "bar\nbaz");
    one(r"FOO=a\tb", "FOO", r"a\tb");
    one(r#"FOO="a\tb""#, "FOO", "a\tb");
    one(
        r#"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""#,
        "KEY",
        "Z\u{07}Z\u{08}Z\u{0c}Z\nZ\rZ\tZ\u{0b}Z\\ZSZ",
    );
    one("FOO.BAR=foobar", "FOO.BAR", "foobar");
    one("FOO=foobar=", "FOO", "foobar=");
    one("FOO=bar ", "FOO", "bar");
    one("FOO=bar # this is foo", "FOO", "bar");
    one("FOO=bar #this is foo", "FOO", "bar");
    one("FOO=bar #", "FOO", "bar");
    one(
        "FOO=123#not-an-inline-comment",
        "FOO",
        "123#not-an-inline-comment",
    );
    one(r#"FOO="bar#baz""#, "FOO", "bar#baz");
    one(r##"FOO="bar#baz"#"##, "FOO", "bar#baz");
    one(r#"FOO="bar#baz" # comment"#, "FOO", "bar#baz");
    one("FOO='bar#baz' # comment", "FOO", "bar#baz");
    one(r#"FOO="bar#baz#bang" # comment"#, "FOO", "bar#baz#bang");
    one(r#"FOO="ba#r""#, "FOO", "ba#r");
    one("FOO='ba#r'", "FOO", "ba#r");
    one(r#"FOO="bar\n\ b\az""#, "FOO", "bar\n\\ b\u{07}z");
    one(r#"FOO="bar\\\n\ b\az""#, "FOO", "bar\\\n\\ b\u{07}z");
    one(r#"FOO="bar\\r\ b\az""#, "FOO", "bar\\r\\ b\u{07}z");
    one(r#"FOO="bar\nbaz\\""#, "FOO", "bar\nbaz\\");
    one(r#"="value""#, "", "value");
    one(" KEY =value", "KEY", "value");
    one("   KEY=value", "KEY", "value");
    one("\tKEY=value", "KEY", "value");
    one(r#"KEY="\0123""#, "KEY", "S");
    one(r#"KEY="\x07""#, "KEY", r"\x07");
    one(r#"KEY="\u12e4""#, "KEY", r"\u12e4");
    one(r#"KEY="\U00101234""#, "KEY", r"\U00101234");
}

#[test]
fn expanding() {
    for (input, want) in [
        ("FOO=test\nBAR=$FOO", vec![("FOO", "test"), ("BAR", "test")]),
        (
            "FOO=test\nBAR=${FOO}bar",
            vec![("FOO", "test"), ("BAR", "testbar")],
        ),
        ("BAR=$FOO", vec![("BAR", "")]),
        (
            "FOO=test\nBAR=\"quote $FOO\"",
            vec![("FOO", "test"), ("BAR", "quote test")],
        ),
        ("BAR='quote $FOO'", vec![("BAR", "quote $FOO")]),
        (r#"FOO="foo\$BAR""#, vec![("FOO", "foo$BAR")]),
        (r#"FOO="foo\${BAR}""#, vec![("FOO", "foo${BAR}")]),
        (
            "FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"",
            vec![("FOO", "test"), ("BAR", "foo${FOO} test")],
        ),
    ] {
        let env = parse_none(input).unwrap();
        for (k, v) in want {
            assert_eq!(env.get(k), Some(v), "{input:?}");
        }
    }
}

#[test]
fn a_double_quoted_value_spans_lines() {
    let env = parse_none(
        "TEST_URLS=\"stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443\"",
    )
    .unwrap();
    assert_eq!(
        env.vars,
        [(
            "TEST_URLS".to_string(),
            "stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443"
                .to_string()
        )]
    );
}

#[test]
fn unterminated_quotes() {
    for tc in [
        r#"KEY=""#,
        r#"KEY="value"#,
        r#"KEY="value\""#,
        r#"KEY="value'"#,
        "KEY='",
        "KEY='value",
        r"KEY='value\'",
        r#"KEY='value""#,
    ] {
        let e = parse_none(tc).unwrap_err();
        assert!(e.contains("unterminated quoted value"), "{tc:?}: {e}");
    }
}

#[test]
fn lines_to_ignore() {
    for input in ["\n", "\r\n", "\t\t ", "# Comment", "\t # comment"] {
        assert_eq!(Parser { line: 1 }.statement_start(input), "", "{input:?}");
    }
    let kept = r"export OPTION_B='\n'";
    assert_eq!(Parser { line: 1 }.statement_start(kept), kept);
}

#[test]
fn errors_name_the_line() {
    let invalid = "# some comments\nfoo=\"\n  a\n  multine\n  value\n\"\nINVALID LINE\nzot=qix\n";
    assert_eq!(
        parse_none(invalid).unwrap_err(),
        "line 7: key cannot contain a space"
    );
    assert_eq!(
        parse_none("OK=1\nBAD!=2\n").unwrap_err(),
        r#"line 2: unexpected character "!" in variable name "BAD!=2""#
    );
}

#[test]
fn substitutions_and_the_callers_precedence() {
    let file = "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n";
    let mut warned = Vec::new();
    let env = parse(file, &none, &mut |v| warned.push(v.to_string())).unwrap();
    assert_eq!(
        env.vars,
        [
            ("OPTION_A", "1"),
            ("OPTION_B", "1"),
            ("OPTION_C", "1"),
            ("OPTION_D", "1_1"),
            ("OPTION_E", "")
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(warned, ["OPTION_NOT_DEFINED"]);
    // The caller's variables win over the file's own when values are expanded.
    let outer = |k: &str| (k == "OPTION_A").then(|| "5".to_string());
    let env = parse(file, &outer, &mut |_| {}).unwrap();
    assert_eq!(env.get("OPTION_A"), Some("1"));
    assert_eq!(env.get("OPTION_B"), Some("5"));
    assert_eq!(env.get("OPTION_D"), Some("5_5"));
    let defaults = file.replace("OPTION_A=1", "OPTION_A=${OPTION_A:-1}");
    assert_eq!(
        parse(&defaults, &outer, &mut |_| {})
            .unwrap()
            .get("OPTION_A"),
        Some("5")
    );
    assert_eq!(
        parse(&defaults, &none, &mut |_| {})
            .unwrap()
            .get("OPTION_D"),
        Some("1_1")
    );
}

#[test]
fn bare_keys_inherit_and_a_bom_is_skipped() {
    let outer = |k: &str| (k == "FROM_OS").then(|| "os value".to_string());
    let env = parse("\u{feff}FROM_OS\nMISSING\nX=1\n", &outer, &mut |_| {}).unwrap();
    assert_eq!(
        env.vars,
        [("FROM_OS", "os value"), ("X", "1")].map(|(k, v)| (k.to_string(), v.to_string()))
    );
}
