//! Validation of an instance against the compiled schema, producing the failures in the order
//! santhosh-tekuri/jsonschema v6 (the validator compose-go uses) would report them.
//!
//! jsonschema returns a tree of errors: a `$ref`, a `oneOf` with no branch matching, and a
//! schema with several failing keywords become inner nodes whose causes are the errors below.
//! compose-go then walks that tree depth first and keeps the first leaf of greatest
//! "specificity" (`getMostSpecificError`). Inner nodes are never chosen (they always have
//! causes), so the choice only depends on the leaves and their depth-first order; this module
//! therefore produces that list of leaves directly, in that order:
//!
//! - a failing `type` or `enum` ends a schema's checks (later keywords are not looked at);
//! - `$ref` replaces the schema it sits in (draft-07);
//! - objects: `required`, then each property (its `properties` and `patternProperties`
//!   schemas, or `additionalProperties`), then one error naming the refused properties;
//! - arrays: `uniqueItems`, then each item; strings: `pattern`; numbers: `minimum`, `maximum`;
//! - `oneOf` after all of those; if no branch matches, the failures of every branch in
//!   branch order; if two match, one leaf naming them; if exactly one matches, nothing.
//!
//! jsonschema visits an object's properties in Go map order, which is random; this visits
//! them in the instance's order. The two agree whenever the most specific failure is unique,
//! which is when docker compose's own answer is reproducible.

use serde_json::{Map, Value};

use super::compile::{Additional, Keywords, Node, NodeId, Schema, Types};

/// One leaf of jsonschema's error tree: where in the instance, and what failed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Failure {
    /// Keys and array indices from the root to the failing value (jsonschema's
    /// `InstanceLocation`).
    pub location: Vec<String>,
    pub kind: Kind,
}

/// The error kinds the compose schema's keywords can produce (jsonschema's `kind` package).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    FalseSchema,
    Type {
        want: Types,
    },
    Enum {
        want: Vec<Value>,
    },
    Required {
        missing: Vec<String>,
    },
    AdditionalProperties {
        properties: Vec<String>,
    },
    UniqueItems {
        first: usize,
        second: usize,
    },
    Pattern {
        got: String,
        want: String,
    },
    Minimum {
        want: i64,
    },
    Maximum {
        want: i64,
    },
    /// Two `oneOf` branches matched: the first two, by index.
    OneOfMultiple {
        first: usize,
        second: usize,
    },
}

impl Failure {
    /// compose-go's `specificity`: the depth of the failing value, one more for refused
    /// properties, whose error sits on the object but is about keys one level down.
    fn specificity(&self) -> usize {
        let bonus = matches!(self.kind, Kind::AdditionalProperties { .. });
        self.location.len() + usize::from(bonus)
    }
}

/// Every failure of `instance` against `schema`, in jsonschema's depth-first order.
pub(super) fn failures(schema: &Schema, instance: &Value) -> Vec<Failure> {
    let mut out = Vec::new();
    let mut location = Vec::new();
    check(schema, schema.root, instance, &mut location, &mut out);
    out
}

/// compose-go's `getMostSpecificError` over the leaves: the first of the greatest specificity.
pub(super) fn most_specific(failures: Vec<Failure>) -> Option<Failure> {
    let mut best: Option<Failure> = None;
    for failure in failures {
        if best
            .as_ref()
            .is_none_or(|b| failure.specificity() > b.specificity())
        {
            best = Some(failure);
        }
    }
    best
}

