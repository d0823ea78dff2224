//! The ordered value tree every compose type is marshalled into before it is written out, and
//! the [`GoMarshal`] trait that builds it.
//!
//! compose-go's structs carry two sets of Go tags (`json:` and `yaml:`) that differ in places
//! (extensions are `json:"-"` but inlined in YAML, `command` is `omitempty` only in YAML, a zero
//! struct is omitted by go-yaml but never by encoding/json), and both encoders have their own
//! custom marshallers. One tree per [`Format`] keeps that in one place per type: the JSON writer
//! ([`super::gojson`]) and the YAML emitter ([`super::yaml_out`]) only print trees.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// Which Go encoder a tree is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// encoding/json, with the `json:` tags and `MarshalJSON` methods.
    Json,
    /// go.yaml.in/yaml/v3, with the `yaml:` tags and `MarshalYAML` methods.
    Yaml,
}

/// A marshalled value, in the order the Go encoder writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    /// A Go float32 (formatted with 32-bit shortest digits).
    F32(f32),
    F64(f64),
    Str(String),
    Seq(Vec<Node>),
    /// A Go struct: fields in declaration order.
    Struct(Vec<(String, Node)>),
    /// A Go map: entries sorted by key bytes (encoding/json's order); the YAML emitter re-sorts
    /// them the way go-yaml does.
    Map(Vec<(String, Node)>),
}

/// A type marshalled the way compose-go's Go type is.
pub trait GoMarshal {
    /// The tree the Go encoder of `f` would write for this value.
    fn marshal(&self, f: Format) -> Node;
    /// Whether a field of this type tagged `omitempty` is left out: encoding/json's
    /// `isEmptyValue` (a struct never is) or go-yaml's `isZero` (a struct is when all its fields
    /// are).
    fn is_empty(&self, f: Format) -> bool;
}

impl GoMarshal for String {
    fn marshal(&self, _: Format) -> Node {
        Node::Str(self.clone())
    }
    fn is_empty(&self, _: Format) -> bool {
        str::is_empty(self)
    }
}

impl GoMarshal for bool {
    fn marshal(&self, _: Format) -> Node {
        Node::Bool(*self)
    }
    fn is_empty(&self, _: Format) -> bool {
        !*self
    }
}

macro_rules! int_marshal {
    ($($t:ty => $v:ident),*) => {$(
        impl GoMarshal for $t {
            fn marshal(&self, _: Format) -> Node {
                Node::$v((*self).into())
            }
            fn is_empty(&self, _: Format) -> bool {
                *self == 0
            }
        }
    )*};
}
int_marshal!(i64 => Int, i32 => Int, u64 => Uint, u32 => Uint, u16 => Uint);

impl GoMarshal for f32 {
    fn marshal(&self, _: Format) -> Node {
        Node::F32(*self)
    }
    fn is_empty(&self, _: Format) -> bool {
        *self == 0.0
    }
}

impl<T: GoMarshal> GoMarshal for Option<T> {
    fn marshal(&self, f: Format) -> Node {
        match self {
            Some(v) => v.marshal(f),
            None => Node::Null,
        }
    }
    fn is_empty(&self, _: Format) -> bool {
        self.is_none()
    }
}

impl<T: GoMarshal> GoMarshal for Vec<T> {
    fn marshal(&self, f: Format) -> Node {
        Node::Seq(self.iter().map(|v| v.marshal(f)).collect())
    }
    fn is_empty(&self, _: Format) -> bool {
        Vec::is_empty(self)
    }
}

impl<T: GoMarshal> GoMarshal for BTreeMap<String, T> {
    fn marshal(&self, f: Format) -> Node {
        Node::Map(
            self.iter()
                .map(|(k, v)| (k.clone(), v.marshal(f)))
                .collect(),
        )
    }
    fn is_empty(&self, _: Format) -> bool {
        BTreeMap::is_empty(self)
    }
}

/// Extension values are kept as the loader gave them; numbers stay integers when they are.
impl GoMarshal for serde_json::Value {
    fn marshal(&self, _: Format) -> Node {
        value_node(self)
    }
    fn is_empty(&self, _: Format) -> bool {
        self.is_null()
    }
}

/// A JSON value as the Go `any` it would be after YAML decoding (same in both formats).
fn value_node(v: &serde_json::Value) -> Node {
    use serde_json::Value as V;
    match v {
        V::Null => Node::Null,
        V::Bool(b) => Node::Bool(*b),
        V::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Node::Int(i),
            (None, Some(u)) => Node::Uint(u),
            _ => Node::F64(n.as_f64().unwrap_or(0.0)),
        },
        V::String(s) => Node::Str(s.clone()),
        V::Array(a) => Node::Seq(a.iter().map(value_node).collect()),
        V::Object(o) => Node::Map(o.iter().map(|(k, v)| (k.clone(), value_node(v))).collect()),
    }
}

/// serde view of a tree, so [`super::gojson::to_go_json`] can write any `Serialize` value and
/// the model types can be serialized by other serde users in their JSON shape.
impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Int(i) => s.serialize_i64(*i),
            Node::Uint(u) => s.serialize_u64(*u),
            Node::F32(v) => s.serialize_f32(*v),
            Node::F64(v) => s.serialize_f64(*v),
            Node::Str(v) => s.serialize_str(v),
            Node::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Node::Struct(entries) | Node::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}
