//! The structure of an expression: alternation, concatenation, repetition, groups and the
//! zero-width assertions, parsed by recursive descent into a [`Node`] tree, with RE2's error
//! texts for what it refuses (nested repetition, unbalanced parentheses, flag groups). Single
//! characters, escapes and bracket classes are read by `class`.

use super::class::perl_class;
use super::ranges::{Ranges, MAX_RUNE};
use super::{err, RegexError};

#[derive(Debug, Clone)]
pub(super) enum Node {
    Empty,
    /// One character from the set.
    Set(Ranges),
    BeginText,
    EndText,
    WordBoundary,
    NoWordBoundary,
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Star(Box<Node>),
    Plus(Box<Node>),
    Quest(Box<Node>),
}

fn lit(c: char) -> Node {
    let mut r = Ranges::default();
    r.push(c as u32, c as u32);
    Node::Set(r)
}

pub(super) struct Parser<'a> {
    pub(super) chars: Vec<char>,
    pub(super) pos: usize,
    pub(super) src: &'a str,
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    pub(super) fn rest(&self) -> String {
        self.chars[self.pos.min(self.chars.len())..]
            .iter()
            .collect()
    }

    pub(super) fn parse_alt(&mut self, depth: usize) -> Result<Node, RegexError> {
        let mut branches = vec![self.parse_concat(depth)?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.parse_concat(depth)?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    fn parse_concat(&mut self, depth: usize) -> Result<Node, RegexError> {
        let mut items: Vec<Node> = Vec::new();
        // Whether the last item may take a repetition operator.
        let mut last_repeatable = false;
        let mut last_was_repeat = false;
        while let Some(c) = self.peek() {
            match c {
                '|' => break,
                ')' => {
                    if depth == 0 {
                        return err("unexpected )", self.src);
                    }
                    break;
                }
                '*' | '+' | '?' => {
                    let start = self.pos;
                    self.pos += 1;
                    // A non-greedy marker changes nothing for a whole-string yes/no answer.
                    if self.peek() == Some('?') {
                        self.pos += 1;
                    }
                    let op: String = self.chars[start..self.pos].iter().collect();
                    if last_was_repeat {
                        return err("invalid nested repetition operator", &op);
                    }
                    if !last_repeatable {
                        return err("missing argument to repetition operator", &op);
                    }
                    let Some(prev) = items.pop() else {
                        return err("missing argument to repetition operator", &op);
                    };
                    items.push(match c {
                        '*' => Node::Star(Box::new(prev)),
                        '+' => Node::Plus(Box::new(prev)),
                        _ => Node::Quest(Box::new(prev)),
                    });
                    last_was_repeat = true;
                    continue;
                }
                '(' => {
                    self.pos += 1;
                    if self.peek() == Some('?') {
                        // Flag groups: patternmatcher always escapes '(' it copies, so only its
                        // own "(.*/)?" reaches here; refuse what RE2 would parse differently.
                        return err("missing argument to repetition operator", "(?");
                    }
                    let inner = self.parse_alt(depth + 1)?;
                    if self.peek() != Some(')') {
                        return err("missing closing )", self.src);
                    }
                    self.pos += 1;
                    items.push(inner);
                    last_repeatable = true;
                }
                '[' => {
                    let set = self.parse_class()?;
                    items.push(Node::Set(set));
                    last_repeatable = true;
                }
                '.' => {
                    self.pos += 1;
                    let mut r = Ranges::default();
                    r.push(0, 0x09);
                    r.push(0x0b, MAX_RUNE);
                    items.push(Node::Set(r));
                    last_repeatable = true;
                }
                '^' => {
                    self.pos += 1;
                    items.push(Node::BeginText);
                    last_repeatable = true;
                }
                '$' => {
                    self.pos += 1;
                    items.push(Node::EndText);
                    last_repeatable = true;
                }
                '\\' => {
                    self.pos += 1;
                    let Some(e) = self.peek() else {
                        return err("trailing backslash at end of expression", "");
                    };
                    match e {
                        'A' => {
                            self.pos += 1;
                            items.push(Node::BeginText);
                        }
                        'z' => {
                            self.pos += 1;
                            items.push(Node::EndText);
                        }
                        'b' => {
                            self.pos += 1;
                            items.push(Node::WordBoundary);
                        }
                        'B' => {
                            self.pos += 1;
                            items.push(Node::NoWordBoundary);
                        }
                        'Q' => {
                            self.pos += 1;
                            let rest = self.rest();
                            let (quoted, consumed) = match rest.find("\\E") {
                                Some(i) => (rest[..i].to_string(), i + 2),
                                None => (rest.clone(), rest.len()),
                            };
                            self.pos += rest[..consumed].chars().count();
                            let q: Vec<Node> = quoted.chars().map(lit).collect();
                            items.push(Node::Concat(q));
                        }
                        'p' | 'P' => {
                            return err("unsupported Unicode class escape", &format!("\\{e}"));
                        }
                        _ => {
                            if let Some(r) = perl_class(e) {
                                self.pos += 1;
                                items.push(Node::Set(r));
                            } else {
                                let c = self.parse_escape()?;
                                items.push(lit(c));
                            }
                        }
                    }
                    last_repeatable = true;
                }
                c => {
                    self.pos += 1;
                    items.push(lit(c));
                    last_repeatable = true;
                }
            }
            last_was_repeat = false;
        }
        Ok(Node::Concat(items))
    }
}
