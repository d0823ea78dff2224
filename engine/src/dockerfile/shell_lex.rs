//! Word expansion for Dockerfile arguments: a port of BuildKit's shell lexer
//! (`frontend/dockerfile/shell/lex.go`), so `$V`, `${V}`, `${V:-x}`, `${V-x}`, `${V:+x}`, `${V+x}`,
//! `${V:?err}`, `${V?err}`, `${V#pat}`, `${V%pat}`, `${V/pat/rep}`, quoting and the escape character
//! (backslash or the `escape` directive's backtick) behave exactly as they do in `docker build`.
//!
//! The builder expands ADD/COPY/ENV/EXPOSE/FROM/LABEL/STOPSIGNAL/USER/VOLUME/WORKDIR words and
//! `--mount` values with this; RUN/CMD/ENTRYPOINT are left to the shell in the container.
//! The parser also uses it (raw modes) to find heredoc markers on a RUN/COPY/ADD line, as BuildKit's
//! parser does.

use std::collections::{BTreeMap, HashMap};

use super::DockerfileError;

/// Where variable values come from during expansion.
pub trait Lookup {
    /// The value of `name`, or `None` when it is not set (an empty value is set).
    fn get(&self, name: &str) -> Option<String>;
}

impl Lookup for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

impl Lookup for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

/// A `"K=V"` list (an image config's `Env`): the last entry for a key wins, as in BuildKit's
/// `EnvsFromSlice`; an entry without `=` sets the key to the empty string.
impl Lookup for [String] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter().rev().find_map(|e| {
            let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
            (k == name).then(|| v.to_string())
        })
    }
}

impl Lookup for Vec<String> {
    fn get(&self, name: &str) -> Option<String> {
        Lookup::get(self.as_slice(), name)
    }
}

/// No variables at all (the parser's heredoc detection).
struct NoEnv;
impl Lookup for NoEnv {
    fn get(&self, _: &str) -> Option<String> {
        None
    }
}

/// The public lexer: `ShellLex { escape: '\\' }` (or the Dockerfile's `escape` directive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShellLex {
    pub escape: char,
}

impl Default for ShellLex {
    fn default() -> Self {
        ShellLex { escape: '\\' }
    }
}

impl ShellLex {
    pub fn new(escape: char) -> Self {
        ShellLex { escape }
    }

    /// One word with variables substituted and quotes removed (BuildKit's `ProcessWord`); spaces
    /// inside the result are kept.
    pub fn expand_word(&self, word: &str, env: &dyn Lookup) -> Result<String, DockerfileError> {
        Lexer::new(self.escape).process(word, env).map(|(w, _)| w)
    }

    /// The word split into words after substitution, as BuildKit's `ProcessWords`: unquoted
    /// whitespace (including whitespace coming from a variable's value) separates words.
    pub fn expand_words(
        &self,
        word: &str,
        env: &dyn Lookup,
    ) -> Result<Vec<String>, DockerfileError> {
        Lexer::new(self.escape).process(word, env).map(|(_, w)| w)
    }
}

/// The lexer with BuildKit's internal switches (the parser's heredoc detection keeps quotes and
/// escapes and leaves unset variables as written).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lexer {
    pub escape: char,
    pub raw_quotes: bool,
    pub raw_escapes: bool,
    pub skip_unset_env: bool,
}

impl Lexer {
    pub(crate) fn new(escape: char) -> Self {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset_env: false,
        }
    }

    /// `(ProcessWord result, ProcessWords words)`; the error reads as BuildKit's
    /// `failed to process "<word>": <reason>`.
    pub(crate) fn process(
        &self,
        word: &str,
        env: &dyn Lookup,
    ) -> Result<(String, Vec<String>), DockerfileError> {
        let mut sw = ShellWord {
            lex: *self,
            chars: word.chars().collect(),
            pos: 0,
            env,
            raw_escapes: self.raw_escapes,
        };
        sw.process_stop_on(None, self.raw_escapes).map_err(|e| {
            DockerfileError::plain(format!("failed to process {}: {e}", go_quote(word)))
        })
    }

    /// The words of `line` for heredoc detection; errors give no words, as in BuildKit.
    pub(crate) fn words_no_env(&self, line: &str) -> Result<Vec<String>, DockerfileError> {
        self.process(line, &NoEnv).map(|(_, w)| w)
    }
}

pub(crate) use crate::util::go::quote as go_quote;

