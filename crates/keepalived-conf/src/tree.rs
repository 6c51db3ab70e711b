//! Tokens into statements: a statement is the words of one line, up to a `{` that opens its block (on
//! the same line or the next one, as keepalived allows) or a `}`.

use std::path::Path;

use crate::lexer::{Lexer, Token, TokenKind};
use crate::{Files, Loc, Options, SyntaxError, Warning};

/// One keyword line with its arguments and, if it has one, its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    pub words: Vec<String>,
    pub block: Option<Vec<Stmt>>,
    pub loc: Loc,
    /// The statement's text as written on its line, from the keyword to the last word.
    pub text: String,
}

impl Stmt {
    pub fn keyword(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }

    pub fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// The words of the block, line by line flattened (for `group { A B }` and the like).
    pub fn block_words(&self) -> Vec<(&str, &Loc)> {
        let mut out = Vec::new();
        for stmt in self.block.iter().flatten() {
            for word in &stmt.words {
                out.push((word.as_str(), &stmt.loc));
            }
        }
        out
    }
}

/// Reads `path` and what it includes into statements.
pub fn parse_file(
    files: &dyn Files,
    path: &Path,
    options: &Options,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Stmt>, SyntaxError> {
    let mut lexer = Lexer::new(options, files, warnings);
    lexer.read_file(path, None, 0)?;
    let tokens = lexer.tokens;
    let mut pos = 0;
    parse_block(&tokens, &mut pos, None, 0)
}

/// Blocks nested deeper than this are refused: keepalived's deepest is 3 (`vrrp_instance` ->
/// `track_script` -> a script), and each level is a stack frame here.
const MAX_BLOCK_DEPTH: usize = 32;

fn parse_block(
    tokens: &[Token],
    pos: &mut usize,
    opened_at: Option<&Loc>,
    depth: usize,
) -> Result<Vec<Stmt>, SyntaxError> {
    if let Some(loc) = opened_at.filter(|_| depth > MAX_BLOCK_DEPTH) {
        return Err(SyntaxError {
            loc: loc.clone(),
            message: format!("blocks nested deeper than {MAX_BLOCK_DEPTH}"),
        });
    }
    let mut stmts: Vec<Stmt> = Vec::new();
    while let Some(token) = tokens.get(*pos) {
        *pos += 1;
        match &token.kind {
            TokenKind::Close => {
                if opened_at.is_some() {
                    return Ok(stmts);
                }
                return Err(SyntaxError {
                    loc: token.loc.clone(),
                    message: "`}` closes no block".to_owned(),
                });
            }
            TokenKind::Open => {
                // `keyword` on one line and `{` on the next.
                let Some(last) = stmts.last_mut().filter(|s| s.block.is_none()) else {
                    return Err(SyntaxError {
                        loc: token.loc.clone(),
                        message: "`{` without a keyword before it".to_owned(),
                    });
                };
                last.block = Some(parse_block(tokens, pos, Some(&token.loc), depth + 1)?);
            }
            TokenKind::Word(word) => {
                let mut words = vec![word.clone()];
                let mut end = token.span.1;
                while let Some(Token {
                    kind: TokenKind::Word(next),
                    loc,
                    span,
                    ..
                }) = tokens.get(*pos)
                    && *loc == token.loc
                {
                    words.push(next.clone());
                    end = span.1;
                    *pos += 1;
                }
                let text = token.line.get(token.span.0..end).unwrap_or("").to_owned();
                let mut stmt = Stmt {
                    words,
                    block: None,
                    loc: token.loc.clone(),
                    text,
                };
                if let Some(Token {
                    kind: TokenKind::Open,
                    loc,
                    ..
                }) = tokens.get(*pos)
                {
                    *pos += 1;
                    stmt.block = Some(parse_block(tokens, pos, Some(loc), depth + 1)?);
                }
                stmts.push(stmt);
            }
        }
    }
    match opened_at {
        Some(loc) => Err(SyntaxError {
            loc: loc.clone(),
            message: "this `{` is never closed: expected `}` before the end of the input"
                .to_owned(),
        }),
        None => Ok(stmts),
    }
}
