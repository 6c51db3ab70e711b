//! Script commands (`script`, `notify*`) split into words as keepalived splits them (its
//! `alloc_strvec_quoted_escaped`), which differs from the config line's own words and from a shell:
//!
//! - the statement is split again: single quotes now group words too, and a `\` keeps the next
//!   character from ending a word or a quote (both characters stay);
//! - its second word, the command, is then split into the program and its arguments: `"..."` and
//!   `'...'` group, quotes are removed, and a `\` escape is decoded in and out of quotes: `\n`,
//!   `\t`, `\r`, `\a`, `\b`, `\f`, `\v`, `\E` (escape), `\xHH` (one or two hex digits), `\NNN` (one to
//!   three octal digits), `\cX` (control-X); any other character stands for itself (`\"`, `\'`,
//!   `\\`, `\ `). A shell keeps backslashes inside single quotes; keepalived does not.

/// What a quote or escape leaves unreadable: keepalived refuses the script then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// A quote never closed.
    Unterminated(char),
    /// A `\` at the very end.
    TrailingBackslash,
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SplitError::Unterminated(quote) => write!(f, "a {quote} is never closed"),
            SplitError::TrailingBackslash => write!(f, "it ends with a lone `\\`"),
        }
    }
}

/// Splits `text` into words; with `escapes`, quotes are removed and escapes decoded, without, a `\`
/// and the character after it are kept as written (quotes are removed either way).
pub fn split(text: &str, escapes: bool) -> Result<Vec<String>, SplitError> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            return Ok(words);
        }
        let mut word: Vec<u8> = Vec::new();
        let mut quote: Option<u8> = None;
        while i < bytes.len() {
            let c = bytes[i];
            match (quote, c) {
                (_, b'\\') => {
                    let Some(&next) = bytes.get(i + 1) else {
                        return Err(SplitError::TrailingBackslash);
                    };
                    if escapes {
                        i = decode_escape(bytes, i + 1, &mut word);
                    } else {
                        word.extend([b'\\', next]);
                        i += 2;
                    }
                    continue;
                }
                (Some(open), c) if c == open => quote = None,
                (Some(_), c) => word.push(c),
                (None, b'"' | b'\'') => quote = Some(c),
                (None, c) if c.is_ascii_whitespace() => break,
                (None, c) => word.push(c),
            }
            i += 1;
        }
        if let Some(open) = quote {
            return Err(SplitError::Unterminated(char::from(open)));
        }
        // keepalived's words are C strings: a decoded NUL ends one.
        if let Some(nul) = word.iter().position(|b| *b == 0) {
            word.truncate(nul);
        }
        words.push(String::from_utf8_lossy(&word).into_owned());
    }
}

/// Decodes the escape whose character is at `at` (just after the `\`) into `out`; returns the index
/// after it.
fn decode_escape(bytes: &[u8], at: usize, out: &mut Vec<u8>) -> usize {
    let c = bytes[at];
    let hex = |b: u8| char::from(b).to_digit(16);
    let octal = |b: u8| (b'0'..=b'7').contains(&b).then(|| u32::from(b - b'0'));
    if c == b'x' && bytes.get(at + 1).copied().and_then(hex).is_some() {
        let mut value = 0u32;
        let mut i = at + 1;
        while i < at + 3
            && let Some(digit) = bytes.get(i).copied().and_then(hex)
        {
            value = value * 16 + digit;
            i += 1;
        }
        out.push(value as u8);
        return i;
    }
    if c == b'c'
        && let Some(&next) = bytes.get(at + 1)
    {
        out.push(next & 0x1f);
        return at + 2;
    }
    if let Some(first) = octal(c) {
        let mut value = first;
        let mut i = at + 1;
        while i < at + 3
            && let Some(digit) = bytes.get(i).copied().and_then(octal)
        {
            value = value * 8 + digit;
            i += 1;
        }
        // keepalived keeps the low 8 bits (`\777` is 0xff).
        out.push((value & 0xff) as u8);
        return i;
    }
    out.push(match c {
        b'a' => 0x07,
        b'b' => 0x08,
        b'E' => 0x1b,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'v' => 0x0b,
        other => other,
    });
    at + 1
}

