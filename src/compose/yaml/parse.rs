//! saphyr-parser's event stream folded into [`Node`] trees: one per YAML document, with aliases
//! expanded, merge keys (`<<`) applied as go-yaml v3 applies them, and duplicate or non-string
//! keys refused the way compose-go refuses them. Alias bombs and absurd nesting are refused
//! before they cost memory or stack (go-yaml's alias ratio, a depth limit).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, StrInput, Tag};

use super::goerr::syntax_error;
use super::scalar::{resolve_plain, resolve_tagged};
use super::{Key, Mark, Node, Value, YamlError};

/// Every document of a YAML stream, in order (compose-go loads each document of a file as if it
/// were one more `-f` file). A stream with no document gives an empty list.
pub fn parse_documents(src: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder {
        parser: Parser::new_from_str(src),
        anchors: HashMap::new(),
        path: Vec::new(),
        open: Vec::new(),
        sizes: HashMap::new(),
        decoded: 0,
        aliased: 0,
    };
    let mut docs = Vec::new();
    loop {
        let (event, _) = builder.next()?;
        match event {
            Event::StreamEnd => return Ok(docs),
            Event::DocumentStart(_) => {
                let (event, span) = builder.next()?;
                if matches!(event, Event::DocumentEnd) {
                    docs.push(null_at(mark(&span)));
                    continue;
                }
                docs.push(builder.node(event, span)?);
                builder.anchors.clear();
                builder.sizes.clear();
                (builder.decoded, builder.aliased) = (0, 0);
            }
            _ => continue,
        }
    }
}

struct Builder<'a> {
    parser: Parser<'a, StrInput<'a>>,
    /// Anchored nodes of the current document, by saphyr's anchor id.
    anchors: HashMap<usize, Node>,
    /// Keys from the document root down to the node being built, for messages.
    path: Vec<String>,
    /// Where the collections being built start, outermost first: the context go-yaml names
    /// a syntax error by.
    open: Vec<Mark>,
    /// Per anchor: the nodes an alias to it expands to (see `count_alias`).
    sizes: HashMap<usize, usize>,
    /// Nodes built in this document, aliases expanded, and how many of them through aliases.
    decoded: usize,
    aliased: usize,
}

/// Collections nested deeper than this are refused: go-yaml stops at 10000, but building the
/// tree recurses once per level (frames of several KiB in debug builds) and the loader walks
/// it recursively again after parsing, so a deep tree overflows the stack long before that.
/// Block sequences nest two bytes a level (`- - - x`). No compose file nests beyond a dozen.
const MAX_DEPTH: usize = 200;

