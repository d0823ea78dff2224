//! Query-string parsing with docker's conventions: booleans as 1/true/0/false, and the JSON
//! `filters` parameter (`{"key":["v1","v2"]}` or the legacy `{"key":{"v1":true}}`).

use std::collections::HashMap;

use crate::error::{EngineError, Result};

#[derive(Debug, Default, Clone)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Query { pairs }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn string(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    pub fn bool(&self, key: &str) -> Result<bool> {
        match self.get(key) {
            None | Some("") => Ok(false),
            Some(v) => parse_bool(key, v),
        }
    }

    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None | Some("") => Ok(default),
            Some(v) => parse_bool(key, v),
        }
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                EngineError::invalid(format!("invalid value for {key}: {v:?} is not an integer"))
            }),
        }
    }

    pub fn filters(&self) -> Result<Filters> {
        Filters::parse(self.get("filters"))
    }
}

fn parse_bool(key: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(EngineError::invalid(format!(
            "invalid value for {key}: {v:?} is not a boolean"
        ))),
    }
}

/// Docker's filter map: key → accepted values.
#[derive(Debug, Default, Clone)]
pub struct Filters {
    map: HashMap<String, Vec<String>>,
}

impl Filters {
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return Ok(Filters::default());
        };
        let value: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| EngineError::invalid(format!("invalid filters: {e}")))?;
        // `null`, as a whole or for a key's values, is empty: Go's zero value (`model::go_json`).
        if value.is_null() {
            return Ok(Filters::default());
        }
        let obj = value
            .as_object()
            .ok_or_else(|| EngineError::invalid("invalid filters: expected a JSON object"))?;
        let mut map = HashMap::new();
        for (key, v) in obj {
            let values: Vec<String> = match v {
                serde_json::Value::Null => Vec::new(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| i.to_string())
                    })
                    .collect(),
                serde_json::Value::Object(o) => o
                    .iter()
                    .filter(|(_, b)| b.as_bool().unwrap_or(false))
                    .map(|(k, _)| k.clone())
                    .collect(),
                serde_json::Value::String(s) => vec![s.clone()],
                _ => {
                    return Err(EngineError::invalid(format!(
                        "invalid filters: bad value for {key}"
                    )))
                }
            };
            map.insert(key.clone(), values);
        }
        Ok(Filters { map })
    }

    pub fn get(&self, key: &str) -> &[String] {
        self.map.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    /// Reject keys this endpoint does not know, as docker does ("invalid filter 'x'").
    pub fn only(&self, allowed: &[&str]) -> Result<()> {
        for k in self.keys() {
            if !allowed.contains(&k) {
                return Err(EngineError::invalid(format!("invalid filter '{k}'")));
            }
        }
        Ok(())
    }

    /// `label` filters: "key" (present) or "key=value".
    pub fn labels_match(&self, labels: &HashMap<String, String>) -> bool {
        self.get("label").iter().all(|f| match f.split_once('=') {
            Some((k, v)) => labels.get(k).map(|x| x == v).unwrap_or(false),
            None => labels.contains_key(f.as_str()),
        })
    }
}
