//! The Mounts tab: type, source (a volume's name, else the host path), destination and mode,
//! from the inspect document or, before it arrives, the list row.

use serde_json::Value;

use crate::dashboard::store::model::Container;

pub fn rows(detail: Option<&Value>, c: &Container) -> Vec<Vec<String>> {
    match detail.and_then(|d| d["Mounts"].as_array()) {
        Some(mounts) => mounts
            .iter()
            .map(|m| {
                let kind = m["Type"].as_str().unwrap_or("").to_string();
                let source = m["Name"]
                    .as_str()
                    .filter(|n| !n.is_empty() && kind == "volume")
                    .or(m["Source"].as_str())
                    .unwrap_or("")
                    .to_string();
                let dest = m["Destination"].as_str().unwrap_or("").to_string();
                let rw = if m["RW"].as_bool().unwrap_or(true) {
                    "rw"
                } else {
                    "ro"
                };
                // Mode carries extra options ("z", "Z", "nocopy"); rw/ro is shown from RW.
                let extra: Vec<&str> = m["Mode"]
                    .as_str()
                    .unwrap_or("")
                    .split(',')
                    .filter(|o| !o.is_empty() && *o != "rw" && *o != "ro")
                    .collect();
                let mut mode = rw.to_string();
                for o in extra {
                    mode.push(',');
                    mode.push_str(o);
                }
                vec![kind, source, dest, mode]
            })
            .collect(),
        None if detail.is_none() => c
            .mounts
            .iter()
            .map(|m| {
                vec![
                    m.kind.clone(),
                    m.name.clone().unwrap_or_else(|| m.source.clone()),
                    m.destination.clone(),
                    String::new(),
                ]
            })
            .collect(),
        None => Vec::new(),
    }
}

pub fn empty(detail: Option<&Value>) -> &'static str {
    if detail.is_none() {
        "loading…"
    } else {
        "no mounts"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn volumes_by_name_binds_by_path_with_mode() {
        let d = json!({"Mounts": [
            {"Type": "volume", "Name": "data", "Source": "/var/lib/berth/volumes/data/_data",
             "Destination": "/data", "Mode": "z", "RW": true},
            {"Type": "bind", "Source": "/etc/hosts", "Destination": "/etc/hosts", "Mode": "ro", "RW": false}
        ]});
        let r = rows(Some(&d), &Container::default());
        assert_eq!(r[0], vec!["volume", "data", "/data", "rw,z"]);
        assert_eq!(r[1], vec!["bind", "/etc/hosts", "/etc/hosts", "ro"]);
        assert!(rows(Some(&json!({"Mounts": []})), &Container::default()).is_empty());
    }
}
