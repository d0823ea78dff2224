//! `go_struct!`: declares a compose-go struct once and derives from that one declaration its
//! decoding from the canonical map, its Go marshalling (JSON and YAML trees) and its `Serialize`.
//!
//! Written as a macro rather than with serde's derive because the derive has one set of field
//! names and skip rules while the Go structs have two (`json:` and `yaml:` tags), because
//! `#[serde(flatten)]` (the usual way to collect `x-` keys) buffers the map and loses the error
//! paths that `serde_path_to_error` reports, and because `deny_unknown_fields` cannot coexist with
//! extensions.
//!
//! Each field is `"key" name: Type => mode`, where mode says what the Go tags say:
//! - `omitempty`: `json:",omitempty"` and `yaml:",omitempty"`;
//! - `always`: neither tag has omitempty;
//! - `json_always`: omitempty in YAML only (ShellCommand's `command`/`entrypoint`);
//! - `hidden`: decoded from the map, `json:"-"` and never written in YAML (ServiceConfig.name);
//! - `internal`: not in the map at all (`yaml:"-" json:"-"`, e.g. CustomLabels).
//!
//! Prefixed with `custom;`, the type writes its own `GoMarshal` and `Decode` (for a Go
//! `MarshalJSON` or `DecodeMapstructure`) on top of the generated `go_fields`/`visit_fields`.
//!
//! A trailing `..extensions` adds compose-go's inline `Extensions`: `x-` keys (and a
//! `#extensions` map, the form compose-go's loader moves them into) are kept there, left out of
//! JSON (`json:"-"`) and inlined, sorted, at the end of the YAML mapping. Without it `x-` keys are
//! accepted and dropped, as compose-go's mapstructure decode drops them. So is any other key
//! the struct lacks: mapstructure runs without `ErrorUnused`, and the schema has refused the
//! keys the Compose Specification lacks before, so what is left are keys the spec has and
//! compose-go's types do not (`networks.*.ipam.options`), which docker compose drops.

macro_rules! go_struct {
    (@json_skip omitempty, $v:expr) => { $crate::compose::types::node::GoMarshal::is_empty(&$v, $crate::compose::types::node::Format::Json) };
    (@json_skip always, $v:expr) => { false };
    (@json_skip json_always, $v:expr) => { false };
    (@json_skip hidden, $v:expr) => { true };
    (@json_skip internal, $v:expr) => { true };
    (@yaml_skip omitempty, $v:expr) => { $crate::compose::types::node::GoMarshal::is_empty(&$v, $crate::compose::types::node::Format::Yaml) };
    (@yaml_skip always, $v:expr) => { false };
    (@yaml_skip json_always, $v:expr) => { $crate::compose::types::node::GoMarshal::is_empty(&$v, $crate::compose::types::node::Format::Yaml) };
    (@yaml_skip hidden, $v:expr) => { true };
    (@yaml_skip internal, $v:expr) => { true };
    (@decodes internal) => { false };
    (@decodes $other:ident) => { true };

    (@traits derive $name:ident) => {
        impl $crate::compose::types::node::GoMarshal for $name {
            fn marshal(
                &self,
                f: $crate::compose::types::node::Format,
            ) -> $crate::compose::types::node::Node {
                self.go_fields(f)
            }
            fn is_empty(&self, f: $crate::compose::types::node::Format) -> bool {
                self.go_zero(f)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $name::decode_fields(d)
            }
        }

        $crate::compose::types::decode::decode_via_serde!($name);
    };
    // The type writes its own `GoMarshal` and `Decode` (a Go MarshalJSON/DecodeMapstructure).
    (@traits custom $name:ident) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$name as $crate::compose::types::decode::Decode>::decode(d)
            }
        }
    };

    (custom; $($rest:tt)*) => { go_struct!(@def custom $($rest)*); };

    (@def $kind:ident
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $key:literal $field:ident : $ty:ty => $mode:ident
            ),* $(,)?
            $(.. $ext:ident)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            $(
                /// `x-` keys of this mapping (compose-go's inline `Extensions`).
                pub $ext: $crate::compose::types::Extensions,
            )?
        }

        impl $name {
            /// The struct as Go's encoder of `f` writes it field by field.
            #[allow(dead_code)]
            fn go_fields(
                &self,
                f: $crate::compose::types::node::Format,
            ) -> $crate::compose::types::node::Node {
                use $crate::compose::types::node::{Format, GoMarshal, Node};
                let mut m: Vec<(String, Node)> = Vec::new();
                $(
                    let skip = match f {
                        Format::Json => go_struct!(@json_skip $mode, self.$field),
                        Format::Yaml => go_struct!(@yaml_skip $mode, self.$field),
                    };
                    if !skip {
                        m.push(($key.to_string(), GoMarshal::marshal(&self.$field, f)));
                    }
                )*
                $(
                    if f == Format::Yaml {
                        m.extend($crate::compose::types::mapping::yaml_inline(&self.$ext));
                    }
                )?
                Node::Struct(m)
            }

            /// encoding/json never omits a struct; go-yaml does when every field is zero.
            #[allow(dead_code)]
            fn go_zero(&self, f: $crate::compose::types::node::Format) -> bool {
                use $crate::compose::types::node::{Format, GoMarshal};
                f == Format::Yaml
                    $( && GoMarshal::is_empty(&self.$field, Format::Yaml) )*
                    $( && self.$ext.is_empty() )?
            }

            /// Decodes the struct from a mapping (null is the zero struct).
            #[allow(dead_code)]
            fn decode_fields<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("a mapping (", stringify!($name), ")"))
                    }
                    fn visit_unit<E: serde::de::Error>(self) -> Result<$name, E> {
                        Ok($name::default())
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$name, A::Error> {
                        $name::visit_fields(map)
                    }
                }
                d.deserialize_any(V)
            }

            /// Decodes the struct's keys from a mapping; keys match case-insensitively as
            /// mapstructure's do.
            #[allow(unused_mut, dead_code)]
            fn visit_fields<'de, A: serde::de::MapAccess<'de>>(
                mut map: A,
            ) -> Result<Self, A::Error> {
                use $crate::compose::types::decode::Dec;
                let mut out = $name::default();
                while let Some(k) = map.next_key::<String>()? {
                    $(
                        if go_struct!(@decodes $mode) && k.eq_ignore_ascii_case($key) {
                            out.$field = map.next_value::<Dec<$ty>>()?.0;
                            continue;
                        }
                    )*
                    if k.starts_with("x-") || k == "#extensions" {
                        let v: serde_json::Value = map.next_value()?;
                        let slot: Option<&mut $crate::compose::types::Extensions> =
                            None $( .or(Some(&mut out.$ext)) )?;
                        if let Some(ext) = slot {
                            $crate::compose::types::mapping::put_extension(ext, k, v);
                        }
                        continue;
                    }
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(out)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use $crate::compose::types::node::{Format, GoMarshal};
                self.marshal(Format::Json).serialize(s)
            }
        }

        go_struct!(@traits $kind $name);
    };

    ($($rest:tt)*) => { go_struct!(@def derive $($rest)*); };
}
