//! `keepvip watch`: follows the daemon's status live. On a terminal, a table redrawn in place when
//! what it shows changes, with the latest changes under it; otherwise (a pipe, a file) one line per
//! change.
//!
//! It polls: the control socket answers one snapshot per connection, and a snapshot costs the
//! protocol loop a few microseconds per instance, so four polls a second are nothing to it, while a
//! stream would need a subscription in the server and a loop that pushes on every event. A change
//! between two polls is not lost: the transition counter says how many happened, and the last one is
//! shown with its own time (from its age), not the poll's.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::changes::{Change, changes, line};
use super::status::Status;
use super::table::rows;

/// How many change lines the terminal view keeps under the table.
const RECENT: usize = 12;

/// Why watching stopped.
#[derive(Debug)]
pub enum Stopped {
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// No daemon at the start, or it went away: the error, for the user.
    Daemon(String),
    /// stdout went away (a closed pipe).
    Output(io::Error),
}

/// Watches the daemon at `socket` every `interval` until interrupted or the daemon is gone.
pub fn watch(socket: &Path, interval: Duration) -> Stopped {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return Stopped::Output(e),
    };
    let terminal = io::stdout().is_terminal();
    let mut view = if terminal {
        View::Screen(Screen::new(interval))
    } else {
        View::Lines
    };
    let stopped = runtime.block_on(poll(socket.to_path_buf(), interval, &mut view));
    if let View::Screen(screen) = &view {
        let _ = screen.leave(&mut io::stdout());
    }
    // A query still blocked on the socket must not hold the exit (it would give up after 5 s).
    runtime.shutdown_timeout(Duration::from_millis(100));
    stopped
}

