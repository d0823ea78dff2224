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

use std::fmt;

/// A regular expression that failed to compile, with RE2's wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexError(pub String);

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error parsing regexp: {}", self.0)
    }
}

/// Inclusive code point ranges, sorted and merged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Ranges(Vec<(u32, u32)>);

const MAX_RUNE: u32 = 0x10FFFF;

impl Ranges {
    fn push(&mut self, lo: u32, hi: u32) {
        self.0.push((lo, hi));
    }

    fn extend(&mut self, other: &Ranges) {
        self.0.extend_from_slice(&other.0);
    }

    fn normalized(mut self) -> Ranges {
        self.0.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(self.0.len());
        for (lo, hi) in self.0 {
            match out.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        Ranges(out)
    }

    fn negated(self) -> Ranges {
        let norm = self.normalized();
        let mut out = Vec::new();
        let mut next = 0u32;
        for (lo, hi) in norm.0 {
            if lo > next {
                out.push((next, lo - 1));
            }
            next = hi.saturating_add(1);
        }
        if next <= MAX_RUNE {
            out.push((next, MAX_RUNE));
        }
        Ranges(out)
    }

    fn contains(&self, c: char) -> bool {
        let c = c as u32;
        self.0.iter().any(|&(lo, hi)| lo <= c && c <= hi)
    }
}

#[derive(Debug, Clone)]
enum Node {
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

fn err<T>(code: &str, at: &str) -> Result<T, RegexError> {
    Err(RegexError(format!("{code}: `{at}`")))
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    src: &'a str,
}

/// Perl classes (ASCII, as RE2).
fn perl_class(c: char) -> Option<Ranges> {
    let (base, neg): (&[(u32, u32)], bool) = match c {
        'd' => (&[(0x30, 0x39)], false),
        'D' => (&[(0x30, 0x39)], true),
        's' => (&[(0x09, 0x0a), (0x0c, 0x0d), (0x20, 0x20)], false),
        'S' => (&[(0x09, 0x0a), (0x0c, 0x0d), (0x20, 0x20)], true),
        'w' => (
            &[(0x30, 0x39), (0x41, 0x5a), (0x5f, 0x5f), (0x61, 0x7a)],
            false,
        ),
        'W' => (
            &[(0x30, 0x39), (0x41, 0x5a), (0x5f, 0x5f), (0x61, 0x7a)],
            true,
        ),
        _ => return None,
    };
    let r = Ranges(base.to_vec());
    Some(if neg { r.negated() } else { r })
}

/// POSIX classes of RE2 (`[:alpha:]`), ASCII.
fn posix_class(name: &str) -> Option<Ranges> {
    let (n, neg) = match name.strip_prefix('^') {
        Some(n) => (n, true),
        None => (name, false),
    };
    let base: &[(u32, u32)] = match n {
        "alnum" => &[(0x30, 0x39), (0x41, 0x5a), (0x61, 0x7a)],
        "alpha" => &[(0x41, 0x5a), (0x61, 0x7a)],
        "ascii" => &[(0x00, 0x7f)],
        "blank" => &[(0x09, 0x09), (0x20, 0x20)],
        "cntrl" => &[(0x00, 0x1f), (0x7f, 0x7f)],
        "digit" => &[(0x30, 0x39)],
        "graph" => &[(0x21, 0x7e)],
        "lower" => &[(0x61, 0x7a)],
        "print" => &[(0x20, 0x7e)],
        "punct" => &[(0x21, 0x2f), (0x3a, 0x40), (0x5b, 0x60), (0x7b, 0x7e)],
        "space" => &[(0x09, 0x0d), (0x20, 0x20)],
        "upper" => &[(0x41, 0x5a)],
        "word" => &[(0x30, 0x39), (0x41, 0x5a), (0x61, 0x7a), (0x5f, 0x5f)],
        "xdigit" => &[(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
        _ => return None,
    };
    let r = Ranges(base.to_vec());
    Some(if neg { r.negated() } else { r })
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn rest(&self) -> String {
        self.chars[self.pos.min(self.chars.len())..]
            .iter()
            .collect()
    }

    fn parse_alt(&mut self, depth: usize) -> Result<Node, RegexError> {
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

    /// After a backslash (not consumed yet at self.pos): RE2's parseEscape.
    fn parse_escape(&mut self) -> Result<char, RegexError> {
        let start = self.pos - 1;
        let Some(c) = self.peek() else {
            return err("trailing backslash at end of expression", "");
        };
        self.pos += 1;
        let bad = |p: &Parser| -> Result<char, RegexError> {
            let s: String = p.chars[start..p.pos.min(p.chars.len())].iter().collect();
            err("invalid escape sequence", &s)
        };
        if c.is_ascii() && !c.is_ascii_alphanumeric() {
            return Ok(c);
        }
        let is_oct = |c: Option<char>| matches!(c, Some('0'..='7'));
        match c {
            '1'..='7' | '0' => {
                // A single non-zero digit would be a backreference: not supported.
                if c != '0' && !is_oct(self.peek()) {
                    return bad(self);
                }
                let mut r = c as u32 - '0' as u32;
                for _ in 1..3 {
                    if !is_oct(self.peek()) {
                        break;
                    }
                    r = r * 8 + (self.peek().unwrap_or('0') as u32 - '0' as u32);
                    self.pos += 1;
                }
                char::from_u32(r).map_or_else(|| bad(self), Ok)
            }
            'x' => {
                let hexval = |c: char| c.to_digit(16);
                if self.peek() == Some('{') {
                    self.pos += 1;
                    let mut r: u32 = 0;
                    let mut n = 0;
                    loop {
                        let Some(d) = self.peek() else {
                            return bad(self);
                        };
                        self.pos += 1;
                        if d == '}' {
                            break;
                        }
                        let Some(v) = hexval(d) else {
                            return bad(self);
                        };
                        r = r.saturating_mul(16).saturating_add(v);
                        n += 1;
                        if r > MAX_RUNE {
                            return bad(self);
                        }
                    }
                    if n == 0 {
                        return bad(self);
                    }
                    return char::from_u32(r).map_or_else(|| bad(self), Ok);
                }
                let hi = self.peek().and_then(hexval);
                let lo = self.chars.get(self.pos + 1).copied().and_then(hexval);
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        self.pos += 2;
                        char::from_u32(h * 16 + l).map_or_else(|| bad(self), Ok)
                    }
                    _ => bad(self),
                }
            }
            'a' => Ok('\u{7}'),
            'f' => Ok('\u{c}'),
            'n' => Ok('\n'),
            'r' => Ok('\r'),
            't' => Ok('\t'),
            'v' => Ok('\u{b}'),
            _ => bad(self),
        }
    }

    /// A character class starting at '[' (RE2's parseClass with PerlX: '-' allowed anywhere,
    /// ']' literal when first).
    fn parse_class(&mut self) -> Result<Ranges, RegexError> {
        let start = self.pos;
        self.pos += 1; // '['
        let mut negated = false;
        if self.peek() == Some('^') {
            negated = true;
            self.pos += 1;
        }
        let mut set = Ranges::default();
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                let s: String = self.chars[start..].iter().collect();
                return err("missing closing ]", &s);
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            // POSIX class: "[:name:]".
            if c == '[' && self.chars.get(self.pos + 1) == Some(&':') {
                let rest = self.rest();
                if let Some(end) = rest[2..].find(":]") {
                    let name = &rest[2..2 + end];
                    let Some(r) = posix_class(name) else {
                        return err("invalid character class range", &rest[..end + 4]);
                    };
                    set.extend(&r);
                    self.pos += rest[..end + 4].chars().count();
                    continue;
                }
            }
            if c == '\\' {
                match self.chars.get(self.pos + 1).copied() {
                    Some('p') | Some('P') => {
                        return err("unsupported Unicode class escape", "\\p");
                    }
                    Some(e) => {
                        if let Some(r) = perl_class(e) {
                            self.pos += 2;
                            set.extend(&r);
                            continue;
                        }
                    }
                    None => {}
                }
            }
            let range_start = self.pos;
            let lo = self.class_char()?;
            let mut hi = lo;
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|c| *c != ']') {
                self.pos += 1;
                hi = self.class_char()?;
                if hi < lo {
                    let s: String = self.chars[range_start..self.pos].iter().collect();
                    return err("invalid character class range", &s);
                }
            }
            set.push(lo as u32, hi as u32);
        }
        Ok(if negated {
            set.negated()
        } else {
            set.normalized()
        })
    }

