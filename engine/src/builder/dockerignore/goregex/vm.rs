//! The Pike VM: the parse tree compiled into a program of instructions, and its simulation,
//! which follows all threads in lockstep over the text so a match costs time linear in the path
//! length whatever the pattern (docker's `**` patterns nest `(.*/)?` freely, which would make a
//! backtracking matcher exponential).

use super::parse::Node;
use super::ranges::Ranges;
use super::Regex;

#[derive(Debug, Clone)]
pub(super) enum Inst {
    Set(Ranges),
    Split(usize, usize),
    Jmp(usize),
    BeginText,
    EndText,
    WordBoundary(bool),
    Match,
}

impl Regex {
    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let n = self.prog.len();
        let mut clist: Vec<usize> = Vec::with_capacity(n);
        let mut nlist: Vec<usize> = Vec::with_capacity(n);
        let mut seen = vec![usize::MAX; n];
        let mut stack = Vec::new();
        for i in 0..=chars.len() {
            let prev = if i == 0 { None } else { Some(chars[i - 1]) };
            let next = chars.get(i).copied();
            if i == 0 && self.add(0, i, prev, next, &mut clist, &mut seen, &mut stack) {
                return true;
            }
            nlist.clear();
            let Some(c) = next else {
                break;
            };
            let nprev = Some(c);
            let nnext = chars.get(i + 1).copied();
            for &pc in &clist {
                if let Inst::Set(r) = &self.prog[pc] {
                    if r.contains(c)
                        && self.add(
                            pc + 1,
                            i + 1,
                            nprev,
                            nnext,
                            &mut nlist,
                            &mut seen,
                            &mut stack,
                        )
                    {
                        return true;
                    }
                }
            }
            std::mem::swap(&mut clist, &mut nlist);
        }
        false
    }

    /// Follow empty transitions from `pc` at text position `pos`, adding character-consuming
    /// states to `list`; true when Match is reached.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &self,
        pc: usize,
        pos: usize,
        prev: Option<char>,
        next: Option<char>,
        list: &mut Vec<usize>,
        seen: &mut [usize],
        stack: &mut Vec<usize>,
    ) -> bool {
        let is_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        stack.clear();
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if seen[pc] == pos {
                continue;
            }
            seen[pc] = pos;
            match &self.prog[pc] {
                Inst::Set(_) => list.push(pc),
                Inst::Split(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Inst::Jmp(a) => stack.push(*a),
                Inst::BeginText => {
                    if prev.is_none() {
                        stack.push(pc + 1);
                    }
                }
                Inst::EndText => {
                    if next.is_none() {
                        stack.push(pc + 1);
                    }
                }
                Inst::WordBoundary(want) => {
                    if (is_word(prev) != is_word(next)) == *want {
                        stack.push(pc + 1);
                    }
                }
                Inst::Match => return true,
            }
        }
        false
    }
}

pub(super) fn compile(node: &Node, prog: &mut Vec<Inst>) {
    match node {
        Node::Empty => {}
        Node::Set(r) => prog.push(Inst::Set(r.clone())),
        Node::BeginText => prog.push(Inst::BeginText),
        Node::EndText => prog.push(Inst::EndText),
        Node::WordBoundary => prog.push(Inst::WordBoundary(true)),
        Node::NoWordBoundary => prog.push(Inst::WordBoundary(false)),
        Node::Concat(items) => {
            for n in items {
                compile(n, prog);
            }
        }
        Node::Alt(branches) => {
            // split L1, next; L1: a; jmp end; next: split L2, ... ; last branch plain.
            let mut jumps = Vec::new();
            for (i, b) in branches.iter().enumerate() {
                if i + 1 < branches.len() {
                    let split = prog.len();
                    prog.push(Inst::Split(split + 1, 0));
                    compile(b, prog);
                    jumps.push(prog.len());
                    prog.push(Inst::Jmp(0));
                    let next = prog.len();
                    prog[split] = Inst::Split(split + 1, next);
                } else {
                    compile(b, prog);
                }
            }
            let end = prog.len();
            for j in jumps {
                prog[j] = Inst::Jmp(end);
            }
        }
        Node::Star(inner) => {
            let split = prog.len();
            prog.push(Inst::Split(split + 1, 0));
            compile(inner, prog);
            prog.push(Inst::Jmp(split));
            let end = prog.len();
            prog[split] = Inst::Split(split + 1, end);
        }
        Node::Plus(inner) => {
            let start = prog.len();
            compile(inner, prog);
            let split = prog.len();
            prog.push(Inst::Split(start, split + 1));
        }
        Node::Quest(inner) => {
            let split = prog.len();
            prog.push(Inst::Split(split + 1, 0));
            compile(inner, prog);
            let end = prog.len();
            prog[split] = Inst::Split(split + 1, end);
        }
    }
}