/// go-yaml v3's defence against alias bombs ("billion laughs", `allowedAliasRatio`): once a
/// document has decoded more than 1000 nodes, more than 100 of them through aliases, those may
/// make up at most 99% of them, falling to 10% between 400 000 and 4 000 000 nodes.
fn allowed_alias_ratio(decoded: usize) -> f64 {
    const LOW: usize = 400_000;
    const HIGH: usize = 4_000_000;
    if decoded <= LOW {
        0.99
    } else if decoded >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decoded - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

fn mark(span: &Span) -> Mark {
    Mark {
        line: span.start.line(),
        col: span.start.col() + 1,
    }
}

fn null_at(mark: Mark) -> Node {
    Node {
        value: Value::Null,
        mark,
        tag: None,
    }
}

fn tag_name(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(pair)) => Ok(pair),
            Some(Err(e)) => {
                let mark = Mark {
                    line: e.marker().line(),
                    col: e.marker().col() + 1,
                };
                Err(YamlError {
                    mark,
                    message: e.info().to_string(),
                    go: Some(syntax_error(e.info(), mark, self.open.last().copied())),
                    nested: false,
                })
            }
            None => Err(YamlError {
                mark: Mark::default(),
                message: "unexpected end of the YAML stream".into(),
                go: None,
                nested: false,
            }),
        }
    }

    /// An error compose-go raises itself, after go-yaml has read the file.
    fn error(&self, mark: Mark, message: String) -> YamlError {
        YamlError {
            mark,
            message,
            go: None,
            nested: !self.path.is_empty(),
        }
    }

    /// An error go-yaml raises while reading, in its words `go`.
    fn go_error(&self, mark: Mark, message: String, go: String) -> YamlError {
        YamlError {
            go: Some(go),
            ..self.error(mark, message)
        }
    }

    /// Keep an anchored node; `from` is the decoded count when its building started.
    fn remember(&mut self, anchor: usize, node: &Node, from: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
            self.sizes.insert(anchor, self.decoded - from);
        }
    }

    /// An alias decodes its anchor's whole tree again, as go-yaml counts it; refuse the
    /// document when nodes reached through aliases make up too much of it.
    fn count_alias(&mut self, id: usize, at: Mark) -> Result<(), YamlError> {
        let nodes = self.sizes.get(&id).copied().unwrap_or(0);
        self.decoded += nodes;
        self.aliased += nodes;
        if self.aliased > 100
            && self.decoded > 1000
            && self.aliased as f64 / self.decoded as f64 > allowed_alias_ratio(self.decoded)
        {
            let m = "document contains excessive aliasing".to_string();
            return Err(self.go_error(at, m.clone(), format!("yaml: {m}")));
        }
        Ok(())
    }

    /// Refuse a collection nested deeper than [`MAX_DEPTH`].
    fn open_collection(&mut self, at: Mark) -> Result<(), YamlError> {
        if self.open.len() >= MAX_DEPTH {
            let m = format!("exceeded max depth of {MAX_DEPTH}");
            return Err(self.go_error(at, m.clone(), format!("yaml: {m}")));
        }
        self.open.push(at);
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Node, YamlError> {
        let at = mark(&span);
        let from = self.decoded;
        self.decoded += 1;
        if let Event::Alias(id) = event {
            self.count_alias(id, at)?;
        }
        match event {
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(node) => {
                    let mut node = node.clone();
                    node.mark = at;
                    Ok(node)
                }
                None => Err(self.error(at, "unknown anchor".into())),
            },
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| tag_name(&t));
                let value = match tag.as_deref() {
                    Some(core) if core.starts_with("!!") => resolve_tagged(core, &text)
                        .ok_or_else(|| {
                            self.error(at, format!("cannot decode {text:?} as {core}"))
                        })?,
                    _ if style == ScalarStyle::Plain => resolve_plain(&text),
                    _ => Value::Str(text.into_owned()),
                };
                let node = Node {
                    value,
                    mark: at,
                    tag,
                };
                self.remember(anchor, &node, from);
                Ok(node)
            }
            Event::SequenceStart(anchor, tag) => {
                let mut items = Vec::new();
                self.open_collection(at)?;
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    self.path.push(items.len().to_string());
                    let item = self.node(event, span);
                    self.path.pop();
                    items.push(item?);
                }
                self.open.pop();
                let node = Node {
                    value: Value::Seq(items),
                    mark: at,
                    tag: tag.map(|t| tag_name(&t)),
                };
                self.remember(anchor, &node, from);
                Ok(node)
            }
            Event::MappingStart(anchor, tag) => {
                self.open_collection(at)?;
                let entries = self.mapping_entries()?;
                self.open.pop();
                let node = Node {
                    value: Value::Map(entries),
                    mark: at,
                    tag: tag.map(|t| tag_name(&t)),
                };
                self.remember(anchor, &node, from);
                Ok(node)
            }
            other => Err(self.error(at, format!("unexpected YAML event {other:?}"))),
        }
    }

    /// The entries of a mapping up to its end: explicit keys in written order, then what merge
    /// keys bring that no explicit key already sets (go-yaml: explicit keys win; among several
    /// merged mappings, the earlier one wins).
    fn mapping_entries(&mut self) -> Result<Vec<(Key, Node)>, YamlError> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut merged: Vec<(Key, Node)> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                break;
            }
            let key_mark = mark(&span);
            let (name, is_merge) = self.key(event, key_mark)?;
            let (event, span) = self.next()?;
            if is_merge {
                let source = self.node(event, span)?;
                let sources = merge_sources(&source)
                    .map_err(|m| self.go_error(source.mark, m.clone(), format!("yaml: {m}")))?;
                for (k, v) in sources {
                    if !merged.iter().any(|(m, _)| m.name == k.name) {
                        merged.push((k, v));
                    }
                }
                continue;
            }
            if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == name) {
                let message = format!(
                    "mapping key {:?} already defined at line {}",
                    name, first.mark.line
                );
                let go = format!("line {}: {message}", key_mark.line);
                return Err(self.go_error(key_mark, message, go));
            }
            self.path.push(name.clone());
            let value = self.node(event, span);
            self.path.pop();
            entries.push((
                Key {
                    name,
                    mark: key_mark,
                },
                value?,
            ));
        }
        for (k, v) in merged {
            if !entries.iter().any(|(e, _)| e.name == k.name) {
                entries.push((k, v));
            }
        }
        Ok(entries)
    }

    /// A mapping key as compose-go accepts it: a string (quoted, or plain text that YAML does
    /// not read as a number, boolean or null). Returns the name and whether it is a merge key.
    fn key(&mut self, event: Event<'a>, at: Mark) -> Result<(String, bool), YamlError> {
        let where_ = || {
            if self.path.is_empty() {
                "at top level".to_string()
            } else {
                format!("in {}", self.path.join("."))
            }
        };
        match event {
            Event::Scalar(text, ScalarStyle::Plain, _, None) => {
                if text == "<<" {
                    return Ok((text.into_owned(), true));
                }
                match resolve_plain(&text) {
                    Value::Str(s) => Ok((s, false)),
                    _ => Err(self.error(at, format!("non-string key {}: {}", where_(), text))),
                }
            }
            Event::Scalar(text, _, _, tag) => match tag.as_deref().map(tag_name).as_deref() {
                None | Some("!!str") => Ok((text.into_owned(), false)),
                Some(_) => Err(self.error(at, format!("non-string key {}: {}", where_(), text))),
            },
            Event::Alias(id) => match self.anchors.get(&id).map(|n| n.value.clone()) {
                Some(Value::Str(s)) => Ok((s, false)),
                _ => Err(self.error(at, format!("non-string key {}", where_()))),
            },
            _ => Err(self.error(at, format!("non-string key {}", where_()))),
        }
    }
}

/// The mappings a merge key brings: one mapping, or a sequence of them (earlier wins).
fn merge_sources(source: &Node) -> Result<Vec<(Key, Node)>, String> {
    const WANT: &str = "map merge requires map or sequence of maps as the value";
    match &source.value {
        Value::Map(entries) => Ok(entries.clone()),
        Value::Seq(items) => {
            let mut out: Vec<(Key, Node)> = Vec::new();
            for item in items {
                let Value::Map(entries) = &item.value else {
                    return Err(WANT.into());
                };
                for (k, v) in entries {
                    if !out.iter().any(|(o, _)| o.name == k.name) {
                        out.push((k.clone(), v.clone()));
                    }
                }
            }
            Ok(out)
        }
        _ => Err(WANT.into()),
    }
}
