//! One daemon per control socket: a second `keepvip run` started by hand would otherwise clear the
//! running master's VIPs as "stale" and take over its control socket.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::error::DaemonError;

/// Held for the daemon's lifetime; the kernel releases it when the process ends, however it ends.
pub struct InstanceLock {
    _lock: Flock<File>,
}

/// The lock file beside the control socket (`keepvip.sock` -> `keepvip.lock`).
pub fn lock_path(control_socket: &Path) -> PathBuf {
    control_socket.with_extension("lock")
}

pub fn acquire(control_socket: &Path) -> Result<InstanceLock, DaemonError> {
    let path = lock_path(control_socket);
    let failed = |e: String| DaemonError::Lock {
        path: path.clone(),
        reason: e,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
                " (without root keepvip needs a directory of its own for its control socket: \
                 RuntimeDirectory=keepvip in the unit, or --control-socket)"
            } else {
                ""
            };
            failed(format!("{e}{hint}"))
        })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| failed(e.to_string()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(InstanceLock { _lock: lock }),
        Err((_, Errno::EWOULDBLOCK)) => Err(failed(
            "another keepvip is running with this control socket".into(),
        )),
        Err((_, e)) => Err(failed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_daemon_on_the_same_control_socket_is_refused() {
        let dir = std::env::temp_dir().join(format!("keepvip-lock-{}", std::process::id()));
        let socket = dir.join("keepvip.sock");
        let first = acquire(&socket).unwrap();
        let second = acquire(&socket);
        assert!(
            matches!(&second, Err(DaemonError::Lock { reason, .. }) if reason.contains("another keepvip")),
            "{:?}",
            second.err()
        );
        drop(first);
        assert!(
            acquire(&socket).is_ok(),
            "the lock is free once the first is gone"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
