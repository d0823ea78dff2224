//! Go `regexp` compatibility checks: the corners docker's patterns reach (POSIX and Perl
//! classes, nested brackets, escapes), RE2's refusals, and the linear-time guarantee.

use super::*;

fn m(re: &str, s: &str) -> bool {
    Regex::new(re).unwrap().is_match(s)
}

#[test]
fn basics() {
    assert!(m("^a[^/]*b$", "axxb"));
    assert!(!m("^a[^/]*b$", "ax/xb"));
    assert!(m("^(.*/)?foo$", "foo"));
    assert!(m("^(.*/)?foo$", "a/b/foo"));
    assert!(!m("^(.*/)?foo$", "a/bfoo"));
    assert!(m("^[[:alpha:]]$", "q"));
    assert!(!m("^[[:alpha:]]$", "1"));
    assert!(m(r"^\d\d$", "42"));
    assert!(!m(r"^\d$", "٤"));
    // [a[^/]*] is the class {a,[,^,/} repeated, then a literal ']'.
    assert!(m("^[a[^/]*]$", "a^[/]"));
    assert!(!m("^[a[^/]*]$", "ab]"));
    assert!(m("^[]a]$", "]"));
    assert!(m("^[^]a]$", "b"));
    assert!(m("^a-b$", "a-b"));
    assert!(m(r"^a\.b$", "a.b"));
    assert!(!m(r"^a\.b$", "axb"));
    assert!(m("^.*$", "any/thing"));
    assert!(!m("^.$", "\n"));
    assert!(m("^[^/]$", "\n"));
    assert!(m(r"^\x41\x{42}\101$", "ABA"));
    assert!(m(r"^a\b$", "a"));
    assert!(m("^a|b$", "ax"));
}

#[test]
fn errors_as_re2() {
    for bad in [
        "[z-a]",
        "[a",
        r"\o",
        r"\1",
        "[[:foo:]]",
        "a**",
        "*a",
        "(a",
        "a)",
        r"\pL",
    ] {
        assert!(Regex::new(bad).is_err(), "{bad}");
    }
}

#[test]
fn linear_on_nasty_patterns() {
    let re = Regex::new("^(.*/)?(.*/)?(.*/)?(.*/)?[^/]*a[^/]*a[^/]*a[^/]*b$").unwrap();
    let s = "a/".repeat(2000) + &"a".repeat(5000);
    assert!(!re.is_match(&s));
}
