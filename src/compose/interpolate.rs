//! Variable substitution in compose files, ported from compose-go's `template` package so a
//! file means the same to `berth compose` as to docker compose v2: `$$` is a literal `$`;
//! `$NAME` and `${NAME}`; `${NAME:-default}` (unset or empty) and `${NAME-default}` (unset);
//! `${NAME:?message}` and `${NAME?message}` (an error naming the variable); `${NAME:+other}` and
//! `${NAME+other}`; defaults, messages and alternatives may nest substitutions and are only
//! evaluated when used. A `$` that starts nothing (`a $ b`, `$}`) stays as it is; `${`, `${}`,
//! `${ x}` and friends are an invalid template.
//!
//! The port keeps compose-go's algorithm rather than a hand-written parser, because its corner
//! cases are part of the format: one regex finds `$…` forms left to right, a braced form with an
//! operator first swallows up to the last `}` (the greedy `(.*)`), is cut at the `}` that closes
//! it (counting nested `{`), and the text after the cut is substituted on its own. The operator
//! is the one that appears first in the braced text, so `${X-a?b}` is a default of `a?b`.
//!
//! A variable that is used but not set becomes "" and is reported to the caller's `warn`, which
//! docker compose prints as `The "X" variable is not set. Defaulting to a blank string.`.

use std::sync::LazyLock;

use berth_engine::util::go::quote;
use regex::{Captures, Regex};

/// compose-go's `DefaultPattern`.
static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\$(?i:(?P<escaped>\$)|(?P<named>[_a-z][_a-z0-9]*)|\{(?:(?P<braced>[_a-z][_a-z0-9]*(?::?[-+?](.*))?)\}|(?P<invalid>)))",
    )
    .expect("the substitution pattern compiles")
});

/// Why a substitution failed, in compose-go's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolateError {
    /// `${`, `${}`, `${ x}`, …: the whole template is named.
    InvalidTemplate { template: String },
    /// `${X:?message}` / `${X?message}` with X missing (or empty for `:?`).
    MissingRequired { variable: String, reason: String },
}

impl std::fmt::Display for InterpolateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InterpolateError::InvalidTemplate { template } => {
                write!(f, "Invalid template: {}", quote(template))
            }
            InterpolateError::MissingRequired { variable, reason } if reason.is_empty() => {
                write!(f, "required variable {variable} is missing a value")
            }
            InterpolateError::MissingRequired { variable, reason } => {
                write!(
                    f,
                    "required variable {variable} is missing a value: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for InterpolateError {}

/// Where variables come from: the value, or None when the variable is not set at all.
pub trait Lookup {
    fn lookup(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn lookup(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// Substitute the variables of `template`. Variables used but not set are passed to `warn`
/// (once per use, as compose-go logs them). The first error wins, as in compose-go, which
/// still substitutes the rest.
pub fn substitute(
    template: &str,
    vars: &dyn Lookup,
    warn: &mut dyn FnMut(&str),
) -> Result<String, InterpolateError> {
    let mut out = String::with_capacity(template.len());
    let mut first_error = None;
    let mut last = 0;
    for caps in PATTERN.captures_iter(template) {
        let m = caps.get(0).expect("group 0 is the match");
        out.push_str(&template[last..m.start()]);
        last = m.end();
        match replace(m.as_str(), vars, warn) {
            Ok(value) => out.push_str(&value),
            Err(mut e) => {
                if let InterpolateError::InvalidTemplate { template: t } = &mut e {
                    if t.is_empty() {
                        *t = template.to_string();
                    }
                }
                first_error.get_or_insert(e);
            }
        }
    }
    out.push_str(&template[last..]);
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// One match of the pattern → its replacement (compose-go's DefaultReplacementAppliedFunc).
fn replace(
    matched: &str,
    vars: &dyn Lookup,
    warn: &mut dyn FnMut(&str),
) -> Result<String, InterpolateError> {
    let (substring, rest) = match first_closing_brace(matched) {
        Some(i) => (&matched[..=i], &matched[i + 1..]),
        None => (matched, ""),
    };
    let Some(caps) = PATTERN.captures(substring) else {
        return Err(invalid());
    };
    if let Some(escaped) = group(&caps, "escaped") {
        return Ok(escaped.to_string());
    }
    let (name, braced) = match (group(&caps, "named"), group(&caps, "braced")) {
        (Some(n), _) => (n, false),
        (None, Some(b)) => (b, true),
        (None, None) => return Err(invalid()),
    };
    if braced {
        if let Some(value) = apply_operator(name, vars, warn)? {
            let nested = substitute(rest, vars, warn)?;
            return Ok(value + &nested);
        }
    }
    match vars.lookup(name) {
        Some(v) => Ok(v),
        None => {
            warn(name);
            Ok(String::new())
        }
    }
}

fn invalid() -> InterpolateError {
    InterpolateError::InvalidTemplate {
        template: String::new(),
    }
}

/// A named group's text, when it took part in the match and is not empty (Go's regexp gives
/// "" for both).
fn group<'t>(caps: &Captures<'t>, name: &str) -> Option<&'t str> {
    caps.name(name)
        .map(|m| m.as_str())
        .filter(|s| !s.is_empty())
}

/// The index of the `}` that closes the first `{` (a `{` skips the character after it, as
/// compose-go's getFirstBraceClosingIndex does).
fn first_closing_brace(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut open = 0i32;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

/// The operators, tried in the order they appear in the braced text (the first one wins).
const OPERATORS: [&str; 6] = [":?", "?", ":-", "-", ":+", "+"];

/// `${name<op>word}`: the operator's value, or None when the text has no operator (a plain
/// `${name}`).
fn apply_operator(
    braced: &str,
    vars: &dyn Lookup,
    warn: &mut dyn FnMut(&str),
) -> Result<Option<String>, InterpolateError> {
    // compose-go sorts the operators by where they first appear (a stable sort, so at equal
    // positions ":?" beats "?" and so on) and takes the first.
    let Some(op) = OPERATORS
        .iter()
        .filter_map(|op| braced.find(op).map(|at| (at, *op)))
        .min_by_key(|(at, _)| *at)
        .map(|(_, op)| op)
    else {
        return Ok(None);
    };
    let (name, word) = braced.split_once(op).expect("the operator was found");
    let value = vars.lookup(name);
    let set_and = |non_empty: bool| {
        value
            .as_deref()
            .is_some_and(|v| !non_empty || !v.is_empty())
    };
    let result = match op {
        ":-" | "-" => {
            if set_and(op == ":-") {
                value.unwrap_or_default()
            } else {
                substitute(word, vars, warn)?
            }
        }
        ":+" | "+" => {
            if set_and(op == ":+") {
                substitute(word, vars, warn)?
            } else {
                value.unwrap_or_default()
            }
        }
        _ => {
            if set_and(op == ":?") {
                value.unwrap_or_default()
            } else {
                return Err(InterpolateError::MissingRequired {
                    variable: name.to_string(),
                    reason: substitute(word, vars, warn)?,
                });
            }
        }
    };
    Ok(Some(result))
}

#[cfg(test)]
mod tests;
