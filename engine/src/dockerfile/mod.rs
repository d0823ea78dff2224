//! The Dockerfile language: parsing into stages and instructions with their source locations,
//! and BuildKit's word expansion (`shell_lex`).
//!
//! The parser follows dockerd's legacy builder (what `docker build` with DOCKER_BUILDKIT=0
//! talks to) line for line, so the text after `Step i/n : `, the argument splitting (ENV's two
//! forms, LABEL quoting, exec form falling back to shell form) and the error messages are docker's.
//! On top it accepts the BuildKit syntax people now write: heredocs (`RUN <<EOT`, `COPY <<EOF /p`,
//! several per line, `<<-`, quoted delimiters), `RUN --mount`, `--network`, `--security`,
//! `COPY --link`, `ADD --checksum`/`--keep-git-dir`, and `# syntax=` lines (accepted and kept; the
//! language is always this built-in one).
//!
//! Words stay unexpanded in the model: the builder expands them per step with [`ShellLex`],
//! against the variables in scope then.

mod instruction;
mod lines;
mod mount;
pub mod shell_lex;

use std::fmt;

pub use mount::{parse_mount, RunMount, Sharing};
pub use shell_lex::{Lookup, ShellLex};

use crate::error::EngineError;

/// A position in the Dockerfile, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// Which stage of docker's parsing an error belongs to; it decides how docker words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Reading lines (directives, continuations, heredocs, ENV/LABEL pairs, JSON arrays):
    /// docker says `failed to parse Dockerfile: <message>`.
    Syntax,
    /// Checking one instruction (arguments, flags, unknown instruction): docker says
    /// `dockerfile parse error line <n>: <message>`.
    Instruction,
    /// Said as is (expansion errors, `no build stage in current context`, ...).
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileError {
    pub location: Option<Location>,
    pub message: String,
    pub kind: ErrorKind,
}

impl DockerfileError {
    pub(crate) fn plain(message: impl Into<String>) -> Self {
        DockerfileError {
            location: None,
            message: message.into(),
            kind: ErrorKind::Plain,
        }
    }

    pub(crate) fn syntax(message: impl Into<String>, line: usize) -> Self {
        DockerfileError {
            location: Some(Location { line, column: 1 }),
            message: message.into(),
            kind: ErrorKind::Syntax,
        }
    }

    /// The same error attached to `location` (when it has none yet).
    pub fn at(mut self, location: Location) -> Self {
        self.location.get_or_insert(location);
        self
    }
}

