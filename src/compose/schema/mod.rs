//! The Compose Specification schema check, as docker compose v2 does it: compose-go validates
//! each loaded file's map (interpolated, extended, merged) against `compose-spec.json` with
//! santhosh-tekuri/jsonschema v6 and reports one error, the most specific one, in its own
//! words. `berth compose` must refuse the same files at the same place with the same message,
//! so this embeds the schema of compose-go v2.9.1 (the one docker compose v2.40.3 ships)
//! verbatim and reproduces both the validator's error order and compose-go's wording.
//!
//! - `compile`: the schema document into an arena of nodes with `$ref`s resolved and regexes
//!   compiled; keywords the schema does not use are refused.
//! - `validate` (the module): the instance checked in jsonschema's order, the most specific
//!   failure chosen as compose-go chooses it.
//! - here: the public API and compose-go's error text (`validationError.Error`).
//!
//! The input is the map form of one file: YAML already converted to JSON values (integers as
//! JSON numbers). The caller (the loader) adds the `validating FILE: ` prefix and the line and
//! column it finds for [`SchemaError::path`]. What compose-go does to the map before this check
//! matters to the loader, not here: its extends step refuses a non-mapping `services` or
//! service first (`services.web must be a mapping`, no prefix), and `EnforceUnicity` drops
//! repeated entries of lists such as `cap_add`, `ports` or `volumes`, so those never reach
//! `uniqueItems`. Durations (`healthcheck.interval`) are only strings to the schema; they are
//! parsed later.

mod compile;
mod validate;

use std::fmt;
use std::sync::LazyLock;

use berth_engine::util::go;
use serde_json::Value;

use compile::{Schema, Types};
use validate::{Failure, Kind};

/// The Compose Specification JSON schema of compose-go v2.9.1 (`schema/compose-spec.json`),
/// byte for byte.
pub const COMPOSE_SPEC: &str = include_str!("compose-spec.json");

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let doc: Value = serde_json::from_str(COMPOSE_SPEC).expect("compose-spec.json is JSON");
    // The document is embedded, so a failure here is a build defect the tests catch.
    compile::compile(&doc).expect("compose-spec.json compiles")
});

/// Why a compose file does not follow the Compose Specification: the single error docker
/// compose would print after `validating FILE: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// Where the offending value is: keys and array indices (as strings) from the top of the
    /// file, jsonschema's `InstanceLocation`. Empty for the top-level mapping itself.
    pub path: Vec<String>,
    /// compose-go's full text, path included: `services.web additional properties 'imagee'
    /// not allowed`, `services.web.ports must be a array`. For the top level the path is empty
    /// and the text starts with a space, as compose-go's does.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SchemaError {}

/// Checks one compose file's map against the Compose Specification schema, returning the
/// error docker compose v2 would report if it is refused.
pub fn validate(config: &Value) -> Result<(), SchemaError> {
    match validate::most_specific(validate::failures(&SCHEMA, config)) {
        None => Ok(()),
        Some(failure) => Err(error(failure)),
    }
}

/// compose-go's `validationError.Error`: its own phrasing for type and bound errors, otherwise
/// the path followed by jsonschema v6's English message (`kind/kind.go`).
fn error(failure: Failure) -> SchemaError {
    let path = failure.location.join(".");
    let message = match &failure.kind {
        Kind::Type { want } => format!("{path} must be a {}", human_types(*want)),
        Kind::Minimum { want } => format!("{path} must be greater than or equal to {want}"),
        Kind::Maximum { want } => format!("{path} must be less than or equal to {want}"),
        Kind::FalseSchema => format!("{path} false schema"),
        Kind::Enum { want } => format!("{path} {}", enum_text(want)),
        Kind::Required { missing } => match missing.as_slice() {
            [one] => format!("{path} missing property {}", quote(one)),
            many => format!("{path} missing properties {}", join_quoted(many)),
        },
        Kind::AdditionalProperties { properties } => {
            format!(
                "{path} additional properties {} not allowed",
                join_quoted(properties)
            )
        }
        Kind::UniqueItems { first, second } => {
            format!("{path} items at {first} and {second} are equal")
        }
        Kind::Pattern { got, want } => {
            format!(
                "{path} {} does not match pattern {}",
                quote(got),
                quote(want)
            )
        }
        Kind::OneOfMultiple { first, second } => {
            format!("{path} oneOf failed, subschemas {first}, {second} matched")
        }
    };
    SchemaError {
        path: failure.location,
        message,
    }
}

/// compose-go's `humanReadableType`: `object` is called a mapping; several types are sorted
/// and listed as `a, b or c`.
fn human_types(want: Types) -> String {
    let mut names: Vec<&str> = want
        .names()
        .into_iter()
        .map(|n| if n == "object" { "mapping" } else { n })
        .collect();
    if names.len() == 1 {
        return names[0].to_string();
    }
    names.sort_unstable();
    let last = names.pop().unwrap_or_default();
    format!("{} or {last}", names.join(", "))
}

/// jsonschema's `Enum.LocalizedString`: the allowed values listed when they are all primitive.
fn enum_text(want: &[Value]) -> String {
    if want.iter().any(|v| v.is_array() || v.is_object()) {
        "enum failed".to_string()
    } else if let [one] = want {
        format!("value must be {}", display(one))
    } else {
        let want: Vec<String> = want.iter().map(display).collect();
        format!("value must be one of {}", want.join(", "))
    }
}

/// jsonschema's `quote`: Go's `%q`, then in single quotes (`"` unescaped, `'` escaped).
fn quote(s: &str) -> String {
    let q = go::quote(s);
    let inner = &q[1..q.len() - 1];
    format!("'{}'", inner.replace("\\\"", "\"").replace('\'', "\\'"))
}

fn join_quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// jsonschema's `display` of a primitive: strings quoted, the rest as Go's `%v` prints them.
fn display(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        Value::Null => "<nil>".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
