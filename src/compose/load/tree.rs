//! One compose file's YAML turned into the map form the rest of the loader works on (what
//! compose-go decodes a file into), keeping on the side what the map cannot carry: where each
//! value was written, and which paths the file `!reset`s or `!override`s.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use super::path::Path;
use crate::compose::yaml::{self, Mark, Node};

/// Positions of the values of one file, by path, and of the keys that name them.
#[derive(Debug, Default, Clone)]
pub struct Marks {
    values: HashMap<Path, Mark>,
    keys: HashMap<Path, Mark>,
}

impl Marks {
    /// The position of the value at `path`, when this file wrote one there.
    pub fn exact(&self, path: &Path) -> Option<Mark> {
        self.values.get(path).copied()
    }

    /// Where the key naming `path` was written (for "additional property" errors).
    pub fn key(&self, path: &Path) -> Option<Mark> {
        self.keys.get(path).copied()
    }
}

/// A file's model: the map, the `!reset`/`!override` paths, and the positions.
#[derive(Debug, Clone)]
pub struct FileTree {
    pub value: Value,
    /// Paths the file tags `!reset` (removed from what earlier files set, and from this file)
    /// or `!override` (removed from what earlier files set; this file's value stands alone).
    pub resets: Vec<Path>,
    pub marks: Marks,
}

/// Convert a parsed document. Interpolation has already been applied to the node tree.
pub fn to_tree(doc: &Node) -> FileTree {
    let mut out = FileTree {
        value: Value::Null,
        resets: Vec::new(),
        marks: Marks::default(),
    };
    out.value = convert(doc, &Path::root(), &mut out.resets, &mut out.marks).unwrap_or(Value::Null);
    out
}

fn convert(node: &Node, path: &Path, resets: &mut Vec<Path>, marks: &mut Marks) -> Option<Value> {
    match node.tag.as_deref() {
        Some("!reset") => {
            resets.push(path.clone());
            return None;
        }
        Some("!override") => resets.push(path.clone()),
        _ => {}
    }
    marks.values.insert(path.clone(), node.mark);
    Some(match &node.value {
        yaml::Value::Null => Value::Null,
        yaml::Value::Bool(b) => Value::Bool(*b),
        yaml::Value::Int(i) => Value::Number((*i).into()),
        yaml::Value::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        yaml::Value::Str(s) => Value::String(s.clone()),
        yaml::Value::Seq(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| convert(item, &path.index(i), resets, marks))
                .collect(),
        ),
        yaml::Value::Map(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let next = path.key(&key.name);
                marks.keys.insert(next.clone(), key.mark);
                if let Some(v) = convert(value, &next, resets, marks) {
                    map.insert(key.name.clone(), v);
                }
            }
            Value::Object(map)
        }
    })
}

/// compose-go's `ResetProcessor.Apply`: remove from the model merged so far every value at a
/// path this file resets or overrides, before this file is merged in.
pub fn apply_resets(target: &mut Value, resets: &[Path]) {
    fn walk(v: &mut Value, at: &Path, resets: &[Path]) {
        if let Value::Object(map) = v {
            map.retain(|k, _| !resets.contains(&at.key(k)));
            for (k, e) in map.iter_mut() {
                walk(e, &at.key(k), resets);
            }
        } else if let Value::Array(items) = v {
            for (i, e) in items.iter_mut().enumerate() {
                walk(e, &at.index(i), resets);
            }
        }
    }
    if !resets.is_empty() {
        walk(target, &Path::root(), resets);
    }
}