/// Checks `value` (at `location`) against node `id`, appending its failures to `out`.
fn check(
    schema: &Schema,
    id: NodeId,
    value: &Value,
    loc: &mut Vec<String>,
    out: &mut Vec<Failure>,
) {
    let kw = match &schema.nodes[id] {
        Node::Bool(true) => return,
        Node::Bool(false) => return fail(out, loc, Kind::FalseSchema),
        Node::Keywords(kw) => kw,
    };
    if let Some(want) = kw.types {
        if !type_matches(want, value) {
            return fail(out, loc, Kind::Type { want });
        }
    }
    if let Some(want) = &kw.enumeration {
        if !want.iter().any(|w| equal(w, value)) {
            let want = want.clone();
            return fail(out, loc, Kind::Enum { want });
        }
    }
    if let Some(target) = kw.reference {
        return check(schema, target, value, loc, out);
    }
    match value {
        Value::Object(obj) => check_object(schema, kw, obj, loc, out),
        Value::Array(items) => check_array(schema, kw, items, loc, out),
        Value::String(s) => {
            if let Some(re) = &kw.pattern {
                if !re.is_match(s) {
                    let (got, want) = (s.clone(), re.as_str().to_string());
                    fail(out, loc, Kind::Pattern { got, want });
                }
            }
        }
        Value::Number(n) => {
            let n = n.as_f64().unwrap_or(f64::NAN);
            if let Some(want) = kw.minimum.filter(|&m| n < m as f64) {
                fail(out, loc, Kind::Minimum { want });
            }
            if let Some(want) = kw.maximum.filter(|&m| n > m as f64) {
                fail(out, loc, Kind::Maximum { want });
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
    if !kw.one_of.is_empty() {
        check_one_of(schema, &kw.one_of, value, loc, out);
    }
}

fn check_object(
    schema: &Schema,
    kw: &Keywords,
    obj: &Map<String, Value>,
    loc: &mut Vec<String>,
    out: &mut Vec<Failure>,
) {
    let missing: Vec<String> = kw
        .required
        .iter()
        .filter(|name| !obj.contains_key(*name))
        .cloned()
        .collect();
    if !missing.is_empty() {
        fail(out, loc, Kind::Required { missing });
    }
    let mut refused = Vec::new();
    for (name, child) in obj {
        let mut evaluated = false;
        loc.push(name.clone());
        if let Some(&sub) = kw.properties.get(name) {
            evaluated = true;
            check(schema, sub, child, loc, out);
        }
        for (re, sub) in &kw.pattern_properties {
            if re.is_match(name) {
                evaluated = true;
                check(schema, *sub, child, loc, out);
            }
        }
        if !evaluated {
            match kw.additional_properties {
                Some(Additional::Allowed(false)) => refused.push(name.clone()),
                Some(Additional::Schema(sub)) => check(schema, sub, child, loc, out),
                Some(Additional::Allowed(true)) | None => {}
            }
        }
        loc.pop();
    }
    if !refused.is_empty() {
        fail(
            out,
            loc,
            Kind::AdditionalProperties {
                properties: refused,
            },
        );
    }
}

fn check_array(
    schema: &Schema,
    kw: &Keywords,
    items: &[Value],
    loc: &mut Vec<String>,
    out: &mut Vec<Failure>,
) {
    if kw.unique_items {
        if let Some((first, second)) = duplicates(items) {
            fail(out, loc, Kind::UniqueItems { first, second });
        }
    }
    if let Some(sub) = kw.items {
        for (i, item) in items.iter().enumerate() {
            loc.push(i.to_string());
            check(schema, sub, item, loc, out);
            loc.pop();
        }
    }
}

/// jsonschema's `oneOf`: the branches' failures are kept only while none has matched, and
/// reported only if none does; a second match is its own failure and stops the search.
fn check_one_of(
    schema: &Schema,
    branches: &[NodeId],
    value: &Value,
    loc: &mut Vec<String>,
    out: &mut Vec<Failure>,
) {
    let mut matched: Option<usize> = None;
    let mut causes = Vec::new();
    for (i, &branch) in branches.iter().enumerate() {
        let mut errs = Vec::new();
        check(schema, branch, value, loc, &mut errs);
        if !errs.is_empty() {
            if matched.is_none() {
                causes.extend(errs);
            }
        } else if let Some(first) = matched {
            return fail(out, loc, Kind::OneOfMultiple { first, second: i });
        } else {
            matched = Some(i);
        }
    }
    if matched.is_none() {
        out.extend(causes);
    }
}

fn fail(out: &mut Vec<Failure>, loc: &[String], kind: Kind) {
    out.push(Failure {
        location: loc.to_vec(),
        kind,
    });
}

/// jsonschema's type test: every number is a "number", and an "integer" when its value is
/// integral (so `1.0` is an integer, as Go's big.Rat says).
fn type_matches(want: Types, value: &Value) -> bool {
    match value {
        Value::Null => want.contains(Types::NULL),
        Value::Bool(_) => want.contains(Types::BOOLEAN),
        Value::Number(n) => {
            want.contains(Types::NUMBER) || (want.contains(Types::INTEGER) && is_integer(n))
        }
        Value::String(_) => want.contains(Types::STRING),
        Value::Array(_) => want.contains(Types::ARRAY),
        Value::Object(_) => want.contains(Types::OBJECT),
    }
}

fn is_integer(n: &serde_json::Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// jsonschema's `equals`: structural, with numbers compared by value (`1` equals `1.0`).
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| equal(a, b)))
        }
        _ => a == b,
    }
}

/// jsonschema's `duplicates`: the first item equal to an earlier one, with the earliest such
/// earlier one, as `(earlier, later)`.
fn duplicates(items: &[Value]) -> Option<(usize, usize)> {
    (1..items.len()).find_map(|i| {
        (0..i)
            .find(|&j| equal(&items[i], &items[j]))
            .map(|j| (j, i))
    })
}
