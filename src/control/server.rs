//! Serves the latest published [`Status`] over a unix stream socket: one JSON document per connection.

use std::io;
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
        let (mut stream, _) = listener.accept().await?;
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
    UnixListener::bind(path)
}
