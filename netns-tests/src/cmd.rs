//! Running the system tools the lab is built with (`ip`, `tcpdump`): netlab's runner, with harness
//! errors.

use crate::error::Result;

/// Run `program args...` to completion; its stdout on success, an error naming the command and quoting
/// its stderr otherwise.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    Ok(netlab::run(program, args)?)
}

/// `ip args...`.
pub fn ip(args: &[&str]) -> Result<String> {
    Ok(netlab::ip(args)?)
}

/// Whether `program` can be found on PATH (the harness only needs `ip` and `tcpdump`).
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
