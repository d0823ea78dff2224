//! Where a value sits in a compose model (`services.web.ports[0]`), and compose-go's path
//! patterns (`services.*.ports`, `[]` for any list item) that decide which rule applies where.

use std::fmt;

/// A concrete location: mapping keys, and list indices written `[i]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Path(Vec<String>);

impl Path {
    pub fn root() -> Path {
        Path(Vec::new())
    }

    /// A path written as compose-go and the typed model write it (`services.web.ports[0]`).
    pub fn parse(text: &str) -> Path {
        let mut p = Path::root();
        for seg in text.split('.').filter(|s| !s.is_empty()) {
            let (key, indices) = match seg.find('[') {
                Some(i) => (&seg[..i], &seg[i..]),
                None => (seg, ""),
            };
            if !key.is_empty() {
                p = p.key(key);
            }
            for idx in indices.split('[').filter(|s| !s.is_empty()) {
                if let Ok(i) = idx.trim_end_matches(']').parse::<usize>() {
                    p = p.index(i);
                }
            }
        }
        p
    }

    pub fn key(&self, key: &str) -> Path {
        let mut next = self.0.clone();
        next.push(key.to_string());
        Path(next)
    }

    pub fn index(&self, i: usize) -> Path {
        let mut next = self.0.clone();
        next.push(format!("[{i}]"));
        Path(next)
    }

    pub fn parent(&self) -> Option<Path> {
        if self.0.is_empty() {
            None
        } else {
            Some(Path(self.0[..self.0.len() - 1].to_vec()))
        }
    }

    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// compose-go's `Path.Matches`: same length, `*` matches any one segment, `[]` any index.
    pub fn matches(&self, pattern: &str) -> bool {
        let parts: Vec<&str> = if pattern.is_empty() {
            Vec::new()
        } else {
            pattern.split('.').collect()
        };
        parts.len() == self.0.len()
            && parts.iter().zip(&self.0).all(|(p, s)| match *p {
                "*" => true,
                "[]" => s.starts_with('['),
                _ => p == s,
            })
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 && !s.starts_with('[') {
                f.write_str(".")?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_compose_go_does() {
        let p = Path::root()
            .key("services")
            .key("web")
            .key("ports")
            .index(2);
        assert_eq!(p.to_string(), "services.web.ports[2]");
        assert!(p.matches("services.*.ports.[]"));
        assert!(p.matches("services.*.ports.*"));
        assert!(!p.matches("services.*.ports"));
        assert!(p.parent().unwrap().matches("services.*.ports"));
        assert!(!Path::root()
            .key("services")
            .key("x")
            .matches("services.*.[]"));
        assert!(Path::root().matches(""));
    }
}
