//! Go's `path/filepath.Match` (Unix flavour: `\` escapes), byte for byte, and the legacy builder's
//! `containsWildcards`. COPY/ADD sources with `*`, `?` or `[` are matched against every path of the
//! source root with exactly these rules, so a pattern selects what dockerd would select; and
//! `.dockerignore` patterns are validated with it (`matches(p, ".")`), as docker validates them.

/// A malformed pattern (Go's `ErrBadPattern`); dockerd treats it as "no match".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

/// Whether `name` has an unescaped `*`, `?` or `[` (dockerd's `containsWildcards`).
pub fn contains_wildcards(name: &str) -> bool {
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Go's `filepath.Match(pattern, name)` with `/` as the separator.
pub fn matches(pattern: &str, name: impl AsRef<[u8]>) -> Result<bool, BadPattern> {
    match_pattern(pattern, name.as_ref(), true)
}

/// Whether `pattern` passes the validation docker's `.dockerignore` reading does: a match
/// against "." where only the chunks examined before the answer is known must be well formed
/// (docker CLI 28 accepts `a*b\`, whose malformed tail is never reached).
pub fn valid_for_dockerignore(pattern: &str) -> bool {
    match_pattern(pattern, b".", false).is_ok()
}

fn match_pattern(pattern: &str, name: &[u8], check_rest: bool) -> Result<bool, BadPattern> {
    let mut pattern = pattern.as_bytes();
    let mut name = name;
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing * matches the rest of the name unless it has a '/'.
            return Ok(!name.contains(&b'/'));
        }
        // Match at the current position; when this is the last chunk, the name must be used up.
        let first = match_chunk(chunk, name);
        if let Ok(Some(t)) = first {
            if t.is_empty() || !pattern.is_empty() {
                name = t;
                continue;
            }
        }
        first?;
        if star {
            // Skip i+1 bytes for the star, never past a '/'.
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                match match_chunk(chunk, &name[i + 1..])? {
                    Some(t) if !pattern.is_empty() || t.is_empty() => {
                        name = t;
                        continue 'pattern;
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        // No match: still report a malformed rest of the pattern, as Go does.
        while check_rest && !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while pattern.first() == Some(&b'*') {
        pattern = &pattern[1..];
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

/// One UTF-8 character from the front of `s` (invalid bytes decode as U+FFFD of length 1, as Go's
/// `utf8.DecodeRune`), or (0, 0) when empty.
fn decode(s: &[u8]) -> (u32, usize) {
    if s.is_empty() {
        return (0, 0);
    }
    let len = match s[0] {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return (0xfffd, 1),
    };
    match s.get(..len).and_then(|b| std::str::from_utf8(b).ok()) {
        Some(st) => (st.chars().next().map(u32::from).unwrap_or(0xfffd), len),
        None => (0xfffd, 1),
    }
}

/// Whether `chunk` matches a prefix of `s`: Ok(Some(rest)) on a match, Ok(None) when not.
fn match_chunk<'s>(mut chunk: &[u8], mut s: &'s [u8]) -> Result<Option<&'s [u8]>, BadPattern> {
    // After a failure the loop goes on checking that the chunk is well formed, reading no more of s.
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match chunk[0] {
            b'[' => {
                let mut r = 0;
                if !failed {
                    let (c, n) = decode(s);
                    r = c;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&b']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&b'-') {
                        let (h, rest) = get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    let (_, n) = decode(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let c = if c == b'\\' {
                    chunk = &chunk[1..];
                    match chunk.first() {
                        Some(c) => *c,
                        None => return Err(BadPattern),
                    }
                } else {
                    c
                };
                if !failed {
                    if c != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok(if failed { None } else { Some(s) })
}

fn get_esc(mut chunk: &[u8]) -> Result<(u32, &[u8]), BadPattern> {
    if chunk.is_empty() || chunk[0] == b'-' || chunk[0] == b']' {
        return Err(BadPattern);
    }
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(BadPattern);
        }
    }
    let (r, n) = decode(chunk);
    if r == 0xfffd && n == 1 && chunk[0] >= 0x80 {
        return Err(BadPattern);
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((r, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Cases from Go's path/filepath match_test.go.
    #[test]
    fn go_match_table() {
        let ok = |p: &str, n: &str, want: bool| {
            assert_eq!(matches(p, n), Ok(want), "{p} vs {n}");
        };
        ok("abc", "abc", true);
        ok("*", "abc", true);
        ok("*c", "abc", true);
        ok("a*", "a", true);
        ok("a*", "abc", true);
        ok("a*", "ab/c", false);
        ok("a*/b", "abc/b", true);
        ok("a*/b", "a/c/b", false);
        ok("a*b*c*d*e*/f", "axbxcxdxe/f", true);
        ok("a*b*c*d*e*/f", "axbxcxdxexxx/f", true);
        ok("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false);
        ok("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false);
        ok("a*b?c*x", "abxbbxdbxebxczzx", true);
        ok("a*b?c*x", "abxbbxdbxebxczzy", false);
        ok("ab[c]", "abc", true);
        ok("ab[b-d]", "abc", true);
        ok("ab[e-g]", "abc", false);
        ok("ab[^c]", "abc", false);
        ok("ab[^b-d]", "abc", false);
        ok("ab[^e-g]", "abc", true);
        ok("a\\*b", "a*b", true);
        ok("a\\*b", "ab", false);
        ok("a?b", "a☺b", true);
        ok("a[^a]b", "a☺b", true);
        ok("a???b", "a☺b", false);
        ok("a[^a][^a][^a]b", "a☺b", false);
        ok("[a-ζ]*", "α", true);
        ok("*[a-ζ]", "A", false);
        ok("a?b", "a/b", false);
        ok("a*b", "a/b", false);
        ok("[\\]a]", "]", true);
        ok("[\\-]", "-", true);
        ok("[x\\-]", "x", true);
        ok("[x\\-]", "-", true);
        ok("[x\\-]", "z", false);
        ok("[\\-x]", "a", false);
        ok("*x", "xxx", true);
        for bad in [
            "[]a]", "[-]", "[x-]", "[\\-x", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[",
        ] {
            let name = if bad == "a[" { "a" } else { "x" };
            assert_eq!(matches(bad, name), Err(BadPattern), "{bad}");
        }
        assert_eq!(matches("a[", "ab"), Err(BadPattern));
        assert_eq!(matches("*x", "xxx"), Ok(true));
    }

    #[test]
    fn wildcard_detection() {
        assert!(contains_wildcards("*.txt"));
        assert!(contains_wildcards("a?"));
        assert!(contains_wildcards("[ab]"));
        assert!(!contains_wildcards("plain/name"));
        assert!(!contains_wildcards("a\\*b"));
    }
}
