//! `.env` and `env_file` files, ported from compose-go's `dotenv` parser so a file gives
//! `berth compose` the same variables it gives docker compose v2: `KEY=value`, `KEY: value`,
//! `export KEY=value`; `#` comments, and ` #` ending an unquoted value; single quotes literal;
//! double quotes with escapes (`\n`, `\t`, `\"`, `\\`, `\$`, `\0ddd`, …) and spanning lines;
//! values (unquoted and double-quoted) interpolated with [`super::interpolate`], seeing the
//! caller's variables first and then the ones defined earlier in the file; a bare `KEY` line
//! takes KEY from the caller's variables, if it is set there. Errors name the line, in
//! compose-go's words.
//!
//! Like the interpolation, this keeps compose-go's scanning rather than a grammar of its own:
//! the corners (a key may hold `.`, `-`, `[`, `]`; spaces around a key are allowed but not
//! inside it; a last line without `=` or newline) are part of the format users have.

use std::collections::HashMap;
use std::sync::LazyLock;

use berth_engine::util::go::quote;
use regex::Regex;

use super::interpolate::{substitute, Lookup};

/// Variables in the order the file defines them (a later definition replaces an earlier one
/// in place).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    pub vars: Vec<(String, String)>,
}

impl EnvFile {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, key: String, value: String) {
        match self.vars.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((key, value)),
        }
    }

    pub fn into_map(self) -> HashMap<String, String> {
        self.vars.into_iter().collect()
    }
}

/// compose-go's `GetEnvFromFile`: the variables of several env files, a later file overriding
/// an earlier one; a value sees `current` first, then what the files set so far. Unset
/// variables go to `warn`. Errors are compose-go's (`couldn't find env file: …`).
pub fn env_from_files(
    current: &dyn Lookup,
    files: &[std::path::PathBuf],
    warn: &mut dyn FnMut(&str),
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut vars = std::collections::BTreeMap::new();
    for f in files {
        let shown = f.display();
        if !f.exists() {
            return Err(format!("couldn't find env file: {shown}"));
        }
        if f.is_dir() {
            return Err(format!("{shown} is a directory"));
        }
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("couldn't read env file: {shown}: {e}"))?;
        let earlier = |k: &str| vars.get(k).cloned();
        let parsed = parse_after(&text, current, &earlier, true, warn)
            .map_err(|e| format!("failed to read {shown}: {e}"))?;
        vars.extend(parsed.vars);
    }
    Ok(vars)
}

/// Parse an env file's text. `outer` answers variables from outside the file (the process
/// environment, as compose passes it); unset variables used in values go to `warn`.
pub fn parse(src: &str, outer: &dyn Lookup, warn: &mut dyn FnMut(&str)) -> Result<EnvFile, String> {
    parse_after(src, outer, &|_: &str| None, false, warn)
}

/// [`parse`] for a file read after others into the same variables: `earlier` answers what
/// those set, after `outer` and after this file's own variables. A bare `KEY` line looks in
/// `outer` only, unless `bare_from_files` (compose-go's `GetEnvFromFile`, whose lookup also
/// sees the files' variables).
pub fn parse_after(
    src: &str,
    outer: &dyn Lookup,
    earlier: &dyn Lookup,
    bare_from_files: bool,
    warn: &mut dyn FnMut(&str),
) -> Result<EnvFile, String> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut p = Parser { line: 1 };
    let mut out = EnvFile::default();
    let mut cutset = src;
    loop {
        cutset = p.statement_start(cutset);
        if cutset.is_empty() {
            return Ok(out);
        }
        let (key, left, inherited) = p.key_name(cutset)?;
        if key.contains(' ') {
            return Err(format!("line {}: key cannot contain a space", p.line));
        }
        if inherited {
            let found = outer.lookup(&key).or_else(|| {
                bare_from_files
                    .then(|| {
                        out.get(&key)
                            .map(str::to_string)
                            .or_else(|| earlier.lookup(&key))
                    })
                    .flatten()
            });
            if let Some(v) = found {
                out.set(key, v);
            }
            cutset = left;
            continue;
        }
        let (value, left) = p.value(left, &out, outer, earlier, warn)?;
        out.set(key, value);
        cutset = left;
    }
}

struct Parser {
    line: usize,
}

static EXPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^export\s+").expect("the export pattern compiles"));
static ESCAPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(\\(?:[abcfnrtv$"\\]|0\d{0,3}))"#).expect("the escape pattern compiles")
});

impl Parser {
    /// Where the next statement starts, past blank space and comment lines ("" at the end).
    fn statement_start<'s>(&mut self, src: &'s str) -> &'s str {
        let mut src = src;
        loop {
            let Some(pos) = self.index_of_non_space(src) else {
                return "";
            };
            src = &src[pos..];
            if !src.starts_with('#') {
                return src;
            }
            match src.find('\n') {
                Some(nl) => src = &src[nl..],
                None => return "",
            }
        }
    }

    /// The first character that is not white space (lines counted on the way).
    fn index_of_non_space(&mut self, src: &str) -> Option<usize> {
        for (i, c) in src.char_indices() {
            if c == '\n' {
                self.line += 1;
            }
            if !c.is_whitespace() {
                return Some(i);
            }
        }
        None
    }

    /// (key, the rest after `=`/`:`, whether the line is a bare key).
    fn key_name<'s>(&mut self, src: &'s str) -> Result<(String, &'s str, bool), String> {
        let mut src = src;
        if EXPORT.is_match(src) {
            src = src["export".len()..].trim_start_matches(is_space);
        }
        let mut key = "";
        let mut offset = 0;
        let mut inherited = false;
        for (i, c) in src.char_indices() {
            if is_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    key = &src[..i];
                    offset = i + 1;
                    inherited = c == '\n';
                    break;
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphabetic() || c.is_numeric() => {}
                c => {
                    return Err(format!(
                        "line {}: unexpected character {} in variable name {}",
                        self.line,
                        quote(&c.to_string()),
                        quote(src.split('\n').next().unwrap_or_default())
                    ))
                }
            }
        }
        if src.is_empty() {
            return Err("zero length string".into());
        }
        if inherited && !key.contains(' ') {
            self.line += 1;
        }
        let key = key.trim_end_matches(char::is_whitespace).to_string();
        let rest = src[offset..].trim_start_matches(is_space);
        Ok((key, rest, inherited))
    }

    /// The value at the start of `src` and what follows it.
    fn value<'s>(
        &mut self,
        src: &'s str,
        defined: &EnvFile,
        outer: &dyn Lookup,
        earlier: &dyn Lookup,
        warn: &mut dyn FnMut(&str),
    ) -> Result<(String, &'s str), String> {
        let quote_char = match src.as_bytes().first() {
            Some(q @ (b'"' | b'\'')) => *q,
            _ => {
                let (value, rest) = src.split_once('\n').unwrap_or((src, ""));
                self.line += 1;
                let value = value.split_once(" #").map_or(value, |(v, _)| v);
                let value = value.trim_end_matches(char::is_whitespace);
                return Ok((expand(value, defined, outer, earlier, warn)?, rest));
            }
        };
        let b = src.as_bytes();
        let mut chars = Vec::new();
        let mut escaped = false;
        for i in 1..b.len() {
            let c = b[i];
            if c == b'\n' {
                self.line += 1;
            }
            if c != quote_char {
                if !escaped && c == b'\\' {
                    escaped = true;
                    continue;
                }
                if escaped {
                    escaped = false;
                    chars.push(b'\\');
                }
                chars.push(c);
                continue;
            }
            if escaped {
                // \" or \' (whichever quotes the value): the quote itself.
                escaped = false;
                chars.push(c);
                continue;
            }
            let value = String::from_utf8_lossy(&chars).into_owned();
            let value = if quote_char == b'"' {
                expand(&expand_escapes(&value), defined, outer, earlier, warn)?
            } else {
                value
            };
            return Ok((value, &src[i + 1..]));
        }
        let end = src.find('\n').unwrap_or(src.len());
        Err(format!(
            "line {}: unterminated quoted value {}",
            self.line,
            &src[..end]
        ))
    }
}

/// compose-go's isSpace: white space but not a line break.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{0b}' | '\u{0c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

/// Interpolate a value: the caller's variables first, then the file's own so far, then the
/// earlier files'.
fn expand(
    value: &str,
    defined: &EnvFile,
    outer: &dyn Lookup,
    earlier: &dyn Lookup,
    warn: &mut dyn FnMut(&str),
) -> Result<String, String> {
    let lookup = |k: &str| {
        outer
            .lookup(k)
            .or_else(|| defined.get(k).map(str::to_string))
            .or_else(|| earlier.lookup(k))
    };
    substitute(value, &lookup, warn).map_err(|e| e.to_string())
}

/// The escapes a double-quoted value may hold. `\$` becomes `$$` (a literal `$` to the
/// interpolation); `\0ddd` is an octal byte; anything Go's UnquoteChar refuses stays as written.
fn expand_escapes(s: &str) -> String {
    ESCAPE
        .replace_all(s, |caps: &regex::Captures<'_>| {
            let m = &caps[0];
            match m {
                r"\$" => "$$".to_string(),
                r"\a" => "\u{07}".into(),
                r"\b" => "\u{08}".into(),
                r"\f" => "\u{0c}".into(),
                r"\n" => "\n".into(),
                r"\r" => "\r".into(),
                r"\t" => "\t".into(),
                r"\v" => "\u{0b}".into(),
                r#"\""# => "\"".into(),
                r"\\" => "\\".into(),
                _ => octal(&m[2..]).unwrap_or_else(|| m.to_string()),
            }
        })
        .into_owned()
}

/// `\0ddd` → the byte 0oddd: Go's octal escape wants exactly three octal digits (at most 0o377).
fn octal(digits: &str) -> Option<String> {
    if digits.len() != 3 || !digits.bytes().all(|d| (b'0'..=b'7').contains(&d)) {
        return None;
    }
    let v = u32::from_str_radix(digits, 8)
        .ok()
        .filter(|v| *v <= 0o377)?;
    char::from_u32(v).map(String::from)
}

#[cfg(test)]
mod tests;
