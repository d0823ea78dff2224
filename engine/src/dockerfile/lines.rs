//! The line level of the parser, a port of docker's `frontend/dockerfile/parser` (the version in
//! dockerd 20.10, plus BuildKit's heredocs): parser directives, comments, line continuations
//! joined exactly as docker joins them (the first line left-trimmed, continuation lines kept as
//! they are, the escape character and the spaces after it removed, comment and empty lines inside
//! a continuation skipped), heredoc bodies, and each instruction's arguments split by the
//! instruction's own rule (ENV/LABEL pairs, JSON or shell form, whitespace lists, ...).
//!
//! Errors here are docker's "failed to parse Dockerfile: ..." kind; the instruction-level checks
//! are in `instruction.rs`.

use super::shell_lex::Lexer;
use super::{DockerfileError, Heredoc};

/// One logical instruction, as docker's `parser.Node`.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The instruction word, lowercased.
    pub cmd: String,
    /// `--flag[=value]` words before the arguments.
    pub flags: Vec<String>,
    /// The arguments as the instruction's line parser split them (ENV/LABEL: key, value, ...).
    pub args: Vec<String>,
    /// The arguments were a JSON array.
    pub json: bool,
    /// The joined line (docker's `node.Original`).
    pub original: String,
    pub line: usize,
    pub column: usize,
    pub heredocs: Vec<Heredoc>,
    /// ONBUILD's trigger.
    pub child: Option<Box<Node>>,
}

#[derive(Debug)]
pub(crate) struct Parsed {
    pub escape: char,
    pub syntax: Option<String>,
    pub nodes: Vec<Node>,
    pub warnings: Vec<String>,
}

struct Directives {
    escape: char,
    syntax: Option<String>,
    done: bool,
    seen: Vec<String>,
}

impl Directives {
    /// docker's possibleParserDirective: `# key=value` lines before anything else.
    fn check(&mut self, line: &str) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        let Some((key, value)) = directive(line) else {
            self.done = true;
            return Ok(());
        };
        let key = key.to_ascii_lowercase();
        if !matches!(key.as_str(), "escape" | "syntax" | "check") {
            self.done = true;
            return Ok(());
        }
        if self.seen.contains(&key) {
            return Err(format!("only one {key} parser directive can be used"));
        }
        self.seen.push(key.clone());
        match key.as_str() {
            "escape" => {
                self.escape = match value {
                    "`" => '`',
                    "\\" => '\\',
                    _ => {
                        return Err(format!(
                            "invalid escape token '{value}' does not match ` or \\"
                        ))
                    }
                }
            }
            "syntax" => self.syntax = Some(value.to_string()),
            _ => {}
        }
        Ok(())
    }
}

/// `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
fn directive(line: &str) -> Option<(&str, &str)> {
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r');
    let s = line.strip_prefix('#')?.trim_start_matches(is_ws);
    let name_end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_alphabetic() || (*i > 0 && c.is_ascii_digit())))
        .map_or(s.len(), |(i, _)| i);
    if name_end == 0 {
        return None;
    }
    let (name, after) = s.split_at(name_end);
    let value = after
        .trim_start_matches(is_ws)
        .strip_prefix('=')?
        .trim_start_matches(is_ws)
        .trim_end_matches(is_ws);
    (!value.is_empty()).then_some((name, value))
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// A line without its `\n` and one `\r` (Go's bufio.ScanLines).
fn strip_newline(raw: &str) -> &str {
    let l = raw.strip_suffix('\n').unwrap_or(raw);
    l.strip_suffix('\r').unwrap_or(l)
}

/// docker's line continuation regex `([^E])E[ \t]*$|^E[ \t]*$`: the escape character as the
/// last non-blank character, unless escaped itself. Returns the line without it and whether
/// the instruction ends here.
fn trim_continuation(line: &str, escape: char) -> (String, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    if let Some(before) = trimmed.strip_suffix(escape) {
        match before.chars().last() {
            None => return (String::new(), false),
            Some(c) if c != escape => return (before.to_string(), false),
            Some(_) => {}
        }
    }
    (line.to_string(), true)
}

