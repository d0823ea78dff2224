//! The short syntax of service volumes (`./data:/data:ro,z`, `cache:/var/cache:nocopy`,
//! `/scratch`) into the long form, ported from compose-go's `format.ParseVolume`: colons inside
//! `${…}` do not split, a Windows drive letter is kept, a source starting with `.`, `/` or `~`
//! is a bind mount (created on the host when missing), anything else a named volume.

use serde_json::{json, Map, Value};

/// One short volume spec in the long form (target not yet cleaned).
pub fn parse_volume(spec: &str) -> Result<Value, String> {
    let mut v = Volume::default();
    let chars: Vec<char> = spec.chars().collect();
    match chars.len() {
        0 => return Err("invalid empty volume spec".into()),
        1 | 2 => {
            return Ok(json!({"type": "volume", "target": spec, "volume": {}}));
        }
        _ => {}
    }
    let mut buffer: Vec<char> = Vec::new();
    let mut in_var = 0;
    let end = chars.len();
    for i in 0..=end {
        let c = chars.get(i).copied();
        if c == Some('$') && chars.get(i + 1) == Some(&'{') {
            in_var += 1;
            buffer.push('$');
            continue;
        }
        if c == Some('}') && in_var > 0 {
            in_var -= 1;
            buffer.push('}');
            continue;
        }
        let is_drive = c == Some(':') && buffer.len() == 1 && buffer[0].is_alphabetic();
        if is_drive {
            buffer.push(':');
        } else if (c == Some(':') || c.is_none()) && in_var == 0 {
            if let Err(e) = v.populate(c.is_none(), &buffer) {
                return Err(format!("invalid spec: {spec}: {e}"));
            }
            buffer.clear();
        } else if let Some(c) = c {
            buffer.push(c);
        }
    }
    Ok(v.into_value())
}

#[derive(Default)]
struct Volume {
    source: String,
    target: String,
    read_only: bool,
    nocopy: bool,
    bind: Map<String, Value>,
}

impl Volume {
    fn populate(&mut self, at_end: bool, buffer: &[char]) -> Result<(), &'static str> {
        let text: String = buffer.iter().collect();
        if buffer.is_empty() {
            return Err("empty section between colons");
        }
        if self.source.is_empty() && at_end {
            self.target = text;
            return Ok(());
        }
        if self.source.is_empty() {
            self.source = text;
            return Ok(());
        }
        if self.target.is_empty() {
            self.target = text;
            return Ok(());
        }
        if !at_end {
            return Err("too many colons");
        }
        for option in text.split(',') {
            match option {
                "ro" => self.read_only = true,
                "rw" => self.read_only = false,
                "nocopy" => self.nocopy = true,
                "rprivate" | "private" | "rshared" | "shared" | "rslave" | "slave" => {
                    self.bind.insert("propagation".into(), json!(option));
                }
                "z" | "Z" => {
                    self.bind.insert("selinux".into(), json!(option));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn into_value(self) -> Value {
        let mut out = Map::new();
        let bind = is_file_path(&self.source);
        out.insert("type".into(), json!(if bind { "bind" } else { "volume" }));
        if !self.source.is_empty() {
            out.insert("source".into(), json!(self.source));
        }
        out.insert("target".into(), json!(self.target));
        if self.read_only {
            out.insert("read_only".into(), json!(true));
        }
        if bind {
            let mut b = self.bind;
            b.insert("create_host_path".into(), json!(true));
            out.insert("bind".into(), Value::Object(b));
        } else {
            if !self.bind.is_empty() {
                out.insert("bind".into(), Value::Object(self.bind));
            }
            let volume = if self.nocopy {
                json!({"nocopy": true})
            } else {
                json!({})
            };
            out.insert("volume".into(), volume);
        }
        Value::Object(out)
    }
}

fn is_file_path(source: &str) -> bool {
    let mut chars = source.chars();
    match chars.next() {
        None => false,
        Some('.' | '/' | '~') => true,
        Some(first) => {
            source.starts_with("\\\\") || (first.is_alphabetic() && chars.next() == Some(':'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_volumes_become_long_ones() {
        assert_eq!(
            parse_volume("./data:/data:ro").unwrap(),
            json!({"type":"bind","source":"./data","target":"/data","read_only":true,"bind":{"create_host_path":true}})
        );
        assert_eq!(
            parse_volume("cache:/var/cache:nocopy").unwrap(),
            json!({"type":"volume","source":"cache","target":"/var/cache","volume":{"nocopy":true}})
        );
        assert_eq!(
            parse_volume("/scratch").unwrap(),
            json!({"type":"volume","target":"/scratch","volume":{}})
        );
        assert_eq!(
            parse_volume("/src:/dst:rw,rshared").unwrap()["bind"],
            json!({"propagation":"rshared","create_host_path":true})
        );
        assert_eq!(
            parse_volume("${HOME:-/x}:/home").unwrap()["source"],
            "${HOME:-/x}"
        );
    }

    #[test]
    fn bad_volumes_are_refused_in_compose_go_words() {
        assert_eq!(
            parse_volume("ab::c").unwrap_err(),
            "invalid spec: ab::c: empty section between colons"
        );
        assert_eq!(
            parse_volume("ab:/cd:ro:x").unwrap_err(),
            "invalid spec: ab:/cd:ro:x: too many colons"
        );
    }
}
