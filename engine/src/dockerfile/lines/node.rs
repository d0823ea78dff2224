//! docker's newNodeFromLine: one joined instruction line into a [`Node`], its arguments split by
//! the instruction's own rule (JSON or shell form, ENV/LABEL name-value pairs, whitespace lists,
//! HEALTHCHECK's type word, ONBUILD's trigger parsed as a line of its own). The rule depends on
//! the instruction, as in docker, so e.g. `COPY a b` and `RUN a b` keep different shapes.

use super::words::{extract_builder_flags, parse_words};
use super::Node;

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
                crate::dockerfile::shell_lex::go_quote(&w)
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
