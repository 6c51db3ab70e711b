//! Running the system tools the lab is built with (`ip`, `tcpdump`), with their stderr in the error.

use std::process::{Command, Stdio};

use crate::error::{HarnessError, Result};

/// Run `program args...` to completion; its stdout on success, an error naming the command and quoting
/// its stderr otherwise.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    let shown = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| HarnessError::new(format!("cannot start `{shown}`: {err}")))?;
    if !output.status.success() {
        return Err(HarnessError::new(format!(
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

/// Whether `program` can be found on PATH (the harness only needs `ip` and `tcpdump`).
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
