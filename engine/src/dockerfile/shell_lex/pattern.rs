//! The shell wildcard patterns of `${V#pat}`, `${V%pat}` and `${V/pat/rep}`, matched over
//! characters by a set-of-positions simulation: the patterns are tiny, and it answers shortest,
//! longest and leftmost matches alike without backtracking.

/// A shell wildcard pattern of `${V#pat}`, `${V%pat}` and `${V/pat/rep}`: `*`, `?`, literals,
/// and `\` escaping `*`, `?`, `\` (and `}`/`/`, which only need it to get past the `${}` parser).
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Star,
    Any,
    Lit(char),
}

#[derive(Debug)]
pub(super) struct Pattern(Vec<Tok>);

impl Pattern {
    pub(super) fn compile(p: &str) -> Result<Pattern, String> {
        let mut toks = Vec::new();
        let mut it = p.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '*' => toks.push(Tok::Star),
                '?' => toks.push(Tok::Any),
                '\\' => match it.peek().copied() {
                    Some('}' | '/') => {}
                    Some(n @ ('*' | '?' | '\\')) => {
                        it.next();
                        toks.push(Tok::Lit(n));
                    }
                    Some(n) => return Err(format!("invalid escape '\\{n}'")),
                    None => return Err("invalid escape '\\'".into()),
                },
                c => toks.push(Tok::Lit(c)),
            }
        }
        Ok(Pattern(toks))
    }

    /// Every end position of a match of the tokens starting at `start` (ascending).
    fn ends(toks: &[Tok], s: &[char], start: usize) -> Vec<usize> {
        // positions[i] = reachable after i tokens
        let mut cur = vec![false; s.len() + 1];
        cur[start] = true;
        for t in toks {
            let mut next = vec![false; s.len() + 1];
            match t {
                Tok::Star => {
                    let mut on = false;
                    for i in 0..=s.len() {
                        on |= cur[i];
                        next[i] = on;
                    }
                }
                Tok::Any => {
                    for i in 0..s.len() {
                        next[i + 1] |= cur[i];
                    }
                }
                Tok::Lit(c) => {
                    for i in 0..s.len() {
                        next[i + 1] |= cur[i] && s[i] == *c;
                    }
                }
            }
            cur = next;
        }
        (0..=s.len()).filter(|i| cur[*i]).collect()
    }

    /// The end of the shortest (or longest) match anchored at the start.
    pub(super) fn prefix_end(&self, s: &[char], greedy: bool) -> Option<usize> {
        let ends = Self::ends(&self.0, s, 0);
        if greedy {
            ends.last().copied()
        } else {
            ends.first().copied()
        }
    }

    /// The start of the shortest (or longest) match anchored at the end.
    pub(super) fn suffix_start(&self, s: &[char], greedy: bool) -> Option<usize> {
        let starts = (0..=s.len()).filter(|st| Self::ends(&self.0, s, *st).contains(&s.len()));
        if greedy {
            starts.min()
        } else {
            starts.max()
        }
    }

    /// The leftmost match at or after `from`, longest at that start (the wildcards are greedy).
    pub(super) fn find(&self, s: &[char], from: usize) -> Option<(usize, usize)> {
        (from..=s.len()).find_map(|st| Self::ends(&self.0, s, st).last().map(|e| (st, *e)))
    }
}
