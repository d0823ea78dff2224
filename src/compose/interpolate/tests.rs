//! compose-go's own template tests (template/template_test.go), case for case.

use super::*;

fn defaults(name: &str) -> Option<String> {
    match name {
        "FOO" => Some("first".into()),
        "BAR" => Some(String::new()),
        "JSON" => Some(r#"{"json":2}"#.into()),
        _ => None,
    }
}

fn sub(template: &str) -> Result<String, InterpolateError> {
    substitute(template, &defaults, &mut |_| {})
}

fn ok(template: &str) -> String {
    sub(template).unwrap_or_else(|e| panic!("{template}: {e}"))
}

#[test]
fn escaped_and_no_match() {
    assert_eq!(ok("$${foo}"), "${foo}");
    assert_eq!(ok("foo"), "foo");
}

#[test]
fn unescaped_dollars_stay() {
    for t in ["a $ string", "^REGEX$", "$}", "$"] {
        assert_eq!(ok(t), t);
    }
}

#[test]
fn invalid_templates() {
    for t in ["${", "${}", "${ }", "${ foo}", "${foo }", "${foo!}"] {
        let e = sub(t).unwrap_err();
        assert!(e.to_string().contains("Invalid template"), "{t}: {e}");
        assert_eq!(
            e,
            InterpolateError::InvalidTemplate {
                template: t.to_string()
            }
        );
    }
}

#[test]
fn non_braced_and_plain_values() {
    assert_eq!(ok("$FOO-bar"), "first-bar");
    for t in ["This ${missing} var", "This ${BAR} var"] {
        assert_eq!(ok(t), "This  var");
    }
    for t in ["This $FOO var", "This ${FOO} var"] {
        assert_eq!(ok(t), "This first var");
    }
}

#[test]
fn defaults_soft_and_hard() {
    for t in ["ok ${missing:-def}", "ok ${missing-def}"] {
        assert_eq!(ok(t), "ok def");
    }
    assert_eq!(ok("ok ${BAR:-def}"), "ok def");
    assert_eq!(ok("ok ${FOO:-def}"), "ok first");
    assert_eq!(ok("ok ${BAR-def}"), "ok ");
    assert_eq!(ok("ok ${BAR:-/non:-alphanumeric}"), "ok /non:-alphanumeric");
}

#[test]
fn presence_values() {
    assert_eq!(ok("ok ${UNSET_VAR:+presence_value}"), "ok ");
    assert_eq!(ok("ok ${UNSET_VAR+presence_value}"), "ok ");
    assert_eq!(ok("ok ${FOO:+presence_value}"), "ok presence_value");
    assert_eq!(ok("ok ${FOO+presence_value}"), "ok presence_value");
    assert_eq!(ok("ok ${BAR+presence_value}"), "ok presence_value");
    assert_eq!(ok("ok ${BAR:+presence_value}"), "ok ");
}

#[test]
fn lazy_defaults_warn_only_when_used() {
    let mut warned = Vec::new();
    let r = substitute("${A:+${A},}B", &defaults, &mut |v| {
        warned.push(v.to_string())
    });
    assert_eq!(r.unwrap(), "B");
    assert!(warned.is_empty(), "{warned:?}");
    let r = substitute("${A:-${B}}", &defaults, &mut |v| warned.push(v.to_string()));
    assert_eq!(r.unwrap(), "");
    assert_eq!(warned, ["B"]);
    let only_a = |k: &str| (k == "A").then(|| "value".to_string());
    let mut warned = Vec::new();
    let r = substitute("${A?${B}}", &only_a, &mut |v| warned.push(v.to_string()));
    assert_eq!(r.unwrap(), "value");
    assert!(warned.is_empty());
}

#[test]
fn outer_text_does_not_interfere() {
    for (t, want) in [
        ("-ok ${BAR:-defaultValue}", "-ok defaultValue"),
        ("+ok ${UNSET:-${BAR-defaultValue}}", "+ok "),
        ("-ok ${FOO:-defaultValue}", "-ok first"),
        (":-ok ${UNSET-defaultValue}", ":-ok defaultValue"),
        (":-ok ${BAR-defaultValue}", ":-ok "),
        (":?ok ${BAR-defaultValue}", ":?ok "),
        (":?ok ${BAR:-defaultValue}", ":?ok defaultValue"),
        (":+ok ${BAR:-defaultValue}", ":+ok defaultValue"),
        ("+ok ${BAR-defaultValue}", "+ok "),
        ("?ok ${BAR:-defaultValue}", "?ok defaultValue"),
    ] {
        assert_eq!(ok(t), want, "{t}");
    }
}

#[test]
fn defaults_with_nested_expansion() {
    for (t, want) in [
        ("ok ${UNSET_VAR-$FOO}", "ok first"),
        ("ok ${UNSET_VAR-${FOO}}", "ok first"),
        ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR:-$FOO}", "ok first"),
        ("ok ${BAR:-${FOO}}", "ok first"),
        ("ok ${BAR:-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR+$FOO}", "ok first"),
        ("ok ${BAR+$FOO ${FOO:+second}}", "ok first second"),
    ] {
        assert_eq!(ok(t), want, "{t}");
    }
}

#[test]
fn mandatory_variables() {
    for (t, want) in [
        (
            "not ok ${UNSET_VAR:?Mandatory Variable Unset}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable Unset",
        ),
        (
            "not ok ${BAR:?Mandatory Variable Empty}",
            "required variable BAR is missing a value: Mandatory Variable Empty",
        ),
        (
            "not ok ${UNSET_VAR:?}",
            "required variable UNSET_VAR is missing a value",
        ),
        (
            "not ok ${UNSET_VAR?Mandatory Variable Unset}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable Unset",
        ),
        (
            "not ok ${UNSET_VAR?}",
            "required variable UNSET_VAR is missing a value",
        ),
        (
            "not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable first",
        ),
        (
            "not ok ${UNSET_VAR?Mandatory Variable ${FOO}}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable first",
        ),
    ] {
        let e = sub(t).unwrap_err();
        assert!(matches!(e, InterpolateError::MissingRequired { .. }), "{t}");
        assert_eq!(e.to_string(), want, "{t}");
    }
    assert_eq!(ok("ok ${FOO:?err}"), "ok first");
    assert_eq!(ok("ok ${FOO?err}"), "ok first");
    assert_eq!(ok("ok ${BAR?err}"), "ok ");
}

#[test]
fn the_first_operator_wins() {
    assert_eq!(
        sub("${UNSET_VAR?bar-baz}").unwrap_err(),
        InterpolateError::MissingRequired {
            variable: "UNSET_VAR".into(),
            reason: "bar-baz".into()
        }
    );
    assert_eq!(ok("${UNSET_VAR-myerror?msg}"), "myerror?msg");
    assert_eq!(ok("ok ${SUBDOMAIN:-redis}.${FOO:?}"), "ok redis.first");
}

#[test]
fn values_are_not_substituted_again() {
    assert_eq!(ok("${JSON}"), r#"{"json":2}"#);
    let dollar = |k: &str| (k == "D").then(|| "$FOO".to_string());
    assert_eq!(substitute("${D}", &dollar, &mut |_| {}).unwrap(), "$FOO");
}
