//! keepalived.conf into tokens, line by line, as keepalived's parser reads it (lib/parser.c):
//!
//! - `#` and `!` start a comment anywhere outside a double-quoted string; `\#` and `\!` outside quotes
//!   are the characters themselves. Single quotes do not protect anything at this level (they matter
//!   only inside script strings, which keepvip splits the same way).
//! - `"..."` is one word without its quotes; a word ends at whitespace or `"`; `{` and `}` outside quotes
//!   are tokens of their own, also when attached to a word.
//! - `@ID rest` keeps `rest` only when ID is the config id, `@^ID rest` only when it is not.
//! - `include FILE` (and the `includer`/`includem`/`includew`/`includeb`/`includea` variants) reads the
//!   files the glob FILE matches, in order, a relative FILE taken from the including file's directory.
//! - `$NAME=VALUE` defines a parameter that later lines use as `$NAME` or `${NAME}`. Definitions
//!   continued over several lines by a trailing `\` and `~SEQ`/`~LST` lines are not supported: they
//!   are skipped with a warning.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{Files, Loc, Options, SyntaxError, Warning};

/// Includes nested deeper than this are refused.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Files read in all: a file included twice at each of several levels would otherwise be read an
/// exponential number of times (two includes of itself at depth 32: 2^32 reads).
const MAX_FILES_READ: usize = 1000;

/// Parameter replacements per line, against definitions that refer to themselves.
const MAX_SUBSTITUTIONS: usize = 100;

const INCLUDE_KEYWORDS: [&str; 6] = [
    "include", "includer", "includem", "includew", "includeb", "includea",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    Word(String),
    Open,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub loc: Loc,
    /// The line it was read from (decommented, parameters substituted) and its bytes in it: script
    /// commands are split again from the text, by keepalived's rules for them (`script_words`).
    pub line: Arc<str>,
    pub span: (usize, usize),
}

pub struct Lexer<'a> {
    options: &'a Options,
    files: &'a dyn Files,
    warnings: &'a mut Vec<Warning>,
    /// The files being read, outermost first: including one of them again is a loop.
    reading: Vec<PathBuf>,
    files_read: usize,
    /// `$NAME=VALUE` definitions so far, in every file (keepalived keeps them across includes).
    definitions: Vec<(String, String)>,
    pub tokens: Vec<Token>,
}

impl<'a> Lexer<'a> {
    pub fn new(options: &'a Options, files: &'a dyn Files, warnings: &'a mut Vec<Warning>) -> Self {
        Self {
            options,
            files,
            warnings,
            reading: Vec::new(),
            files_read: 0,
            definitions: Vec::new(),
            tokens: Vec::new(),
        }
    }

    /// Appends the tokens of `path` (and of what it includes). `from` is the include line, if any.
    pub fn read_file(
        &mut self,
        path: &Path,
        from: Option<&Loc>,
        depth: usize,
    ) -> Result<(), SyntaxError> {
        let file = Arc::new(path.to_path_buf());
        let at = from.cloned().unwrap_or(Loc {
            file: file.clone(),
            line: 0,
        });
        if self.reading.iter().any(|p| p == path) {
            let message = format!("{} includes itself (through this line)", path.display());
            return Err(error(&at, message));
        }
        self.files_read += 1;
        if self.files_read > MAX_FILES_READ {
            let message = format!("more than {MAX_FILES_READ} files read through includes");
            return Err(error(&at, message));
        }
        let text = self.files.read(path).map_err(|e| SyntaxError {
            loc: at,
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        let text = String::from_utf8_lossy(&text);
        self.reading.push(path.to_path_buf());
        let read = self.read_lines(&text, &file, depth);
        self.reading.pop();
        read
    }

    fn read_lines(
        &mut self,
        text: &str,
        file: &Arc<PathBuf>,
        depth: usize,
    ) -> Result<(), SyntaxError> {
        let mut in_definition = false;
        for (index, raw_line) in text.lines().enumerate() {
            let loc = Loc {
                file: file.clone(),
                line: index + 1,
            };
            let (line, continued) = decomment(raw_line, &loc)?;
            if in_definition {
                in_definition = continued;
                continue;
            }
            in_definition = self.line(&line, continued, &loc, depth)?;
        }
        Ok(())
    }

    /// One decommented line; true when it starts a multi-line definition (skipped to its end).
    fn line(
        &mut self,
        line: &str,
        continued: bool,
        loc: &Loc,
        depth: usize,
    ) -> Result<bool, SyntaxError> {
        let Some(line) = self.conditional(line.trim(), loc) else {
            return Ok(false);
        };
        if line.is_empty() {
            return Ok(false);
        }
        if let Some((name, value)) = definition(line) {
            if continued {
                self.warn(loc, format!("multi-line parameter definition `${name}` is not supported: skipped (write its lines where it is used)"));
                return Ok(true);
            }
            self.definitions.retain(|(n, _)| n != name);
            self.definitions
                .push((name.to_owned(), value.trim().to_owned()));
            return Ok(false);
        }
        if line.starts_with('~') {
            self.warn(
                loc,
                format!(
                    "`{line}`: ~SEQ / ~LST blocks are not supported: skipped (write each line out)"
                ),
            );
            return Ok(false);
        }
        if continued {
            self.warn(
                loc,
                "a trailing `\\` continues only $PARAMETER definitions in keepalived: ignored"
                    .to_owned(),
            );
        }
        // keepalived recognises include lines before it substitutes parameters.
        if self.include(line, loc, depth)? {
            return Ok(false);
        }
        let line = substitute(line, &self.definitions);
        tokenize(&line, loc, &mut self.tokens)?;
        Ok(false)
    }

    /// Applies an `@ID` / `@^ID` prefix: the rest of the line if it applies, else `None`.
    fn conditional<'l>(&mut self, line: &'l str, loc: &Loc) -> Option<&'l str> {
        let Some(rest) = line.strip_prefix('@') else {
            return Some(line);
        };
        let (negated, rest) = match rest.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        // keepalived drops a conditional line with nothing after the id.
        let (id, body) = rest.split_once([' ', '\t'])?;
        let matches = match &self.options.config_id {
            Some(config_id) => config_id == id,
            None => {
                let kept = if negated { "kept" } else { "skipped" };
                self.warn(loc, format!("conditional line for config id `{id}` {kept} as for a host with another id: pass --config-id to choose"));
                false
            }
        };
        (matches != negated).then(|| body.trim_start())
    }

