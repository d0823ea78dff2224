//! compose-go's map and list types (types/mapping.go, labels.go, options.go, stringOrList.go,
//! hostList.go): each accepts the list form and the map form the compose spec allows and keeps
//! what compose-go keeps, so that `environment: [A=1, B]` and `{A: 1, B: null}` mean the same.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};

use super::decode::{Decode, ListOrMap, Scalar};
use super::node::{Format, GoMarshal, Node};
use super::yaml_out::yaml_key_less;

/// compose-go's `Extensions`: the `x-` keys of a mapping, values as the loader produced them.
pub type Extensions = BTreeMap<String, serde_json::Value>;

/// Stores an `x-` key, or the keys of a `#extensions` map (compose-go's own spelling of them
/// after `processExtensions`).
pub fn put_extension(ext: &mut Extensions, key: String, value: serde_json::Value) {
    match (key.as_str(), value) {
        ("#extensions", serde_json::Value::Object(m)) => ext.extend(m),
        ("#extensions", _) => {}
        (_, v) => {
            ext.insert(key, v);
        }
    }
}

/// Extensions as go-yaml inlines them: after the struct's fields, in go-yaml's key order.
pub fn yaml_inline(ext: &Extensions) -> Vec<(String, Node)> {
    let mut v: Vec<(String, Node)> = ext
        .iter()
        .map(|(k, v)| (k.clone(), v.marshal(Format::Yaml)))
        .collect();
    v.sort_by(|a, b| yaml_key_less(&a.0, &b.0));
    v
}

/// A newtype over a map or list, with `Deref` to it so it reads like the Go type.
macro_rules! newtype {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name(pub $inner);
        impl std::ops::Deref for $name {
            type Target = $inner;
            fn deref(&self) -> &$inner {
                &self.0
            }
        }
        impl std::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut $inner {
                &mut self.0
            }
        }
        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                $name(v)
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.marshal(Format::Json).serialize(s)
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$name as Decode>::decode(d)
            }
        }
    };
}
pub(crate) use newtype;

/// Marshalled as the map it wraps.
macro_rules! marshal_inner {
    ($($name:ident),*) => {$(
        impl GoMarshal for $name {
            fn marshal(&self, f: Format) -> Node {
                self.0.marshal(f)
            }
            fn is_empty(&self, f: Format) -> bool {
                GoMarshal::is_empty(&self.0, f)
            }
        }
    )*};
}

newtype!(
    /// `KEY=value` pairs where a bare `KEY` (or a null value) means "unset here" (None), as
    /// `environment` and build `args`.
    MappingWithEquals(BTreeMap<String, Option<String>>)
);
newtype!(
    /// `KEY=value` pairs where a bare `KEY` or a null value is "" (sysctls, annotations…).
    Mapping(BTreeMap<String, String>)
);
newtype!(
    /// Labels: as [`Mapping`], list items split at the first `=`.
    Labels(BTreeMap<String, String>)
);
newtype!(
    /// Options passed as they are to a driver (driver_opts, logging options): a map only.
    Options(BTreeMap<String, String>)
);
newtype!(
    /// Options that may repeat (provider options): a scalar or a list per key.
    MultiOptions(BTreeMap<String, Vec<String>>)
);
newtype!(
    /// A string or a list of strings.
    StringList(Vec<String>)
);
newtype!(
    /// A string or a list of strings and numbers (numbers kept as their text).
    StringOrNumberList(Vec<String>)
);
newtype!(
    /// extra_hosts: host → addresses, from `host=ip`/`host:ip` items or a map (a value may be a
    /// list); written as sorted `host=ip` items.
    HostsList(BTreeMap<String, Vec<String>>)
);
marshal_inner!(
    MappingWithEquals,
    Mapping,
    Labels,
    Options,
    MultiOptions,
    StringList,
    StringOrNumberList
);

/// compose-go's `mappingValue`/`labelValue`: strings as they are, other scalars as `fmt.Sprint`.
fn scalar_text(v: Scalar) -> Option<String> {
    match v {
        Scalar::Null => None,
        Scalar::Str(s) => Some(s),
        other => Some(other.sprint()),
    }
}

impl Decode for MappingWithEquals {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = BTreeMap::new();
        match ListOrMap::decode(d)? {
            ListOrMap::Map(m) => {
                for (k, v) in m {
                    out.insert(k, scalar_text(v));
                }
            }
            ListOrMap::List(items) => {
                for item in items {
                    let s = item.sprint();
                    let (k, v) = match s.split_once('=') {
                        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                        None => (s.clone(), None),
                    };
                    if k.ends_with(char::is_whitespace) {
                        return Err(de::Error::custom(format!(
                            "environment variable {k} is declared with a trailing space"
                        )));
                    }
                    out.insert(k, v);
                }
            }
        }
        Ok(MappingWithEquals(out))
    }
}

/// `Mapping.DecodeMapstructure` (and `Labels`, which differs only in naming).
fn decode_mapping<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let mut out = BTreeMap::new();
    match ListOrMap::decode(d)? {
        ListOrMap::Map(m) => {
            for (k, v) in m {
                out.insert(k, scalar_text(v).unwrap_or_default());
            }
        }
        ListOrMap::List(items) => {
            for item in items {
                let s = item.sprint();
                let (k, v) = s.split_once('=').unwrap_or((&s, ""));
                out.insert(k.to_owned(), v.to_owned());
            }
        }
    }
    Ok(out)
}

