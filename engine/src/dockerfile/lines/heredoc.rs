//! Heredoc markers on a RUN/COPY/ADD line, found as BuildKit finds them: the line is split into
//! words by the shell lexer in its raw modes (quotes and escapes kept, so `'<<A'` is not a
//! marker), and each `<<[-]WORD` word gives a heredoc whose body the line level then reads.

use super::Node;
use crate::dockerfile::shell_lex::Lexer;
use crate::dockerfile::Heredoc;

pub(super) fn can_contain_heredoc(node: &Node) -> bool {
    matches!(node.cmd.as_str(), "add" | "copy" | "run") && !node.json
}

/// BuildKit's heredocsFromLine: the line's words (quotes and escapes kept) that look like
/// `<<[-]WORD`.
pub(super) fn heredocs_from_line(line: &str) -> Vec<Heredoc> {
    let lex = Lexer {
        escape: '\\',
        raw_quotes: true,
        raw_escapes: true,
        skip_unset_env: true,
    };
    let words = lex.words_no_env(line).unwrap_or_default();
    words.iter().filter_map(|w| parse_heredoc(w)).collect()
}

/// BuildKit's ParseHeredoc: `^(\d*)<<(-?)\s*([^<]*)$`, the delimiter one word, `expand` false
/// when any part of it is quoted.
pub(crate) fn parse_heredoc(word: &str) -> Option<Heredoc> {
    let s = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let s = s.strip_prefix("<<")?;
    let (chomp, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let rest = s.trim_start_matches(|c: char| c.is_whitespace());
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let plain = Lexer {
        escape: '\\',
        raw_quotes: false,
        raw_escapes: false,
        skip_unset_env: true,
    };
    let words = plain.words_no_env(rest).ok()?;
    if words.len() != 1 {
        return None;
    }
    let raw = Lexer {
        raw_quotes: true,
        ..plain
    };
    let raw_words = raw.words_no_env(rest).ok()?;
    if raw_words.len() != 1 {
        return None;
    }
    let quotes = |s: &str| s.chars().filter(|c| *c == '\'' || *c == '"').count();
    Some(Heredoc {
        name: words[0].clone(),
        content: String::new(),
        expand: quotes(&words[0]) == quotes(&raw_words[0]),
        chomp,
    })
}
