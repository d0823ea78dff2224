//! A small subset of Go's text/template as docker's `--format` uses it: literal text, `{{.A.B}}`
//! field paths over JSON, `{{.}}`, functions (`json`, `join`, `split`, `lower`, `upper`, `title`,
//! `truncate`, `pad`, `len`, `index`, `print`, `println`), pipes (`{{.Names | json}}`) and string /
//! integer literals. Anything else is an error, as in docker.

use serde_json::Value;

/// What a field path that names no member evaluates to. Docker's `ps`/`images` contexts are Go
/// structs (an unknown field is an error); `inspect` formats decoded JSON maps (a missing key
/// prints "<no value>").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Error,
    NoValue,
}

#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Action(Vec<Command>),
}

#[derive(Debug, Clone)]
struct Command {
    args: Vec<Arg>,
}

#[derive(Debug, Clone)]
enum Arg {
    /// `.A.B`; empty path is `.`.
    Field(Vec<String>),
    Str(String),
    Int(i64),
    Func(String),
}

/// The intermediate result of evaluating an argument: either a JSON value or "no value".
#[derive(Debug, Clone)]
enum Val {
    Json(Value),
    NoValue,
}

impl Template {
    /// Parse a format string. Literal `\t` and `\n` (backslash + letter, as typed in a shell) are
    /// turned into tab and newline first, as the docker CLI does.
    pub fn parse(format: &str) -> Result<Template, String> {
        let src = format.replace("\\t", "\t").replace("\\n", "\n");
        let mut nodes = Vec::new();
        let mut rest = src.as_str();
        while let Some(start) = rest.find("{{") {
            let mut text = &rest[..start];
            let mut inner_start = start + 2;
            if rest[inner_start..].starts_with("- ") {
                text = text.trim_end();
                inner_start += 1;
            }
            if !text.is_empty() {
                nodes.push(Node::Text(text.to_string()));
            }
            let end = rest[inner_start..]
                .find("}}")
                .map(|e| e + inner_start)
                .ok_or_else(|| "template: :1: unclosed action".to_string())?;
            let mut inner = &rest[inner_start..end];
            let mut after = &rest[end + 2..];
            if inner.ends_with(" -") {
                inner = &inner[..inner.len() - 1];
                after = after.trim_start();
            }
            nodes.push(Node::Action(parse_pipeline(inner)?));
            rest = after;
        }
        if !rest.is_empty() {
            nodes.push(Node::Text(rest.to_string()));
        }
        Ok(Template { nodes })
    }

    pub fn render(&self, ctx: &Value, missing: Missing) -> Result<String, String> {
        let mut out = String::new();
        for node in &self.nodes {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Action(cmds) => {
                    let v = eval_pipeline(cmds, ctx, missing)?;
                    out.push_str(&go_print(&v));
                }
            }
        }
        Ok(out)
    }
}

fn parse_pipeline(inner: &str) -> Result<Vec<Command>, String> {
    let tokens = tokenize(inner)?;
    let mut cmds = Vec::new();
    let mut cur = Vec::new();
    for tok in tokens {
        if let Tok::Pipe = tok {
            if cur.is_empty() {
                return Err("template: :1: missing command".into());
            }
            cmds.push(Command {
                args: std::mem::take(&mut cur),
            });
            continue;
        }
        cur.push(match tok {
            Tok::Word(w) => word_to_arg(&w)?,
            Tok::Str(s) => Arg::Str(s),
            Tok::Pipe => unreachable!("handled above"),
        });
    }
    if cur.is_empty() {
        return Err("template: :1: missing value for command".into());
    }
    cmds.push(Command { args: cur });
    Ok(cmds)
}

fn word_to_arg(w: &str) -> Result<Arg, String> {
    if w == "." {
        return Ok(Arg::Field(Vec::new()));
    }
    if let Some(path) = w.strip_prefix('.') {
        let parts: Vec<String> = path.split('.').map(str::to_string).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(format!("template: :1: bad field path {w:?}"));
        }
        return Ok(Arg::Field(parts));
    }
    if let Ok(i) = w.parse::<i64>() {
        return Ok(Arg::Int(i));
    }
    if w.chars().all(|c| c.is_alphanumeric() || c == '_') {
        if !FUNCS.contains(&w) {
            return Err(format!("template: :1: function \"{w}\" not defined"));
        }
        return Ok(Arg::Func(w.to_string()));
    }
    Err(format!("template: :1: unexpected {w:?} in command"))
}

const FUNCS: &[&str] = &[
    "json", "join", "split", "lower", "upper", "title", "truncate", "pad", "len", "index", "print",
    "println",
];

