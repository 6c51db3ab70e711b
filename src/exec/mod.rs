//! Running external scripts: track scripts (run every interval, OK = exit 0) and notify scripts
//! (run on each state change). This module owns how a script is started and ended, and nothing
//! about when or why:
//!
//! - [`Command`] says what to run: an argv, or shell text for `/bin/sh -c`, an optional user to
//!   run as ([`RunAs`]), extra environment and a timeout.
//! - [`run`] starts it in a new process group, in `/`, with stdin, stdout and stderr on
//!   `/dev/null` and a cleared, minimal environment ([`BASE_ENV`] plus the command's own), and at
//!   the timeout kills the whole group with SIGKILL and reaps the script. It returns a
//!   [`Finished`]: the [`Outcome`] and how long the run took.
//! - [`security::check_script`] refuses scripts that a non-root user could change, for when the
//!   daemon runs as root.
//!
//! Output is discarded rather than captured: a captured pipe stays open as long as any background
//! child of the script holds it, so reading it would tie the run to processes the script left
//! behind. A script that wants a log writes one itself (`2>>/var/log/...`).

pub mod audit;
mod run;
pub mod security;
#[cfg(test)]
mod test_dir;

use std::fmt;
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::{Group, User};

pub use run::run;

/// The search path a script gets, and the one [`security::check_script`] resolves names in.
pub const MINIMAL_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The environment every script starts from (the daemon's own is not passed on): a known `PATH`,
/// `HOME=/` (not the run-as user's home, so a script behaves the same whoever runs it) and the C
/// locale (so the output of the tools a script parses does not depend on the host's locale).
/// [`Command::env`] comes after these and may override them.
pub const BASE_ENV: [(&str, &str); 3] = [("PATH", MINIMAL_PATH), ("HOME", "/"), ("LANG", "C")];

/// The shell that runs [`Command::shell`] text.
pub const SHELL: &str = "/bin/sh";

/// What to run, as whom, with what, for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The program and its arguments; `argv[0]` is a path (containing `/`) or a name looked up in
    /// [`MINIMAL_PATH`]. In shell mode, exactly one element: the script text.
    pub argv: Vec<String>,
    /// Run `argv[0]` as `/bin/sh -c TEXT` (further elements are ignored).
    pub shell: bool,
    /// Switch to this user and group before the exec (needs the daemon to be root).
    pub run_as: Option<RunAs>,
    /// Extra environment, after [`BASE_ENV`].
    pub env: Vec<(String, String)>,
    /// When the whole process group is killed.
    pub timeout: Duration,
}

impl Command {
    /// What the run's messages call the command: the program path, or the shell text.
    pub fn name(&self) -> &str {
        self.argv.first().map_or("", String::as_str)
    }
}

/// The user and group a script runs as. Supplementary groups are cleared (std does
/// `setgroups(0)` when it switches uid as root), so the script has only `gid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    /// Looks up `user` (and `group`, or else the user's primary group) in the system databases.
    pub fn resolve(user: &str, group: Option<&str>) -> Result<RunAs, ExecError> {
        let found = User::from_name(user).map_err(|err| ExecError::Lookup {
            what: format!("user \"{user}\""),
            err,
        })?;
        let found = found.ok_or_else(|| ExecError::NoSuchUser(user.to_owned()))?;
        let gid = match group {
            None => found.gid.as_raw(),
            Some(name) => {
                let group = Group::from_name(name).map_err(|err| ExecError::Lookup {
                    what: format!("group \"{name}\""),
                    err,
                })?;
                group
                    .ok_or_else(|| ExecError::NoSuchGroup(name.to_owned()))?
                    .gid
                    .as_raw()
            }
        };
        Ok(RunAs {
            uid: found.uid.as_raw(),
            gid,
        })
    }
}

/// Why a [`RunAs`] could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    NoSuchUser(String),
    NoSuchGroup(String),
    /// The user or group database could not be read.
    Lookup {
        what: String,
        err: nix::Error,
    },
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::NoSuchUser(name) => write!(f, "user \"{name}\" does not exist"),
            ExecError::NoSuchGroup(name) => write!(f, "group \"{name}\" does not exist"),
            ExecError::Lookup { what, err } => write!(f, "looking up {what} failed: {err}"),
        }
    }
}