/// Word accumulation for `ProcessWords`: unquoted whitespace ends a word, quoted text never does.
#[derive(Default)]
struct Words {
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() && self.in_word {
            if !self.buf.is_empty() {
                self.words.push(std::mem::take(&mut self.buf));
                self.in_word = false;
            }
        } else if !ch.is_whitespace() {
            self.add_raw_char(ch);
        }
    }
    fn add_raw_char(&mut self, ch: char) {
        self.buf.push(ch);
        self.in_word = true;
    }
    fn add_string(&mut self, s: &str) {
        for ch in s.chars() {
            self.add_char(ch);
        }
    }
    fn add_raw_string(&mut self, s: &str) {
        self.buf.push_str(s);
        self.in_word = true;
    }
    fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(std::mem::take(&mut self.buf));
        }
        self.words
    }
}

struct ShellWord<'a> {
    lex: Lexer,
    chars: Vec<char>,
    pos: usize,
    env: &'a dyn Lookup,
    raw_escapes: bool,
}

type LexResult<T> = Result<T, String>;

impl ShellWord<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Read up to the end of input or `stop` (consumed), expanding as it goes.
    fn process_stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> LexResult<(String, Vec<String>)> {
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let r = self.process_stop_on_inner(stop);
        self.raw_escapes = saved;
        r
    }

    fn process_stop_on_inner(&mut self, stop: Option<char>) -> LexResult<(String, Vec<String>)> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if stop == Some(ch) {
                self.next();
                return Ok((result, words.finish()));
            }
            match ch {
                '$' => {
                    let tmp = self.process_dollar()?;
                    result.push_str(&tmp);
                    words.add_string(&tmp);
                }
                '<' => {
                    let tmp = self.process_possible_heredoc();
                    result.push_str(&tmp);
                    words.add_raw_string(&tmp);
                }
                '\'' => {
                    let tmp = self.process_single_quote()?;
                    result.push_str(&tmp);
                    words.add_raw_string(&tmp);
                }
                '"' => {
                    let tmp = self.process_double_quote()?;
                    result.push_str(&tmp);
                    words.add_raw_string(&tmp);
                }
                _ => {
                    let mut ch = ch;
                    self.next();
                    if ch == self.lex.escape {
                        if self.raw_escapes {
                            words.add_raw_char(ch);
                            result.push(ch);
                        }
                        // The escape character escapes the next one, except at the end.
                        match self.next() {
                            None => break,
                            Some(c) => ch = c,
                        }
                        words.add_raw_char(ch);
                    } else {
                        words.add_char(ch);
                    }
                    result.push(ch);
                }
            }
        }
        if let Some(stop) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {stop}"
            ));
        }
        Ok((result, words.finish()))
    }

    fn process_single_quote(&mut self) -> LexResult<String> {
        // Everything up to the next ' is literal; a ' cannot be escaped inside.
        let mut result = String::new();
        let q = self.next();
        if self.lex.raw_quotes {
            result.extend(q);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.lex.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    fn process_double_quote(&mut self) -> LexResult<String> {
        // Literal except $, and the escape character before " $ or itself.
        let mut result = String::new();
        let q = self.next();
        if self.lex.raw_quotes {
            result.extend(q);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.next();
                    if self.lex.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => {
                    let v = self.process_dollar()?;
                    result.push_str(&v);
                }
                Some(_) => {
                    let mut ch = self.next().unwrap_or_default();
                    if ch == self.lex.escape {
                        if self.raw_escapes {
                            result.push(ch);
                        }
                        match self.peek() {
                            // An escape at the very end is dropped (the missing quote errors next).
                            None => continue,
                            Some(c) if c == '"' || c == '$' || c == self.lex.escape => {
                                self.next();
                                ch = c;
                            }
                            Some(_) => {}
                        }
                    }
                    result.push(ch);
                }
            }
        }
    }

    fn process_dollar(&mut self) -> LexResult<String> {
        self.next(); // '$'
        if self.peek() != Some('{') {
            let name = self.process_name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.env.get(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${name}"),
                None => String::new(),
            });
        }
        self.next(); // '{'
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            _ => {}
        }
        let name = self.process_name();
        let mut ch = self.next();
        let mut chs: String = ch.into_iter().collect();
        let mut null_is_unset = false;
        match ch {
            Some('}') => Ok(match self.env.get(&name) {
                Some(v) => v,
                None if self.lex.skip_unset_env => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(':') => {
                // `${V:x}` is the null-means-unset variant of whatever modifier follows.
                null_is_unset = true;
                ch = self.next();
                chs.extend(ch);
                self.modifier(&name, ch, &chs, null_is_unset)
            }
            Some('+' | '-' | '?' | '#' | '%') => self.modifier(&name, ch, &chs, null_is_unset),
            Some('/') => self.substitute(&name),
            _ => Err(format!("unsupported modifier ({chs}) in substitution")),
        }
    }

    fn modifier(
        &mut self,
        name: &str,
        ch: Option<char>,
        chs: &str,
        null_is_unset: bool,
    ) -> LexResult<String> {
        let raw = matches!(ch, Some('#' | '%'));
        if null_is_unset && raw {
            return Err(format!("unsupported modifier ({chs}) in substitution"));
        }
        let (mut word, _) = match self.process_stop_on(Some('}'), raw) {
            Ok(w) => w,
            Err(e) => {
                if self.peek().is_none() {
                    return Err("syntax error: missing '}'".into());
                }
                return Err(e);
            }
        };
        let value = self.env.get(name);
        if self.lex.skip_unset_env && value.is_none() {
            return Ok(format!("${{{name}{chs}{word}}}"));
        }
        let set = value.is_some();
        let value = value.unwrap_or_default();
        let unset = !set || (null_is_unset && value.is_empty());
        match ch {
            Some('-') => Ok(if unset { word } else { value }),
            Some('+') => Ok(if unset { String::new() } else { word }),
            Some('?') => {
                if !set {
                    let msg = if word.is_empty() {
                        "is not allowed to be unset"
                    } else {
                        &word
                    };
                    return Err(format!("{name}: {msg}"));
                }
                if null_is_unset && value.is_empty() {
                    let msg = if word.is_empty() {
                        "is not allowed to be empty"
                    } else {
                        &word
                    };
                    return Err(format!("{name}: {msg}"));
                }
                Ok(value)
            }
            Some(c @ ('%' | '#')) => {
                // %/# remove the shortest match, %%/## the longest.
                let greedy = word.starts_with(c);
                if greedy {
                    word.remove(0);
                }
                let pat = Pattern::compile(&word)
                    .map_err(|e| format!("invalid pattern ({word}) in substitution: {e}"))?;
                let v: Vec<char> = value.chars().collect();
                if c == '#' {
                    Ok(match pat.prefix_end(&v, greedy) {
                        Some(end) => v[end..].iter().collect(),
                        None => value,
                    })
                } else {
                    Ok(match pat.suffix_start(&v, greedy) {
                        Some(start) => v[..start].iter().collect(),
                        None => value,
                    })
                }
            }
            _ => Err(format!("unsupported modifier ({chs}) in substitution")),
        }
    }

    /// `${V/pattern/replacement}` and `${V//pattern/replacement}` (all matches).
    fn substitute(&mut self, name: &str) -> LexResult<String> {
        let replace_all = self.peek() == Some('/');
        if replace_all {
            self.next();
        }
        let (pattern, _) = match self.process_stop_on(Some('/'), true) {
            Ok(w) => w,
            Err(e) => {
                if self.peek().is_none() {
                    return Err("syntax error: missing '/' in ${}".into());
                }
                return Err(e);
            }
        };
        let (replacement, _) = match self.process_stop_on(Some('}'), true) {
            Ok(w) => w,
            Err(e) => {
                if self.peek().is_none() {
                    return Err("syntax error: missing '}'".into());
                }
                return Err(e);
            }
        };
        let value = self.env.get(name);
        if self.lex.skip_unset_env && value.is_none() {
            return Ok(format!("${{{name}/{pattern}/{replacement}}}"));
        }
        let value = value.unwrap_or_default();
        let pat = Pattern::compile(&pattern)
            .map_err(|e| format!("invalid pattern ({pattern}) in substitution: {e}"))?;
        let v: Vec<char> = value.chars().collect();
        let mut out = String::new();
        let mut pos = 0;
        let mut last_match_end: Option<usize> = None;
        while pos <= v.len() {
            let Some((start, end)) = pat.find(&v, pos) else {
                break;
            };
            // As Go's ReplaceAll: an empty match right after a previous match is skipped.
            if start == end && last_match_end == Some(start) {
                if start < v.len() {
                    out.push(v[start]);
                }
                pos = start + 1;
                continue;
            }
            out.extend(&v[pos..start]);
            out.push_str(&replacement);
            last_match_end = Some(end);
            if !replace_all {
                pos = end;
                break;
            }
            if end == start {
                if start < v.len() {
                    out.push(v[start]);
                }
                pos = start + 1;
            } else {
                pos = end;
            }
        }
        if pos < v.len() {
            out.extend(&v[pos..]);
        }
        Ok(out)
    }

    fn process_name(&mut self) -> String {
        // A name is letters, digits and _; a leading digit reads all digits ($1, $999); a
        // special parameter ($@, $*, $#, ...) is one character.
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && is_digit(ch) {
                while let Some(c) = self.peek().filter(|c| is_digit(*c)) {
                    self.next();
                    name.push(c);
                }
                return name;
            }
            if name.is_empty() && is_special_param(ch) {
                self.next();
                return ch.to_string();
            }
            if !ch.is_alphabetic() && !is_digit(ch) && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }

    fn process_possible_heredoc(&mut self) -> String {
        self.next();
        if self.peek() != Some('<') {
            return "<".into();
        }
        self.next();
        // Whitespace between << and the delimiter stays with the marker.
        let mut result = String::from("<<");
        while let Some(c) = self.peek().filter(|c| matches!(c, '\t' | '\r' | ' ')) {
            result.push(c);
            self.next();
        }
        result
    }
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

fn is_special_param(c: char) -> bool {
    matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}

/// A shell wildcard pattern of `${V#pat}`, `${V%pat}` and `${V/pat/rep}`: `*`, `?`, literals,
/// and `\` escaping `*`, `?`, `\` (and `}`/`/`, which only need it to get past the `${}` parser).
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Star,
    Any,
    Lit(char),
}