enum Tok {
    Word(String),
    Str(String),
    Pipe,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '|' {
            chars.next();
            toks.push(Tok::Pipe);
        } else if c == '"' {
            chars.next();
            let mut lit = String::new();
            loop {
                match chars.next() {
                    None => return Err("template: :1: unterminated quoted string".into()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some('n') => lit.push('\n'),
                        Some('t') => lit.push('\t'),
                        Some(o) => lit.push(o),
                        None => return Err("template: :1: unterminated quoted string".into()),
                    },
                    Some(o) => lit.push(o),
                }
            }
            toks.push(Tok::Str(lit));
        } else if c == '`' {
            chars.next();
            let lit: String = chars.by_ref().take_while(|c| *c != '`').collect();
            toks.push(Tok::Str(lit));
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '|' || c == '"' {
                    break;
                }
                w.push(c);
                chars.next();
            }
            toks.push(Tok::Word(w));
        }
    }
    Ok(toks)
}

fn eval_pipeline(cmds: &[Command], ctx: &Value, missing: Missing) -> Result<Val, String> {
    let mut piped: Option<Val> = None;
    for cmd in cmds {
        piped = Some(eval_command(cmd, ctx, missing, piped.take())?);
    }
    Ok(piped.unwrap_or(Val::NoValue))
}

fn eval_command(
    cmd: &Command,
    ctx: &Value,
    missing: Missing,
    piped: Option<Val>,
) -> Result<Val, String> {
    let eval_arg = |a: &Arg| -> Result<Val, String> {
        match a {
            Arg::Field(path) => lookup(ctx, path, missing),
            Arg::Str(s) => Ok(Val::Json(Value::String(s.clone()))),
            Arg::Int(i) => Ok(Val::Json(Value::from(*i))),
            Arg::Func(f) => call(f, Vec::new()),
        }
    };
    match &cmd.args[0] {
        Arg::Func(name) => {
            let mut args = cmd.args[1..]
                .iter()
                .map(eval_arg)
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(p) = piped {
                args.push(p);
            }
            call(name, args)
        }
        first => {
            if cmd.args.len() > 1 || piped.is_some() {
                return Err(format!(
                    "template: :1: can't give argument to non-function {}",
                    describe(first)
                ));
            }
            eval_arg(first)
        }
    }
}

fn describe(a: &Arg) -> String {
    match a {
        Arg::Field(p) if p.is_empty() => ".".into(),
        Arg::Field(p) => format!(".{}", p.join(".")),
        Arg::Str(s) => format!("{s:?}"),
        Arg::Int(i) => i.to_string(),
        Arg::Func(f) => f.clone(),
    }
}

