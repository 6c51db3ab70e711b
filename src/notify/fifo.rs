//! keepalived's notify FIFO: one line per transition, `INSTANCE "VI_1" MASTER 110`, written by a task of
//! its own so the protocol never waits on it. The FIFO is created (0644) when missing. As keepalived
//! does, keepvip holds it open for reading and writing, non-blocking: with no reader attached, lines
//! wait in the pipe (64 KiB, about a thousand lines) for the next reader; when the pipe is full, new
//! lines are dropped and logged rather than stall anything.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::Mode;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// The line keepalived writes for an instance's transition (the name quoted).
pub fn instance_line(instance: &str, state: &str, priority: u8) -> String {
    fifo_line(super::Subject::Instance, instance, state, priority)
}

/// keepalived's FIFO line: `INSTANCE "VI_1" MASTER 110` or `GROUP "VG_1" MASTER 0`.
pub fn fifo_line(subject: super::Subject, name: &str, state: &str, priority: u8) -> String {
    format!("{} \"{name}\" {state} {priority}\n", subject.word())
}

/// Queues lines for the FIFO; cheap to clone, never blocks.
#[derive(Clone)]
pub struct FifoWriter {
    lines: mpsc::UnboundedSender<String>,
}

impl FifoWriter {
    /// Creates the FIFO if missing and starts the writer task. Something else at the path (a
    /// file, a symlink) is left alone and no line is ever written there.
    pub fn spawn(path: PathBuf) -> FifoWriter {
        let (lines, mut inbox) = mpsc::unbounded_channel::<String>();
        if let Err(e) = ensure_fifo(&path) {
            warn!(path = %path.display(), error = %e, "notify FIFO unusable; its lines are dropped");
            return FifoWriter { lines };
        }
        tokio::spawn(async move {
            let mut open: Option<File> = None;
            while let Some(line) = inbox.recv().await {
                write_line(&path, &mut open, &line);
            }
        });
        FifoWriter { lines }
    }

    pub fn send(&self, line: String) {
        let _ = self.lines.send(line);
    }
}

fn ensure_fifo(path: &Path) -> std::io::Result<()> {
    // symlink_metadata: a symlink at the path is not followed, so it is "not a FIFO".
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_fifo() => Ok(()),
        Ok(_) => Err(std::io::Error::new(
            ErrorKind::AlreadyExists,
            "exists and is not a FIFO",
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o644)).map_err(std::io::Error::from)
        }
        Err(e) => Err(e),
    }
}

/// Writes one line without ever blocking: opens the FIFO if needed, drops the line when it is full.
fn write_line(path: &Path, open: &mut Option<File>, line: &str) {
    if open.is_none() {
        // Read and write: the open never waits for a reader, and a write never fails for lack of one.
        // O_NOFOLLOW and the type check: never write into whatever else a path may name by now.
        match OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(path)
        {
            Ok(file) if file.metadata().is_ok_and(|m| m.file_type().is_fifo()) => {
                *open = Some(file)
            }
            Ok(_) => {
                warn!(path = %path.display(), "notify FIFO replaced by something else: line dropped");
                return;
            }
            Err(e) => {
                warn!(path = %path.display(), error = %e, "notify FIFO cannot be opened: line dropped");
                return;
            }
        }
    }
    let Some(file) = open.as_mut() else {
        return;
    };
    if let Err(e) = file.write_all(line.as_bytes()) {
        if e.kind() == ErrorKind::WouldBlock {
            warn!(path = %path.display(), "notify FIFO full (reader too slow): line dropped");
        } else {
            debug!(path = %path.display(), error = %e, "notify FIFO write failed: line dropped");
            *open = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    fn temp_fifo(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("keepvip-fifo-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("notify.fifo")
    }

    #[test]
    fn the_line_is_keepalived_s_format() {
        assert_eq!(
            instance_line("VI_1", "MASTER", 110),
            "INSTANCE \"VI_1\" MASTER 110\n"
        );
    }

    #[test]
    fn lines_wait_for_a_reader_and_arrive_in_order() {
        let path = temp_fifo("order");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let writer = FifoWriter::spawn(path.clone());
            writer.send(instance_line("VI_1", "BACKUP", 100));
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            assert!(std::fs::metadata(&path).unwrap().file_type().is_fifo());
            // A reader opened non-blocking, so the test never hangs.
            let reader = OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&path)
                .unwrap();
            for state in ["MASTER", "BACKUP", "FAULT"] {
                writer.send(instance_line("VI_1", state, 100));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let lines: Vec<String> = BufReader::new(reader)
                .lines()
                .map_while(Result::ok)
                .collect();
            assert_eq!(
                lines,
                [
                    "INSTANCE \"VI_1\" BACKUP 100",
                    "INSTANCE \"VI_1\" MASTER 100",
                    "INSTANCE \"VI_1\" BACKUP 100",
                    "INSTANCE \"VI_1\" FAULT 100"
                ]
            );
        });
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_symlink_in_the_way_is_never_written_through() {
        let path = temp_fifo("link");
        let dir = path.parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "root:SECRET\n").unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let writer = FifoWriter::spawn(path.clone());
            writer.send(instance_line("VI_1", "MASTER", 110));
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        });
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "root:SECRET\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_regular_file_in_the_way_is_not_replaced() {
        let path = temp_fifo("file");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "keep me").unwrap();
        assert!(ensure_fifo(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
