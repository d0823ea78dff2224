//! `.dockerignore` with docker's exact semantics, for the engine (which context files COPY may
//! see) and for berth's CLI (which files it sends).
//!
//! Reading follows `ignorefile.ReadAll` (moby/patternmatcher, the same as BuildKit's and the
//! docker CLI's): a UTF-8 BOM is dropped, lines starting with `#` are comments, lines are trimmed,
//! blank ones skipped, a leading `!` marks an exception, and each pattern is `filepath.Clean`ed
//! with a leading `/` dropped. Matching follows `patternmatcher`: a pattern is an exact, prefix
//! (`dir/**`), suffix (`**/name`) or regular-expression match, the regular expression built by the
//! same text substitution docker uses and run by [`goregex`] with Go's RE2 semantics; patterns
//! are validated with a port of Go's `filepath.Match` first, so the same files are refused with
//! "syntax error in pattern". The last matching pattern wins, and a path is excluded when it or
//! any parent directory matches ([`Patterns::matches`], `MatchesOrParentMatches`). Walkers use
//! [`Patterns::matches_in`] (`MatchesUsingParentResults`, what the docker CLI's tar walk uses,
//! which differs from the former in corner cases) and [`Patterns::dir_may_have_exceptions`] to skip
//! an excluded directory only when no exception could re-include something beneath it.

mod goregex;

#[cfg(test)]
mod tests;

use crate::error::{EngineError, Result};
use goregex::Regex;

/// bufio.Scanner's default token limit: ReadAll fails on a longer line.
const MAX_LINE: usize = 64 * 1024;

/// Go's `filepath.ErrBadPattern` text (what docker prints for a malformed pattern).
const BAD_PATTERN: &str = "syntax error in pattern";

#[derive(Debug, Clone)]
enum MatchType {
    Exact,
    /// `cleaned` without its trailing `**`.
    Prefix(String),
    /// `cleaned` without its leading `**`.
    Suffix(String),
    Regex(Regex),
}

#[derive(Debug, Clone)]
struct Pattern {
    cleaned: String,
    exclusion: bool,
    kind: MatchType,
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            MatchType::Exact => path == self.cleaned,
            MatchType::Prefix(p) => path.starts_with(p.as_str()),
            MatchType::Suffix(s) => {
                path.ends_with(s.as_str()) || (s.starts_with('/') && path == &s[1..])
            }
            MatchType::Regex(re) => re.is_match(path),
        }
    }
}

/// What [`Patterns::matches_in`] learned about a directory, for its children (patternmatcher's
/// MatchInfo). `Default` is "no information" (the walk's root level).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchInfo {
    parent_matched: Vec<bool>,
}

/// A parsed `.dockerignore`: its patterns in order.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    patterns: Vec<Pattern>,
    exclusions: bool,
}

impl Patterns {
    /// Parse the text of a `.dockerignore` (ReadAll, then patternmatcher.New).
    pub fn parse(text: &str) -> Result<Patterns> {
        Patterns::new(&read_all(text)?)
    }