    /// Handles an include line; false when `line` is not one.
    fn include(&mut self, line: &str, loc: &Loc, depth: usize) -> Result<bool, SyntaxError> {
        let mut words = line.split_whitespace();
        let Some(keyword) = words.next().filter(|w| INCLUDE_KEYWORDS.contains(w)) else {
            return Ok(false);
        };
        let pattern = line[keyword.len()..].trim().trim_matches('"');
        if pattern.is_empty() {
            return Err(error(loc, format!("`{keyword}` needs a file name")));
        }
        if depth >= MAX_INCLUDE_DEPTH {
            return Err(error(
                loc,
                format!(
                    "includes nested deeper than {MAX_INCLUDE_DEPTH} (does a file include itself?)"
                ),
            ));
        }
        if pattern.contains('{') {
            self.warn(loc, format!("`{pattern}`: brace expressions in include are not supported: skipped (write one include per pattern)"));
            return Ok(true);
        }
        let base = loc.file.parent().unwrap_or(Path::new(""));
        let full = base.join(pattern);
        let files = match self.files.glob(&full) {
            Ok(files) => files,
            Err(message) => return Err(error(loc, message)),
        };
        if files.is_empty() {
            self.warn(
                loc,
                format!(
                    "`{keyword} {pattern}` matches no file ({} looked for)",
                    full.display()
                ),
            );
        }
        for file in files {
            self.read_file(&file, Some(loc), depth + 1)?;
        }
        Ok(true)
    }

    fn warn(&mut self, loc: &Loc, message: String) {
        self.warnings.push(Warning {
            loc: loc.clone(),
            message,
        });
    }
}

fn error(loc: &Loc, message: String) -> SyntaxError {
    SyntaxError {
        loc: loc.clone(),
        message,
    }
}

/// `$NAME=VALUE`: a name of letters, digits and `_` not starting with a digit, `=`, the value.
fn definition(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.strip_prefix('$')?.split_once('=')?;
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(is_name_char);
    valid.then_some((name, value))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Replaces `${NAME}` anywhere and `$NAME` followed by whitespace or the end of the line, again in
/// what a replacement brings in (bounded: a definition that refers to itself stops). An undefined
/// name stays as written, as in keepalived.
fn substitute(line: &str, definitions: &[(String, String)]) -> String {
    let mut line = line.to_owned();
    let mut from = 0;
    for _ in 0..MAX_SUBSTITUTIONS {
        let Some(offset) = line[from..].find('$') else {
            break;
        };
        let start = from + offset;
        let rest = &line[start + 1..];
        let (name, len) = match rest.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (&braced[..end], end + 3),
                None => break,
            },
            None => {
                let end = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
                let followed_by_space = rest[end..].chars().next().is_none_or(char::is_whitespace);
                (if followed_by_space { &rest[..end] } else { "" }, end + 1)
            }
        };
        match definitions.iter().find(|(n, _)| n == name) {
            Some((_, value)) => line.replace_range(start..start + len, value),
            None => from = start + 1,
        }
    }
    line
}

/// Removes a comment and the escapes of `#` and `!`; says whether a trailing `\` continues the line.
fn decomment(line: &str, loc: &Loc) -> Result<(String, bool), SyntaxError> {
    let mut out = String::with_capacity(line.len());
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            '\\' => match chars.next() {
                None => {
                    if quoted {
                        return Err(unterminated(loc, line));
                    }
                    return Ok((out.trim_end().to_owned(), true));
                }
                Some(next @ ('#' | '!')) if !quoted => out.push(next),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
            },
            '#' | '!' if !quoted => break,
            _ => out.push(c),
        }
    }
    if quoted {
        return Err(unterminated(loc, line));
    }
    Ok((out, false))
}

