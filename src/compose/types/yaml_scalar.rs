//! How go-yaml v3 writes one string: which style (plain, single-quoted, double-quoted, literal
//! block) and the escaping of each, ported from its `encode.go` (`stringv`), `resolve.go`
//! (would the plain text read back as something else than a string?) and `emitterc.go`
//! (`yaml_emitter_analyze_scalar`, `yaml_emitter_select_scalar_style` and the writers), with
//! go-yaml's settings for an `Encoder`: Unicode output, no line width.

use std::sync::LazyLock;

use regex::Regex;

/// Where the scalar goes: a mapping key (a "simple key"), or a value whose continuation lines
/// (block scalar content, a quoted line break) are indented at `indent`.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub key: bool,
    pub indent: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// The string as go-yaml writes it.
pub fn scalar(s: &str, ctx: Ctx) -> String {
    let can_plain = resolves_to_str(s) && !is_base60_float(s) && !is_old_bool(s);
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if can_plain {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(s);
    if ctx.key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && ctx.key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || ctx.key) {
        style = Style::Double;
    }
    match style {
        Style::Plain => s.to_owned(),
        Style::Single => single_quoted(s, ctx.indent),
        Style::Double => double_quoted(s),
        Style::Literal => literal(s, ctx.indent),
    }
}

/// go-yaml's `is_break`.
pub fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: Option<char>) -> bool {
    matches!(c, Some(' ' | '\t'))
}

/// go-yaml's `is_printable`: no C0/C1 controls but `\n`, no surrogates, no BOM, nothing
/// outside the basic multilingual plane.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    c == '\n'
        || (0x20..=0x7e).contains(&u)
        || (0xa0..=0xd7ff).contains(&u)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
}

/// What `yaml_emitter_analyze_scalar` allows.
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let (mut block_ind, mut line_breaks, mut special, mut tabs) = (false, false, false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    if s.starts_with("---") || s.starts_with("...") {
        block_ind = true;
    }
    let mut preceded_by_ws = true;
    let n = chars.len();
    for i in 0..n {
        let c = chars[i];
        let followed_by_ws = i + 1 >= n || is_blank(chars.get(i + 1).copied());
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_ind = true,
                '?' | ':' | '-' if followed_by_ws => block_ind = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_ind = true,
                '#' if preceded_by_ws => block_ind = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i + 1 == n;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i + 1 == n;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = c == ' ' || c == '\t' || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tabs || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_allowed = false;
    }
    if line_breaks || block_ind {
        a.block_plain_allowed = false;
    }
    a
}

fn single_quoted(s: &str, indent: usize) -> String {
    let mut out = String::from("'");
    let mut breaks = false;
    for c in s.chars() {
        if is_break(c) {
            if !breaks && c == '\n' {
                out.push('\n');
            }
            out.push(c);
            breaks = true;
        } else {
            if breaks {
                out.push_str(&" ".repeat(indent));
            }
            if c == '\'' {
                out.push('\'');
            }
            out.push(c);
            breaks = false;
        }
    }
    out.push('\'');
    out
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
            out.push('\\');
            match c {
                '\0' => out.push('0'),
                '\x07' => out.push('a'),
                '\x08' => out.push('b'),
                '\t' => out.push('t'),
                '\n' => out.push('n'),
                '\x0b' => out.push('v'),
                '\x0c' => out.push('f'),
                '\r' => out.push('r'),
                '\x1b' => out.push('e'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                '\u{85}' => out.push('N'),
                '\u{a0}' => out.push('_'),
                '\u{2028}' => out.push('L'),
                '\u{2029}' => out.push('P'),
                c if (c as u32) <= 0xff => out.push_str(&format!("x{:02X}", c as u32)),
                c if (c as u32) <= 0xffff => out.push_str(&format!("u{:04X}", c as u32)),
                c => out.push_str(&format!("U{:08X}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// `|` with go-yaml's hints: an indentation digit when the text starts with a space or a line
/// break, `-` when it does not end with a break, `+` when it ends with more than one.
fn literal(s: &str, indent: usize) -> String {
    let mut out = String::from("|");
    let chars: Vec<char> = s.chars().collect();
    if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
        out.push('2');
    }
    match chars.as_slice() {
        [] => out.push('-'),
        [.., last] if !is_break(*last) => out.push('-'),
        [_] => out.push('+'),
        [.., prev, _] if is_break(*prev) => out.push('+'),
        _ => {}
    }
    out.push('\n');
    let mut breaks = true;
    for c in chars {
        if is_break(c) {
            out.push(c);
            breaks = true;
        } else {
            if breaks {
                out.push_str(&" ".repeat(indent));
            }
            out.push(c);
            breaks = false;
        }
    }
    out
}

fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn is_base60_float(s: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$").expect("valid regex")
    });
    RE.is_match(s)
}

/// Whether go-yaml's `resolve("", s)` gives `!!str`, i.e. the plain text reads back as itself.
fn resolves_to_str(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false; // "" is null
    };
    let hint = match first {
        '+' | '-' | '0'..='9' => 'D',
        'y' | 'Y' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'o' | 'O' | '~' => 'M',
        '.' => '.',
        _ => return true,
    };
    if matches!(
        s,
        "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "~"
            | "null"
            | "Null"
            | "NULL"
            | ".nan"
            | ".NaN"
            | ".NAN"
            | ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
    ) {
        return false;
    }
    match hint {
        'M' => true,
        '.' => !is_dot_float(s),
        _ => {
            if super::yaml_timestamp::is_timestamp(s) {
                return false;
            }
            let plain = s.replace('_', "");
            !(go_parse_int0(&plain) || is_yaml_float(&plain))
        }
    }
}

/// `strconv.ParseFloat` of a text starting with `.`: `.5`, `.5e3`.
fn is_dot_float(s: &str) -> bool {
    static RE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\.[0-9]+([eE][-+]?[0-9]+)?$").expect("valid regex"));
    RE.is_match(s) && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// go-yaml's `yamlStyleFloat` and a finite `strconv.ParseFloat`.
fn is_yaml_float(s: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$").expect("valid regex")
    });
    RE.is_match(s)
        && s.trim_start_matches('+')
            .parse::<f64>()
            .is_ok_and(f64::is_finite)
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeds (also covers go-yaml's own
/// `0b`/`0o` fallbacks).
fn go_parse_int0(s: &str) -> bool {
    let (signed, body) = match s.strip_prefix(['+', '-']) {
        Some(b) => (true, b),
        None => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return false;
    }
    match u128::from_str_radix(digits, radix) {
        Ok(v) if signed => v <= 1 << 63,
        Ok(v) => v <= u128::from(u64::MAX),
        Err(_) => false,
    }
}
