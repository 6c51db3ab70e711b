//! Serves a [`Status`] over a unix stream socket: one JSON document per connection, built by the
//! protocol loop when asked (so no event pays for a snapshot nobody reads).
//!
//! Who may ask: the socket is mode 0660, owned by the daemon's user and the control group, so only
//! they (and root) can connect. Each connection's peer credentials (SO_PEERCRED) then decide what
//! it may do: reading status is for everyone who could connect; requests that change the daemon
//! (reload, once it exists) are for root and the daemon's own user only.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};

use super::Status;

/// A request for a snapshot: the loop answers on the enclosed sender.
pub type StatusRequest = oneshot::Sender<Status>;

/// How long a client waits for the loop to build the snapshot.
const ANSWER_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What a connected peer may do, from its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Root or the daemon's own user: every request.
    Admin,
    /// A member of the control group: read-only requests.
    ReadOnly,
}

/// What a client asks for. Only `status` exists today; `reload` will be [`Access::Admin`]'s alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Status,
}

impl Request {
    pub fn permitted(self, access: Access) -> bool {
        match self {
            Request::Status => matches!(access, Access::Admin | Access::ReadOnly),
        }
    }
}

/// The access of a peer with user id `peer_uid`, for a daemon running as `daemon_uid`.
pub fn access(peer_uid: u32, daemon_uid: u32) -> Access {
    if peer_uid == 0 || peer_uid == daemon_uid {
        Access::Admin
    } else {
        Access::ReadOnly
    }
}

/// Binds `path` (replacing a stale socket file left by a crash), mode 0660, its group `group` (the
/// daemon's own group when `None`; another group needs the daemon to be a member of it, or root).
pub fn bind(path: &Path, group: Option<u32>) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    // Root, the daemon's user and the socket's group may connect; nobody else, whatever the umask.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    if let Some(gid) = group {
        std::os::unix::fs::chown(path, None, Some(gid)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot give {} to group {gid}: {e} (keepvip must be a member of control_group)",
                    path.display()
                ),
            )
        })?;
    }
    Ok(listener)
}

/// Answers every connection on `listener` with a snapshot the loop builds on request. Runs until the
/// task is dropped.
pub async fn serve(listener: UnixListener, requests: mpsc::Sender<StatusRequest>) {
    let daemon_uid = nix::unistd::geteuid().as_raw();
    loop {
        let mut stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // EMFILE, ECONNABORTED...: the status socket must outlive a bad moment.
            Err(e) => {
                tracing::warn!(error = %e, "control socket accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        // A client that does not read must not hold up the next one, nor the loop.
        let requests = requests.clone();
        let peer = stream.peer_cred().map(|c| access(c.uid(), daemon_uid));
        tokio::spawn(async move {
            let permitted = peer.as_ref().is_ok_and(|a| Request::Status.permitted(*a));
            let answer = if permitted {
                snapshot(&requests).await
            } else {
                None
            };
            let body = match answer {
                _ if !permitted => b"{\"error\":\"permission denied\"}".to_vec(),
                Some(status) => serde_json::to_vec(&status)
                    .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}").into_bytes()),
                None => b"{\"error\":\"the daemon did not answer\"}".to_vec(),
            };
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// One snapshot from the loop, or `None` when it did not answer within `ANSWER_LIMIT`.
pub async fn snapshot(requests: &mpsc::Sender<StatusRequest>) -> Option<Status> {
    let (reply, answer) = oneshot::channel();
    // Bounded as a whole: the loop may be busy shutting down and not reading requests.
    let asked = async {
        requests.send(reply).await.ok()?;
        answer.await.ok()
    };
    tokio::time::timeout(ANSWER_LIMIT, asked).await.ok()?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_the_daemon_user_are_admins_and_group_members_read_only() {
        assert_eq!(access(0, 998), Access::Admin);
        assert_eq!(access(998, 998), Access::Admin);
        assert_eq!(access(1000, 998), Access::ReadOnly);
        assert_eq!(access(0, 0), Access::Admin);
        assert!(Request::Status.permitted(Access::ReadOnly));
        assert!(Request::Status.permitted(Access::Admin));
    }
}
