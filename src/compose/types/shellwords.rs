//! The command-line splitting compose-go applies to a string `command`, `entrypoint` or hook
//! command: github.com/mattn/go-shellwords v1.0.12's `Parse` with its defaults (no environment
//! expansion, no backtick execution), ported as it is because its quirks decide what runs:
//! a backslash escapes the next character even inside double quotes (not inside single
//! quotes), backticks and `$(…)` group words without being run, and an unquoted `;`, `&`, `|`,
//! `<` or `>` ends the parse, the rest of the line being silently dropped (`echo a && b` is
//! `["echo", "a"]`; in `echo 2>x` the `2` goes too).

/// What the current word holds so far (go-shellwords' `argNo`/`argSingle`/`argQuoted`).
#[derive(PartialEq)]
enum Got {
    No,
    Single,
    Quoted,
}

/// Splits `line` like go-shellwords; the error is its "invalid command line string".
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let invalid = || "invalid command line string".to_string();
    let mut args = Vec::new();
    let mut buf = String::new();
    let (mut escaped, mut double_quoted, mut single_quoted) = (false, false, false);
    let (mut back_quote, mut dollar_quote) = (false, false);
    let mut got = Got::No;

    for r in line.chars() {
        if escaped {
            buf.push(r);
            escaped = false;
            got = Got::Single;
            continue;
        }
        if r == '\\' {
            if single_quoted {
                buf.push(r);
            } else {
                escaped = true;
            }
            continue;
        }
        if matches!(r, ' ' | '\t' | '\r' | '\n') {
            if single_quoted || double_quoted || back_quote || dollar_quote {
                buf.push(r);
            } else if got != Got::No {
                args.push(std::mem::take(&mut buf));
                got = Got::No;
            }
            continue;
        }
        match r {
            '`' if !single_quoted && !double_quoted && !dollar_quote => back_quote = !back_quote,
            ')' if !single_quoted && !double_quoted && !back_quote => dollar_quote = !dollar_quote,
            '(' if !single_quoted && !double_quoted && !back_quote => {
                if !dollar_quote && buf.ends_with('$') {
                    dollar_quote = true;
                    buf.push('(');
                    continue;
                }
                return Err(invalid());
            }
            '"' if !single_quoted && !dollar_quote => {
                if double_quoted {
                    got = Got::Quoted;
                }
                double_quoted = !double_quoted;
                continue;
            }
            '\'' if !double_quoted && !dollar_quote => {
                if single_quoted {
                    got = Got::Quoted;
                }
                single_quoted = !single_quoted;
                continue;
            }
            ';' | '&' | '|' | '<' | '>'
                if !(single_quoted || double_quoted || back_quote || dollar_quote) =>
            {
                // `2>file`: the descriptor number is part of the redirection, not a word.
                if r == '>' && buf.starts_with(|c: char| c.is_ascii_digit()) {
                    got = Got::No;
                }
                break;
            }
            _ => {}
        }
        got = Got::Single;
        buf.push(r);
    }
    if got != Got::No {
        args.push(buf);
    }
    if escaped || single_quoted || double_quoted || back_quote || dollar_quote {
        return Err(invalid());
    }
    Ok(args)
}