fn unterminated(loc: &Loc, line: &str) -> SyntaxError {
    error(loc, format!("unterminated quote in `{}`", line.trim()))
}

/// Splits a decommented line into words, quoted strings and braces.
fn tokenize(line: &str, loc: &Loc, tokens: &mut Vec<Token>) -> Result<(), SyntaxError> {
    let shared: Arc<str> = Arc::from(line);
    let mut rest = line;
    let push = |tokens: &mut Vec<Token>, kind, start: usize, end: usize| {
        tokens.push(Token {
            kind,
            loc: loc.clone(),
            line: shared.clone(),
            span: (start, end),
        })
    };
    loop {
        rest = rest.trim_start();
        let start = line.len() - rest.len();
        let Some(first) = rest.chars().next() else {
            return Ok(());
        };
        match first {
            '{' => push(tokens, TokenKind::Open, start, start + 1),
            '}' => push(tokens, TokenKind::Close, start, start + 1),
            '"' => {
                let body = &rest[1..];
                let end = body.find('"').ok_or_else(|| unterminated(loc, line))?;
                let word = TokenKind::Word(body[..end].to_owned());
                push(tokens, word, start, start + end + 2);
                rest = &body[end + 1..];
                continue;
            }
            _ => {
                let end = rest
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '{' | '}'))
                    .unwrap_or(rest.len());
                push(
                    tokens,
                    TokenKind::Word(rest[..end].to_owned()),
                    start,
                    start + end,
                );
                rest = &rest[end..];
                continue;
            }
        }
        rest = &rest[1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Loc {
        Loc {
            file: Arc::new(PathBuf::from("t.conf")),
            line: 1,
        }
    }

    fn words(line: &str) -> Vec<TokenKind> {
        let (line, _) = decomment(line, &loc()).unwrap();
        let mut tokens = Vec::new();
        tokenize(&line, &loc(), &mut tokens).unwrap();
        tokens.into_iter().map(|t| t.kind).collect()
    }

    fn w(s: &str) -> TokenKind {
        TokenKind::Word(s.to_owned())
    }

    #[test]
    fn comments_start_anywhere_outside_double_quotes() {
        assert_eq!(words("a b # c"), vec![w("a"), w("b")]);
        assert_eq!(words("a ! c"), vec![w("a")]);
        assert_eq!(
            words("script \"x # y ! z\" # c"),
            vec![w("script"), w("x # y ! z")]
        );
        assert_eq!(words("a 'b # c'"), vec![w("a"), w("'b")]);
        assert_eq!(words("a\\#b"), vec![w("a#b")]);
    }

    #[test]
    fn braces_are_tokens_even_attached() {
        assert_eq!(
            words("group {VI_1 VI_2}"),
            vec![
                w("group"),
                TokenKind::Open,
                w("VI_1"),
                w("VI_2"),
                TokenKind::Close
            ]
        );
        assert_eq!(words("\"{x}\""), vec![w("{x}")]);
    }

    #[test]
    fn quotes_end_words() {
        assert_eq!(words("a\"b c\"d"), vec![w("a"), w("b c"), w("d")]);
        assert_eq!(words("\"\""), vec![w("")]);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert!(decomment("script \"abc", &loc()).is_err());
    }

    #[test]
    fn trailing_backslash_continues() {
        assert_eq!(
            decomment("$X=a \\", &loc()).unwrap(),
            ("$X=a".to_owned(), true)
        );
    }

    #[test]
    fn definitions_are_recognised() {
        assert_eq!(definition("$PRIO=100"), Some(("PRIO", "100")));
        assert_eq!(definition("$EMPTY="), Some(("EMPTY", "")));
        assert_eq!(definition("$1=2"), None);
        assert_eq!(definition("$PRIO"), None);
    }

    #[test]
    fn parameters_are_substituted() {
        let defs = vec![
            ("BASE".to_owned(), "192.0.2.${SUB}".to_owned()),
            ("SUB".to_owned(), "1".to_owned()),
            ("PRIO".to_owned(), "150".to_owned()),
            ("SELF".to_owned(), "$SELF ".to_owned()),
        ];
        assert_eq!(substitute("priority $PRIO", &defs), "priority 150");
        assert_eq!(
            substitute("${BASE}0/24 dev eth0", &defs),
            "192.0.2.10/24 dev eth0"
        );
        // Not followed by whitespace and not braced: left alone, as undefined names are.
        assert_eq!(
            substitute("$PRIOx $UNDEF ${UNDEF}", &defs),
            "$PRIOx $UNDEF ${UNDEF}"
        );
        assert!(substitute("$SELF", &defs).starts_with("$SELF"));
    }
}
