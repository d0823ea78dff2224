//! The line level of the parser, a port of docker's `frontend/dockerfile/parser` (the version in
//! dockerd 20.10, plus BuildKit's heredocs): parser directives, comments, line continuations
//! joined exactly as docker joins them (the first line left-trimmed, continuation lines kept as
//! they are, the escape character and the spaces after it removed, comment and empty lines inside
//! a continuation skipped), heredoc bodies, and each instruction's arguments split by the
//! instruction's own rule (ENV/LABEL pairs, JSON or shell form, whitespace lists, ...).
//!
//! This module walks the physical lines; the directives (`directives`), the heredoc markers
//! (`heredoc`), the per-instruction argument rules (`node`) and docker's word splitters (`words`)
//! are its submodules.
//!
//! Errors here are docker's "failed to parse Dockerfile: ..." kind; the instruction-level checks
//! are in `instruction.rs`.

mod directives;
mod heredoc;
mod node;
mod words;

#[cfg(test)]
mod tests;

use super::{DockerfileError, Heredoc};
use directives::Directives;
use heredoc::{can_contain_heredoc, heredocs_from_line};
use node::new_node_from_line;

pub(crate) use heredoc::parse_heredoc;

/// One logical instruction, as docker's `parser.Node`.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The instruction word, lowercased.
    pub cmd: String,
    /// `--flag[=value]` words before the arguments.
    pub flags: Vec<String>,
    /// The arguments as the instruction's line parser split them (ENV/LABEL: key, value, ...).
    pub args: Vec<String>,
    /// The arguments were a JSON array.
    pub json: bool,
    /// The joined line (docker's `node.Original`).
    pub original: String,
    pub line: usize,
    pub column: usize,
    pub heredocs: Vec<Heredoc>,
    /// ONBUILD's trigger.
    pub child: Option<Box<Node>>,
}

#[derive(Debug)]
pub(crate) struct Parsed {
    pub escape: char,
    pub syntax: Option<String>,
    pub nodes: Vec<Node>,
    pub warnings: Vec<String>,
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// A line without its `\n` and one `\r` (Go's bufio.ScanLines).
fn strip_newline(raw: &str) -> &str {
    let l = raw.strip_suffix('\n').unwrap_or(raw);
    l.strip_suffix('\r').unwrap_or(l)
}

/// docker's line continuation regex `([^E])E[ \t]*$|^E[ \t]*$`: the escape character as the
/// last non-blank character, unless escaped itself. Returns the line without it and whether
/// the instruction ends here.
fn trim_continuation(line: &str, escape: char) -> (String, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    if let Some(before) = trimmed.strip_suffix(escape) {
        match before.chars().last() {
            None => return (String::new(), false),
            Some(c) if c != escape => return (before.to_string(), false),
            Some(_) => {}
        }
    }
    (line.to_string(), true)
}

/// Split `text` into logical instructions.
pub(crate) fn parse_lines(text: &str) -> Result<Parsed, DockerfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: Vec<&str> = text.split_inclusive('\n').collect();
    let mut d = Directives {
        escape: '\\',
        syntax: None,
        done: false,
        seen: Vec::new(),
    };
    let mut nodes = Vec::new();
    let mut warnings = Vec::new();
    let mut idx = 0;
    while idx < raw.len() {
        let physical = strip_newline(raw[idx]);
        idx += 1;
        let start_line = idx;
        let token = physical.trim_start();
        d.check(token)
            .map_err(|e| DockerfileError::syntax(e, start_line))?;
        let token = if token.starts_with('#') { "" } else { token };
        let (mut line, mut eol) = trim_continuation(token, d.escape);
        if eol && line.is_empty() {
            continue;
        }
        let column = physical.chars().count() - token.chars().count() + 1;
        let mut has_empty_continuation = false;
        while !eol && idx < raw.len() {
            let b = strip_newline(raw[idx]);
            idx += 1;
            d.check(b).map_err(|e| DockerfileError::syntax(e, idx))?;
            if is_comment(b) {
                continue;
            }
            if b.trim_start().is_empty() {
                has_empty_continuation = true;
                continue;
            }
            let (c, e) = trim_continuation(b, d.escape);
            line.push_str(&c);
            eol = e;
        }
        if has_empty_continuation {
            warnings.push(format!(
                "[WARNING]: Empty continuation line found in:\n    {line}"
            ));
        }
        let mut node = new_node_from_line(&line, d.escape)
            .map_err(|e| DockerfileError::syntax(e, start_line))?;
        node.line = start_line;
        node.column = column;
        let heredoc_holder = match &node.child {
            Some(c) if node.cmd == "onbuild" => c.as_ref(),
            _ => &node,
        };
        if can_contain_heredoc(heredoc_holder) && line.contains("<<") {
            let mut docs = heredocs_from_line(&line);
            for doc in &mut docs {
                let mut terminated = false;
                while idx < raw.len() {
                    let body_line = raw[idx];
                    idx += 1;
                    let mut possible = body_line.trim_end_matches(['\r', '\n']);
                    if doc.chomp {
                        possible = possible.trim_start_matches('\t');
                    }
                    if possible == doc.name {
                        terminated = true;
                        break;
                    }
                    if doc.chomp {
                        doc.content.push_str(body_line.trim_start_matches('\t'));
                    } else {
                        doc.content.push_str(body_line);
                    }
                }
                if !terminated {
                    return Err(DockerfileError::syntax("unterminated heredoc", start_line));
                }
            }
            node.heredocs = docs;
        }
        nodes.push(node);
    }
    if !warnings.is_empty() {
        warnings.push(
            "[WARNING]: Empty continuation lines will become errors in a future release.".into(),
        );
    }
    if nodes.is_empty() {
        return Err(DockerfileError::syntax(
            "file with no instructions",
            raw.len().max(1),
        ));
    }
    Ok(Parsed {
        escape: d.escape,
        syntax: d.syntax,
        nodes,
        warnings,
    })
}
