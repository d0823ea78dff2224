//! The comparison: every difference between dockerd's result and berth's, one line each.

use serde_json::Value;

use super::side::Built;

/// Every difference between dockerd's (`want`) and berth's (`got`) result, one per line.
pub(super) fn compare(want: &Built, got: &Built) -> Vec<String> {
    let mut diffs = Vec::new();
    compare_lists(
        "build output Step/[Warning] lines",
        &want.steps,
        &got.steps,
        &mut diffs,
    );
    for (field, w) in &want.config {
        let g = got.config.get(field).unwrap_or(&Value::Null);
        if w != g {
            diffs.push(format!(
                "inspect Config.{field}:\n    dockerd: {w}\n    berth:   {g}"
            ));
        }
    }
    for (field, w) in &want.saved_config {
        let g = got.saved_config.get(field).unwrap_or(&Value::Null);
        if w != g {
            diffs.push(format!(
                "saved image config config.{field}:\n    dockerd: {w}\n    berth:   {g}"
            ));
        }
    }
    compare_lists(
        "docker history --no-trunc CreatedBy",
        &want.history_cli,
        &got.history_cli,
        &mut diffs,
    );
    let fmt = |h: &[(String, bool)]| -> Vec<String> {
        h.iter()
            .map(|(c, e)| format!("{}{c}", if *e { "[empty_layer] " } else { "" }))
            .collect()
    };
    compare_lists(
        "image config history (created_by, empty_layer)",
        &fmt(&want.history),
        &fmt(&got.history),
        &mut diffs,
    );
    if want.layers.len() != got.layers.len() {
        diffs.push(format!(
            "layer count: dockerd {} berth {}",
            want.layers.len(),
            got.layers.len()
        ));
    } else {
        for (i, (w, g)) in want.layers.iter().zip(&got.layers).enumerate() {
            let mut ws = w.clone();
            let mut gs = g.clone();
            ws.sort();
            gs.sort();
            compare_lists(&format!("layer {i} entries"), &ws, &gs, &mut diffs);
        }
    }
    let mut tree = Vec::new();
    for (path, w) in &want.tree {
        match got.tree.get(path) {
            None => tree.push(format!("    only in dockerd: /{path}  {w}")),
            Some(g) if g != w => tree.push(format!(
                "    /{path}\n      dockerd: {w}\n      berth:   {g}"
            )),
            _ => {}
        }
    }
    for (path, g) in &got.tree {
        if !want.tree.contains_key(path) {
            tree.push(format!("    only in berth:   /{path}  {g}"));
        }
    }
    if !tree.is_empty() {
        diffs.push(format!(
            "file tree (kind mode uid:gid size [-> target]):\n{}",
            tree.join("\n")
        ));
    }
    diffs
}

/// A list difference: both lists in full when they differ (they are short), the first differing
/// index named.
pub(super) fn compare_lists(what: &str, want: &[String], got: &[String], diffs: &mut Vec<String>) {
    if want == got {
        return;
    }
    let first = want
        .iter()
        .zip(got)
        .position(|(w, g)| w != g)
        .unwrap_or(want.len().min(got.len()));
    let show = |l: &[String]| {
        l.iter()
            .enumerate()
            .map(|(i, s)| format!("      {}{i}: {s}", if i == first { ">" } else { " " }))
            .collect::<Vec<_>>()
            .join("\n")
    };
    diffs.push(format!(
        "{what} (first difference at {first}):\n    dockerd:\n{}\n    berth:\n{}",
        show(want),
        show(got)
    ));
}
