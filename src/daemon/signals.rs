//! The signals the daemon handles: SIGTERM and SIGINT stop it; the others keepalived users send are
//! logged, never fatal.

use tokio::signal::unix::{Signal, SignalKind, signal};
use tracing::{info, warn};

use super::error::DaemonError;

/// SIGTERM and SIGINT stop the daemon. SIGHUP (keepalived's reload) and SIGUSR1/2 (its dumps) are
/// caught and logged: their default action would kill the master without resigning, leaving its VIPs
/// on the interface while a backup takes over.
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

    /// Waits for a stopping signal and returns its name; logs and ignores the others.
    pub async fn next(&mut self) -> &'static str {
        loop {
            tokio::select! {
                _ = self.term.recv() => return "SIGTERM",
                _ = self.int.recv() => return "SIGINT",
                _ = self.hup.recv() => warn!("SIGHUP: reload is not supported yet; running config unchanged"),
                _ = self.usr1.recv() => info!("SIGUSR1 ignored: use `keepvip status`"),
                _ = self.usr2.recv() => info!("SIGUSR2 ignored: use `keepvip status`"),
            }
        }
    }
}
