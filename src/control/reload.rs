//! `keepvip reload` over the control socket: what the daemon answers, and the client side.

use std::io;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

/// A reload request: the loop answers on the enclosed sender once the new config is in force, or
/// refused.
pub type ReloadRequest = oneshot::Sender<ReloadOutcome>;

/// What a reload did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadOutcome {
    /// True when the new config is in force; false when it was refused (the running config stays).
    pub applied: bool,
    /// Why it was refused: the config errors as `keepvip check` prints them (`file:line:column: ...`);
    /// with `applied`, what went wrong while applying (an instance that could not be built).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What changed, one line per instance, sync group or setting (`VI_1: VIPs changed in place`).
    #[serde(default)]
    pub changes: Vec<String>,
    /// Settings that changed in the file but take effect only when keepvip restarts.
    #[serde(default)]
    pub needs_restart: Vec<String>,
}

/// How long `keepvip reload` waits: a new IPv6 instance may wait for DAD (up to 10 s) before it starts.
const RELOAD_WAIT: Duration = Duration::from_secs(30);

/// Asks the daemon listening on `path` to reload its config file.
pub fn request_reload(path: &Path) -> io::Result<ReloadOutcome> {
    let body = super::client::ask(path, b"reload\n", RELOAD_WAIT)?;
    if let Ok(refusal) = serde_json::from_slice::<super::error_reply::ErrorReply>(&body) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            refusal.error,
        ));
    }
    serde_json::from_slice(&body).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad reload reply from {}: {e}", path.display()),
        )
    })
}
