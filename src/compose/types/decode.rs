//! Decoding the canonical map with the leniency of compose-go's mapstructure hooks
//! (loader/mapstructure.go `decoderHook` + `cast`, loader/interpolate.go `toBoolean`…): after
//! interpolation every scalar may be a string, so `"true"`, `"5"`, `"0.5"` decode into booleans
//! and numbers, and integers decode into strings.
//!
//! Every field is decoded through [`Decode`] (wrapped in [`Dec`] to reach serde) rather than
//! plain `Deserialize`, because the std types' own impls are strict and serde allows one impl per
//! type. Each value is decoded straight from the deserializer (never via an intermediate
//! `Value`), so `serde_path_to_error` sees where an error happened.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::gofloat::format_g;

/// A type decoded from the canonical map as compose-go's mapstructure decode does.
pub trait Decode: Sized {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// serde's door to [`Decode`].
pub struct Dec<T>(pub T);

impl<'de, T: Decode> Deserialize<'de> for Dec<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::decode(d).map(Dec)
    }
}

/// `Decode` for a type whose `Deserialize` already is the compose-go decoding.
macro_rules! decode_via_serde {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::compose::types::decode::Decode for $t {
            fn decode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$t as serde::Deserialize>::deserialize(d)
            }
        }
    )*};
}
pub(crate) use decode_via_serde;

decode_via_serde!(serde_json::Value);

/// A scalar as any value the canonical map can hold, for the hooks that accept several kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
}

impl Scalar {
    /// Go's `fmt.Sprint` of the value (what compose-go's hooks apply to non-strings).
    pub fn sprint(&self) -> String {
        match self {
            Scalar::Null => "<nil>".into(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Uint(u) => u.to_string(),
            Scalar::Float(f) => format_g(*f, 64),
            Scalar::Str(s) => s.clone(),
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number, boolean or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(i64::try_from(v).map_or(Scalar::Uint(v), Scalar::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }
}

impl Decode for Scalar {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// compose-go's `toBoolean`: YAML 1.2 booleans plus the YAML 1.1 words it still accepts
/// (with a warning in compose-go), case-insensitively.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "y" | "yes" | "on" => Some(true),
        "false" | "n" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl Decode for bool {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Scalar::decode(d)? {
            Scalar::Bool(b) => Ok(b),
            Scalar::Str(s) => {
                parse_bool(&s).ok_or_else(|| de::Error::custom(format!("invalid boolean: {s}")))
            }
            other => Err(de::Error::custom(format!(
                "expected a boolean, got {}",
                other.sprint()
            ))),
        }
    }
}

/// An integer from a number (a float only when it has no fraction, as YAML may give `2.0`) or
/// from a decimal string (`strconv.ParseInt(s, 10, 64)`).
pub fn scalar_to_i128(v: &Scalar) -> Result<i128, String> {
    match v {
        Scalar::Int(i) => Ok(i128::from(*i)),
        Scalar::Uint(u) => Ok(i128::from(*u)),
        Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.3e18 => Ok(*f as i128),
        Scalar::Str(s) => s
            .parse::<i128>()
            .ok()
            .ok_or_else(|| format!("invalid integer {}", berth_engine::util::go::quote(s))),
        other => Err(format!("expected an integer, got {}", other.sprint())),
    }
}

macro_rules! int_decode {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = Scalar::decode(d)?;
                let i = scalar_to_i128(&v).map_err(de::Error::custom)?;
                <$t>::try_from(i).map_err(|_| {
                    de::Error::custom(format!("integer {} out of range", v.sprint()))
                })
            }
        }
    )*};
}
int_decode!(i64, i32, u64, u32, u16);

impl Decode for f32 {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        scalar_to_f64(&Scalar::decode(d)?)
            .map(|f| f as f32)
            .map_err(de::Error::custom)
    }
}

/// A float from a number or from a string (`strconv.ParseFloat`).
pub fn scalar_to_f64(v: &Scalar) -> Result<f64, String> {
    match v {
        Scalar::Int(i) => Ok(*i as f64),
        Scalar::Uint(u) => Ok(*u as f64),
        Scalar::Float(f) => Ok(*f),
        Scalar::Str(s) => s
            .trim_start_matches('+')
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| format!("invalid number {}", berth_engine::util::go::quote(s))),
        other => Err(format!("expected a number, got {}", other.sprint())),
    }
}

/// Strings, and integers as their decimal text (mapstructure's `cast` hook).
impl Decode for String {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Scalar::decode(d)? {
            Scalar::Str(s) => Ok(s),
            Scalar::Int(i) => Ok(i.to_string()),
            Scalar::Uint(u) => Ok(u.to_string()),
            other => Err(de::Error::custom(format!(
                "expected a string, got {}",
                other.sprint()
            ))),
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<Dec<T>>::deserialize(d).map(|o| o.map(|v| v.0))
    }
}

struct SeqVisitor<T>(PhantomData<T>);

impl<'de, T: Decode> Visitor<'de> for SeqVisitor<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(Dec(v)) = seq.next_element::<Dec<T>>()? {
            out.push(v);
        }
        Ok(out)
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SeqVisitor(PhantomData))
    }
}

struct MapVisitor<T>(PhantomData<T>);

impl<'de, T: Decode> Visitor<'de> for MapVisitor<T> {
    type Value = BTreeMap<String, T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(k) = map.next_key::<String>()? {
            let Dec(v) = map.next_value::<Dec<T>>()?;
            out.insert(k, v);
        }
        Ok(out)
    }
}

impl<T: Decode> Decode for BTreeMap<String, T> {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MapVisitor(PhantomData))
    }
}

/// A list or a mapping of scalars, the two shapes most compose-go hooks accept.
pub enum ListOrMap {
    List(Vec<Scalar>),
    Map(Vec<(String, Scalar)>),
}

struct ListOrMapVisitor<V>(PhantomData<V>);

impl<'de> Visitor<'de> for ListOrMapVisitor<Scalar> {
    type Value = ListOrMap;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list or a mapping")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ListOrMap, A::Error> {
        let mut out = Vec::new();
        while let Some(Dec(v)) = seq.next_element::<Dec<Scalar>>()? {
            out.push(v);
        }
        Ok(ListOrMap::List(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListOrMap, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            let Dec(v) = map.next_value::<Dec<Scalar>>()?;
            out.push((k, v));
        }
        Ok(ListOrMap::Map(out))
    }
}

impl Decode for ListOrMap {
    fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListOrMapVisitor(PhantomData))
    }
}
