//! Word expansion for Dockerfile arguments: a port of BuildKit's shell lexer
//! (`frontend/dockerfile/shell/lex.go`), so `$V`, `${V}`, `${V:-x}`, `${V-x}`, `${V:+x}`, `${V+x}`,
//! `${V:?err}`, `${V?err}`, `${V#pat}`, `${V%pat}`, `${V/pat/rep}`, quoting and the escape character
//! (backslash or the `escape` directive's backtick) behave exactly as they do in `docker build`.
//!
//! The builder expands ADD/COPY/ENV/EXPOSE/FROM/LABEL/STOPSIGNAL/USER/VOLUME/WORKDIR words and
//! `--mount` values with this; RUN/CMD/ENTRYPOINT are left to the shell in the container.
//! The parser also uses it (raw modes) to find heredoc markers on a RUN/COPY/ADD line, as BuildKit's
//! parser does.
//!
//! This module is the interface (variable sources, [`ShellLex`], the internal `Lexer`
//! switches); the reader that walks a word (quotes, escapes, word splitting) is `word`, the `$`
//! forms and their modifiers are `variable`, and the wildcard patterns of `#`, `%` and `/` are
//! `pattern`.

mod pattern;
mod variable;
mod word;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use super::DockerfileError;
use word::ShellWord;

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
