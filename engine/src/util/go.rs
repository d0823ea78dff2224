//! Go's text conventions that docker's answers are made of, in one place: `%q` quoting (error
//! messages, history texts) and `path.Clean` for the absolute paths of a Dockerfile.

/// Go's `%q` of a string: double-quoted, with Go's escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `path.Clean` of `p` taken as absolute: `.` and empty parts dropped, `..` resolved
/// (never above `/`).
pub fn clean_absolute(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_and_clean_as_go() {
        assert_eq!(quote("a\"b\\c\n\x07"), "\"a\\\"b\\\\c\\n\\a\"");
        assert_eq!(clean_absolute("/a/./b/../c/"), "/a/c");
        assert_eq!(clean_absolute("../x"), "/x");
        assert_eq!(clean_absolute(""), "/");
    }
}