async fn poll(socket: PathBuf, interval: Duration, view: &mut View) -> Stopped {
    use tokio::signal::unix::{SignalKind, signal};
    // Registered once, before the first query, so a signal between two waits is not missed.
    let (mut interrupt, mut terminate) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(interrupt), Ok(terminate)) => (interrupt, terminate),
        (Err(e), _) | (_, Err(e)) => return Stopped::Output(e),
    };
    let mut previous: Option<Status> = None;
    loop {
        let path = socket.clone();
        let query = tokio::task::spawn_blocking(move || super::query_status(&path));
        let status = tokio::select! {
            _ = interrupt.recv() => return Stopped::Interrupted,
            _ = terminate.recv() => return Stopped::Interrupted,
            answer = query => answer,
        };
        let status = match status {
            Ok(Ok(status)) => status,
            Ok(Err(e)) if previous.is_some() => {
                return Stopped::Daemon(format!("the daemon went away: {e}"));
            }
            Ok(Err(e)) => return Stopped::Daemon(e.to_string()),
            Err(e) => return Stopped::Daemon(e.to_string()),
        };
        let found = changes(previous.as_ref(), &status);
        if let Err(e) = view.show(&status, &found, SystemTime::now()) {
            return Stopped::Output(e);
        }
        previous = Some(status);
        tokio::select! {
            _ = interrupt.recv() => return Stopped::Interrupted,
            _ = terminate.recv() => return Stopped::Interrupted,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

enum View {
    Screen(Screen),
    Lines,
}

impl View {
    fn show(&mut self, status: &Status, found: &[Change], now: SystemTime) -> io::Result<()> {
        let mut out = io::stdout().lock();
        match self {
            View::Lines => {
                for change in found {
                    writeln!(out, "{}", line(change, now))?;
                }
            }
            View::Screen(screen) => {
                screen.record(found.iter().map(|c| line(c, now)));
                if let Some(bytes) = screen.update(&screen.frame(status)) {
                    out.write_all(bytes.as_bytes())?;
                }
            }
        }
        out.flush()
    }
}

/// The terminal view: the frame last drawn, and the recent change lines.
pub struct Screen {
    interval: Duration,
    drawn: Option<Vec<String>>,
    recent: Vec<String>,
}

impl Screen {
    pub fn new(interval: Duration) -> Screen {
        Screen {
            interval,
            drawn: None,
            recent: Vec::new(),
        }
    }

    /// Keeps the latest [`RECENT`] change lines.
    pub fn record(&mut self, lines: impl IntoIterator<Item = String>) {
        self.recent.extend(lines);
        let excess = self.recent.len().saturating_sub(RECENT);
        self.recent.drain(..excess);
    }

    /// What the screen should show for `status`.
    pub fn frame(&self, status: &Status) -> Vec<String> {
        let mut frame = vec![format!(
            "keepvip watch: router {}, pid {}, every {} ms (Ctrl-C quits)",
            status.router_id,
            status.pid,
            self.interval.as_millis()
        )];
        frame.push(String::new());
        frame.extend(rows(status));
        frame.push(String::new());
        frame.push("recent changes:".to_owned());
        frame.extend(self.recent.iter().cloned());
        frame
    }

    /// The bytes that turn the screen into `frame`, or None when it already shows it. Lines are
    /// overwritten in place (cursor home, each line then erase-to-end-of-line, erase below), never
    /// cleared first, so a redraw does not flicker; the first draw clears the screen and hides the
    /// cursor.
    pub fn update(&mut self, frame: &[String]) -> Option<String> {
        if self.drawn.as_deref() == Some(frame) {
            return None;
        }
        let mut bytes = String::new();
        if self.drawn.is_none() {
            bytes.push_str("\x1b[?25l\x1b[2J");
        }
        bytes.push_str("\x1b[H");
        for line in frame {
            bytes.push_str(line);
            bytes.push_str("\x1b[K\n");
        }
        bytes.push_str("\x1b[J");
        self.drawn = Some(frame.to_vec());
        Some(bytes)
    }

    /// Shows the cursor again, below the last frame.
    fn leave(&self, out: &mut impl Write) -> io::Result<()> {
        if self.drawn.is_some() {
            out.write_all(b"\x1b[?25h")?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{InstanceStatus, LastTransition};

    fn status(state: &str, age_ms: u64) -> Status {
        Status {
            pid: 7,
            router_id: "lb1".into(),
            instances: vec![InstanceStatus {
                name: "VI_1".into(),
                state: state.into(),
                last_transition: Some(LastTransition {
                    from: "INIT".into(),
                    to: state.into(),
                    reason: "startup".into(),
                    age_ms,
                    ..LastTransition::default()
                }),
                ..InstanceStatus::default()
            }],
            ..Status::default()
        }
    }

    #[test]
    fn the_screen_is_redrawn_only_when_what_it_shows_changes_and_in_place() {
        let mut screen = Screen::new(Duration::from_millis(250));
        let first = screen
            .update(&screen.frame(&status("BACKUP", 100)))
            .unwrap();
        assert!(first.starts_with("\x1b[?25l\x1b[2J\x1b[H"), "{first:?}");
        assert!(first.contains("VI_1"), "{first:?}");
        // Same second of age, same state: nothing to draw.
        assert_eq!(screen.update(&screen.frame(&status("BACKUP", 900))), None);
        // Another state: redrawn in place, without clearing the screen first.
        let again = screen
            .update(&screen.frame(&status("MASTER", 900)))
            .unwrap();
        assert!(again.starts_with("\x1b[H"), "{again:?}");
        assert!(!again.contains("\x1b[2J"), "{again:?}");
        assert!(
            again.contains("MASTER\x1b[K") || again.contains("MASTER "),
            "{again:?}"
        );
        assert!(again.ends_with("\x1b[J"), "{again:?}");
    }

    #[test]
    fn the_screen_keeps_the_latest_changes_under_the_table() {
        let mut screen = Screen::new(Duration::from_millis(250));
        screen.record((0..20).map(|n| format!("change {n}")));
        let frame = screen.frame(&status("BACKUP", 0));
        assert_eq!(frame.last().map(String::as_str), Some("change 19"));
        assert!(frame.contains(&"change 8".to_owned()));
        assert!(!frame.contains(&"change 7".to_owned()));
        let header = frame
            .iter()
            .position(|l| l.starts_with("INSTANCE"))
            .unwrap();
        assert!(frame[header + 1].starts_with("VI_1"), "{frame:?}");
    }
}
