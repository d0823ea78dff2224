//! Parser directives (`# escape=`, `# syntax=`, `# check=`): docker's possibleParserDirective,
//! which only looks at the `# key=value` lines before the first other line, and refuses a key
//! given twice. They live apart from line joining because they change how the rest is read (the
//! escape character) yet are themselves comments.

pub(super) struct Directives {
    pub(super) escape: char,
    pub(super) syntax: Option<String>,
    pub(super) done: bool,
    pub(super) seen: Vec<String>,
}

impl Directives {
    /// docker's possibleParserDirective: `# key=value` lines before anything else.
    pub(super) fn check(&mut self, line: &str) -> Result<(), String> {
        if self.done {
            return Ok(());
        }
        let Some((key, value)) = directive(line) else {
            self.done = true;
            return Ok(());
        };
        let key = key.to_ascii_lowercase();
        if !matches!(key.as_str(), "escape" | "syntax" | "check") {
            self.done = true;
            return Ok(());
        }
        if self.seen.contains(&key) {
            return Err(format!("only one {key} parser directive can be used"));
        }
        self.seen.push(key.clone());
        match key.as_str() {
            "escape" => {
                self.escape = match value {
                    "`" => '`',
                    "\\" => '\\',
                    _ => {
                        return Err(format!(
                            "invalid escape token '{value}' does not match ` or \\"
                        ))
                    }
                }
            }
            "syntax" => self.syntax = Some(value.to_string()),
            _ => {}
        }
        Ok(())
    }
}

/// `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
pub(super) fn directive(line: &str) -> Option<(&str, &str)> {
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r');
    let s = line.strip_prefix('#')?.trim_start_matches(is_ws);
    let name_end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_alphabetic() || (*i > 0 && c.is_ascii_digit())))
        .map_or(s.len(), |(i, _)| i);
    if name_end == 0 {
        return None;
    }
    let (name, after) = s.split_at(name_end);
    let value = after
        .trim_start_matches(is_ws)
        .strip_prefix('=')?
        .trim_start_matches(is_ws)
        .trim_end_matches(is_ws);
    (!value.is_empty()).then_some((name, value))
}
