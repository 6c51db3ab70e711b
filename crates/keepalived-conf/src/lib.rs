//! keepalived.conf, read as keepalived reads it, and its VRRP side converted to keepvip's TOML.
//!
//! Three steps: `lexer` turns files into tokens (words, quoted strings, `{`, `}`), following comments,
//! `@` conditional lines and `include`; `tree` nests the tokens into statements and blocks; `convert`
//! maps the VRRP keywords onto keepvip tables (`model`), which `emit` writes as TOML. Whatever cannot be
//! carried becomes a `Warning` naming file and line; what cannot be read is a `SyntaxError`.

mod convert;
mod emit;
mod files;
mod lexer;
pub mod model;
mod script;
mod tree;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use files::{Disk, Files, MemoryFiles};
pub use tree::{Stmt, parse_file};

/// Where something was read: a file and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub file: Arc<PathBuf>,
    pub line: usize,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Something keepvip cannot carry over, or carries differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub loc: Loc,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: warning: {}", self.loc, self.message)
    }
}

/// Input that cannot be read: unreadable file, unterminated quote, unbalanced braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub loc: Loc,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.loc, self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Choices keepalived takes from its command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// keepalived's `--config-id` (default: the host name), which `@ID` lines are compared with.
    /// `None`: no id matches, and every conditional line draws a warning.
    pub config_id: Option<String>,
}

/// The converted config and what could not be carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub toml: String,
    pub warnings: Vec<Warning>,
}

/// Reads `path` (and what it includes) and converts it.
pub fn import_file(path: &Path, options: &Options) -> Result<Import, SyntaxError> {
    import_from(&Disk, path, options)
}

/// Reads `path` (and what it includes) from `files` and converts it.
pub fn import_from(
    files: &dyn Files,
    path: &Path,
    options: &Options,
) -> Result<Import, SyntaxError> {
    let mut warnings = Vec::new();
    let statements = parse_file(files, path, options, &mut warnings)?;
    let config = convert::convert(&statements, &mut warnings);
    // In file and line order (a stable sort: warnings about one line keep their order).
    warnings.sort_by(|a, b| (&a.loc.file, a.loc.line).cmp(&(&b.loc.file, b.loc.line)));
    let toml = emit::emit(&config, path);
    Ok(Import { toml, warnings })
}
