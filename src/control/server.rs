//! Serves the latest published [`Status`] over a unix stream socket: one JSON document per connection.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use tokio::sync::watch;

use super::Status;

/// Binds `path` (replacing a stale socket file left by a crash) and answers every connection with the
/// current snapshot. Runs until the task is dropped.
pub async fn serve(path: PathBuf, status: watch::Receiver<Status>) -> io::Result<()> {
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
        let body = match serde_json::to_vec(&*status.borrow()) {
            Ok(body) => body,
            Err(e) => format!("{{\"error\":\"{e}\"}}").into_bytes(),
        };
        // A client that does not read must not hold up the next one.
        tokio::spawn(async move {
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
        });
    }
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
