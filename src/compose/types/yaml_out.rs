//! The YAML `docker compose config` prints, as go.yaml.in/yaml/v3 (v3.0.4) emits compose-go's
//! model with `SetIndent(2)`: block style, sequences indented under their key, map keys in
//! go-yaml's natural order, no line folding, and go-yaml's choice of scalar style — plain when
//! the text would read back as the same string, else single- or double-quoted, or a literal
//! block for multi-line text. The style rules are ported from go-yaml's `encode.go` (`stringv`,
//! `resolve`) and `emitterc.go` (`analyze_scalar`, `select_scalar_style`, the writers).

use std::cmp::Ordering;

use super::node::{Format, GoMarshal, Node};
use super::yaml_scalar::{scalar, Ctx};

/// The YAML document for a value (`yaml.Encoder.Encode` with an indent of 2).
pub fn to_yaml<T: GoMarshal + ?Sized>(v: &T) -> String {
    let mut out = String::new();
    match v.marshal(Format::Yaml) {
        n @ (Node::Struct(_) | Node::Map(_)) if is_block(&n) => mapping(&mut out, &n, 0, false),
        Node::Seq(items) if !items.is_empty() => sequence(&mut out, &items, 0),
        other => {
            out.push_str(&inline(&other, 0));
            out.push('\n');
        }
    }
    out
}

/// go-yaml's key order for a Go map (`keyList.Less`): numbers in keys compare by value,
/// letters before other characters unless after digits.
pub fn yaml_key_less(a: &str, b: &str) -> Ordering {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let is_digit = |c: char| c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric());
    let mut digits = false;
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            digits = is_digit(ar[i]);
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            let a_first = if digits { al } else { bl };
            return if a_first {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && is_digit(ar[j - 1]) {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && is_digit(ar[ai]) {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && is_digit(br[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// A Go map's entries in go-yaml's order (a struct's stay in declaration order).
fn entries_in_order(node: &Node) -> Option<Vec<&(String, Node)>> {
    match node {
        Node::Struct(e) => Some(e.iter().collect()),
        Node::Map(e) => {
            let mut v: Vec<_> = e.iter().collect();
            v.sort_by(|a, b| yaml_key_less(&a.0, &b.0));
            Some(v)
        }
        _ => None,
    }
}

/// Whether a node is written on its own lines below its key or dash.
fn is_block(n: &Node) -> bool {
    match n {
        Node::Seq(items) => !items.is_empty(),
        Node::Struct(e) | Node::Map(e) => !e.is_empty(),
        _ => false,
    }
}

/// A scalar or an empty collection, as written after `key: ` or `- `; `indent` is the column
/// of the continuation lines of a block scalar or a quoted line break.
fn inline(n: &Node, indent: usize) -> String {
    let ctx = Ctx { key: false, indent };
    match n {
        Node::Null => "null".into(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Uint(u) => u.to_string(),
        Node::F32(f) => float(f64::from(*f), 32),
        Node::F64(f) => float(*f, 64),
        Node::Str(s) => scalar(s, ctx),
        Node::Seq(_) => "[]".into(),
        Node::Struct(_) | Node::Map(_) => "{}".into(),
    }
}

/// go-yaml's float: `strconv.FormatFloat(f, 'g', -1, bits)` with YAML's infinities and NaN.
fn float(f: f64, bits: u32) -> String {
    match super::gofloat::format_g(f, bits).as_str() {
        "+Inf" => ".inf".into(),
        "-Inf" => "-.inf".into(),
        "NaN" => ".nan".into(),
        s => s.into(),
    }
}

/// A block mapping at `indent`; `first_inline` when its first key follows a `- ` already written.
fn mapping(out: &mut String, node: &Node, indent: usize, first_inline: bool) {
    let ordered = entries_in_order(node).unwrap_or_default();
    for (i, (k, v)) in ordered.into_iter().enumerate() {
        if !(i == 0 && first_inline) {
            out.push_str(&" ".repeat(indent));
        }
        if k.chars().any(super::yaml_scalar::is_break) || k.len() > 128 {
            // Not a simple key for go-yaml (`yaml_emitter_check_simple_key`): written as an
            // explicit `? key` / `: value` pair, the key free to be a block scalar.
            out.push_str("? ");
            out.push_str(&inline(&Node::Str(k.clone()), indent + 2));
            end_line(out);
            out.push_str(&" ".repeat(indent));
        } else {
            out.push_str(&scalar(k, Ctx { key: true, indent }));
        }
        out.push(':');
        value(out, v, indent);
    }
}

/// What follows `key:`: a scalar on the same line, or a block below, indented by 2.
fn value(out: &mut String, v: &Node, indent: usize) {
    match v {
        n @ (Node::Struct(_) | Node::Map(_)) if is_block(n) => {
            out.push('\n');
            mapping(out, n, indent + 2, false);
        }
        Node::Seq(items) if !items.is_empty() => {
            out.push('\n');
            sequence(out, items, indent + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other, indent + 2));
            end_line(out);
        }
    }
}

/// A block sequence at `indent`.
fn sequence(out: &mut String, items: &[Node], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            n @ (Node::Struct(_) | Node::Map(_)) if is_block(n) => {
                mapping(out, n, indent + 2, true);
            }
            Node::Seq(inner) if is_block(item) => {
                // go-yaml writes a nested sequence's first item after the dash.
                let mut sub = String::new();
                sequence(&mut sub, inner, indent + 2);
                out.push_str(sub.trim_start_matches(' '));
            }
            other => {
                out.push_str(&inline(other, indent + 2));
                end_line(out);
            }
        }
    }
}

/// Ends the current line unless a block scalar already did.
fn end_line(out: &mut String) {
    if !out.ends_with('\n') {
        out.push('\n');
    }
}
