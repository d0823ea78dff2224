//! The character-level syntax of RE2: escapes (`\x41`, `\x{42}`, `\101`, `\n`, punctuation) and
//! bracket classes with ranges, negation, `]` first and the POSIX (`[:alpha:]`) and Perl (`\d`,
//! `\s`, `\w`) classes, all ASCII as in RE2. These are where RE2 and other dialects disagree,
//! and so where docker's odd patterns (`[a[^/]*]`) get their meaning.

use super::parse::Parser;
use super::ranges::{Ranges, MAX_RUNE};
use super::{err, RegexError};

/// Perl classes (ASCII, as RE2).
pub(super) fn perl_class(c: char) -> Option<Ranges> {
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
    /// After a backslash (not consumed yet at self.pos): RE2's parseEscape.
    pub(super) fn parse_escape(&mut self) -> Result<char, RegexError> {
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
    pub(super) fn parse_class(&mut self) -> Result<Ranges, RegexError> {
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
