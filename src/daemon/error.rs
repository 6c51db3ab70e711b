//! Why the daemon could not start or had to stop.

use std::fmt;

#[derive(Debug)]
pub enum DaemonError {
    Runtime(String),
    Netlink(String),
    Interface {
        instance: String,
        reason: String,
    },
    Instance {
        instance: String,
        reason: String,
    },
    Socket(String),
    Signal(String),
    Lock {
        path: std::path::PathBuf,
        reason: String,
    },
    /// A feeder task ended: the daemon shut down rather than run deaf.
    TaskEnded(String),
    /// `accept = false` cannot be enforced (no nf_tables in this kernel, no CAP_NET_ADMIN).
    AcceptFilter(String),
    /// Scripts that must not run (insecure), or a script user that does not exist.
    Scripts(Vec<String>),
    /// The control socket could not be set up (directory, group).
    Control {
        path: std::path::PathBuf,
        reason: String,
    },
    /// Missing capabilities, or a script user the daemon cannot switch to.
    Privileges(String),
}

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DaemonError::Runtime(e) => write!(f, "cannot start the runtime: {e}"),
            DaemonError::Netlink(e) => write!(f, "netlink: {e}"),
            DaemonError::Interface { instance, reason } => {
                write!(f, "instance {instance}: interface: {reason}")
            }
            DaemonError::Instance { instance, reason } => {
                write!(f, "instance {instance}: {reason}")
            }
            DaemonError::Socket(e) => write!(f, "socket: {e}"),
            DaemonError::Signal(e) => write!(f, "signal handler: {e}"),
            DaemonError::Lock { path, reason } => write!(f, "lock {}: {reason}", path.display()),
            DaemonError::AcceptFilter(e) => write!(
                f,
                "accept = false needs nf_tables to drop traffic to the VIPs, and setting up the table \
                 inet {} failed: {e} (use accept = true, or a kernel with nf_tables)",
                crate::net::nftables::TABLE
            ),
            DaemonError::Control { path, reason } => {
                write!(f, "control socket {}: {reason}", path.display())
            }
            DaemonError::Privileges(e) => write!(f, "privileges: {e}"),
            DaemonError::Scripts(problems) => write!(f, "scripts: {}", problems.join("; ")),
            DaemonError::TaskEnded(what) => {
                write!(
                    f,
                    "internal task ended ({what}); shut down and released the VIPs"
                )
            }
        }
    }
}

impl std::error::Error for DaemonError {}
