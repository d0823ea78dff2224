//! moby/patternmatcher's and ignorefile's test tables, ported, plus the corners where docker's
//! regex-based matching differs from shell globbing.

use super::*;

fn one(pattern: &str, text: &str) -> bool {
    let pm = Patterns::new(&[pattern]).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
    pm.matches(text)
}

/// The MatchesUsingParentResults walk of patternmatcher's own tests: parents first, root down.
fn walk(pm: &Patterns, text: &str) -> bool {
    let parent = go_dir(text);
    let mut info = MatchInfo::default();
    if parent != "." {
        let dirs: Vec<&str> = parent.split('/').collect();
        for i in 0..dirs.len() {
            info = pm.matches_in(&dirs[..=i].join("/"), &info).1;
        }
    }
    pm.matches_in(text, &info).0
}

#[test]
fn simple_cases() {
    assert!(one("*", "fileutils.go"));
    assert!(one("*.go", "fileutils.go"));
    let pm = |p: &[&str]| Patterns::new(p).unwrap();
    assert!(pm(&["!fileutils.go", "*.go"]).matches("fileutils.go"));
    assert!(!pm(&["docs", "!docs/README.md"]).matches("docs/README.md"));
    assert!(!pm(&["docs/", "!docs/README.md"]).matches("docs/README.md"));
    assert!(!pm(&["docs/*", "!docs/README.md"]).matches("docs/README.md"));
    assert!(!pm(&["*.go", "!fileutils.go"]).matches("fileutils.go"));
    assert!(!pm(&["*.go"]).matches("."));
    assert!(Patterns::new(&["!"]).is_err());
    assert!(!pm(&[]).matches("/any/path/there"));
    let e = Patterns::new(&["["]).unwrap_err().to_string();
    assert_eq!(e, "syntax error in pattern");
}

const TABLE: &[(&str, &str, bool)] = &[
    ("**", "file", true),
    ("**", "file/", true),
    ("**/", "file", true),
    ("**/", "file/", true),
    ("**", "/", true),
    ("**/", "/", true),
    ("**", "dir/file", true),
    ("**/", "dir/file", true),
    ("**", "dir/file/", true),
    ("**/", "dir/file/", true),
    ("**/**", "dir/file", true),
    ("**/**", "dir/file/", true),
    ("dir/**", "dir/file", true),
    ("dir/**", "dir/file/", true),
    ("dir/**", "dir/dir2/file", true),
    ("dir/**", "dir/dir2/file/", true),
    ("**/dir", "dir", true),
    ("**/dir", "dir/file", true),
    ("**/dir2/*", "dir/dir2/file", true),
    ("**/dir2/*", "dir/dir2/file/", true),
    ("**/dir2/**", "dir/dir2/dir3/file", true),
    ("**/dir2/**", "dir/dir2/dir3/file/", true),
    ("**file", "file", true),
    ("**file", "dir/file", true),
    ("**/file", "dir/file", true),
    ("**file", "dir/dir/file", true),
    ("**/file", "dir/dir/file", true),
    ("**/file*", "dir/dir/file", true),
    ("**/file*", "dir/dir/file.txt", true),
    ("**/file*txt", "dir/dir/file.txt", true),
    ("**/file*.txt", "dir/dir/file.txt", true),
    ("**/file*.txt*", "dir/dir/file.txt", true),
    ("**/**/*.txt", "dir/dir/file.txt", true),
    ("**/**/*.txt2", "dir/dir/file.txt", false),
    ("**/*.txt", "file.txt", true),
    ("**/**/*.txt", "file.txt", true),
    ("a**/*.txt", "a/file.txt", true),
    ("a**/*.txt", "a/dir/file.txt", true),
    ("a**/*.txt", "a/dir/dir/file.txt", true),
    ("a/*.txt", "a/dir/file.txt", false),
    ("a/*.txt", "a/file.txt", true),
    ("a/*.txt**", "a/file.txt", true),
    ("a[b-d]e", "ae", false),
    ("a[b-d]e", "ace", true),
    ("a[b-d]e", "aae", false),
    ("a[^b-d]e", "aze", true),
    (".*", ".foo", true),
    (".*", "foo", false),
    ("abc.def", "abcdef", false),
    ("abc.def", "abc.def", true),
    ("abc.def", "abcZdef", false),
    ("abc?def", "abcZdef", true),
    ("abc?def", "abcdef", false),
    ("a\\\\", "a\\", true),
    ("**/foo/bar", "foo/bar", true),
    ("**/foo/bar", "dir/foo/bar", true),
    ("**/foo/bar", "dir/dir2/foo/bar", true),
    ("abc/**", "abc", false),
    ("abc/**", "abc/def", true),
    ("abc/**", "abc/def/ghi", true),
    ("**/.foo", ".foo", true),
    ("**/.foo", "bar.foo", false),
    ("a(b)c/def", "a(b)c/def", true),
    ("a(b)c/def", "a(b)c/xyz", false),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
    (
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        true,
    ),
    (
        "dist/*.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        true,
    ),
    ("a\\*b", "a*b", true),
];

