//! Compose files read as YAML: a tree of [`Node`]s that each remember where they were written,
//! so that every later stage (interpolation, the schema, the typed model) can refuse a bad file
//! with its line and column, which docker compose itself often cannot give.
//!
//! Built from saphyr-parser's events rather than through a serde YAML crate because compose needs
//! three things those hide: the position of every node, the `!reset` and `!override` tags that
//! steer the merge of several files, and the raw key order. Scalars are typed as go-yaml v3 (what
//! compose-go uses) types them, so `0755` is 493 and `yes` stays a string: see [`scalar`].

mod goerr;
mod parse;
mod scalar;
#[cfg(test)]
mod tests;

pub use parse::parse_documents;

/// Where a node starts: 1-based line and column, as an editor shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Mark {
    pub line: usize,
    pub col: usize,
}

impl std::fmt::Display for Mark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One YAML node with its position and, when written, its local tag (`!reset`, `!override`).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub mark: Mark,
    pub tag: Option<String>,
}

/// A node's content. Mappings keep their keys in written order; merge keys (`<<`) are already
/// applied and duplicate keys refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A mapping key (compose keys are always strings) and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub mark: Mark,
}

/// A file that is not YAML, or not YAML compose can read: the position and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub mark: Mark,
    pub message: String,
    /// go-yaml's own text for the error when go-yaml refuses the file too (a syntax error, a
    /// duplicate key, a bad merge key): what compose-go reports after "failed to parse FILE: ".
    pub go: Option<String>,
    /// The error is below the top-level mapping, where a decoding of the top level alone
    /// (docker compose's first look for `name:`) does not go.
    pub nested: bool,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.mark.line, self.mark.col, self.message
        )
    }
}

impl std::error::Error for YamlError {}

impl Node {
    /// The value under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, n)| n),
            _ => None,
        }
    }

    /// A short name for the node's kind, for messages ("a mapping", "a string").
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}
