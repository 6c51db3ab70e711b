//! `track_file` (keepalived's `vrrp_track_file`): a number read from a file, which the core
//! multiplies by the tracker's weight. This module owns reading and parsing the file
//! ([`read_value`]) and the task that reports the value whenever it changes ([`spawn`]).
//!
//! Parsing follows keepalived (`process_track_file` in `keepalived/trackers/track_file.c`): it
//! reads at most the first 127 bytes and takes `strtol(buf, NULL, 0)`, so
//!
//! - leading whitespace is skipped and one `+` or `-` is accepted;
//! - the base is C's: `0x1f` is hexadecimal, a leading `0` is octal (`010` is 8, `09` is 0);
//! - anything after the number is ignored (`12 monkeys` is 12, `1.5` is 1);
//! - an empty or blank file reads 0, silently, as keepalived's zero-length read does.
//!
//! Where keepvip differs: text with no number at its start (`abc`) is [`FileValue::Unparsable`]
//! and logged (keepalived silently reads 0; the value is the same), and a number outside
//! keepalived's range (-2^31..=2^31) is also unparsable and reads 0, where keepalived ignores
//! that read and keeps the previous value: here a reading never depends on history.
//!
//! The task waits on inotify, not a timer. It watches the file's directory, not the file, for
//! `IN_CLOSE_WRITE`, `IN_MOVED_TO`, `IN_CREATE`, `IN_DELETE` and `IN_MOVED_FROM` on the file's
//! name, so that a file replaced by rename (editors, `echo 5 > tmp; mv tmp file`) or deleted and
//! created again is still followed; a watch on the file itself would stay on the old inode. If the
//! path is a symlink, the directory of its target is watched too (keepalived resolves the path
//! with `realpath` for the same reason); a change of the link itself re-resolves it. If the
//! directory does not exist (keepalived refuses such a tracker at startup), the file reads as
//! missing (0) and the watch is retried every [`RETRY_EVERY`], the file read again at each try
//! (so a watch refused for another reason, such as inotify limits, degrades to a slow poll).

use std::ffi::{OsStr, OsString};
use std::fs::OpenOptions;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use inotify::{EventMask, EventStream, Inotify, WatchDescriptor, WatchMask};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::{Reading, Report, ReportSender, TrackId};

/// keepalived reads into a 128-byte buffer, one byte kept for the NUL.
const READ_LIMIT: usize = 127;

/// How often a watch is tried again while the file's directory does not exist.
pub const RETRY_EVERY: Duration = Duration::from_secs(2);

/// The range keepalived accepts (`INT32_MIN..=INT32_MAX + 1`); beyond it a read is refused.
const RANGE: std::ops::RangeInclusive<i64> = (i32::MIN as i64)..=(i32::MAX as i64 + 1);

/// What a read of a tracked file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileValue {
    /// The number at the start of the file (0 for an empty or blank file).
    Value(i64),
    /// The file (or a directory on its path) does not exist.
    Missing,
    /// The file exists but holds no usable number, or cannot be read; the text says why.
    Unparsable(String),
}

impl FileValue {
    /// The value the priority uses: the number, or 0 for a missing or unparsable file (as
    /// keepalived, which treats a file that disappears as 0).
    pub fn as_value(&self) -> i64 {
        match self {
            FileValue::Value(n) => *n,
            FileValue::Missing | FileValue::Unparsable(_) => 0,
        }
    }
}

/// Reads `path` as keepalived does (see the module documentation). Opens non-blocking so that a
/// FIFO at the path cannot stall the runtime.
pub fn read_value(path: &Path) -> FileValue {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if is_missing(&e) => return FileValue::Missing,
        Err(e) => return FileValue::Unparsable(format!("cannot be read: {e}")),
    };
    let mut buf = [0u8; READ_LIMIT];
    match file.read(&mut buf) {
        Ok(len) => parse_value(&buf[..len]),
        Err(e) => FileValue::Unparsable(format!("cannot be read: {e}")),
    }
}

fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Parses the start of a file's content like C's `strtol(text, NULL, 0)` (see the module
/// documentation); only the first 127 bytes count.
pub fn parse_value(bytes: &[u8]) -> FileValue {
    let text = &bytes[..bytes.len().min(READ_LIMIT)];
    let mut i = text.iter().take_while(|b| is_c_space(**b)).count();
    if i == text.len() {
        return FileValue::Value(0);
    }
    let negative = text[i] == b'-';
    if matches!(text[i], b'-' | b'+') {
        i += 1;
    }
    let rest = &text[i..];
    let hex = matches!(rest, [b'0', b'x' | b'X', d, ..] if d.is_ascii_hexdigit());
    let (radix, digits) = match rest {
        _ if hex => (16, &rest[2..]),
        [b'0', ..] => (8, rest),
        _ => (10, rest),
    };
    let mut magnitude: i64 = 0;
    let mut count = 0;
    for d in digits.iter().map_while(|b| char::from(*b).to_digit(radix)) {
        count += 1;
        // Saturating: anything this large is out of range anyway.
        magnitude = magnitude
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(d));
    }
    if count == 0 {
        return FileValue::Unparsable(format!("no number at the start of {}", snippet(text)));
    }
    let value = if negative { -magnitude } else { magnitude };
    if !RANGE.contains(&value) {
        return FileValue::Unparsable(format!("number out of range in {}", snippet(text)));
    }
    FileValue::Value(value)
}

/// C's `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The start of the text, quoted, for a log line.
fn snippet(text: &[u8]) -> String {
    let s = String::from_utf8_lossy(&text[..text.len().min(40)]);
    format!("{:?}", s.trim_end())
}

/// Starts the task that follows `path`: it reports `Reading::Value` once at start and again each
/// time the value changes. It ends when the receiver of `sink` is dropped.
pub fn spawn(tracker: TrackId, path: PathBuf, sink: ReportSender) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut state = State {
            tracker,
            path,
            sink,
            last: None,
            trouble: None,
            unwatched: false,
        };
        state.run().await;
    })
}

/// A file's directory and name, as watched.
type Entry = (PathBuf, OsString);

/// Why a read did not give a number; kept so each kind is logged once, not on every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trouble {
    Missing,
    Unparsable,
}

/// One file tracker's task state.
struct State {
    tracker: TrackId,
    path: PathBuf,
    sink: ReportSender,
    /// The value last reported.
    last: Option<i64>,
    trouble: Option<Trouble>,
    /// The last watch attempt failed (logged once, until a watch is set again).
    unwatched: bool,
}

/// How the event loop of one watch ended.
enum Ended {
    /// The watch no longer covers the path (directory gone or moved, link re-pointed).
    Rewatch,
    /// The daemon no longer listens.
    Closed,
}

impl State {
    async fn run(&mut self) {
        let Some(own) = split(&self.path) else {
            warn!(path = %self.path.display(), "track_file path has no file name; reading 0");
            let _ = self.report(0).await;
            return;
        };
        while !self.sink.is_closed() {
            match Watch::new(&self.path, own.clone()) {
                Ok(watch) => {
                    if std::mem::take(&mut self.unwatched) {
                        info!(path = %self.path.display(), "track_file directory watched");
                    }
                    if !self.check().await {
                        return;
                    }
                    if let Ended::Closed = self.follow(watch).await {
                        return;
                    }
                }
                Err(e) => {
                    if !self.unwatched {
                        warn!(path = %self.path.display(), error = %e,
                            retry_s = RETRY_EVERY.as_secs(),
                            "track_file directory cannot be watched; reading at each retry");
                        self.unwatched = true;
                    }
                    // Usually the directory is missing and this reads 0; if the watch failed for
                    // another reason (inotify limits), the file is still read, as a slow poll.
                    if !self.check().await {
                        return;
                    }
                    tokio::time::sleep(RETRY_EVERY).await;
                }
            }
        }
    }

    /// Reads the file on each event that concerns it, until the watch must be renewed.
    async fn follow(&mut self, mut watch: Watch) -> Ended {
        loop {
            let event = tokio::select! {
                event = watch.stream.next() => event,
                () = self.sink.closed() => return Ended::Closed,
            };
            let event = match event {
                Some(Ok(ev)) => ev,
                failed => {
                    // inotify never ends; if it fails, wait rather than spin on a new watch.
                    if let Some(Err(e)) = failed {
                        let path = self.path.display();
                        warn!(path = %path, error = %e, "track_file inotify read failed");
                    }
                    tokio::time::sleep(RETRY_EVERY).await;
                    return Ended::Rewatch;
                }
            };
            let dir_gone = EventMask::DELETE_SELF | EventMask::MOVE_SELF | EventMask::IGNORED;
            if event.mask.intersects(dir_gone) {
                return Ended::Rewatch;
            }
            let overflow = event.mask.contains(EventMask::Q_OVERFLOW);
            if !overflow && !watch.concerns(&event.wd, event.name.as_deref()) {
                continue;
            }
            if !self.check().await {
                return Ended::Closed;
            }
            if watch.target != target_of(&self.path) {
                return Ended::Rewatch;
            }
        }
    }