/// Split `text` into logical instructions.
pub(crate) fn parse_lines(text: &str) -> Result<Parsed, DockerfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: Vec<&str> = text.split_inclusive('\n').collect();
    let mut d = Directives {
        escape: '\\',
        syntax: None,
        done: false,
        seen: Vec::new(),
    };
    let mut nodes = Vec::new();
    let mut warnings = Vec::new();
    let mut idx = 0;
    while idx < raw.len() {
        let physical = strip_newline(raw[idx]);
        idx += 1;
        let start_line = idx;
        let token = physical.trim_start();
        d.check(token)
            .map_err(|e| DockerfileError::syntax(e, start_line))?;
        let token = if token.starts_with('#') { "" } else { token };
        let (mut line, mut eol) = trim_continuation(token, d.escape);
        if eol && line.is_empty() {
            continue;
        }
        let column = physical.chars().count() - token.chars().count() + 1;
        let mut has_empty_continuation = false;
        while !eol && idx < raw.len() {
            let b = strip_newline(raw[idx]);
            idx += 1;
            d.check(b).map_err(|e| DockerfileError::syntax(e, idx))?;
            if is_comment(b) {
                continue;
            }
            if b.trim_start().is_empty() {
                has_empty_continuation = true;
                continue;
            }
            let (c, e) = trim_continuation(b, d.escape);
            line.push_str(&c);
            eol = e;
        }
        if has_empty_continuation {
            warnings.push(format!(
                "[WARNING]: Empty continuation line found in:\n    {line}"
            ));
        }
        let mut node = new_node_from_line(&line, d.escape)
            .map_err(|e| DockerfileError::syntax(e, start_line))?;
        node.line = start_line;
        node.column = column;
        let heredoc_holder = match &node.child {
            Some(c) if node.cmd == "onbuild" => c.as_ref(),
            _ => &node,
        };
        if can_contain_heredoc(heredoc_holder) && line.contains("<<") {
            let mut docs = heredocs_from_line(&line);
            for doc in &mut docs {
                let mut terminated = false;
                while idx < raw.len() {
                    let body_line = raw[idx];
                    idx += 1;
                    let mut possible = body_line.trim_end_matches(['\r', '\n']);
                    if doc.chomp {
                        possible = possible.trim_start_matches('\t');
                    }
                    if possible == doc.name {
                        terminated = true;
                        break;
                    }
                    if doc.chomp {
                        doc.content.push_str(body_line.trim_start_matches('\t'));
                    } else {
                        doc.content.push_str(body_line);
                    }
                }
                if !terminated {
                    return Err(DockerfileError::syntax("unterminated heredoc", start_line));
                }
            }
            node.heredocs = docs;
        }
        nodes.push(node);
    }
    if !warnings.is_empty() {
        warnings.push(
            "[WARNING]: Empty continuation lines will become errors in a future release.".into(),
        );
    }
    if nodes.is_empty() {
        return Err(DockerfileError::syntax(
            "file with no instructions",
            raw.len().max(1),
        ));
    }
    Ok(Parsed {
        escape: d.escape,
        syntax: d.syntax,
        nodes,
        warnings,
    })
}

fn can_contain_heredoc(node: &Node) -> bool {
    matches!(node.cmd.as_str(), "add" | "copy" | "run") && !node.json
}

