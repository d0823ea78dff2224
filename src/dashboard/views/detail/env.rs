//! The Env tab: `Config.Env` as NAME / VALUE rows.

use serde_json::Value;

pub fn rows(detail: Option<&Value>) -> Vec<Vec<String>> {
    let Some(env) = detail.and_then(|d| d["Config"]["Env"].as_array()) else {
        return Vec::new();
    };
    env.iter()
        .filter_map(Value::as_str)
        .map(|e| match e.split_once('=') {
            Some((k, v)) => vec![k.to_string(), v.to_string()],
            // "NAME" alone passes the variable through unset; show it as such.
            None => vec![e.to_string(), String::new()],
        })
        .collect()
}

pub fn empty(detail: Option<&Value>) -> &'static str {
    if detail.is_none() {
        "loading…"
    } else {
        "no environment variables"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_at_the_first_equals_sign() {
        let d = json!({"Config": {"Env": ["A=1", "URL=postgres://u:p@h/db?x=y", "BARE"]}});
        assert_eq!(
            rows(Some(&d)),
            vec![
                vec!["A".to_string(), "1".to_string()],
                vec!["URL".to_string(), "postgres://u:p@h/db?x=y".to_string()],
                vec!["BARE".to_string(), String::new()],
            ]
        );
        assert!(rows(Some(&json!({"Config": {"Env": null}}))).is_empty());
        assert!(rows(None).is_empty());
    }
}
