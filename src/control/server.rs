//! Serves a [`Status`] over a unix stream socket: one JSON document per connection, built by the
//! protocol loop when asked (so no event pays for a snapshot nobody reads).
//!
//! Who may ask: the socket is mode 0660, owned by the daemon's user and the control group, so only
//! they (and root) can connect. Each connection's peer credentials (SO_PEERCRED) then decide what
//! it may do: reading status is for everyone who could connect; requests that change the daemon
//! (reload) are for root and the daemon's own user only.
//!
//! A client writes one request line (`status` or `reload`) and may then close its side; a client
//! that writes nothing (an older `keepvip status`, `socat`) gets the status after `REQUEST_WAIT`.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};

use super::Status;
use super::error_reply::ErrorReply;
use super::reload::{ReloadOutcome, ReloadRequest};

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

/// What a client asks for: `status` for every peer that may connect, `reload` for
/// [`Access::Admin`] alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Status,
    Reload,
}

impl Request {
    pub fn permitted(self, access: Access) -> bool {
        match self {
            Request::Status => matches!(access, Access::Admin | Access::ReadOnly),
            Request::Reload => access == Access::Admin,
        }
    }

    /// The request a client's first line names; an empty line is `status`.
    pub fn parse(line: &str) -> Option<Request> {
        match line.trim() {
            "" | "status" => Some(Request::Status),
            "reload" => Some(Request::Reload),
            _ => None,
        }
    }
}

/// Where the server hands requests to the protocol loop.
#[derive(Debug, Clone)]
pub struct Requests {
    pub status: mpsc::Sender<StatusRequest>,
    pub reload: mpsc::Sender<ReloadRequest>,
}

/// How long the server waits for a client's request line before answering with the status.
const REQUEST_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// How long a reload may take in the loop (a new IPv6 instance may wait for DAD).
const RELOAD_LIMIT: std::time::Duration = std::time::Duration::from_secs(25);

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

/// Answers every connection on `listener`: a status snapshot the loop builds on request, or a
/// reload the loop performs. Runs until the task is dropped.
pub async fn serve(listener: UnixListener, requests: Requests) {
    let daemon_uid = nix::unistd::geteuid().as_raw();
    loop {
        let stream = match listener.accept().await {
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
        let peer = stream
            .peer_cred()
            .map(|c| (c.uid(), access(c.uid(), daemon_uid)));
        tokio::spawn(answer(stream, peer.ok(), requests, daemon_uid));
    }
}

/// Reads one connection's request and writes the answer.
async fn answer(
    stream: tokio::net::UnixStream,
    peer: Option<(u32, Access)>,
    requests: Requests,
    daemon_uid: u32,
) {
    // One short line is all a request is.
    let mut stream = BufReader::new(tokio::io::AsyncReadExt::take(stream, 256));
    let mut line = String::new();
    let read = stream.read_line(&mut line);
    // No line in time (an old client that only reads): status.
    let _ = tokio::time::timeout(REQUEST_WAIT, read).await;
    let body = match (Request::parse(&line), peer) {
        (None, _) => error_body(format!(
            "unknown request {:?}: expected status or reload",
            line.trim()
        )),
        (Some(_), None) => error_body("permission denied: peer credentials unknown".to_owned()),
        (Some(request), Some((uid, access))) if !request.permitted(access) => {
            tracing::warn!(uid, "control socket: reload refused to a read-only peer");
            error_body(format!(
                "permission denied: reload is for root and keepvip's own user (uid {daemon_uid}); \
                 uid {uid} may only read status"
            ))
        }
        (Some(Request::Status), Some(_)) => match snapshot(&requests.status).await {
            Some(status) => {
                serde_json::to_vec(&status).unwrap_or_else(|e| error_body(e.to_string()))
            }
            None => error_body("the daemon did not answer".to_owned()),
        },
        (Some(Request::Reload), Some(_)) => match reload(&requests.reload).await {
            Some(outcome) => {
                serde_json::to_vec(&outcome).unwrap_or_else(|e| error_body(e.to_string()))
            }
            None => error_body("the daemon did not answer the reload".to_owned()),
        },
    };
    let mut stream = stream.into_inner().into_inner();
    let _ = stream.write_all(&body).await;
    let _ = stream.shutdown().await;
}

fn error_body(error: String) -> Vec<u8> {
    serde_json::to_vec(&ErrorReply { error }).unwrap_or_default()
}

/// Asks the loop to reload; `None` when it did not answer within `RELOAD_LIMIT`.
async fn reload(requests: &mpsc::Sender<ReloadRequest>) -> Option<ReloadOutcome> {
    let (reply, answer) = oneshot::channel();
    let asked = async {
        requests.send(reply).await.ok()?;
        answer.await.ok()
    };
    tokio::time::timeout(RELOAD_LIMIT, asked).await.ok()?
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
        assert!(Request::Reload.permitted(Access::Admin));
        assert!(!Request::Reload.permitted(Access::ReadOnly));
    }

    #[test]
    fn request_lines_name_status_or_reload_and_nothing_means_status() {
        assert_eq!(Request::parse(""), Some(Request::Status));
        assert_eq!(Request::parse("status\n"), Some(Request::Status));
        assert_eq!(Request::parse("reload\n"), Some(Request::Reload));
        assert_eq!(Request::parse("restart"), None);
    }
}