impl Decode for Mapping {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decode_mapping(d).map(Mapping)
    }
}

impl Decode for Labels {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decode_mapping(d).map(Labels)
    }
}

impl Decode for Options {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match ListOrMap::decode(d)? {
            ListOrMap::Map(m) => Ok(Options(
                m.into_iter()
                    .map(|(k, v)| (k, scalar_text(v).unwrap_or_default()))
                    .collect(),
            )),
            ListOrMap::List(_) => Err(de::Error::custom("invalid type list for options")),
        }
    }
}

impl Decode for MultiOptions {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, serde_json::Value>::decode(d)?;
        let mut out = BTreeMap::new();
        for (k, v) in m {
            let items = match v {
                serde_json::Value::Array(a) => a.into_iter().map(json_sprint).collect(),
                other => vec![json_sprint(other)],
            };
            out.insert(k, items);
        }
        Ok(MultiOptions(out))
    }
}

/// `fmt.Sprint` of a decoded JSON value.
fn json_sprint(v: serde_json::Value) -> String {
    use serde_json::Value as V;
    match v {
        V::Null => "<nil>".into(),
        V::Bool(b) => b.to_string(),
        V::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => super::gofloat::format_g(n.as_f64().unwrap_or(0.0), 64),
        },
        V::String(s) => s,
        other => other.to_string(),
    }
}

impl Decode for StringList {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::decode(d)? {
            serde_json::Value::String(s) => Ok(StringList(vec![s])),
            serde_json::Value::Array(a) => a
                .into_iter()
                .map(|e| match e {
                    serde_json::Value::String(s) => Ok(s),
                    other => Err(de::Error::custom(format!(
                        "invalid type {other} in string list"
                    ))),
                })
                .collect::<Result<_, _>>()
                .map(StringList),
            other => Err(de::Error::custom(format!(
                "invalid type {other} for string list"
            ))),
        }
    }
}

impl Decode for StringOrNumberList {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::decode(d)? {
            serde_json::Value::String(s) => Ok(StringOrNumberList(vec![s])),
            serde_json::Value::Array(a) => {
                Ok(StringOrNumberList(a.into_iter().map(json_sprint).collect()))
            }
            other => Err(de::Error::custom(format!(
                "invalid type {other} for string list"
            ))),
        }
    }
}

impl HostsList {
    /// `host<sep>ip` items (`AsList`), sorted as compose-go marshals them.
    pub fn as_list(&self, sep: &str) -> Vec<String> {
        let mut l: Vec<String> = self
            .0
            .iter()
            .flat_map(|(h, ips)| ips.iter().map(move |ip| format!("{h}{sep}{ip}")))
            .collect();
        l.sort();
        l
    }

    /// compose-go's `cleanup`: a host name is required and may not hold a separator; IPv6
    /// brackets are removed.
    fn cleanup(mut self) -> Result<Self, String> {
        for (host, ips) in self.0.iter_mut() {
            if host.is_empty() || host.contains([':', '=']) {
                return Err(format!("bad host name '{host}'"));
            }
            for ip in ips.iter_mut() {
                if ip.len() > 2 && ip.starts_with('[') && ip.ends_with(']') {
                    *ip = ip[1..ip.len() - 1].to_owned();
                }
            }
        }
        Ok(self)
    }
}

impl Decode for HostsList {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut list = BTreeMap::<String, Vec<String>>::new();
        match serde_json::Value::decode(d)? {
            serde_json::Value::Object(m) => {
                for (host, v) in m {
                    let ips = match v {
                        serde_json::Value::Null => vec![String::new()],
                        serde_json::Value::String(s) => vec![s],
                        serde_json::Value::Array(a) => a.into_iter().map(json_sprint).collect(),
                        _ => {
                            return Err(de::Error::custom(
                                "unexpected value type for extra_hosts entry",
                            ))
                        }
                    };
                    list.insert(host, ips);
                }
            }
            serde_json::Value::Array(a) => {
                for item in a {
                    let s = json_sprint(item);
                    // "=" is tried first so that IPv6 addresses survive in `host=::1`.
                    let (host, ips) =
                        s.split_once('=')
                            .or_else(|| s.split_once(':'))
                            .ok_or_else(|| {
                                de::Error::custom(format!(
                                    "invalid additional host, missing IP: {s}"
                                ))
                            })?;
                    list.entry(host.to_owned())
                        .or_default()
                        .extend(ips.split(',').map(str::to_owned));
                }
            }
            other => {
                return Err(de::Error::custom(format!(
                    "unexpected value type {other} for extra_hosts"
                )))
            }
        }
        HostsList(list).cleanup().map_err(de::Error::custom)
    }
}

impl GoMarshal for HostsList {
    fn marshal(&self, _: Format) -> Node {
        Node::Seq(self.as_list("=").into_iter().map(Node::Str).collect())
    }
    fn is_empty(&self, _: Format) -> bool {
        self.0.is_empty()
    }
}
