//! The compose schema turned into something cheap to validate with: every subschema becomes a
//! node of one arena, `$ref`s point at nodes, and the regexes of `pattern` and
//! `patternProperties` are compiled once.
//!
//! Only the keywords the Compose Specification schema uses are understood (draft-07 `type`,
//! `enum`, `$ref`, `properties`, `patternProperties`, `additionalProperties`, `items`, `oneOf`,
//! `required`, `minimum`, `maximum`, `uniqueItems`, `pattern`) plus the annotations it carries.
//! Any other keyword is refused when compiling rather than silently ignored, so a newer
//! compose-spec.json that starts using one fails the tests instead of validating less.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value};

/// An index into [`Schema::nodes`].
pub(super) type NodeId = usize;

/// The compiled schema: the arena and its root.
pub(super) struct Schema {
    pub nodes: Vec<Node>,
    pub root: NodeId,
}

pub(super) enum Node {
    /// `true` accepts anything, `false` nothing.
    Bool(bool),
    Keywords(Box<Keywords>),
}

/// The keywords of one schema object. In draft-07 a `$ref` makes its siblings ignored, which
/// jsonschema implements by compiling nothing else; `reference` set means the rest is empty.
#[derive(Default)]
pub(super) struct Keywords {
    pub reference: Option<NodeId>,
    pub types: Option<Types>,
    pub enumeration: Option<Vec<Value>>,
    pub properties: HashMap<String, NodeId>,
    pub pattern_properties: Vec<(Regex, NodeId)>,
    pub additional_properties: Option<Additional>,
    pub items: Option<NodeId>,
    pub one_of: Vec<NodeId>,
    pub required: Vec<String>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub unique_items: bool,
    pub pattern: Option<Regex>,
}

pub(super) enum Additional {
    Allowed(bool),
    Schema(NodeId),
}

/// JSON types as the `type` keyword names them, in jsonschema's order (its `Types.ToStrings`),
/// which is the order of `Want` in its type errors.
pub(super) const TYPE_NAMES: [&str; 7] = [
    "null", "boolean", "number", "integer", "string", "array", "object",
];

/// A set of JSON types, one bit per entry of [`TYPE_NAMES`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Types(pub u8);

impl Types {
    pub const NULL: u8 = 1 << 0;
    pub const BOOLEAN: u8 = 1 << 1;
    pub const NUMBER: u8 = 1 << 2;
    pub const INTEGER: u8 = 1 << 3;
    pub const STRING: u8 = 1 << 4;
    pub const ARRAY: u8 = 1 << 5;
    pub const OBJECT: u8 = 1 << 6;

    pub fn contains(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// The names of the types in the set, in jsonschema's order.
    pub fn names(self) -> Vec<&'static str> {
        TYPE_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, name)| *name)
            .collect()
    }
}

/// Keywords that only describe (or, for `definitions`, hold what `$ref` points at): accepted
/// and ignored by validation, as jsonschema does.
const ANNOTATIONS: [&str; 8] = [
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "default",
    "deprecated",
    "definitions",
];

/// Compiles the schema document `doc`, starting at its root.
pub(super) fn compile(doc: &Value) -> Result<Schema, String> {
    let mut compiler = Compiler {
        doc,
        nodes: Vec::new(),
        by_pointer: HashMap::new(),
    };
    let root = compiler.node("")?;
    Ok(Schema {
        nodes: compiler.nodes,
        root,
    })
}

struct Compiler<'d> {
    doc: &'d Value,
    nodes: Vec<Node>,
    /// Nodes already made, by their JSON pointer in the document, so every `$ref` to one
    /// definition shares a node (and a definition that refers to itself terminates).
    by_pointer: HashMap<String, NodeId>,
}

