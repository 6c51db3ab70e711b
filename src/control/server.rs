//! Serves a [`Status`] over a unix stream socket: one JSON document per connection, built by the
//! protocol loop when asked (so no event pays for a snapshot nobody reads).

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};

use super::Status;

/// A request for a snapshot: the loop answers on the enclosed sender.
pub type StatusRequest = oneshot::Sender<Status>;

/// How long a client waits for the loop to build the snapshot.
const ANSWER_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Binds `path` (replacing a stale socket file left by a crash) and answers every connection with a
/// snapshot the loop builds on request. Runs until the task is dropped.
pub async fn serve(path: PathBuf, requests: mpsc::Sender<StatusRequest>) -> io::Result<()> {
    let listener = bind(&path)?;
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
        tokio::spawn(async move {
            let body = match snapshot(&requests).await {
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

fn bind(path: &Path) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    // Root and the socket's group may read status; nobody else, whatever the umask.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}
