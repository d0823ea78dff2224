//! Sets of code points as sorted inclusive ranges: every character-matching node (a literal,
//! `.`, a class, `\d`) becomes one, so the VM has a single consuming instruction, and negation
//! is a complement over all of Unicode (which is how RE2's negated classes come to include `\n`).

/// Inclusive code point ranges, sorted and merged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Ranges(pub(super) Vec<(u32, u32)>);

pub(super) const MAX_RUNE: u32 = 0x10FFFF;

impl Ranges {
    pub(super) fn push(&mut self, lo: u32, hi: u32) {
        self.0.push((lo, hi));
    }

    pub(super) fn extend(&mut self, other: &Ranges) {
        self.0.extend_from_slice(&other.0);
    }

    pub(super) fn normalized(mut self) -> Ranges {
        self.0.sort_unstable();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(self.0.len());
        for (lo, hi) in self.0 {
            match out.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        Ranges(out)
    }

    pub(super) fn negated(self) -> Ranges {
        let norm = self.normalized();
        let mut out = Vec::new();
        let mut next = 0u32;
        for (lo, hi) in norm.0 {
            if lo > next {
                out.push((next, lo - 1));
            }
            next = hi.saturating_add(1);
        }
        if next <= MAX_RUNE {
            out.push((next, MAX_RUNE));
        }
        Ranges(out)
    }

    pub(super) fn contains(&self, c: char) -> bool {
        let c = c as u32;
        self.0.iter().any(|&(lo, hi)| lo <= c && c <= hi)
    }
}