impl Compiler<'_> {
    /// The node for the subschema at JSON pointer `ptr` ("" is the root).
    fn node(&mut self, ptr: &str) -> Result<NodeId, String> {
        if let Some(&id) = self.by_pointer.get(ptr) {
            return Ok(id);
        }
        let value = self
            .doc
            .pointer(ptr)
            .ok_or_else(|| format!("{ptr:?}: no such location in the schema"))?;
        let id = self.nodes.len();
        // Reserved before compiling the keywords so that a cycle through `$ref` finds it.
        self.nodes.push(Node::Bool(true));
        self.by_pointer.insert(ptr.to_string(), id);
        let node = match value {
            Value::Bool(b) => Node::Bool(*b),
            Value::Object(obj) => Node::Keywords(Box::new(self.keywords(ptr, obj)?)),
            other => {
                return Err(format!(
                    "{ptr:?}: a schema must be an object or a bool, not {other}"
                ))
            }
        };
        self.nodes[id] = node;
        Ok(id)
    }

    fn keywords(&mut self, ptr: &str, obj: &Map<String, Value>) -> Result<Keywords, String> {
        let mut kw = Keywords::default();
        let at = |key: &str| format!("{ptr}/{}", escape(key));
        for (key, value) in obj {
            let bad = || format!("{}: unexpected value {value}", at(key));
            match key.as_str() {
                "$ref" => {
                    let target = value.as_str().ok_or_else(bad)?;
                    // compose-spec.json only refers inside itself, by fragment.
                    let fragment = target.strip_prefix('#').ok_or_else(bad)?;
                    kw.reference = Some(self.node(fragment)?);
                }
                "type" => kw.types = Some(types(value).ok_or_else(bad)?),
                "enum" => kw.enumeration = Some(value.as_array().ok_or_else(bad)?.clone()),
                "properties" => {
                    for (name, _) in value.as_object().ok_or_else(bad)? {
                        let child = self.node(&format!("{}/{}", at(key), escape(name)))?;
                        kw.properties.insert(name.clone(), child);
                    }
                }
                "patternProperties" => {
                    for (pattern, _) in value.as_object().ok_or_else(bad)? {
                        let re = regex(pattern).map_err(|e| format!("{}: {e}", at(key)))?;
                        let child = self.node(&format!("{}/{}", at(key), escape(pattern)))?;
                        kw.pattern_properties.push((re, child));
                    }
                }
                "additionalProperties" => {
                    kw.additional_properties = Some(match value {
                        Value::Bool(b) => Additional::Allowed(*b),
                        _ => Additional::Schema(self.node(&at(key))?),
                    })
                }
                // The list form of `items` (a tuple) is not used by the compose schema.
                "items" if !value.is_array() => kw.items = Some(self.node(&at(key))?),
                "oneOf" => {
                    let branches = value.as_array().ok_or_else(bad)?;
                    for i in 0..branches.len() {
                        kw.one_of.push(self.node(&format!("{}/{i}", at(key)))?);
                    }
                }
                "required" => {
                    for name in value.as_array().ok_or_else(bad)? {
                        kw.required.push(name.as_str().ok_or_else(bad)?.to_string());
                    }
                }
                // Integral bounds only: compose-go prints them as integers (big.Rat's Num()),
                // and a fractional one would need that printing reproduced.
                "minimum" => kw.minimum = Some(value.as_i64().ok_or_else(bad)?),
                "maximum" => kw.maximum = Some(value.as_i64().ok_or_else(bad)?),
                "uniqueItems" => kw.unique_items = value.as_bool().ok_or_else(bad)?,
                "pattern" => {
                    let source = value.as_str().ok_or_else(bad)?;
                    kw.pattern = Some(regex(source).map_err(|e| format!("{}: {e}", at(key)))?);
                }
                k if ANNOTATIONS.contains(&k) => {}
                _ => {
                    return Err(format!(
                        "{}: keyword not supported by berth's validator",
                        at(key)
                    ))
                }
            }
        }
        if kw.reference.is_some() {
            // draft-07: "All other properties in a "$ref" object MUST be ignored".
            let reference = kw.reference;
            kw = Keywords {
                reference,
                ..Keywords::default()
            };
        }
        Ok(kw)
    }
}

/// `type`: one name or a list of names.
fn types(value: &Value) -> Option<Types> {
    let one = |name: &Value| {
        let name = name.as_str()?;
        let i = TYPE_NAMES.iter().position(|t| *t == name)?;
        Some(1u8 << i)
    };
    let bits = match value {
        Value::Array(names) => names.iter().try_fold(0, |acc, n| Some(acc | one(n)?))?,
        single => one(single)?,
    };
    (bits != 0).then_some(Types(bits))
}

/// The schema's regexes are Go's (RE2 syntax, unanchored unless they say `^`/`$`), which the
/// `regex` crate reads the same way for the patterns compose uses.
fn regex(source: &str) -> Result<Regex, regex::Error> {
    Regex::new(source)
}

/// A key as a JSON pointer token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
