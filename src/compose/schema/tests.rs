//! Tests of the schema check. The proof is the corpus under tests/fixtures/compose/schema/:
//! bad (and good) compose files whose answer from the real docker compose v2.40.3 was recorded
//! by its record.sh; berth must give the same message for each. The unit tests below cover
//! the validator's rules on small schemas where the compose schema has no example (two
//! `oneOf` branches matching, `$ref` siblings, refused keywords).

use std::path::PathBuf;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::compile::{self, Types};
use super::validate::{failures, most_specific};
use super::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose/schema")
}

/// What berth's schema check does with the fixtures docker compose refuses outside its schema
/// stage ("other" in expected.txt), and why.
fn other_stage(name: &str) -> Option<Result<(), &'static str>> {
    Some(match name {
        // compose-go's extends step, which runs before the schema, refuses these first, in
        // the same words the schema check would use.
        "services_list.json" => Err("services must be a mapping"),
        "service_number.json" => Err("services.web must be a mapping"),
        // The schema only asks for a string; durations are parsed after it.
        "healthcheck_interval_bad_duration.json" => Ok(()),
        _ => return None,
    })
}

#[test]
fn corpus_matches_docker_compose() {
    let expected = std::fs::read_to_string(fixtures().join("expected.txt")).unwrap();
    let mut recorded = Vec::new();
    let mut mismatches = Vec::new();
    let mut schema_refusals = 0;
    for line in expected.lines() {
        let mut fields = line.splitn(3, '\t');
        let name = fields.next().unwrap();
        let verdict = fields.next().unwrap_or_default();
        let text = fields.next().unwrap_or_default();
        recorded.push(name.to_string());
        let source = std::fs::read_to_string(fixtures().join(name)).unwrap();
        let instance: Value = serde_json::from_str(&source).unwrap();
        let got = validate(&instance);
        let want = match verdict {
            "schema" => {
                schema_refusals += 1;
                Err(text)
            }
            "ok" => Ok(()),
            "other" => other_stage(name)
                .unwrap_or_else(|| panic!("{name}: refused outside the schema ({text}); say what berth's check does with it in other_stage")),
            v => panic!("{name}: unknown verdict {v:?} in expected.txt"),
        };
        if got.as_ref().map(|_| ()).map_err(|e| e.message.as_str()) != want {
            mismatches.push(format!(
                "{name}:\n  docker compose: {want:?}\n  berth:          {got:?}"
            ));
        }
        if let Err(e) = &got {
            // The path is the start of the message, as the loader will rely on it being.
            assert!(
                e.message.starts_with(&format!("{} ", e.path.join("."))),
                "{e:?}"
            );
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(
        schema_refusals >= 30,
        "the corpus shrank: {schema_refusals}"
    );

    // Every fixture has a recorded answer: a new one means record.sh must be run again.
    let mut present: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    present.sort();
    recorded.sort();
    assert_eq!(
        present, recorded,
        "run tests/fixtures/compose/schema/record.sh"
    );
}

#[test]
fn embedded_schema_is_compose_go_v2_9_1() {
    // sha256 of schema/compose-spec.json at compose-go v2.9.1 (75fb1ab), the version docker
    // compose v2.40.3 is built with: the copy must stay verbatim.
    let digest = hex::encode(Sha256::digest(COMPOSE_SPEC.as_bytes()));
    assert_eq!(
        digest,
        "89f4bdc4ba651ff024118917a7cdb67d9d78c1af4bab9b12ec2fc85f5b7d90d3"
    );
    assert!(SCHEMA.nodes.len() > 100);
}

#[test]
fn error_path_and_text() {
    let err =
        validate(&json!({"services": {"web": {"ports": [{"target": 80, "x": 1}]}}})).unwrap_err();
    assert_eq!(err.path, ["services", "web", "ports", "0"]);
    assert_eq!(
        err.message,
        "services.web.ports.0 additional properties 'x' not allowed"
    );
    assert_eq!(err.to_string(), err.message);

    // The top level has an empty path; compose-go's text then starts with a space.
    let err = validate(&json!({"version": "3", "x-ok": 1, "oops": 1})).unwrap_err();
    assert!(err.path.is_empty());
    assert_eq!(err.message, " additional properties 'oops' not allowed");
}

#[test]
fn extensions_and_empty_files() {
    assert_eq!(validate(&json!({})), Ok(()));
    let ok = json!({
        "x-top": {"any": [1, null]},
        "services": {"web": {"image": "a", "x-s": 1, "healthcheck": {"x-h": 1}}},
        "networks": {"n": {"x-n": 1}},
        "volumes": {"v": null},
    });
    assert_eq!(validate(&ok), Ok(()));
    // Where the schema does not allow `x-` keys they are refused like any other.
    let err = validate(
        &json!({"services": {"web": {"blkio_config": {"weight_device": [
            {"path": "/dev/sda", "weight": 10, "x-n": 1}
        ]}}}}),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "services.web.blkio_config.weight_device.0 additional properties 'x-n' not allowed"
    );
}

#[test]
fn numbers_as_jsonschema_sees_them() {
    // An integral float is an integer; uniqueness compares numbers by value.
    assert_eq!(
        validate(&json!({"services": {"w": {"scale": 2.0}}})),
        Ok(())
    );
    let err = validate(&json!({"services": {"w": {"scale": 2.5}}})).unwrap_err();
    assert_eq!(err.message, "services.w.scale must be a integer or string");
    let err = validate(&json!({"services": {"w": {"group_add": [1, "a", 1.0]}}})).unwrap_err();
    assert_eq!(
        err.message,
        "services.w.group_add items at 0 and 2 are equal"
    );
    let err = validate(&json!({"services": {"w": {"cpu_percent": 101}}})).unwrap_err();
    // oneOf [string, integer 0..100]: both branches fail at the same depth, the first wins.
    assert_eq!(err.message, "services.w.cpu_percent must be a string");
}

#[test]
fn several_refused_properties_listed_together() {
    // docker compose lists them in Go map order, which changes from run to run; berth in
    // the instance's order.
    let err = validate(&json!({"services": {"w": {"aa": 1, "bb": 2}}})).unwrap_err();
    assert_eq!(
        err.message,
        "services.w additional properties 'aa', 'bb' not allowed"
    );
    let err = validate(&json!({"services": {"w": {"ulimits": {"n": {}}}}})).unwrap_err();
    // The type error of the first oneOf branch ties with `required` and comes first.
    assert_eq!(
        err.message,
        "services.w.ulimits.n must be a integer or string"
    );
}

#[test]
fn human_readable_types() {
    let t = |names: &[&str]| {
        let bits = names.iter().fold(0u8, |acc, n| {
            acc | 1 << compile::TYPE_NAMES.iter().position(|t| t == n).unwrap()
        });
        human_types(Types(bits))
    };
    assert_eq!(t(&["object"]), "mapping");
    assert_eq!(t(&["array"]), "array");
    assert_eq!(t(&["string", "number"]), "number or string");
    assert_eq!(
        t(&["boolean", "string", "object"]),
        "boolean, mapping or string"
    );
    assert_eq!(
        t(&["string", "number", "boolean", "null"]),
        "boolean, null, number or string"
    );
}

#[test]
fn quoting_as_jsonschema() {
    assert_eq!(quote("a b"), "'a b'");
    assert_eq!(quote("it's \"x\"\n"), "'it\\'s \"x\"\\n'");
    assert_eq!(display(&json!(3)), "3");
    assert_eq!(display(&Value::Null), "<nil>");
}

/// Runs `instance` against a small schema document with the compose validator's machinery.
fn check(schema: Value, instance: Value) -> Option<String> {
    let compiled = compile::compile(&schema).unwrap();
    most_specific(failures(&compiled, &instance)).map(|f| error(f).message)
}

#[test]
fn one_of_with_two_matches_is_its_own_error() {
    let schema = json!({"oneOf": [{"type": "number"}, {"type": "integer"}, {"type": "string"}]});
    assert_eq!(check(schema.clone(), json!("s")), None);
    assert_eq!(check(schema.clone(), json!(1.5)), None);
    assert_eq!(
        check(schema, json!(1)).unwrap(),
        " oneOf failed, subschemas 0, 1 matched"
    );
}

#[test]
fn ref_ignores_its_siblings_and_may_recurse() {
    let schema = json!({
        "definitions": {"tree": {"type": "object", "properties": {
            "kids": {"type": "array", "items": {"$ref": "#/definitions/tree"}}
        }, "additionalProperties": false}},
        "$ref": "#/definitions/tree",
        "type": "string",
    });
    assert_eq!(check(schema.clone(), json!({"kids": [{"kids": []}]})), None);
    assert_eq!(
        check(schema, json!({"kids": [{"kid": 1}]})).unwrap(),
        "kids.0 additional properties 'kid' not allowed"
    );
}

#[test]
fn bounds_patterns_and_booleans() {
    let schema = json!({"properties": {
        "n": {"type": "integer", "minimum": -3, "maximum": 3},
        "s": {"type": "string", "pattern": "^a+$"},
        "never": false,
    }});
    assert_eq!(
        check(schema.clone(), json!({"n": -4})).unwrap(),
        "n must be greater than or equal to -3"
    );
    assert_eq!(
        check(schema.clone(), json!({"n": 4})).unwrap(),
        "n must be less than or equal to 3"
    );
    assert_eq!(
        check(schema.clone(), json!({"s": "ab"})).unwrap(),
        "s 'ab' does not match pattern '^a+$'"
    );
    assert_eq!(
        check(schema, json!({"never": 1})).unwrap(),
        "never false schema"
    );
}

#[test]
fn unsupported_keywords_are_refused_when_compiling() {
    for schema in [
        json!({"anyOf": [true]}),
        json!({"format": "duration"}),
        json!({"items": [true]}),
        json!({"$ref": "other.json#/x"}),
        json!({"minimum": 0.5}),
    ] {
        assert!(compile::compile(&schema).is_err(), "{schema}");
    }
}
