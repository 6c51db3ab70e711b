//! Messages about a config file, each pinned to `file:line:column`.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// How bad a diagnostic is. Only errors make a config invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    /// Valid, but probably not what the operator meant (e.g. the interface does not exist here).
    Warning,
    /// Valid; says what keepvip will do on the operator's behalf (e.g. add a link-local VIP).
    Note,
}

/// One message at one place. `line` and `column` are 1-based; the column counts characters, not bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    /// `file:line:column: message` for errors, with `warning: ` or `note: ` before the message otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
            Severity::Note => "note: ",
        };
        write!(
            f,
            "{}:{}:{}: {prefix}{}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Why a config was rejected: every error found (and the warnings found alongside), in file order.
/// Holds at least one `Severity::Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigErrors {
    /// The diagnostics that made the config invalid.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

impl fmt::Display for ConfigErrors {
    /// One diagnostic per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Why `load` failed. The CLI maps the two cases to different exit codes.
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read at all (missing, permissions, a directory...).
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file was read and is not a valid config.
    Invalid(ConfigErrors),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Unreadable { path, source } => {
                write!(f, "{}: cannot read config: {source}", path.display())
            }
            LoadError::Invalid(errors) => errors.fmt(f),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Unreadable { source, .. } => Some(source),
            LoadError::Invalid(errors) => Some(errors),
        }
    }
}

/// Collects diagnostics for one file, turning byte offsets into line:column as they arrive.
pub(crate) struct Sink<'a> {
    file: &'a str,
    text: &'a str,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Sink {
            file,
            text,
            diagnostics: Vec::new(),
        }
    }

    /// The source text a span covers: the value exactly as the operator wrote it.
    pub(crate) fn source(&self, span: &Range<usize>) -> &'a str {
        self.text.get(span.clone()).unwrap_or("")
    }

    /// The 1-based line of a byte offset, for messages that refer to another spot ("see line 5").
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        line_column(self.text, offset).0
    }

    pub(crate) fn error(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.push(Severity::Error, span.start, message.into());
    }

    pub(crate) fn warning(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.push(Severity::Warning, span.start, message.into());
    }

    pub(crate) fn note(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.push(Severity::Note, span.start, message.into());
    }

    /// `key = <value as written>: expected <what>`, the shape of most value errors.
    pub(crate) fn expected(&mut self, key: &str, span: &Range<usize>, what: impl fmt::Display) {
        let value = self.source(span);
        self.error(span, format!("{key} = {value}: expected {what}"));
    }

    fn push(&mut self, severity: Severity, offset: usize, message: String) {
        let (line, column) = line_column(self.text, offset);
        self.diagnostics.push(Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            severity,
            message,
        });
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// All diagnostics in file order (stable, so messages about one spot keep their order).
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        self.diagnostics.sort_by_key(|d| (d.line, d.column));
        self.diagnostics
    }
}

/// 1-based line and column (in characters) of a byte offset. Offsets past the end map to the end;
/// offsets inside a multi-byte character map to that character.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_is_one_based_and_counts_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 4), (1, 5));
        assert_eq!(line_column(text, 6), (2, 1));
        // "bé = " is 6 bytes but 5 characters: the quote is column 6.
        assert_eq!(line_column(text, 12), (2, 6));
        assert_eq!(line_column(text, 8), (2, 2)); // inside 'é'
        assert_eq!(line_column(text, 999), (3, 1));
    }

    #[test]
    fn diagnostics_display_as_file_line_column() {
        let mut sink = Sink::new("x.toml", "vrid = 300\n");
        sink.expected("vrid", &(7..10), "an integer 1..=255");
        sink.warning(&(0..4), "careful");
        let all = ConfigErrors {
            diagnostics: sink.finish(),
        };
        assert_eq!(
            all.to_string(),
            "x.toml:1:1: warning: careful\nx.toml:1:8: vrid = 300: expected an integer 1..=255"
        );
        assert_eq!(all.errors().count(), 1);
    }
}
