//! The `--format` template engine's tests.

use super::*;
use serde_json::json;

fn render(f: &str, v: &Value, m: Missing) -> Result<String, String> {
    Template::parse(f)?.render(v, m)
}

fn inspect() -> Value {
    json!({
        "Name": "/web",
        "State": {"ExitCode": 3, "Running": false},
        "Config": {"Env": ["PATH=/usr/bin", "A=1"], "Labels": {"b": "2", "a": "1"}, "Entrypoint": null}
    })
}

#[test]
fn field_paths() {
    let v = inspect();
    assert_eq!(
        render("{{.State.ExitCode}}", &v, Missing::NoValue).unwrap(),
        "3"
    );
    assert_eq!(render("{{.Name}}", &v, Missing::NoValue).unwrap(), "/web");
    assert_eq!(
        render("{{ .State.Running }}", &v, Missing::NoValue).unwrap(),
        "false"
    );
    assert_eq!(
        render("{{.Config.Env}}", &v, Missing::NoValue).unwrap(),
        "[PATH=/usr/bin A=1]"
    );
    assert_eq!(
        render("{{.Config.Labels}}", &v, Missing::NoValue).unwrap(),
        "map[a:1 b:2]"
    );
    assert_eq!(
        render("{{.Nope}}", &v, Missing::NoValue).unwrap(),
        "<no value>"
    );
}

#[test]
fn json_and_functions() {
    let v = inspect();
    assert_eq!(
        render("{{json .Config.Env}}", &v, Missing::NoValue).unwrap(),
        r#"["PATH=/usr/bin","A=1"]"#
    );
    assert_eq!(
        render("{{json .State}}", &v, Missing::NoValue).unwrap(),
        r#"{"ExitCode":3,"Running":false}"#
    );
    assert_eq!(
        render("{{join .Config.Env \",\"}}", &v, Missing::NoValue).unwrap(),
        "PATH=/usr/bin,A=1"
    );
    assert_eq!(
        render("{{.Name | upper}}", &v, Missing::NoValue).unwrap(),
        "/WEB"
    );
    assert_eq!(
        render("{{index .Config.Labels \"a\"}}", &v, Missing::NoValue).unwrap(),
        "1"
    );
    assert_eq!(
        render("{{len .Config.Env}}", &v, Missing::NoValue).unwrap(),
        "2"
    );
}

#[test]
fn literal_text_and_tabs() {
    let v = json!({"ID": "abc", "Names": "web"});
    assert_eq!(
        render("id={{.ID}}\\t{{.Names}}!", &v, Missing::Error).unwrap(),
        "id=abc\tweb!"
    );
}

#[test]
fn errors() {
    let v = json!({"ID": "abc"});
    assert!(render("{{.Foo}}", &v, Missing::Error)
        .unwrap_err()
        .contains("can't evaluate field Foo"));
    assert_eq!(
        render("{{nope .ID}}", &v, Missing::Error).unwrap_err(),
        "template: :1: function \"nope\" not defined"
    );
    assert!(render("{{.ID", &v, Missing::Error).is_err());
    assert!(render("{{.ID.X}}", &v, Missing::Error).is_err());
    assert!(render("{{.ID .ID}}", &v, Missing::Error).is_err());
}

#[test]
fn pad_refuses_absurd_widths_and_leaves_empty_strings_alone() {
    let v = inspect();
    let err = render("{{pad .Name 9999999999999 0}}", &v, Missing::NoValue).unwrap_err();
    assert!(err.contains("error calling pad"), "{err}");
    assert_eq!(
        render("{{pad .Name 1 2}}", &v, Missing::NoValue).unwrap(),
        " /web  "
    );
    assert_eq!(
        render("{{pad \"\" 9999999999999 1}}", &v, Missing::NoValue).unwrap(),
        ""
    );
}