    /// Compile already-read patterns (patternmatcher.New): each trimmed, skipped if empty,
    /// cleaned, `!` marking an exception.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Patterns> {
        let mut out = Patterns::default();
        for p in patterns {
            let p = p.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let mut p = go_clean(p);
            let exclusion = p.starts_with('!');
            if exclusion {
                if p.len() == 1 {
                    return Err(EngineError::invalid("illegal exclusion pattern: \"!\""));
                }
                p.remove(0);
                out.exclusions = true;
            }
            if !filepath_match_is_valid(&p) {
                return Err(EngineError::invalid(BAD_PATTERN));
            }
            // docker compiles lazily and fails the first match; a pattern that cannot compile
            // fails every walk, so refusing it here is the same outcome, earlier.
            let kind = compile(&p).map_err(|_| EngineError::invalid(BAD_PATTERN))?;
            out.patterns.push(Pattern {
                cleaned: p,
                exclusion,
                kind,
            });
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any pattern is an exception (`!…`).
    pub fn has_exclusions(&self) -> bool {
        self.exclusions
    }

    /// The cleaned patterns, exceptions with their `!`.
    pub fn patterns(&self) -> Vec<String> {
        self.patterns
            .iter()
            .map(|p| {
                if p.exclusion {
                    format!("!{}", p.cleaned)
                } else {
                    p.cleaned.clone()
                }
            })
            .collect()
    }

    /// Whether `rel_path` (slash-separated, relative to the context root) is excluded: the last
    /// pattern that matches it or one of its parent directories decides
    /// (MatchesOrParentMatches). The root itself is never excluded.
    pub fn matches(&self, rel_path: &str) -> bool {
        let file = go_clean(rel_path);
        if file == "." {
            return false;
        }
        let parent = go_dir(&file);
        let parent_dirs: Vec<&str> = parent.split('/').collect();
        let mut matched = false;
        for p in &self.patterns {
            // An inclusion cannot change an excluded path, an exception an included one.
            if p.exclusion != matched {
                continue;
            }
            let mut hit = p.matches(&file);
            if !hit && parent != "." {
                hit = (1..=parent_dirs.len()).any(|i| p.matches(&parent_dirs[..i].join("/")));
            }
            if hit {
                matched = !p.exclusion;
            }
        }
        matched
    }

    /// Whether `rel_path` is excluded, given what its parent directory's call returned
    /// (MatchesUsingParentResults, the docker CLI's walk). Pass `MatchInfo::default()` at the
    /// root level; keep a directory's returned info for its children.
    pub fn matches_in(&self, rel_path: &str, parent: &MatchInfo) -> (bool, MatchInfo) {
        let file = rel_path;
        let have_parent = parent.parent_matched.len() == self.patterns.len() && !self.is_empty();
        let mut info = MatchInfo {
            parent_matched: vec![false; self.patterns.len()],
        };
        let mut matched = false;
        for (i, p) in self.patterns.iter().enumerate() {
            let mut hit = have_parent && parent.parent_matched[i];
            if !hit {
                if p.exclusion != matched {
                    continue;
                }
                hit = p.matches(file);
                if !hit && !have_parent {
                    let parent_path = go_dir(file);
                    if parent_path != "." {
                        let dirs: Vec<&str> = parent_path.split('/').collect();
                        hit = (1..=dirs.len()).any(|j| p.matches(&dirs[..j].join("/")));
                    }
                }
            }
            info.parent_matched[i] = hit;
            if hit {
                matched = !p.exclusion;
            }
        }
        (matched, info)
    }

    /// For an excluded directory: whether an exception could re-include something below it, so
    /// the walk must still enter it. Docker's rule, literally: some exception's pattern plus "/"
    /// starts with `rel_dir/` (so `!*/keep` does not save `dir/keep`, as with docker).
    pub fn dir_may_have_exceptions(&self, rel_dir: &str) -> bool {
        if !self.exclusions {
            return false;
        }
        let dir_slash = format!("{}/", rel_dir.trim_end_matches('/'));
        self.patterns
            .iter()
            .filter(|p| p.exclusion)
            .any(|p| format!("{}/", p.cleaned).starts_with(&dir_slash))
    }

    /// The docker CLI's TrimBuildFilesFromExcludes: the Dockerfile and `.dockerignore` are sent
    /// even when excluded (the engine reads them, then removes them from what COPY sees), unless
    /// the Dockerfile comes from stdin.
    pub fn keeping_build_files(
        &self,
        dockerfile: &str,
        dockerfile_from_stdin: bool,
    ) -> Result<Patterns> {
        let mut list = self.patterns();
        if self.matches(".dockerignore") {
            list.push("!.dockerignore".to_string());
        }
        if self.matches(dockerfile) && !dockerfile_from_stdin {
            list.push(format!("!{dockerfile}"));
        }
        Patterns::new(&list)
    }
}

/// ignorefile.ReadAll: the patterns of a `.dockerignore` text, in order, cleaned.
pub fn read_all(text: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<&str> = text.split('\n').collect();
    // A final newline does not start another (empty) line; an empty one is skipped anyway.
    if lines.last() == Some(&"") {
        lines.pop();
    }
    for line in lines {
        if line.len() >= MAX_LINE {
            return Err(EngineError::invalid(
                "Error reading .dockerignore: bufio.Scanner: token too long",
            ));
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') {
            continue;
        }
        let mut pattern = line.trim();
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern.starts_with('!');
        if invert {
            pattern = pattern[1..].trim();
        }
        let mut p = String::new();
        if !pattern.is_empty() {
            p = go_clean(pattern);
            if p.len() > 1 && p.starts_with('/') {
                p.remove(0);
            }
        }
        if invert {
            p.insert(0, '!');
        }
        out.push(p);
    }
    Ok(out)
}

/// Go's `filepath.Clean` for '/' separators: the shortest equivalent path, lexically.
pub fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|c| *c != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Dir`: everything but the last element, cleaned.
fn go_dir(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => go_clean(&path[..=i]),
        None => ".".into(),
    }
}

/// patternmatcher's `compile`: classify the pattern and build its regular expression by the same
/// text substitution.
fn compile(pattern: &str) -> std::result::Result<MatchType, goregex::RegexError> {
    #[derive(PartialEq)]
    enum T {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let mut re = String::from("^");
    let mut kind = T::Exact;
    let chars: Vec<char> = pattern.chars().collect();
    let mut pos = 0;
    let mut i = 0;
    while pos < chars.len() {
        let ch = chars[pos];
        pos += 1;
        let peek = chars.get(pos).copied();
        if ch == '*' {
            if peek == Some('*') {
                pos += 1;
                if chars.get(pos) == Some(&'/') {
                    pos += 1;
                }
                if pos == chars.len() {
                    if kind == T::Exact {
                        kind = T::Prefix;
                    } else {
                        re.push_str(".*");
                        kind = T::Regex;
                    }
                } else {
                    re.push_str("(.*/)?");
                    kind = T::Regex;
                }
                if i == 0 {
                    kind = T::Suffix;
                }
            } else {
                re.push_str("[^/]*");
                kind = T::Regex;
            }
        } else if ch == '?' {
            re.push_str("[^/]");
            kind = T::Regex;
        } else if ".+()|{}$".contains(ch) {
            re.push('\\');
            re.push(ch);
        } else if ch == '\\' {
            match peek {
                Some(n) => {
                    pos += 1;
                    re.push('\\');
                    re.push(n);
                    kind = T::Regex;
                }
                None => re.push('\\'),
            }
        } else if ch == '[' || ch == ']' {
            re.push(ch);
            kind = T::Regex;
        } else {
            re.push(ch);
        }
        i += 1;
    }
    Ok(match kind {
        T::Exact => MatchType::Exact,
        // Both strip two bytes of "**" from the cleaned pattern, as docker does.
        T::Prefix => MatchType::Prefix(pattern[..pattern.len() - 2].to_string()),
        T::Suffix => MatchType::Suffix(pattern[2..].to_string()),
        T::Regex => {
            re.push('$');
            MatchType::Regex(Regex::new(&re)?)
        }
    })
}

/// Whether Go's `filepath.Match(pattern, ".")` returns no error: the validation docker runs on
/// every pattern. Like Go, only the chunks examined before the match is decided are checked.
fn filepath_match_is_valid(pattern: &str) -> bool {
    crate::builder::filepath_match::valid_for_dockerignore(pattern)
}
