use super::*;

fn one(src: &str) -> Node {
    let mut docs = parse_documents(src).unwrap();
    assert_eq!(docs.len(), 1, "{src}");
    docs.remove(0)
}

fn scalar(src: &str) -> Value {
    one(&format!("v: {src}\n")).get("v").unwrap().value.clone()
}

#[test]
fn scalars_are_typed_as_go_yaml_types_them() {
    assert_eq!(scalar("0755"), Value::Int(493));
    assert_eq!(scalar("0x1F"), Value::Int(31));
    assert_eq!(scalar("0o17"), Value::Int(15));
    assert_eq!(scalar("0b101"), Value::Int(5));
    assert_eq!(scalar("1_000"), Value::Int(1000));
    assert_eq!(scalar("-42"), Value::Int(-42));
    assert_eq!(scalar("1.5"), Value::Float(1.5));
    assert_eq!(scalar("1e3"), Value::Float(1000.0));
    assert_eq!(scalar("yes"), Value::Str("yes".into()));
    assert_eq!(scalar("on"), Value::Str("on".into()));
    assert_eq!(scalar("true"), Value::Bool(true));
    assert_eq!(scalar("~"), Value::Null);
    assert_eq!(scalar(""), Value::Null);
    assert_eq!(scalar("'0755'"), Value::Str("0755".into()));
    assert_eq!(scalar("\"true\""), Value::Str("true".into()));
    assert_eq!(scalar("8080:80"), Value::Str("8080:80".into()));
    assert_eq!(scalar("1.2.3"), Value::Str("1.2.3".into()));
    assert_eq!(scalar("!!str 5"), Value::Str("5".into()));
    assert_eq!(scalar("99999999999999999999"), Value::Float(1e20));
}

#[test]
fn nodes_know_their_line_and_column() {
    let doc = one("services:\n  web:\n    image: busybox\n    ports:\n      - \"80:80\"\n");
    let web = doc.get("services").unwrap().get("web").unwrap();
    assert_eq!(web.get("image").unwrap().mark, Mark { line: 3, col: 12 });
    let Value::Seq(ports) = &web.get("ports").unwrap().value else {
        panic!()
    };
    assert_eq!(ports[0].mark, Mark { line: 5, col: 9 });
    let Value::Map(entries) = &web.value else {
        panic!()
    };
    assert_eq!(entries[1].0.name, "ports");
    assert_eq!(entries[1].0.mark, Mark { line: 4, col: 5 });
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let doc = one(concat!(
        "x-base: &base\n  image: busybox\n  restart: always\n",
        "x-more: &more\n  restart: never\n  user: nobody\n",
        "services:\n",
        "  a:\n    <<: *base\n    restart: \"no\"\n",
        "  b:\n    <<: [*more, *base]\n",
        "  c: *base\n",
    ));
    let services = doc.get("services").unwrap();
    let a = services.get("a").unwrap();
    assert_eq!(a.get("image").unwrap().value, Value::Str("busybox".into()));
    assert_eq!(a.get("restart").unwrap().value, Value::Str("no".into()));
    let b = services.get("b").unwrap();
    // Of several merged mappings the earlier wins.
    assert_eq!(b.get("restart").unwrap().value, Value::Str("never".into()));
    assert_eq!(b.get("image").unwrap().value, Value::Str("busybox".into()));
    assert_eq!(b.get("user").unwrap().value, Value::Str("nobody".into()));
    let c = services.get("c").unwrap();
    assert_eq!(c.get("restart").unwrap().value, Value::Str("always".into()));
    // An alias is reported where it is used.
    assert_eq!(c.mark.line, 13);
}

#[test]
fn tags_are_kept_for_the_merge() {
    let doc = one("services:\n  web:\n    ports: !reset []\n    command: !override [a]\n");
    let web = doc.get("services").unwrap().get("web").unwrap();
    assert_eq!(web.get("ports").unwrap().tag.as_deref(), Some("!reset"));
    assert_eq!(
        web.get("command").unwrap().tag.as_deref(),
        Some("!override")
    );
}