    fn class_char(&mut self) -> Result<char, RegexError> {
        match self.peek() {
            None => err("missing closing ]", self.src),
            Some('\\') => {
                self.pos += 1;
                self.parse_escape()
            }
            Some(c) => {
                self.pos += 1;
                Ok(c)
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Inst {
    Set(Ranges),
    Split(usize, usize),
    Jmp(usize),
    BeginText,
    EndText,
    WordBoundary(bool),
    Match,
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

    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let n = self.prog.len();
        let mut clist: Vec<usize> = Vec::with_capacity(n);
        let mut nlist: Vec<usize> = Vec::with_capacity(n);
        let mut seen = vec![usize::MAX; n];
        let mut stack = Vec::new();
        for i in 0..=chars.len() {
            let prev = if i == 0 { None } else { Some(chars[i - 1]) };
            let next = chars.get(i).copied();
            if i == 0 && self.add(0, i, prev, next, &mut clist, &mut seen, &mut stack) {
                return true;
            }
            nlist.clear();
            let Some(c) = next else {
                break;
            };
            let nprev = Some(c);
            let nnext = chars.get(i + 1).copied();
            for &pc in &clist {
                if let Inst::Set(r) = &self.prog[pc] {
                    if r.contains(c)
                        && self.add(
                            pc + 1,
                            i + 1,
                            nprev,
                            nnext,
                            &mut nlist,
                            &mut seen,
                            &mut stack,
                        )
                    {
                        return true;
                    }
                }
            }
            std::mem::swap(&mut clist, &mut nlist);
        }
        false
    }

    /// Follow empty transitions from `pc` at text position `pos`, adding character-consuming
    /// states to `list`; true when Match is reached.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &self,
        pc: usize,
        pos: usize,
        prev: Option<char>,
        next: Option<char>,
        list: &mut Vec<usize>,
        seen: &mut [usize],
        stack: &mut Vec<usize>,
    ) -> bool {
        let is_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        stack.clear();
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if seen[pc] == pos {
                continue;
            }
            seen[pc] = pos;
            match &self.prog[pc] {
                Inst::Set(_) => list.push(pc),
                Inst::Split(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Inst::Jmp(a) => stack.push(*a),
                Inst::BeginText => {
                    if prev.is_none() {
                        stack.push(pc + 1);
                    }
                }
                Inst::EndText => {
                    if next.is_none() {
                        stack.push(pc + 1);
                    }
                }
                Inst::WordBoundary(want) => {
                    if (is_word(prev) != is_word(next)) == *want {
                        stack.push(pc + 1);
                    }
                }
                Inst::Match => return true,
            }
        }
        false
    }
}

fn compile(node: &Node, prog: &mut Vec<Inst>) {
    match node {
        Node::Empty => {}
        Node::Set(r) => prog.push(Inst::Set(r.clone())),
        Node::BeginText => prog.push(Inst::BeginText),
        Node::EndText => prog.push(Inst::EndText),
        Node::WordBoundary => prog.push(Inst::WordBoundary(true)),
        Node::NoWordBoundary => prog.push(Inst::WordBoundary(false)),
        Node::Concat(items) => {
            for n in items {
                compile(n, prog);
            }
        }
        Node::Alt(branches) => {
            // split L1, next; L1: a; jmp end; next: split L2, ... ; last branch plain.
            let mut jumps = Vec::new();
            for (i, b) in branches.iter().enumerate() {
                if i + 1 < branches.len() {
                    let split = prog.len();
                    prog.push(Inst::Split(split + 1, 0));
                    compile(b, prog);
                    jumps.push(prog.len());
                    prog.push(Inst::Jmp(0));
                    let next = prog.len();
                    prog[split] = Inst::Split(split + 1, next);
                } else {
                    compile(b, prog);
                }
            }
            let end = prog.len();
            for j in jumps {
                prog[j] = Inst::Jmp(end);
            }
        }
        Node::Star(inner) => {
            let split = prog.len();
            prog.push(Inst::Split(split + 1, 0));
            compile(inner, prog);
            prog.push(Inst::Jmp(split));
            let end = prog.len();
            prog[split] = Inst::Split(split + 1, end);
        }
        Node::Plus(inner) => {
            let start = prog.len();
            compile(inner, prog);
            let split = prog.len();
            prog.push(Inst::Split(start, split + 1));
        }
        Node::Quest(inner) => {
            let split = prog.len();
            prog.push(Inst::Split(split + 1, 0));
            compile(inner, prog);
            let end = prog.len();
            prog[split] = Inst::Split(split + 1, end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(re: &str, s: &str) -> bool {
        Regex::new(re).unwrap().is_match(s)
    }

    #[test]
    fn basics() {
        assert!(m("^a[^/]*b$", "axxb"));
        assert!(!m("^a[^/]*b$", "ax/xb"));
        assert!(m("^(.*/)?foo$", "foo"));
        assert!(m("^(.*/)?foo$", "a/b/foo"));
        assert!(!m("^(.*/)?foo$", "a/bfoo"));
        assert!(m("^[[:alpha:]]$", "q"));
        assert!(!m("^[[:alpha:]]$", "1"));
        assert!(m(r"^\d\d$", "42"));
        assert!(!m(r"^\d$", "٤"));
        // [a[^/]*] is the class {a,[,^,/} repeated, then a literal ']'.
        assert!(m("^[a[^/]*]$", "a^[/]"));
        assert!(!m("^[a[^/]*]$", "ab]"));
        assert!(m("^[]a]$", "]"));
        assert!(m("^[^]a]$", "b"));
        assert!(m("^a-b$", "a-b"));
        assert!(m(r"^a\.b$", "a.b"));
        assert!(!m(r"^a\.b$", "axb"));
        assert!(m("^.*$", "any/thing"));
        assert!(!m("^.$", "\n"));
        assert!(m("^[^/]$", "\n"));
        assert!(m(r"^\x41\x{42}\101$", "ABA"));
        assert!(m(r"^a\b$", "a"));
        assert!(m("^a|b$", "ax"));
    }

    #[test]
    fn errors_as_re2() {
        for bad in [
            "[z-a]",
            "[a",
            r"\o",
            r"\1",
            "[[:foo:]]",
            "a**",
            "*a",
            "(a",
            "a)",
            r"\pL",
        ] {
            assert!(Regex::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn linear_on_nasty_patterns() {
        let re = Regex::new("^(.*/)?(.*/)?(.*/)?(.*/)?[^/]*a[^/]*a[^/]*a[^/]*b$").unwrap();
        let s = "a/".repeat(2000) + &"a".repeat(5000);
        assert!(!re.is_match(&s));
    }
}