const MULTI: &[(&[&str], &str, bool)] = &[
    (&["**", "!util/docker/web"], "util/docker/web/foo", false),
    (
        &["**", "!util/docker/web", "util/docker/web/foo"],
        "util/docker/web/foo",
        true,
    ),
    (
        &[
            "**",
            "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        ],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        false,
    ),
    (
        &["**", "!dist/*.whl"],
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        false,
    ),
];

#[test]
fn matches_table() {
    for (pattern, text, pass) in TABLE {
        let pm = Patterns::new(&[pattern]).unwrap();
        // patternmatcher's method form: no cleaning of the text.
        let got = {
            let mut matched = false;
            let parent = go_dir(text);
            for p in &pm.patterns {
                if p.exclusion != matched {
                    continue;
                }
                let mut hit = p.matches(text);
                if !hit && parent != "." {
                    let dirs: Vec<&str> = parent.split('/').collect();
                    hit = (1..=dirs.len()).any(|i| p.matches(&dirs[..i].join("/")));
                }
                if hit {
                    matched = !p.exclusion;
                }
            }
            matched
        };
        assert_eq!(got, *pass, "MatchesOrParentMatches {pattern:?} {text:?}");
        assert_eq!(walk(&pm, text), *pass, "walk {pattern:?} {text:?}");
        let no_ctx = pm.matches_in(text, &MatchInfo::default()).0;
        assert_eq!(no_ctx, *pass, "no context {pattern:?} {text:?}");
    }
    for (patterns, text, pass) in MULTI {
        let pm = Patterns::new(patterns).unwrap();
        assert_eq!(pm.matches(text), *pass, "{patterns:?} {text:?}");
        assert_eq!(walk(&pm, text), *pass, "walk {patterns:?} {text:?}");
    }
}

/// Go's filepath.Match table as patternmatcher runs it (through the deprecated Matches, whose
/// answers these cases share with MatchesOrParentMatches).
#[test]
fn filepath_match_table() {
    let ok: &[(&str, &str, bool)] = &[
        ("abc", "abc", true),
        ("*", "abc", true),
        ("*c", "abc", true),
        ("a*", "a", true),
        ("a*", "abc", true),
        ("a*", "ab/c", true),
        ("a*/b", "abc/b", true),
        ("a*/b", "a/c/b", false),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
        ("a*b?c*x", "abxbbxdbxebxczzx", true),
        ("a*b?c*x", "abxbbxdbxebxczzy", false),
        ("ab[c]", "abc", true),
        ("ab[b-d]", "abc", true),
        ("ab[e-g]", "abc", false),
        ("ab[^c]", "abc", false),
        ("ab[^b-d]", "abc", false),
        ("ab[^e-g]", "abc", true),
        ("a\\*b", "a*b", true),
        ("a\\*b", "ab", false),
        ("a?b", "a☺b", true),
        ("a[^a]b", "a☺b", true),
        ("a???b", "a☺b", false),
        ("a[^a][^a][^a]b", "a☺b", false),
        ("[a-ζ]*", "α", true),
        ("*[a-ζ]", "A", false),
        ("a?b", "a/b", false),
        ("a*b", "a/b", false),
        ("[\\]a]", "]", true),
        ("[\\-]", "-", true),
        ("[x\\-]", "x", true),
        ("[x\\-]", "-", true),
        ("[x\\-]", "z", false),
        ("[\\-x]", "x", true),
        ("[\\-x]", "-", true),
        ("[\\-x]", "a", false),
        ("*x", "xxx", true),
    ];
    for (pattern, text, want) in ok {
        assert_eq!(one(pattern, text), *want, "{pattern:?} {text:?}");
    }
    for bad in [
        "[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[", "[^", "[^bc", "a[",
    ] {
        let e = Patterns::new(&[bad]).expect_err(bad).to_string();
        assert_eq!(e, "syntax error in pattern", "{bad:?}");
    }
}

#[test]
fn compile_kinds() {
    let kind = |p: &str| match compile(&go_clean(p)).unwrap() {
        MatchType::Exact => "exact",
        MatchType::Prefix(_) => "prefix",
        MatchType::Suffix(_) => "suffix",
        MatchType::Regex(_) => "regexp",
    };
    for (p, k) in [
        ("*", "regexp"),
        ("file*", "regexp"),
        ("**", "suffix"),
        ("**/**", "regexp"),
        ("dir/**", "prefix"),
        ("**/dir", "suffix"),
        ("**/dir2/*", "regexp"),
        ("**file", "suffix"),
        ("a[b-d]e", "regexp"),
        ("abc.def", "exact"),
        ("**/foo/bar", "suffix"),
        ("a(b)c/def", "exact"),
        ("a.|)$(}+{bc", "exact"),
    ] {
        assert_eq!(kind(p), k, "{p}");
    }
}

#[test]
fn validation_passes_but_regex_fails() {
    // Go's filepath.Match does not check range order, RE2 does: docker fails the build.
    assert!(Patterns::new(&["[Local-Only]/"]).is_err());
    // Only the chunks Match examines are validated; "a*b\" then compiles to a regexp ending in
    // an escaped '$' (docker's behaviour, oddly).
    let pm = Patterns::new(&["a*b\\"]).unwrap();
    assert!(pm.matches("axb$"));
}

#[test]
fn regex_corners_as_docker() {
    // POSIX classes and Perl escapes reach RE2 as such.
    assert!(one("x[[:digit:]]", "x7"));
    assert!(!one("x[[:digit:]]", "xa"));
    assert!(one("v\\d", "v1"));
    // '!' is no negation in Go: [!a] is the set {!, a}.
    assert!(one("[!a]b", "ab"));
    assert!(!one("[!a]b", "cb"));
    // A caret outside a class is RE2's start anchor inside a regexp pattern.
    assert!(!one("a^b*", "a^b"));
    assert!(one("a^b", "a^b"));
    // Parent directories match.
    assert!(one("build", "build/x/y"));
    assert!(one("*/temp*", "a/temporary/file"));
    assert!(!one("*/temp*", "a/b/temporary"));
    assert!(one("**/*.log", "a/b/c.log"));
}

#[test]
fn walk_differs_from_or_parent_as_docker_cli() {
    // The CLI's walk (MatchesUsingParentResults) keeps a/c excluded: "!a" was skipped at "a".
    let pm = Patterns::new(&["a/c", "!a"]).unwrap();
    assert!(!pm.matches("a/c"));
    let (_, a) = pm.matches_in("a", &MatchInfo::default());
    assert!(pm.matches_in("a/c", &a).0);
}

#[test]
fn dir_exceptions() {
    let pm = Patterns::new(&["docs", "!docs/README.md"]).unwrap();
    assert!(pm.dir_may_have_exceptions("docs"));
    assert!(!pm.dir_may_have_exceptions("other"));
    let pm = Patterns::new(&["*", "!*/keep"]).unwrap();
    assert!(!pm.dir_may_have_exceptions("dir"));
    let pm = Patterns::new(&["a"]).unwrap();
    assert!(!pm.dir_may_have_exceptions("a"));
    let pm = Patterns::new(&["a", "!a"]).unwrap();
    assert!(pm.dir_may_have_exceptions("a"));
    assert!(!pm.dir_may_have_exceptions("ab"));
}

#[test]
fn read_all_as_ignorefile() {
    assert!(read_all("").unwrap().is_empty());
    let content =
        "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ";
    assert_eq!(
        read_all(content).unwrap(),
        vec![
            "test1",
            "test2",
            "a/file/here",
            "lastfile",
            "!inverted/abs/path",
            "!",
            "!"
        ]
    );
    assert_eq!(
        read_all("\u{feff}a\r\n  # not a comment\n./b/../c/\n/\n").unwrap(),
        vec!["a", "# not a comment", "c", "/"]
    );
    assert!(Patterns::parse("a\n!\n").is_err());
    let long = "x".repeat(MAX_LINE);
    assert!(read_all(&long).is_err());
}

#[test]
fn keeping_build_files() {
    let pm = Patterns::parse("*\n").unwrap();
    let kept = pm.keeping_build_files("Dockerfile", false).unwrap();
    assert!(!kept.matches("Dockerfile"));
    assert!(!kept.matches(".dockerignore"));
    assert!(kept.matches("src"));
    let kept = pm.keeping_build_files("Dockerfile", true).unwrap();
    assert!(kept.matches("Dockerfile"));
}

#[test]
fn clean_like_go() {
    for (i, o) in [
        ("", "."),
        ("a/b/../c", "a/c"),
        ("/../a", "/a"),
        ("../../a", "../../a"),
        ("a/../..", ".."),
        ("//a//b/", "/a/b"),
        ("./", "."),
        ("!a/../b", "b"),
    ] {
        assert_eq!(go_clean(i), o, "{i}");
    }
    assert_eq!(go_dir("a/b/c"), "a/b");
    assert_eq!(go_dir("file/"), "file");
    assert_eq!(go_dir("a"), ".");
}
