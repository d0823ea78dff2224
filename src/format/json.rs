//! Re-indent JSON text without re-ordering keys (docker's `inspect` prints fields in the
//! engine's order with 4-space indentation; going through `serde_json::Value` would sort them).

/// Pretty-print one JSON document with `indent` spaces per level, starting at `level`.
pub fn reindent(raw: &str, indent: usize, level: usize) -> String {
    let mut out = String::with_capacity(raw.len() * 2);
    let mut depth = level;
    let mut in_str = false;
    let mut escaped = false;
    let mut chars = raw.trim().chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&" ".repeat(depth * indent));
    };
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // Skip whitespace to see whether the container is empty ({} / []).
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}') | Some(']')) {
                    out.push(chars.next().unwrap_or(if c == '{' { '}' } else { ']' }));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_indents_like_docker() {
        let raw = r#"{"Id":"x","Args":[],"State":{"Z":1,"A":"a, {b}: \"c\""},"L":[1,2]}"#;
        assert_eq!(
            reindent(raw, 4, 0),
            "{\n    \"Id\": \"x\",\n    \"Args\": [],\n    \"State\": {\n        \"Z\": 1,\n        \"A\": \"a, {b}: \\\"c\\\"\"\n    },\n    \"L\": [\n        1,\n        2\n    ]\n}"
        );
    }
}
