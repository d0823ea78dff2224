//! Go's `null` rule for request bodies.
//!
//! dockerd decodes every request body (container create with its Config, HostConfig and
//! NetworkingConfig, exec, update, volume and network bodies, auth, the JSON in build queries) with
//! Go's encoding/json, where `null` means "leave the zero value": `""`, `0`, `false`, an empty
//! list, map or struct, a nil pointer. Clients rely on it: docker-compose 1.29 (docker-py) sends
//! `"Healthcheck": {"Test": [...], "Interval": null, "Timeout": null, ...}`, and other clients send
//! `"Labels": null`, `"Env": null` or `"ExposedPorts": {"80/tcp": null}`. serde only accepts
//! `null` for `Option` and `serde_json::Value`, so the request types say where Go's rule applies:
//!
//! - the type is `#[serde(default)]`, so an absent field is the zero value;
//! - a field that is not an `Option` (where null is already None, nil in Go) or a `Value` takes
//!   `#[serde(deserialize_with = "null_as_default")]`, so null is the zero value too;
//! - a map takes `null_values_as_default`: Go keeps the key of a null value with the zero value
//!   (`{"a": null}` is the label `a=""`); a set (`ExposedPorts`) takes `null_or_key_set`
//!   (`{"80/tcp": null}` exposes the port);
//! - a list whose null elements docker keeps (a StrSlice such as `Cmd`) reads them as [`Zero`];
//! - a flattened `extra` map (fields the engine keeps without modelling them) takes
//!   `fields_without_nulls`: they are struct fields in Go, where null and absent are the same;
//! - bodies and parts read as a `serde_json::Value` (network create and connect, `PortBindings`,
//!   `NetworkingConfig`, DNS options) treat null as absent where they read it (`as_str`,
//!   `as_object`, ...), and typed parts of them (`Mounts`, `Tmpfs`) decode with these helpers.
//!
//! Only `null` is forgiven: a value of the wrong type is still a 400, as it is for dockerd.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Deserializer};

/// `null` → `T::default()`, Go's zero value.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A map: `null` → empty; a `null` value keeps its key and becomes `V::default()`.
pub fn null_values_as_default<'de, D, M, K, V>(d: D) -> Result<M, D::Error>
where
    D: Deserializer<'de>,
    M: Default + FromIterator<(K, V)>,
    K: Deserialize<'de> + Eq + Hash,
    V: Default + Deserialize<'de>,
{
    let map = Option::<HashMap<K, Zero<V>>>::deserialize(d)?;
    Ok(map
        .map(|m| m.into_iter().map(|(k, Zero(v))| (k, v)).collect())
        .unwrap_or_default())
}

/// Go's `map[string]struct{}` (`ExposedPorts`, `Volumes`): `null` → None; each key's value is
/// `{}`, whether the client sent an object or `null` (docker-py sends `{}`, others `null`).
pub fn null_or_key_set<'de, D>(d: D) -> Result<Option<HashMap<String, serde_json::Value>>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Default, Deserialize)]
    struct Empty {}
    let set = Option::<HashMap<String, Zero<Empty>>>::deserialize(d)?;
    Ok(set.map(|m| {
        m.into_keys()
            .map(|k| (k, serde_json::Value::Object(Default::default())))
            .collect()
    }))
}

/// Fields kept as JSON without a model (a flattened `extra`): null ones are dropped, as absent.
pub fn fields_without_nulls<'de, D>(
    d: D,
) -> Result<serde_json::Map<String, serde_json::Value>, D::Error>
where
    D: Deserializer<'de>,
{
    let mut fields = serde_json::Map::deserialize(d)?;
    fields.retain(|_, v| !v.is_null());
    Ok(fields)
}

/// A value where `null` is `T::default()`: the element type of lists and maps that follow Go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Zero<T>(pub T);

impl<'de, T: Default + Deserialize<'de>> Deserialize<'de> for Zero<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        null_as_default(d).map(Zero)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(rename_all = "PascalCase", default)]
    struct Sample {
        #[serde(deserialize_with = "null_as_default")]
        name: String,
        #[serde(deserialize_with = "null_as_default")]
        count: i64,
        #[serde(deserialize_with = "null_values_as_default")]
        labels: BTreeMap<String, String>,
        #[serde(flatten, deserialize_with = "fields_without_nulls")]
        extra: serde_json::Map<String, serde_json::Value>,
    }

    #[test]
    fn null_is_the_zero_value_and_map_keys_stay() {
        let s: Sample = serde_json::from_value(json!({
            "Name": null, "Count": null, "Labels": {"a": null, "b": "x"},
            "Unknown": null, "Kept": [1],
        }))
        .unwrap();
        assert_eq!((s.name.as_str(), s.count), ("", 0));
        assert_eq!(
            s.labels,
            BTreeMap::from([("a".into(), "".into()), ("b".into(), "x".into())])
        );
        assert_eq!(s.extra, json!({"Kept": [1]}).as_object().unwrap().clone());
        let s: Sample = serde_json::from_value(json!({"Labels": null})).unwrap();
        assert!(s.labels.is_empty());
        // Null is not a wildcard: a wrong type is still refused.
        assert!(serde_json::from_value::<Sample>(json!({"Count": "1"})).is_err());
        let v: Vec<Zero<String>> = serde_json::from_value(json!(["a", null])).unwrap();
        assert_eq!(v, [Zero("a".into()), Zero(String::new())]);
    }
}
