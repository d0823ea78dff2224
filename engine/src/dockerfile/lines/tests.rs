//! Unit tests of the line level's pieces (continuations, directives, word splitting, heredoc
//! markers); whole-Dockerfile behaviour is tested in `dockerfile/tests.rs`.

use super::directives::directive;
use super::heredoc::{heredocs_from_line, parse_heredoc};
use super::trim_continuation;
use super::words::{extract_builder_flags, parse_words};

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
