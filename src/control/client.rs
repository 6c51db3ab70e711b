//! The `keepvip status` side of the control socket.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::Status;

/// Reads one snapshot from the daemon listening on `path`.
pub fn query_status(path: &Path) -> io::Result<Status> {
    let body = ask(path, b"status\n", Duration::from_secs(5))?;
    serde_json::from_slice(&body).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad status reply from {}: {e}", path.display()),
        )
    })
}

/// Sends one request line to the daemon listening on `path` and reads its whole reply, waiting up to
/// `wait`; an unreachable socket is named in the error.
pub(super) fn ask(path: &Path, request: &[u8], wait: Duration) -> io::Result<Vec<u8>> {
    let mut stream = UnixStream::connect(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot reach keepvip at {}: {e} (is it running?)",
                path.display()
            ),
        )
    })?;
    stream.write_all(request)?;
    stream.shutdown(std::net::Shutdown::Write)?;
    stream.set_read_timeout(Some(wait))?;
    let mut body = Vec::new();
    stream.read_to_end(&mut body)?;
    Ok(body)
}
