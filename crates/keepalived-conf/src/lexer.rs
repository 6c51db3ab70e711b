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
//! - `$NAME=VALUE` parameter definitions (continued by a trailing `\`) and `~SEQ`/`~LST` lines are
//!   not supported: they are skipped with a warning.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{Loc, Options, SyntaxError, Warning};

/// Includes nested deeper than this are refused (a file including itself).
const MAX_INCLUDE_DEPTH: usize = 32;

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
}

pub struct Lexer<'a> {
    options: &'a Options,
    warnings: &'a mut Vec<Warning>,
    pub tokens: Vec<Token>,
}

impl<'a> Lexer<'a> {
    pub fn new(options: &'a Options, warnings: &'a mut Vec<Warning>) -> Self {
        Self {
            options,
            warnings,
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
        let text = std::fs::read(path).map_err(|e| SyntaxError {
            loc: from.cloned().unwrap_or(Loc {
                file: file.clone(),
                line: 0,
            }),
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        let text = String::from_utf8_lossy(&text);
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
            let Some(line) = self.conditional(line.trim(), &loc) else {
                continue;
            };
            if line.is_empty() {
                continue;
            }
            if line.starts_with('$') && is_definition(line) {
                self.warn(&loc, format!("parameter definition `{line}` is not supported: skipped (write the value where it is used)"));
                in_definition = continued;
                continue;
            }
            if line.starts_with('~') {
                self.warn(&loc, format!("`{line}`: ~SEQ / ~LST blocks are not supported: skipped (write each line out)"));
                continue;
            }
            if continued {
                self.warn(
                    &loc,
                    "a trailing `\\` continues only $PARAMETER definitions in keepalived: ignored"
                        .to_owned(),
                );
            }
            if self.include(line, &loc, depth)? {
                continue;
            }
            tokenize(line, &loc, &mut self.tokens)?;
        }
        Ok(())
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
        let files = match glob_files(&full) {
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

fn glob_files(pattern: &Path) -> Result<Vec<PathBuf>, String> {
    let text = pattern.to_string_lossy();
    let paths = glob::glob(&text).map_err(|e| format!("include pattern `{text}`: {e}"))?;
    let mut files: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn error(loc: &Loc, message: String) -> SyntaxError {
    SyntaxError {
        loc: loc.clone(),
        message,
    }
}

/// `$NAME=...`: a name of letters, digits and `_` not starting with a digit, then `=`.
fn is_definition(line: &str) -> bool {
    let Some((name, _)) = line[1..].split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
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
    let mut rest = line;
    let push = |tokens: &mut Vec<Token>, kind| {
        tokens.push(Token {
            kind,
            loc: loc.clone(),
        })
    };
    loop {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else {
            return Ok(());
        };
        match first {
            '{' => push(tokens, TokenKind::Open),
            '}' => push(tokens, TokenKind::Close),
            '"' => {
                let body = &rest[1..];
                let end = body.find('"').ok_or_else(|| unterminated(loc, line))?;
                push(tokens, TokenKind::Word(body[..end].to_owned()));
                rest = &body[end + 1..];
                continue;
            }
            _ => {
                let end = rest
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '{' | '}'))
                    .unwrap_or(rest.len());
                push(tokens, TokenKind::Word(rest[..end].to_owned()));
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
        assert!(is_definition("$PRIO=100"));
        assert!(!is_definition("$1=2"));
        assert!(!is_definition("$PRIO"));
    }
}
