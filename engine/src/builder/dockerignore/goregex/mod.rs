//! The part of Go's `regexp` (RE2 syntax with `syntax.Perl` flags) that docker's pattern matcher
//! can produce, so `.dockerignore` patterns match exactly as they do for docker.
//!
//! patternmatcher turns a pattern into a regular expression by text substitution (`*` → `[^/]*`,
//! `?` → `[^/]`, `**` → `(.*/)?` or `.*`, `.+()|{}$` escaped, `[`, `]`, `^` and `\x` passed
//! through), so whatever RE2 makes of the result is docker's behaviour, odd corners included:
//! `[[:alpha:]]` is a POSIX class, `\d` a digit, `[a*]` becomes `[a[^/]*]`. A crate's regex dialect
//! differs in exactly those corners (nested classes, Unicode `\d`), hence this small engine: a
//! parser for RE2's syntax (classes with ranges, POSIX and Perl classes, escapes, groups,
//! alternation, `*`/`+`/`?`, `^`/`$`/`\A`/`\z`/`\b`/`\B`) and a Pike VM, linear in the path length,
//! that answers whole-string matches. Flags as `regexp.Compile`: `.` excludes `\n`, negated classes
//! include it, `^`/`$` anchor the whole text. `\p{…}` Unicode classes are refused (no tables).
//!
//! The pieces: `ranges` (code point sets), `parse` (the expression's structure), `class`
//! (escapes and bracket classes), `vm` (the program and its simulation); this module ties them
//! into [`Regex`] and holds the error type.

mod class;
mod parse;
mod ranges;
mod vm;

#[cfg(test)]
mod tests;

use std::fmt;

use parse::Parser;
use ranges::{Ranges, MAX_RUNE};
use vm::{compile, Inst};

/// A regular expression that failed to compile, with RE2's wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexError(pub String);

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error parsing regexp: {}", self.0)
    }
}

fn err<T>(code: &str, at: &str) -> Result<T, RegexError> {
    Err(RegexError(format!("{code}: `{at}`")))
}

/// A compiled expression; [`Regex::is_match`] answers whether it matches anywhere in the text,
/// as Go's MatchString (the patterns docker builds are anchored with `^…$` themselves).
#[derive(Debug, Clone)]
pub struct Regex {
    prog: Vec<Inst>,
}

impl Regex {
    pub fn new(src: &str) -> Result<Regex, RegexError> {
        let mut p = Parser {
            chars: src.chars().collect(),
            pos: 0,
            src,
        };
        let node = p.parse_alt(0)?;
        if p.pos < p.chars.len() {
            return err("unexpected )", src);
        }
        let mut prog = Vec::new();
        // Unanchored search: a lazy ".*" prefix over any character (newlines included).
        let l0 = prog.len();
        prog.push(Inst::Split(l0 + 3, l0 + 1));
        let mut any = Ranges::default();
        any.push(0, MAX_RUNE);
        prog.push(Inst::Set(any));
        prog.push(Inst::Jmp(l0));
        compile(&node, &mut prog);
        prog.push(Inst::Match);
        Ok(Regex { prog })
    }
}
