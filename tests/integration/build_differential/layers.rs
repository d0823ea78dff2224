//! Reading what a build produced from `docker save`: the config, the history (content hashes
//! normalised), each layer's entry list and the final file tree the layers make together.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::Value;

use super::side::Built;
use super::CONFIG_FIELDS;

/// `file:<hex>`, `dir:<hex>` and `multi:<hex>` in a history line → `<kind>:<hash>`: the content
/// hashes of COPY/ADD differ by design.
pub(super) fn normalise_created_by(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'outer: while !rest.is_empty() {
        for kind in ["file:", "dir:", "multi:"] {
            if let Some(after) = rest.strip_prefix(kind) {
                let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
                if hex > 0 {
                    out.push_str(kind);
                    out.push_str("<hash>");
                    rest = &after[hex..];
                    continue 'outer;
                }
            }
        }
        let ch = rest.chars().next().unwrap_or_default();
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

pub(super) fn entry_kind(t: tar::EntryType) -> char {
    match t {
        tar::EntryType::Regular | tar::EntryType::Continuous => 'f',
        tar::EntryType::Directory => 'd',
        tar::EntryType::Symlink => 'l',
        tar::EntryType::Link => 'h',
        tar::EntryType::Char => 'c',
        tar::EntryType::Block => 'b',
        tar::EntryType::Fifo => 'p',
        _ => '?',
    }
}

/// A numeric header field as Go's archive/tar writes them: octal, base-256 (high bit set), or left
/// all NUL for zero (which the tar crate's accessors refuse).
pub(super) fn tar_number(field: &[u8]) -> u64 {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        return field[1..]
            .iter()
            .fold(u64::from(field[0] & 0x7f), |n, b| (n << 8) | u64::from(*b));
    }
    let digits = String::from_utf8_lossy(field);
    let digits = digits.trim_matches(|c: char| c == '\0' || c == ' ');
    u64::from_str_radix(digits, 8).unwrap_or(0)
}

pub(super) fn clean_path(p: &str) -> String {
    let p = p.trim_start_matches("./").trim_end_matches('/');
    p.trim_start_matches('/').to_owned()
}

/// Apply one layer tar to `tree` (whiteouts and opaque dirs as the overlay driver reads them);
/// the layer's entry list.
pub(super) fn apply_layer(
    data: &[u8],
    tree: &mut BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    let mut list = Vec::new();
    let mut archive = tar::Archive::new(data);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let h = entry.header();
        let path = clean_path(&entry.path().map_err(|e| e.to_string())?.to_string_lossy());
        let kind = entry_kind(h.entry_type());
        list.push(format!("{kind} {path}"));
        let (dir, base) = match path.rsplit_once('/') {
            Some((d, b)) => (d.to_owned(), b.to_owned()),
            None => (String::new(), path.clone()),
        };
        let under = |p: &str, d: &str| {
            if d.is_empty() {
                !p.is_empty()
            } else {
                p.starts_with(&format!("{d}/"))
            }
        };
        if base == ".wh..wh..opq" {
            tree.retain(|p, _| !under(p, &dir));
            continue;
        }
        if let Some(gone) = base.strip_prefix(".wh.") {
            let gone = if dir.is_empty() {
                gone.to_owned()
            } else {
                format!("{dir}/{gone}")
            };
            tree.retain(|p, _| *p != gone && !under(p, &gone));
            continue;
        }
        if path.is_empty() {
            continue;
        }
        let old = h.as_old();
        let mode = tar_number(&old.mode) & 0o7777;
        let (uid, gid) = (tar_number(&old.uid), tar_number(&old.gid));
        let size = if kind == 'f' { entry.size() } else { 0 };
        let mut desc = format!("{kind} {mode:04o} {uid}:{gid} {size}");
        if matches!(kind, 'l' | 'h') {
            let target = entry
                .link_name()
                .map_err(|e| e.to_string())?
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_default();
            let target = if kind == 'h' {
                clean_path(&target)
            } else {
                target
            };
            desc.push_str(&format!(" -> {target}"));
        }
        // A non-directory replaces whatever was there, a directory's old children included.
        if kind != 'd' {
            tree.retain(|p, _| !under(p, &path));
        }
        tree.insert(path, desc);
    }
    Ok(list)
}

/// The compared fields of an image config's `config` section; absent reads as null.
pub(super) fn config_fields(config: &Value) -> BTreeMap<String, Value> {
    CONFIG_FIELDS
        .iter()
        .map(|f| {
            (
                f.to_string(),
                config.get(*f).cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// Read the image saved by `docker save` (docker's legacy archive layout: manifest.json naming the
/// config file and the layer tars, in the outer tar).
pub(super) fn read_saved(archive: &[u8]) -> Result<Built, String> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut outer = tar::Archive::new(archive);
    for entry in outer.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = clean_path(&entry.path().map_err(|e| e.to_string())?.to_string_lossy());
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|e| e.to_string())?;
        files.insert(path, data);
    }
    let manifest: Value = serde_json::from_slice(
        files
            .get("manifest.json")
            .ok_or("saved archive has no manifest.json")?,
    )
    .map_err(|e| format!("manifest.json: {e}"))?;
    let m = &manifest[0];
    let config_name = m["Config"].as_str().ok_or("manifest.json has no Config")?;
    let config: Value = serde_json::from_slice(
        files
            .get(&clean_path(config_name))
            .ok_or_else(|| format!("config {config_name} missing from the archive"))?,
    )
    .map_err(|e| format!("config: {e}"))?;
    let mut built = Built {
        saved_config: config_fields(&config["config"]),
        history: config["history"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|h| {
                (
                    normalise_created_by(h["created_by"].as_str().unwrap_or_default()),
                    h["empty_layer"].as_bool().unwrap_or(false),
                )
            })
            .collect(),
        ..Built::default()
    };
    for layer in m["Layers"].as_array().cloned().unwrap_or_default() {
        let name = clean_path(layer.as_str().unwrap_or_default());
        let data = files
            .get(&name)
            .ok_or_else(|| format!("layer {name} missing from the archive"))?;
        let mut plain = Vec::new();
        let data: &[u8] = if data.starts_with(&[0x1f, 0x8b]) {
            flate2::read::GzDecoder::new(&data[..])
                .read_to_end(&mut plain)
                .map_err(|e| format!("layer {name}: {e}"))?;
            &plain
        } else {
            data
        };
        let list = apply_layer(data, &mut built.tree).map_err(|e| format!("layer {name}: {e}"))?;
        built.layers.push(list);
    }
    Ok(built)
}