/// BuildKit's heredocsFromLine: the line's words (quotes and escapes kept) that look like
/// `<<[-]WORD`.
fn heredocs_from_line(line: &str) -> Vec<Heredoc> {
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

/// `[\t\v\f\r ]+`
fn is_re_ws(c: char) -> bool {
    matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ')
}

fn split_re_ws(s: &str) -> Vec<String> {
    s.split(is_re_ws)
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect::<Vec<_>>()
}

/// docker's newNodeFromLine.
pub(crate) fn new_node_from_line(line: &str, escape: char) -> Result<Node, String> {
    let (cmd, flags, rest) = split_command(line);
    let mut node = Node {
        cmd,
        flags,
        args: Vec::new(),
        json: false,
        original: line.to_string(),
        line: 0,
        column: 0,
        heredocs: Vec::new(),
        child: None,
    };
    match node.cmd.as_str() {
        "add" | "copy" | "volume" => {
            (node.args, node.json) = maybe_json_to_list(&rest)?;
        }
        "arg" => node.args = parse_words(&rest, escape),
        "cmd" | "entrypoint" | "run" | "shell" => {
            (node.args, node.json) = maybe_json(&rest)?;
        }
        "env" => node.args = parse_name_val(&rest, "ENV", escape)?,
        "label" => node.args = parse_name_val(&rest, "LABEL", escape)?,
        "expose" | "from" => node.args = split_re_ws(&rest),
        "healthcheck" => {
            // The type word, then the command as CMD's.
            let sep = rest
                .find(|c: char| c.is_ascii_whitespace() || c == '\x0b')
                .unwrap_or(rest.len());
            if sep > 0 {
                let after = rest[sep..].trim_start_matches(|c: char| c.is_ascii_whitespace());
                let (args, json) = maybe_json(after)?;
                node.args = std::iter::once(rest[..sep].to_string())
                    .chain(args)
                    .collect();
                node.json = json;
            }
        }
        "maintainer" | "stopsignal" | "user" | "workdir" if !rest.is_empty() => {
            node.args = vec![rest.clone()];
        }
        "onbuild" if !rest.is_empty() => {
            let child = new_node_from_line(&rest, escape)?;
            node.args = std::iter::once(child.cmd.clone())
                .chain(child.args.iter().cloned())
                .collect();
            node.child = Some(Box::new(child));
        }
        // No arguments, or an unknown instruction (reported with its line by the
        // instruction level).
        _ => {}
    }
    Ok(node)
}

/// docker's splitCommand: the instruction word, its `--flags`, and the rest.
fn split_command(line: &str) -> (String, Vec<String>, String) {
    let trimmed = line.trim();
    let (cmd, after) = match trimmed.find(is_re_ws) {
        Some(i) => (
            &trimmed[..i],
            Some(trimmed[i..].trim_start_matches(is_re_ws)),
        ),
        None => (trimmed, None),
    };
    let cmd = cmd.to_lowercase();
    match after {
        Some(a) => {
            let (rest, flags) = extract_builder_flags(a);
            (cmd, flags, rest.trim().to_string())
        }
        None => (cmd, Vec::new(), String::new()),
    }
}

/// docker's extractBuilderFlags: leading `--name[=value]` words (quotes and `\` understood);
/// a bare `--` ends them.
fn extract_builder_flags(line: &str) -> (String, Vec<String>) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let b = line.as_bytes();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word: Vec<u8> = Vec::new();
    let mut quote = 0u8;
    let mut blank_ok = false;
    let mut pos = 0;
    let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let as_string = |w: &[u8]| String::from_utf8_lossy(w).into_owned();
    while pos <= b.len() {
        let ch = b.get(pos).copied().unwrap_or(0);
        if phase == Phase::Spaces {
            if pos == b.len() {
                break;
            }
            if is_space(ch) {
                pos += 1;
                continue;
            }
            if ch != b'-' || pos + 1 == b.len() || b[pos + 1] != b'-' {
                return (line[pos..].to_string(), words);
            }
            phase = Phase::Word;
        }
        if pos == b.len() {
            if word != b"--" && (blank_ok || !word.is_empty()) {
                words.push(as_string(&word));
            }
            break;
        }
        let mut ch = ch;
        if phase == Phase::Word {
            if is_space(ch) {
                phase = Phase::Spaces;
                if word == b"--" {
                    return (line[pos..].to_string(), words);
                }
                if blank_ok || !word.is_empty() {
                    words.push(as_string(&word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == b'\'' || ch == b'"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            if ch == b'\\' {
                if pos + 1 == b.len() {
                    pos += 1;
                    continue;
                }
                pos += 1;
                ch = b[pos];
            }
            word.push(ch);
            pos += 1;
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        if ch == b'\\' {
            if pos + 1 == b.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            ch = b[pos];
        }
        word.push(ch);
        pos += 1;
    }
    (String::new(), words)
}

/// docker's parseWords: space-separated words, quotes kept (removed later by expansion).
pub(crate) fn parse_words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut pos = 0;
    while pos <= chars.len() {
        let mut ch = chars.get(pos).copied().unwrap_or('\0');
        if phase == Phase::Spaces {
            if pos == chars.len() {
                break;
            }
            if ch.is_whitespace() {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if pos == chars.len() {
            if blank_ok || !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            break;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                word.clear();
                blank_ok = false;
                pos += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if pos + 1 == chars.len() {
                    pos += 1;
                    continue;
                }
                // An unquoted escape keeps itself and the next character, even a quote.
                word.push(ch);
                pos += 1;
                ch = chars[pos];
            }
            word.push(ch);
            pos += 1;
            continue;
        }
        // In quotes.
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if pos + 1 == chars.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            word.push(ch);
            ch = chars[pos];
        }
        word.push(ch);
        pos += 1;
    }
    words
}

/// docker's parseNameVal (ENV and LABEL): `KEY value...` (legacy, one pair) or `k=v ...`.
fn parse_name_val(rest: &str, key: &str, escape: char) -> Result<Vec<String>, String> {
    let words = parse_words(rest, escape);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    if !words[0].contains('=') {
        let Some(i) = rest.find(is_re_ws) else {
            return Err(format!("{key} must have two arguments"));
        };
        return Ok(vec![
            rest[..i].to_string(),
            rest[i..].trim_start_matches(is_re_ws).to_string(),
        ]);
    }
    let mut out = Vec::with_capacity(words.len() * 2);
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                super::shell_lex::go_quote(&w)
            ));
        };
        out.push(k.to_string());
        out.push(v.to_string());
    }
    Ok(out)
}