impl fmt::Display for DockerfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.location) {
            (ErrorKind::Syntax, _) => write!(f, "failed to parse Dockerfile: {}", self.message),
            (ErrorKind::Instruction, Some(l)) => {
                write!(
                    f,
                    "dockerfile parse error line {}: {}",
                    l.line, self.message
                )
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DockerfileError {}

impl From<DockerfileError> for EngineError {
    fn from(e: DockerfileError) -> Self {
        EngineError::InvalidArgument(e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dockerfile {
    /// The escape character (`# escape=` directive; `\` by default).
    pub escape: char,
    /// The `# syntax=` directive's value, if any (accepted; the built-in language is used).
    pub syntax: Option<String>,
    /// The names declared by ARGs before the first FROM (visible to FROM lines).
    pub global_args: Vec<ArgDecl>,
    /// Those ARG instructions themselves: docker counts and prints them as steps.
    pub global_arg_steps: Vec<Instruction>,
    pub stages: Vec<Stage>,
    /// Docker's parser warnings (empty continuation lines), to print before the steps.
    pub warnings: Vec<String>,
}

impl Dockerfile {
    /// `Step i/n` counts every instruction: global ARGs, each FROM and each stage instruction.
    pub fn step_count(&self) -> usize {
        self.global_arg_steps.len()
            + self
                .stages
                .iter()
                .map(|s| 1 + s.instructions.len())
                .sum::<usize>()
    }

    /// The stage named `name` (case-insensitive, as docker compares lowercased names).
    pub fn stage_by_name(&self, name: &str) -> Option<&Stage> {
        let name = name.to_ascii_lowercase();
        self.stages
            .iter()
            .find(|s| s.name.as_deref() == Some(name.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub index: usize,
    /// `AS name`, lowercased as docker does.
    pub name: Option<String>,
    /// The image word of FROM, unexpanded (`scratch`, `alpine:$V`, another stage's name).
    pub base: String,
    /// `--platform=`, unexpanded.
    pub platform: Option<String>,
    /// The FROM itself, for its Step line.
    pub from: Instruction,
    pub instructions: Vec<Instruction>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    pub kind: Kind,
    /// What docker prints after `Step i/n : `: the instruction's lines joined as docker joins
    /// continuation lines, trimmed (for a heredoc instruction, its first line).
    pub original: String,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    /// As written (quotes included); expand it with `ShellLex::expand_word`.
    pub default: Option<String>,
}

/// One instruction's arguments. Words are as written: quotes and variables are left for
/// `ShellLex::expand_word` (docker expands each ENV/LABEL key and value, each ADD/COPY source
/// and the destination, each EXPOSE/VOLUME word, ...).
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// The details are on the [`Stage`].
    From,
    Run(Run),
    Cmd(CommandForm),
    /// `Shell("")` is a bare `ENTRYPOINT` (which resets it, as docker).
    Entrypoint(CommandForm),
    Shell(Vec<String>),
    /// (key, value) pairs; `LABEL "a b"="c d"` keeps its quotes here.
    Label(Vec<(String, String)>),
    Maintainer(String),
    Expose(Vec<String>),
    /// (key, value) pairs; the legacy form `ENV a b c` is key `a`, value `b c`.
    Env(Vec<(String, String)>),
    Add(Copy),
    Copy(Copy),
    Volume(Vec<String>),
    User(String),
    Workdir(String),
    Arg(Vec<ArgDecl>),
    /// The trigger as docker stores it in the image's `OnBuild` (e.g. `RUN echo hi`); a
    /// heredoc trigger carries its bodies on the following lines. [`parse_triggers`] parses them
    /// in a child build.
    Onbuild(String),
    Stopsignal(String),
    /// Everything after `HEALTHCHECK` (already validated by
    /// `crate::model::health::parse_instruction`, which turns it into the config).
    Healthcheck(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandForm {
    /// A JSON array: run as is.
    Exec(Vec<String>),
    /// Anything else (including an invalid JSON array, as docker): run by the SHELL.
    Shell(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// For a heredoc RUN the shell text of its first line (`<<EOT`, `cat <<A >f`, `python3 <<X`).
    pub command: CommandForm,
    pub heredocs: Vec<Heredoc>,
    /// `--mount` values parsed as written; `expand_mounts` gives them with variables expanded.
    pub mounts: Vec<RunMount>,
    /// The `--mount` values as written.
    pub mount_specs: Vec<String>,
    /// `--network=none|host|default`.
    pub network: Option<String>,
    /// `--security=sandbox|insecure`.
    pub security: Option<String>,
}

impl Run {
    /// The mounts with their values expanded (as BuildKit expands `--mount` options).
    pub fn expand_mounts(
        &self,
        lex: &ShellLex,
        env: &dyn Lookup,
    ) -> Result<Vec<RunMount>, DockerfileError> {
        let expand = |v: &str| lex.expand_word(v, env);
        self.mount_specs
            .iter()
            .map(|s| parse_mount(s, Some(&expand)))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter word, quotes removed (`EOT`); for COPY/ADD the file's name.
    pub name: String,
    /// The body, line endings kept; with `<<-` the leading tabs are already removed.
    pub content: String,
    /// Whether variables in the body expand (false when the delimiter is quoted).
    pub expand: bool,
    /// Written `<<-`.
    pub chomp: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Copy {
    /// Sources as written (heredoc sources are in `heredocs` instead).
    pub sources: Vec<String>,
    pub dest: String,
    /// COPY `--from=` (stage name, index or image).
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    /// ADD `--checksum=`.
    pub checksum: Option<String>,
    /// ADD `--keep-git-dir`.
    pub keep_git_dir: bool,
    /// `COPY <<EOF /path`: files whose content is the heredoc, named by their delimiter.
    pub heredocs: Vec<Heredoc>,
}

/// Parse a whole Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, DockerfileError> {
    instruction::parse_dockerfile(text)
}

/// Parse ONBUILD triggers (as stored in a base image's config) into the instructions a child
/// build runs right after its FROM, as docker does (default escape, no FROM/ONBUILD/MAINTAINER).
pub fn parse_triggers(triggers: &[String]) -> Result<Vec<Instruction>, DockerfileError> {
    instruction::parse_triggers(triggers)
}

#[cfg(test)]
mod crate_oracle_tests;
#[cfg(test)]
mod tests;