    /// Reads the file, logs a change of trouble, reports a changed value. False once the daemon
    /// no longer listens.
    async fn check(&mut self) -> bool {
        let read = read_value(&self.path);
        let trouble = match &read {
            FileValue::Value(_) => None,
            FileValue::Missing => Some(Trouble::Missing),
            FileValue::Unparsable(_) => Some(Trouble::Unparsable),
        };
        if trouble != self.trouble {
            let path = self.path.display();
            match &read {
                FileValue::Value(n) if self.trouble.is_some() => {
                    info!(path = %path, value = n, "track_file readable again");
                }
                FileValue::Value(_) => {}
                FileValue::Missing => warn!(path = %path, "track_file missing; reading 0"),
                FileValue::Unparsable(why) => {
                    warn!(path = %path, reason = %why, "track_file unparsable; reading 0");
                }
            }
            self.trouble = trouble;
        }
        self.report(read.as_value()).await
    }

    /// Sends `value` unless it is the value last sent. False once the daemon no longer listens.
    async fn report(&mut self, value: i64) -> bool {
        if self.last == Some(value) {
            return true;
        }
        self.last = Some(value);
        let report = Report {
            tracker: self.tracker,
            reading: Reading::Value(value),
        };
        self.sink.send(report).await.is_ok()
    }
}

/// An inotify instance watching the directories of the path and of its symlink target.
struct Watch {
    stream: EventStream<Vec<u8>>,
    /// Watch descriptors with the name each one follows.
    names: Vec<(WatchDescriptor, OsString)>,
    /// The path's target when the watch was set, to notice a re-pointed link.
    target: Option<Entry>,
}

impl Watch {
    fn new(path: &Path, own: Entry) -> io::Result<Watch> {
        let mask = WatchMask::CLOSE_WRITE
            | WatchMask::MOVED_TO
            | WatchMask::CREATE
            | WatchMask::DELETE
            | WatchMask::MOVED_FROM
            | WatchMask::DELETE_SELF
            | WatchMask::MOVE_SELF
            | WatchMask::ONLYDIR;
        let inotify = Inotify::init()?;
        let mut watches = inotify.watches();
        let mut names = vec![(watches.add(&own.0, mask)?, own.1.clone())];
        let target = target_of(path);
        if let Some((dir, name)) = &target {
            // The target's directory exists (the path resolved), so this failing is unusual:
            // keep the own watch rather than none.
            match watches.add(dir, mask) {
                Ok(wd) => names.push((wd, name.clone())),
                Err(e) => {
                    let dir = dir.display();
                    warn!(dir = %dir, error = %e, "track_file target directory not watched");
                }
            }
        }
        // Room for many events of names up to NAME_MAX at once.
        let stream = inotify.into_event_stream(vec![0u8; 16 * 1024])?;
        Ok(Watch {
            stream,
            names,
            target,
        })
    }

    fn concerns(&self, wd: &WatchDescriptor, name: Option<&OsStr>) -> bool {
        let Some(name) = name else { return false };
        self.names.iter().any(|(w, n)| w == wd && n == name)
    }
}

/// `path` as a directory and a file name; `None` when it names no file (`/`, `..`).
fn split(path: &Path) -> Option<Entry> {
    let name = path.file_name()?.to_os_string();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((dir, name))
}

/// Where a symlink at `path` leads, as directory and name; `None` when `path` is not a symlink
/// or leads nowhere.
fn target_of(path: &Path) -> Option<Entry> {
    let is_link = std::fs::symlink_metadata(path)
        .ok()?
        .file_type()
        .is_symlink();
    if !is_link {
        return None;
    }
    split(&std::fs::canonicalize(path).ok()?)
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
