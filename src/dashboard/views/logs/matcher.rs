//! The search, compiled (smart-case, plain text or regex), and the sorted list of matching
//! lines kept in step as lines arrive and leave the buffer.

use std::collections::VecDeque;

use regex::{Regex, RegexBuilder};

use super::LogsView;

/// The search, compiled.
#[derive(Debug, Clone, Default)]
pub(super) enum Matcher {
    /// No search.
    #[default]
    None,
    Re(Regex),
    /// A regex that does not compile: its error, and no line matches.
    Bad(String),
}

impl Matcher {
    fn new(search: &str, regex: bool) -> Matcher {
        if search.is_empty() {
            return Matcher::None;
        }
        let pattern = if regex {
            search.to_string()
        } else {
            regex::escape(search)
        };
        let smart_case = !search.chars().any(char::is_uppercase);
        match RegexBuilder::new(&pattern)
            .case_insensitive(smart_case)
            // A pathological pattern is refused rather than built into a huge automaton.
            .size_limit(1 << 20)
            .build()
        {
            Ok(re) => Matcher::Re(re),
            // The crate's message draws the pattern with a caret over several lines; the last
            // line says what is wrong, which is what fits in a header.
            Err(e) => {
                let text = e.to_string();
                let last = text
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("invalid regex")
                    .trim();
                Matcher::Bad(last.trim_start_matches("error: ").to_string())
            }
        }
    }

    fn is_match(&self, text: &str) -> bool {
        match self {
            Matcher::Re(re) => re.is_match(text),
            _ => false,
        }
    }
}

impl LogsView {
    pub(super) fn push_line(&mut self, source: usize, raw: &str, stderr: bool) {
        self.buffer.push_raw(source, raw, stderr);
        let seq = self.buffer.end_seq() - 1;
        if let Some(line) = self.buffer.get(seq) {
            if self.matcher.is_match(&line.text) {
                self.matches.push_back(seq);
            }
        }
        let first = self.buffer.first_seq();
        while self.matches.front().is_some_and(|&m| m < first) {
            self.matches.pop_front();
        }
        if self.current.is_some_and(|c| c < first) {
            self.current = None;
        }
    }

    pub(super) fn set_search(&mut self, search: &str) {
        self.search = search.to_string();
        self.rematch();
    }

    pub(super) fn rematch(&mut self) {
        self.matcher = Matcher::new(&self.search, self.regex);
        self.matches = match &self.matcher {
            Matcher::Re(re) => self
                .buffer
                .iter_from(0)
                .filter(|(_, l)| re.is_match(&l.text))
                .map(|(s, _)| s)
                .collect(),
            _ => VecDeque::new(),
        };
        self.current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_are_smart_case_and_bad_regexes_say_why() {
        let m = Matcher::new("error", false);
        assert!(m.is_match("An ERROR here"));
        let m = Matcher::new("Error", false);
        assert!(!m.is_match("an error here") && m.is_match("an Error"));
        // Plain text is literal; as a regex the same text means something else.
        assert!(
            Matcher::new("a.c", false).is_match("a.c")
                && !Matcher::new("a.c", false).is_match("abc")
        );
        assert!(Matcher::new("a.c", true).is_match("abc"));
        match Matcher::new("(unclosed", true) {
            Matcher::Bad(e) => assert_eq!(e, "unclosed group"),
            other => panic!("{other:?}"),
        }
        assert!(!Matcher::new("(unclosed", true).is_match("(unclosed"));
        assert!(matches!(Matcher::new("", true), Matcher::None));
    }
}