impl std::error::Error for ExecError {}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The script exited with this status.
    Exited(i32),
    /// The script was killed by this signal (not by us: that is [`Outcome::TimedOut`]).
    Signalled(i32),
    /// The timeout (this long) expired; the process group was killed.
    TimedOut(Duration),
    /// The script never ran (or could not be waited for): the message names the path and the OS
    /// error.
    NotStarted(String),
}

/// The statuses a shell uses for "found but not executable" and "not found".
const SHELL_NOT_EXECUTABLE: i32 = 126;
const SHELL_NOT_FOUND: i32 = 127;

impl Outcome {
    /// Exit status 0, and nothing else.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Exited(0))
    }

    /// Whether the script never ran: a spawn failure, or a shell's 126/127 (keepalived counts those
    /// as success, its issue #2126; here they are a failure the log calls by its name).
    pub fn could_not_run(&self) -> bool {
        matches!(
            self,
            Outcome::NotStarted(_) | Outcome::Exited(SHELL_NOT_EXECUTABLE | SHELL_NOT_FOUND)
        )
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Exited(SHELL_NOT_EXECUTABLE) => write!(
                f,
                "could not be run: exit status {SHELL_NOT_EXECUTABLE} (found but not executable)"
            ),
            Outcome::Exited(SHELL_NOT_FOUND) => write!(
                f,
                "could not be run: exit status {SHELL_NOT_FOUND} (command not found)"
            ),
            Outcome::Exited(code) => write!(f, "exited with status {code}"),
            Outcome::Signalled(number) => match Signal::try_from(*number) {
                Ok(signal) => write!(f, "killed by signal {number} ({})", signal.as_str()),
                Err(_) => write!(f, "killed by signal {number}"),
            },
            Outcome::TimedOut(after) => {
                let millis = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
                write!(
                    f,
                    "killed after timeout {}",
                    crate::config::format_millis(millis)
                )
            }
            Outcome::NotStarted(message) => write!(f, "could not be run: {message}"),
        }
    }
}

/// A finished run: how it ended and how long it took (spawn to reap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub outcome: Outcome,
    pub duration: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exit_zero_is_success() {
        assert!(Outcome::Exited(0).is_success());
        assert!(!Outcome::Exited(1).is_success());
        assert!(!Outcome::Exited(127).is_success());
        assert!(!Outcome::Signalled(9).is_success());
        assert!(!Outcome::TimedOut(Duration::from_secs(1)).is_success());
        assert!(!Outcome::NotStarted("x".into()).is_success());
    }

    #[test]
    fn display_says_what_happened() {
        assert_eq!(Outcome::Exited(1).to_string(), "exited with status 1");
        assert_eq!(
            Outcome::Signalled(15).to_string(),
            "killed by signal 15 (SIGTERM)"
        );
        assert_eq!(
            Outcome::TimedOut(Duration::from_secs(2)).to_string(),
            "killed after timeout 2s"
        );
        assert_eq!(
            Outcome::TimedOut(Duration::from_millis(200)).to_string(),
            "killed after timeout 200ms"
        );
        assert!(
            Outcome::Exited(126)
                .to_string()
                .starts_with("could not be run")
        );
        assert!(Outcome::Exited(127).could_not_run());
        assert!(!Outcome::Exited(1).could_not_run());
    }

    #[test]
    fn resolves_users_and_groups_by_name() {
        let nobody = RunAs::resolve("nobody", None).unwrap();
        assert_eq!(nobody.uid, 65534);
        let root_group = RunAs::resolve("nobody", Some("root")).unwrap();
        assert_eq!(root_group, RunAs { uid: 65534, gid: 0 });
        let missing = RunAs::resolve("keepvip-no-such-user", None).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "user \"keepvip-no-such-user\" does not exist"
        );
        let missing = RunAs::resolve("nobody", Some("keepvip-no-such-group")).unwrap_err();
        assert_eq!(
            missing,
            ExecError::NoSuchGroup("keepvip-no-such-group".into())
        );
    }
}
