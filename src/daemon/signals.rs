//! The signals the daemon handles: SIGTERM and SIGINT stop it, SIGHUP reloads the config; SIGUSR1/2
//! (keepalived's dumps) are logged, never fatal.

use tokio::signal::unix::{Signal, SignalKind, signal};
use tracing::info;

use super::error::DaemonError;

/// SIGTERM and SIGINT stop the daemon; SIGHUP reloads it. SIGUSR1/2 (keepalived's dumps) are caught
/// and logged: their default action would kill the master without resigning, leaving its VIPs on the
/// interface while a backup takes over.
pub struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
    usr1: Signal,
    usr2: Signal,
}

impl Signals {
    pub fn install() -> Result<Signals, DaemonError> {
        let one = |kind| signal(kind).map_err(|e| DaemonError::Signal(e.to_string()));
        Ok(Signals {
            term: one(SignalKind::terminate())?,
            int: one(SignalKind::interrupt())?,
            hup: one(SignalKind::hangup())?,
            usr1: one(SignalKind::user_defined1())?,
            usr2: one(SignalKind::user_defined2())?,
        })
    }

    /// Waits for a stopping signal (its name) or SIGHUP (`None`); logs and ignores the others.
    pub async fn next(&mut self) -> Option<&'static str> {
        loop {
            tokio::select! {
                _ = self.term.recv() => return Some("SIGTERM"),
                _ = self.int.recv() => return Some("SIGINT"),
                _ = self.hup.recv() => return None,
                _ = self.usr1.recv() => info!("SIGUSR1 ignored: use `keepvip status`"),
                _ = self.usr2.recv() => info!("SIGUSR2 ignored: use `keepvip status`"),
            }
        }
    }
}