#[test]
fn bad_files_are_refused_with_their_position() {
    let e = parse_documents("services:\n  a:\n    image: x\n    image: y\n").unwrap_err();
    assert_eq!(e.mark, Mark { line: 4, col: 5 });
    assert_eq!(e.message, "mapping key \"image\" already defined at line 3");

    let e = parse_documents("services:\n  web:\n    image: [a\n").unwrap_err();
    assert!(e.mark.line >= 3, "{e}");

    let e = parse_documents("services:\n  web:\n    ports:\n      8080: 80\n").unwrap_err();
    assert_eq!(e.message, "non-string key in services.web.ports: 8080");
    assert_eq!(e.mark, Mark { line: 4, col: 7 });

    let e = parse_documents("a: *nope\n").unwrap_err();
    assert_eq!(e.mark.line, 1);

    let e = parse_documents("a:\n  <<: 5\n").unwrap_err();
    assert_eq!(
        e.message,
        "map merge requires map or sequence of maps as the value"
    );
}

#[test]
fn several_documents_and_empty_streams() {
    assert!(parse_documents("# nothing\n").unwrap().is_empty());
    let docs = parse_documents("a: 1\n---\nb: 2\n").unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].get("b").unwrap().value, Value::Int(2));
}

/// go-yaml's words and line numbers (what docker compose prints), recorded from docker compose
/// v2.40.3: a parser error names the 0-based line of the collection being parsed, a scanner
/// error the 1-based line of the problem.
#[test]
fn syntax_errors_carry_go_yaml_words() {
    let go = |src: &str| parse_documents(src).unwrap_err().go.unwrap();
    assert_eq!(
        go("services:\n  web:\n    image: nginx\n   command: x\n"),
        "yaml: line 1: did not find expected key"
    );
    assert_eq!(
        go("services:\n  web:\n    image: nginx\n    ports: [80:80\n"),
        "yaml: line 3: did not find expected ',' or ']'"
    );
    assert_eq!(
        go("services:\n  web:\n    image: nginx: latest\n"),
        "yaml: line 3: mapping values are not allowed in this context"
    );
    assert_eq!(
        go("services:\n  web:\n\timage: nginx\n"),
        "yaml: line 3: found character that cannot start any token"
    );
    let dup = parse_documents("a: 1\nb: 2\na: 3\n").unwrap_err();
    assert_eq!(
        dup.go.as_deref(),
        Some("line 3: mapping key \"a\" already defined at line 1")
    );
    assert!(!dup.nested);
    let nested = parse_documents("a:\n  b: 1\n  b: 2\n").unwrap_err();
    assert!(nested.nested);
    // Errors compose-go raises itself, after go-yaml has read the file, have no go-yaml words.
    assert_eq!(parse_documents("a:\n  1: x\n").unwrap_err().go, None);
}

#[test]
fn alias_bombs_are_refused_as_go_yaml_refuses_them() {
    // "Billion laughs": nine levels of nine aliases would expand to 9^9 nodes.
    let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        src += &format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        );
    }
    let err = parse_documents(&src).unwrap_err();
    assert_eq!(err.message, "document contains excessive aliasing");
    assert_eq!(
        err.go.as_deref(),
        Some("yaml: document contains excessive aliasing")
    );
    // Ordinary reuse is not a bomb.
    let mut src = String::from("x: &x {image: busybox, environment: [A=1, B=2]}\nservices:\n");
    for i in 0..300 {
        src += &format!("  s{i}: *x\n");
    }
    assert!(parse_documents(&src).is_ok());
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    // Block sequences nest two bytes a level (flow ones stop at 255 in saphyr's scanner).
    let src = format!("{}x\n", "- ".repeat(50_000));
    let err = parse_documents(&src).unwrap_err();
    assert_eq!(err.message, "exceeded max depth of 200");
    let ok = format!("{}x\n", "- ".repeat(199));
    assert!(parse_documents(&ok).is_ok());
}
