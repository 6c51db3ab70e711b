//! Running the system tools a lab is built with (`ip`), with the command and its stderr in the error.

use std::io;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Run `program args...` to completion: its stdout on success, otherwise an error naming the command
/// and quoting its stderr.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    let shown = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| {
            Error::new(format!(
                "cannot start `{shown}`: {}",
                start_failure(program, &err)
            ))
        })?;
    if !output.status.success() {
        return Err(Error::new(format!(
            "`{shown}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `ip args...`.
pub fn ip(args: &[&str]) -> Result<String> {
    run("ip", args)
}

/// Why `program` did not start, with the fix when it is simply not installed.
fn start_failure(program: &str, err: &io::Error) -> String {
    match (err.kind(), program) {
        (io::ErrorKind::NotFound, "ip") => "the `ip` command is missing: install iproute2".into(),
        (io::ErrorKind::NotFound, _) => format!("`{program}` is not on PATH"),
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_command_is_named_with_its_stderr() {
        let err = run("sh", &["-c", "echo nope >&2; exit 3"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`sh -c echo nope >&2; exit 3` failed (exit status: 3): nope"
        );
    }

    #[test]
    fn a_missing_program_says_so() {
        let err = run("netlab-no-such-program", &["x"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot start `netlab-no-such-program x`: `netlab-no-such-program` is not on PATH"
        );
        assert_eq!(
            start_failure("ip", &io::Error::from(io::ErrorKind::NotFound)),
            "the `ip` command is missing: install iproute2"
        );
    }

    #[test]
    fn stdout_is_returned_on_success() {
        assert_eq!(run("echo", &["hello"]).unwrap(), "hello\n");
    }
}
