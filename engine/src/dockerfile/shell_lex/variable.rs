//! The `$` forms of a word: `$V`, `${V}` and their modifiers (`:-`, `-`, `:+`, `+`, `:?`, `?`,
//! `#`, `##`, `%`, `%%`, `/`, `//`), with BuildKit's error texts. Kept apart from the reader
//! because each modifier's operand is itself a word, read by recursing into it with a stop
//! character, and because unset variables have a mode of their own here (the parser's heredoc
//! detection leaves them as written).

use super::pattern::Pattern;
use super::word::{LexResult, ShellWord};

impl ShellWord<'_> {
    pub(super) fn process_dollar(&mut self) -> LexResult<String> {
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
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
}

fn is_special_param(c: char) -> bool {
    matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')
}
