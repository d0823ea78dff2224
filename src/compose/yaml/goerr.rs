//! go-yaml v3's wording of a YAML syntax error, so that berth's message contains docker
//! compose's (`yaml: line 3: did not find expected ',' or ']'`) after berth's own position.
//!
//! saphyr-parser and libyaml (which go-yaml ports) find the same errors but word some of them
//! differently, and go-yaml numbers the line in its own way: for a parser error it prints the
//! 0-based line of the *context* (the collection being parsed, e.g. the flow sequence that
//! lacks its `]`), for a scanner error the 1-based line of the context or, without one, of the
//! problem; a line 0 is left out. saphyr gives only the problem's position, so the builder
//! passes the innermost collection still open as the context.

use super::Mark;

/// The text go-yaml returns for a syntax error saphyr reported as `info` at `problem`, with
/// `context` the start of the innermost open collection.
pub fn syntax_error(info: &str, problem: Mark, context: Option<Mark>) -> String {
    let (context_text, problem_text) = match info.split_once(", ") {
        Some((c, p)) if c.starts_with("while ") => (Some(c), p),
        _ => (None, info),
    };
    let (scanner, context_text, problem_text) = translate(context_text, problem_text);
    // A parser error's context is the collection being parsed; a scanner error's context is
    // the token being scanned, which saphyr does not give: libyaml's is at the problem itself
    // for the errors translated here.
    let context_line = match (scanner, context_text) {
        (false, Some(_)) => context.map(|m| m.line - 1).unwrap_or(0),
        (true, Some(_)) => problem.line - 1,
        (_, None) => 0,
    };
    let problem_line = problem.line.saturating_sub(1);
    let line = if context_line != 0 {
        context_line + usize::from(scanner)
    } else if problem_line != 0 {
        problem_line + usize::from(scanner)
    } else {
        0
    };
    let at = if line == 0 {
        String::new()
    } else {
        format!("line {line}: ")
    };
    format!("yaml: {at}{problem_text}")
}

/// saphyr's words to libyaml's: whether it is a scanner error, the context and the problem.
fn translate<'a>(context: Option<&'a str>, problem: &'a str) -> (bool, Option<&'a str>, &'a str) {
    match (context, problem) {
        (Some(c @ "while parsing a flow sequence"), "expected ',' or ']'") => {
            (false, Some(c), "did not find expected ',' or ']'")
        }
        (Some(c), p) if c.starts_with("while parsing a ") && !c.contains("tag") => {
            let block_or_flow = matches!(
                c,
                "while parsing a block mapping"
                    | "while parsing a flow mapping"
                    | "while parsing a flow sequence"
                    | "while parsing a block collection"
                    | "while parsing a node"
            );
            (!block_or_flow, Some(c), p)
        }
        (_, "simple key expect ':'") => (
            true,
            Some("while scanning a simple key"),
            "could not find expected ':'",
        ),
        (
            _,
            "tabs disallowed within this context (block indentation)"
            | "tabs disallowed in this context"
            | "tab cannot be used as indentation",
        ) => (
            true,
            Some("while scanning for the next token"),
            "found character that cannot start any token",
        ),
        // libyaml does not look at the indentation of a quoted scalar's lines: it reads on
        // to the closing quote, which a broken file usually lacks.
        (_, "invalid indentation in quoted scalar") => (
            true,
            Some("while scanning a quoted scalar"),
            "found unexpected end of stream",
        ),
        (
            None,
            p @ ("did not find expected <document start>"
            | "did not find expected <document-start>"
            | "did not find expected <stream-start>"),
        ) => (false, None, p),
        (c, p) => (true, c, p),
    }
}