#[derive(Debug)]
struct Pattern(Vec<Tok>);

impl Pattern {
    fn compile(p: &str) -> Result<Pattern, String> {
        let mut toks = Vec::new();
        let mut it = p.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '*' => toks.push(Tok::Star),
                '?' => toks.push(Tok::Any),
                '\\' => match it.peek().copied() {
                    Some('}' | '/') => {}
                    Some(n @ ('*' | '?' | '\\')) => {
                        it.next();
                        toks.push(Tok::Lit(n));
                    }
                    Some(n) => return Err(format!("invalid escape '\\{n}'")),
                    None => return Err("invalid escape '\\'".into()),
                },
                c => toks.push(Tok::Lit(c)),
            }
        }
        Ok(Pattern(toks))
    }

    /// Every end position of a match of the tokens starting at `start` (ascending).
    fn ends(toks: &[Tok], s: &[char], start: usize) -> Vec<usize> {
        // positions[i] = reachable after i tokens
        let mut cur = vec![false; s.len() + 1];
        cur[start] = true;
        for t in toks {
            let mut next = vec![false; s.len() + 1];
            match t {
                Tok::Star => {
                    let mut on = false;
                    for i in 0..=s.len() {
                        on |= cur[i];
                        next[i] = on;
                    }
                }
                Tok::Any => {
                    for i in 0..s.len() {
                        next[i + 1] |= cur[i];
                    }
                }
                Tok::Lit(c) => {
                    for i in 0..s.len() {
                        next[i + 1] |= cur[i] && s[i] == *c;
                    }
                }
            }
            cur = next;
        }
        (0..=s.len()).filter(|i| cur[*i]).collect()
    }

    /// The end of the shortest (or longest) match anchored at the start.
    fn prefix_end(&self, s: &[char], greedy: bool) -> Option<usize> {
        let ends = Self::ends(&self.0, s, 0);
        if greedy {
            ends.last().copied()
        } else {
            ends.first().copied()
        }
    }

    /// The start of the shortest (or longest) match anchored at the end.
    fn suffix_start(&self, s: &[char], greedy: bool) -> Option<usize> {
        let starts = (0..=s.len()).filter(|st| Self::ends(&self.0, s, *st).contains(&s.len()));
        if greedy {
            starts.min()
        } else {
            starts.max()
        }
    }

    /// The leftmost match at or after `from`, longest at that start (the wildcards are greedy).
    fn find(&self, s: &[char], from: usize) -> Option<(usize, usize)> {
        (from..=s.len()).find_map(|st| Self::ends(&self.0, s, st).last().map(|e| (st, *e)))
    }
}

#[cfg(test)]
#[path = "shell_lex_tests.rs"]
mod tests;