fn lookup(ctx: &Value, path: &[String], missing: Missing) -> Result<Val, String> {
    let mut cur = ctx;
    for (i, key) in path.iter().enumerate() {
        match cur {
            Value::Object(map) => match map.get(key) {
                Some(v) => cur = v,
                None => {
                    return match missing {
                        Missing::NoValue => Ok(Val::NoValue),
                        Missing::Error => Err(format!(
                            "template: :1: executing \"\" at <.{}>: can't evaluate field {key}",
                            path[..=i].join(".")
                        )),
                    }
                }
            },
            Value::Null if missing == Missing::NoValue => return Ok(Val::NoValue),
            _ => {
                return Err(format!(
                    "template: :1: executing \"\" at <.{}>: can't evaluate field {key} in type {}",
                    path[..=i].join("."),
                    go_type(cur)
                ))
            }
        }
    }
    Ok(Val::Json(cur.clone()))
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "interface {}",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

fn as_str(v: &Val, func: &str) -> Result<String, String> {
    match v {
        Val::Json(Value::String(s)) => Ok(s.clone()),
        other => Ok(go_print(other)).and_then(|s| {
            if matches!(other, Val::Json(Value::Array(_) | Value::Object(_))) {
                Err(format!(
                    "template: :1: wrong type for value in {func}; expected string"
                ))
            } else {
                Ok(s)
            }
        }),
    }
}

fn as_int(v: &Val, func: &str) -> Result<i64, String> {
    match v {
        Val::Json(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("template: :1: wrong type for value in {func}; expected int")),
        _ => Err(format!(
            "template: :1: wrong type for value in {func}; expected int"
        )),
    }
}

fn expect_args(name: &str, args: &[Val], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!(
            "template: :1: wrong number of args for {name}: want {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

/// The most spaces `pad` adds: a column never needs more, and a count from a typo must not
/// exhaust memory.
const MAX_PAD: usize = 1 << 20;

fn call(name: &str, args: Vec<Val>) -> Result<Val, String> {
    let s = |v: String| Ok(Val::Json(Value::String(v)));
    match name {
        "json" => {
            expect_args(name, &args, 1)?;
            match &args[0] {
                Val::Json(v) => s(serde_json::to_string(v).map_err(|e| e.to_string())?),
                Val::NoValue => s("null".into()),
            }
        }
        "join" => {
            expect_args(name, &args, 2)?;
            let sep = as_str(&args[1], name)?;
            match &args[0] {
                Val::Json(Value::Array(items)) => s(items
                    .iter()
                    .map(|i| go_print(&Val::Json(i.clone())))
                    .collect::<Vec<_>>()
                    .join(&sep)),
                Val::Json(Value::Null) | Val::NoValue => s(String::new()),
                _ => Err("template: :1: wrong type for value in join; expected []string".into()),
            }
        }
        "split" => {
            expect_args(name, &args, 2)?;
            let text = as_str(&args[0], name)?;
            let sep = as_str(&args[1], name)?;
            Ok(Val::Json(Value::Array(
                text.split(sep.as_str())
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
            )))
        }
        "lower" | "upper" | "title" => {
            expect_args(name, &args, 1)?;
            let text = as_str(&args[0], name)?;
            s(match name {
                "lower" => text.to_lowercase(),
                "upper" => text.to_uppercase(),
                _ => text
                    .split(' ')
                    .map(|w| {
                        let mut c = w.chars();
                        match c.next() {
                            Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                            None => String::new(),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            })
        }
        "truncate" => {
            expect_args(name, &args, 2)?;
            let text = as_str(&args[0], name)?;
            let n = as_int(&args[1], name)?.max(0) as usize;
            s(text.chars().take(n).collect())
        }
        "pad" => {
            expect_args(name, &args, 3)?;
            let text = as_str(&args[0], name)?;
            let l = as_int(&args[1], name)?.max(0) as usize;
            let r = as_int(&args[2], name)?.max(0) as usize;
            // docker's padWithSpace leaves an empty string alone; Go's strings.Repeat panics
            // (an error out of text/template) rather than build an absurd string: so do we.
            if text.is_empty() {
                return s(String::new());
            }
            if l.saturating_add(r) > MAX_PAD {
                return Err(format!(
                    "template: :1: error calling pad: padding of {} is longer than {MAX_PAD}",
                    l.saturating_add(r)
                ));
            }
            s(format!("{}{text}{}", " ".repeat(l), " ".repeat(r)))
        }
        "len" => {
            expect_args(name, &args, 1)?;
            let n = match &args[0] {
                Val::Json(Value::Array(a)) => a.len(),
                Val::Json(Value::Object(o)) => o.len(),
                Val::Json(Value::String(st)) => st.len(),
                _ => return Err("template: :1: error calling len: len of type".into()),
            };
            Ok(Val::Json(Value::from(n as u64)))
        }
        "index" => {
            if args.len() < 2 {
                return Err("template: :1: wrong number of args for index".into());
            }
            let mut cur = args[0].clone();
            for key in &args[1..] {
                cur = match (&cur, key) {
                    (Val::Json(Value::Object(m)), k) => {
                        let k = as_str(k, name)?;
                        m.get(&k).cloned().map(Val::Json).unwrap_or(Val::NoValue)
                    }
                    (Val::Json(Value::Array(a)), k) => {
                        let i = as_int(k, name)?;
                        Val::Json(a.get(i.max(0) as usize).cloned().ok_or_else(|| {
                            format!("template: :1: error calling index: index out of range: {i}")
                        })?)
                    }
                    _ => return Err("template: :1: error calling index: can't index item".into()),
                };
            }
            Ok(cur)
        }
        "print" | "println" => {
            let mut out = args.iter().map(go_print).collect::<Vec<_>>().join(" ");
            if name == "println" {
                out.push('\n');
            }
            s(out)
        }
        other => Err(format!("template: :1: function \"{other}\" not defined")),
    }
}

/// Print a value the way Go's fmt `%v` prints the decoded JSON (`[a b]`, `map[k:v]`).
fn go_print(v: &Val) -> String {
    match v {
        Val::NoValue => "<no value>".into(),
        Val::Json(v) => go_print_json(v),
    }
}

fn go_print_json(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(go_print_json)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            format!(
                "map[{}]",
                keys.iter()
                    .map(|k| format!("{k}:{}", go_print_json(&map[*k])))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
