//! The `keepvip status` side of the control socket.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::Status;

/// Reads one snapshot from the daemon listening on `path`.
pub fn query_status(path: &Path) -> io::Result<Status> {
    let mut stream = UnixStream::connect(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot reach keepvip at {}: {e} (is it running?)",
                path.display()
            ),
        )
    })?;
    stream.write_all(b"status\n")?;
    stream.shutdown(std::net::Shutdown::Write)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut body = Vec::new();
    stream.read_to_end(&mut body)?;
    serde_json::from_slice(&body).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad status reply from {}: {e}", path.display()),
        )
    })
}