/// A script statement as keepalived reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCommand {
    /// The command as the statement's second word (quotes removed, escapes as written).
    pub text: String,
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// The words after the command (a notify command's user and group).
    pub rest: Vec<String>,
}

/// Reads a script statement (`script CMD`, `notify_master CMD [USER [GROUP]]`).
pub fn command_words(statement: &str) -> Result<ScriptCommand, SplitError> {
    let words = split(statement, false)?;
    let text = words.get(1).cloned().unwrap_or_default();
    let argv = split(&text, true)?;
    let rest = words.get(2..).unwrap_or(&[]).to_vec();
    Ok(ScriptCommand { text, argv, rest })
}

/// Whether keepvip, which splits a command string as a shell would (shell-words), gets `argv` from
/// `command`.
pub fn plain_text_gives(command: &str, argv: &[String]) -> bool {
    shell_words::split(command).is_ok_and(|words| words == argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        split(text, true).unwrap()
    }

    #[test]
    fn quotes_group_and_are_removed() {
        assert_eq!(words("a 'b c' \"d e\"f"), ["a", "b c", "d ef"]);
        assert_eq!(words("'it\"s'"), ["it\"s"]);
        assert_eq!(words("\"it's\""), ["it's"]);
        assert_eq!(words("''"), [""]);
    }

    #[test]
    fn escapes_are_decoded_inside_and_outside_quotes() {
        assert_eq!(
            words(r"a\ b 'c\td' \x41\x4a\x4B \101\0619 \cA\E"),
            ["a b", "c\td", "AJK", "A19", "\u{1}\u{1b}"]
        );
        assert_eq!(words(r#""say \"hi\"" \\ \q"#), ["say \"hi\"", "\\", "q"]);
        // \x without a hex digit is `x`.
        assert_eq!(words(r"\xg"), ["xg"]);
        // UTF-8 written as bytes comes back as the character.
        assert_eq!(words(r"caf\xc3\xa9"), ["café"]);
        // A decoded NUL ends the C string.
        assert_eq!(words(r"ab\0cd"), ["ab"]);
    }

    #[test]
    fn without_escapes_backslashes_stay_and_protect() {
        assert_eq!(
            split(r#"notify "a \" b" c\ d"#, false).unwrap(),
            ["notify", r#"a \" b"#, r"c\ d"]
        );
    }

    #[test]
    fn unterminated_quotes_and_trailing_backslashes_are_errors() {
        assert_eq!(split("'abc", true), Err(SplitError::Unterminated('\'')));
        assert_eq!(split("abc\\", true), Err(SplitError::TrailingBackslash));
    }

    #[test]
    fn a_notify_statement_gives_argv_and_user() {
        let read =
            command_words(r#"notify_master "/etc/n.sh 'master state' \"x\"" nobody nogroup"#)
                .unwrap();
        assert_eq!(read.argv, ["/etc/n.sh", "master state", "\"x\""]);
        assert_eq!(read.rest, ["nobody", "nogroup"]);
        let read = command_words("script '/usr/bin/pgrep -x haproxy'").unwrap();
        assert_eq!(read.text, "/usr/bin/pgrep -x haproxy");
        let argv = read.argv;
        assert_eq!(argv, ["/usr/bin/pgrep", "-x", "haproxy"]);
        assert!(plain_text_gives("/usr/bin/pgrep -x haproxy", &argv));
        assert!(plain_text_gives("'/usr/bin/pgrep' -x haproxy", &argv));
        // A shell keeps a backslash inside single quotes; keepalived decodes it.
        let read = command_words(r#"notify "/bin/echo 'a\tb'""#).unwrap();
        assert_eq!(read.argv, ["/bin/echo", "a\tb"]);
        assert!(!plain_text_gives(&read.text, &read.argv));
    }
}