const NOT_STRING_ARRAY: &str =
    "when using JSON array syntax, arrays must be comprised of strings only";

/// docker's parseJSON: `Ok(Some(words))` for a JSON array of strings, `Ok(None)` when the text
/// is not JSON (the caller falls back), an error for an array with non-strings.
fn parse_json(rest: &str) -> Result<Option<Vec<String>>, String> {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Ok(None);
    }
    // Like Go's json.Decoder, only the first value counts.
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
    let Some(Ok(serde_json::Value::Array(items))) = stream.next() else {
        return Ok(None);
    };
    items
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s),
            _ => Err(NOT_STRING_ARRAY.to_string()),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// docker's parseMaybeJSON: a JSON array, else the whole text as one argument.
fn maybe_json(rest: &str) -> Result<(Vec<String>, bool), String> {
    if rest.is_empty() {
        return Ok((Vec::new(), false));
    }
    Ok(match parse_json(rest)? {
        Some(words) => (words, true),
        None => (vec![rest.to_string()], false),
    })
}

/// docker's parseMaybeJSONToList: a JSON array, else whitespace-separated words.
fn maybe_json_to_list(rest: &str) -> Result<(Vec<String>, bool), String> {
    Ok(match parse_json(rest)? {
        Some(words) => (words, true),
        None => (split_re_ws(rest), false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_regex() {
        assert_eq!(
            trim_continuation("RUN a \\", '\\'),
            ("RUN a ".into(), false)
        );
        assert_eq!(
            trim_continuation("RUN a\\  \t", '\\'),
            ("RUN a".into(), false)
        );
        assert_eq!(trim_continuation("\\", '\\'), ("".into(), false));
        assert_eq!(
            trim_continuation("RUN a \\\\", '\\'),
            ("RUN a \\\\".into(), true)
        );
        assert_eq!(trim_continuation("RUN a `", '`'), ("RUN a ".into(), false));
        assert_eq!(
            trim_continuation("RUN a \\", '`'),
            ("RUN a \\".into(), true)
        );
    }

    #[test]
    fn directives() {
        assert_eq!(directive("# escape=`"), Some(("escape", "`")));
        assert_eq!(
            directive("#syntax = docker/dockerfile:1  "),
            Some(("syntax", "docker/dockerfile:1"))
        );
        assert_eq!(directive("# a comment"), None);
        assert_eq!(directive("# 1x=y"), None);
        assert_eq!(directive("# x="), None);
    }

    #[test]
    fn words_keep_quotes() {
        assert_eq!(
            parse_words(r#"a "b c" d\ e 'f\ g'"#, '\\'),
            vec!["a", "\"b c\"", "d\\ e", "'f\\ g'"]
        );
        assert_eq!(parse_words(r#"x="" y"#, '\\'), vec!["x=\"\"", "y"]);
        assert_eq!(parse_words("a`  b", '`'), vec!["a` ", "b"]);
    }

    #[test]
    fn builder_flags() {
        assert_eq!(
            extract_builder_flags("--from=a --chown=\"u g\" src dst"),
            (
                "src dst".to_string(),
                vec!["--from=a".to_string(), "--chown=u g".to_string()]
            )
        );
        assert_eq!(
            extract_builder_flags("-- --x y"),
            (" --x y".to_string(), vec![])
        );
        assert_eq!(
            extract_builder_flags("--link"),
            ("".to_string(), vec!["--link".to_string()])
        );
    }

    #[test]
    fn heredoc_words() {
        let h = parse_heredoc("<<EOF").unwrap();
        assert_eq!((h.name.as_str(), h.expand, h.chomp), ("EOF", true, false));
        let h = parse_heredoc("<<-'EOT'").unwrap();
        assert_eq!((h.name.as_str(), h.expand, h.chomp), ("EOT", false, true));
        let h = parse_heredoc("<<\"E\"OF").unwrap();
        assert_eq!((h.name.as_str(), h.expand), ("EOF", false));
        assert!(parse_heredoc("<<").is_none());
        assert!(parse_heredoc("a<<EOF").is_none());
        assert_eq!(parse_heredoc("2<<X").unwrap().name, "X");
        let docs = heredocs_from_line("RUN cat <<A >a && cat <<\"B\" > b");
        assert_eq!(
            docs.iter()
                .map(|d| (d.name.as_str(), d.expand))
                .collect::<Vec<_>>(),
            vec![("A", true), ("B", false)]
        );
        assert!(heredocs_from_line("RUN echo '<<A'").is_empty());
    }
}
