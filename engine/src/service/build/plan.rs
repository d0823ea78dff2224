//! Which stages a build runs and in what order: the target stage and, transitively, the stages
//! it names (`FROM <stage>`, `COPY --from=<stage|index>`, `RUN --mount=from=<stage>`). Stages
//! nothing needs are not built (an unused failing stage does not fail the build), and stages
//! that do not depend on each other run in parallel. Steps are numbered over the stages that
//! run, in file order, as `Step i/n` lines.

use std::collections::BTreeMap;

use crate::dockerfile::{Dockerfile, Kind, RunMount, ShellLex};
use crate::error::{EngineError, Result};

/// The stages to build.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Indices of the stages to build, in file order; the last is the target.
    pub stages: Vec<usize>,
    /// For each stage index: the stage indices it waits for.
    pub deps: BTreeMap<usize, Vec<usize>>,
    /// For each stage index: the step number of its FROM.
    pub first_step: BTreeMap<usize, usize>,
    /// For each stage index: its base after expansion (an image reference, or a stage index).
    pub bases: BTreeMap<usize, Base>,
    pub total_steps: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    Scratch,
    Image(String),
    Stage(usize),
}

/// A `--from` value: an earlier stage by name or index, or an image.
pub fn stage_ref(df: &Dockerfile, before: usize, name: &str) -> Option<usize> {
    let lower = name.to_ascii_lowercase();
    if let Some(i) = df.stages[..before]
        .iter()
        .position(|s| s.name.as_deref() == Some(lower.as_str()))
    {
        return Some(i);
    }
    match name.parse::<usize>() {
        Ok(i) if i < before => Some(i),
        _ => None,
    }
}

/// Plan a build of `target` (a stage name; None = the last stage). `meta` are the global ARGs
/// with build args applied, for expanding FROM lines.
pub fn plan(
    df: &Dockerfile,
    target: Option<&str>,
    meta: &BTreeMap<String, String>,
) -> Result<Plan> {
    if df.stages.is_empty() {
        return Err(EngineError::invalid(
            "the Dockerfile (Dockerfile) cannot be empty",
        ));
    }
    let last = match target.filter(|t| !t.is_empty()) {
        None => df.stages.len() - 1,
        Some(t) => {
            let lower = t.to_ascii_lowercase();
            df.stages
                .iter()
                .position(|s| s.name.as_deref() == Some(lower.as_str()))
                .ok_or_else(|| {
                    EngineError::invalid(format!("failed to reach build target {t} in Dockerfile"))
                })?
        }
    };
    let lex = ShellLex::new(df.escape);
    let mut bases = BTreeMap::new();
    let mut deps: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, stage) in df.stages.iter().enumerate().take(last + 1) {
        let base = lex.expand_word(&stage.base, meta).map_err(|e| {
            EngineError::invalid(format!(
                "failed to process \"{}\": {}",
                stage.base, e.message
            ))
        })?;
        if base.is_empty() {
            return Err(EngineError::invalid(format!(
                "base name ({}) should not be blank",
                stage.base
            )));
        }
        let b = if base.eq_ignore_ascii_case("scratch") {
            Base::Scratch
        } else {
            match df.stages[..i]
                .iter()
                .position(|s| s.name.as_deref() == Some(base.to_ascii_lowercase().as_str()))
            {
                Some(j) => Base::Stage(j),
                None => Base::Image(base),
            }
        };
        let mut d = Vec::new();
        if let Base::Stage(j) = b {
            d.push(j);
        }
        for ins in &stage.instructions {
            let froms: Vec<&str> = match &ins.kind {
                Kind::Copy(c) | Kind::Add(c) => c.from.iter().map(String::as_str).collect(),
                Kind::Run(r) => r
                    .mounts
                    .iter()
                    .filter_map(|m| match m {
                        RunMount::Bind { from, .. } | RunMount::Cache { from, .. } => {
                            from.as_deref()
                        }
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for f in froms {
                let f = lex.expand_word(f, meta).unwrap_or_else(|_| f.to_string());
                if let Some(j) = stage_ref(df, i, &f) {
                    d.push(j);
                }
            }
        }
        d.sort_unstable();
        d.dedup();
        bases.insert(i, b);
        deps.insert(i, d);
    }
    // The stages the target needs, transitively.
    let mut needed = vec![false; last + 1];
    let mut todo = vec![last];
    while let Some(i) = todo.pop() {
        if needed[i] {
            continue;
        }
        needed[i] = true;
        todo.extend(deps[&i].iter().copied());
    }
    let stages: Vec<usize> = (0..=last).filter(|i| needed[*i]).collect();
    let mut first_step = BTreeMap::new();
    // Global ARGs are steps too, before the first FROM (docker prints them).
    let mut n = 1 + df.global_arg_steps.len();
    for &i in &stages {
        first_step.insert(i, n);
        n += 1 + df.stages[i].instructions.len();
    }
    Ok(Plan {
        deps: stages.iter().map(|i| (*i, deps[i].clone())).collect(),
        bases: stages.iter().map(|i| (*i, bases[i].clone())).collect(),
        stages,
        first_step,
        total_steps: n - 1,
    })
}
