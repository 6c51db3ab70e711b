//! `track_process` (keepalived's `vrrp_track_process`): OK while the number of running processes
//! that match a name (and arguments) is within a quorum. This module owns the tracker's
//! definition ([`ProcessSpec`]) and its task ([`spawn`]); the submodules own the parts:
//!
//! | module | owns |
//! | --- | --- |
//! | `matching` | whether a process's `comm` and command line match (keepalived's rules) |
//! | `procfs` | reading /proc: scanning all PIDs, checking one |
//! | `connector` | the kernel's process events connector (netlink) |
//! | `hold` | quorum, `fork_delay` and `terminate_delay` |
//!
//! Detection is event-driven, as keepalived's: the task subscribes to the proc connector and, on
//! each fork, exec, comm change or exit, checks only the PIDs concerned (a fork matters only if
//! the parent is counted; an exit removes the PID). Checks are gathered for [`SETTLE`] so that a
//! burst of events costs one batch of /proc reads, which run on the blocking pool. keepvip also
//! rescans all of /proc every [`RESCAN_EVERY`] in case events were lost, and at once (after
//! [`SETTLE`]) when the kernel says they were (ENOBUFS).
//!
//! Fallback: when the connector cannot be opened (no CAP_NET_ADMIN, a network namespace other
//! than the initial one, a kernel without `CONFIG_PROC_EVENTS`) or fails later, the task polls:
//! a full /proc scan every [`POLL_EVERY`]. Which mode runs is logged once per tracker.
//!
//! `same_netns` is keepvip's own: network namespaces share the PID namespace, so without it a
//! haproxy in another namespace (a lab, a container) would count.

mod connector;
mod hold;
mod matching;
mod procfs;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::{Reading, Report, ReportSender, TrackId};
pub use crate::config::ParamMatch;
use connector::{Connector, ProcEvent};
use hold::Hold;
use matching::Pattern;
use procfs::Matcher;

/// How long events are gathered before the PIDs they name are checked.
pub const SETTLE: Duration = Duration::from_millis(10);
/// Full /proc rescans while events arrive, in case some were lost.
pub const RESCAN_EVERY: Duration = Duration::from_secs(5);
/// Full /proc scans when the connector is not available.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// What a process tracker counts, and when it is OK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Compared with `comm` (cut to 15 bytes); with `args`, with `argv[0]`'s last component; if it
    /// holds a `/`, with `argv[0]` exactly. See `matching` for the rules and their sources.
    pub name: String,
    /// Compared with the process's arguments joined by spaces, per `param_match`; `None` ignores
    /// the arguments. `Some("")` with `Exact`: the process must have none.
    pub args: Option<String>,
    pub param_match: ParamMatch,
    /// OK when quorum <= count <= quorum_max (`None`: no maximum). keepalived's default 1.
    pub quorum: u32,
    pub quorum_max: Option<u32>,
    /// How long a change caused by processes appearing must hold before it is reported.
    pub fork_delay: Duration,
    /// How long a change caused by processes going must hold before it is reported.
    pub terminate_delay: Duration,
    /// Count only processes in our own network namespace.
    pub same_netns: bool,
}

impl ProcessSpec {
    /// `name` with keepalived's defaults: no argument check, quorum 1, no maximum, no delay.
    pub fn new(name: impl Into<String>) -> ProcessSpec {
        ProcessSpec {
            name: name.into(),
            args: None,
            param_match: ParamMatch::Exact,
            quorum: 1,
            quorum_max: None,
            fork_delay: Duration::ZERO,
            terminate_delay: Duration::ZERO,
            same_netns: false,
        }
    }

    /// Sets both delays, as keepalived's `delay`.
    pub fn with_delay(mut self, delay: Duration) -> ProcessSpec {
        self.fork_delay = delay;
        self.terminate_delay = delay;
        self
    }
}

impl From<&crate::config::TrackProcess> for ProcessSpec {
    fn from(t: &crate::config::TrackProcess) -> ProcessSpec {
        ProcessSpec {
            name: t.process.clone(),
            args: t.args.clone(),
            param_match: t.param_match,
            quorum: t.quorum,
            quorum_max: t.quorum_max,
            fork_delay: t.fork_delay,
            terminate_delay: t.terminate_delay,
            same_netns: t.same_netns,
        }
    }
}

/// Starts the task that follows `spec`: it reports `Reading::Ok` or `Reading::Ko` after an
/// initial scan (no delay), then each change that held for its delay. It ends when `sink` is
/// closed.
pub fn spawn(tracker: TrackId, spec: ProcessSpec, sink: ReportSender) -> JoinHandle<()> {
    spawn_with(tracker, spec, sink, Mode::Events)
}

/// How the task learns of processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The proc connector if it opens, else polling.
    Events,
    /// Polling only (tests of the fallback).
    Poll,
}

pub(crate) fn spawn_with(
    tracker: TrackId,
    spec: ProcessSpec,
    sink: ReportSender,
    mode: Mode,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Some(task) = Task::start(tracker, &spec, sink, mode).await {
            task.run().await;
        }
    })
}

/// One process tracker's task state.
struct Task {
    tracker: TrackId,
    name: String,
    sink: ReportSender,
    matcher: Arc<Matcher>,
    connector: Option<Connector>,
    /// The PIDs counted now.
    counted: HashSet<i32>,
    hold: Hold,
    /// PIDs to check when [`SETTLE`] ends, or a full rescan.
    batch: HashSet<i32>,
    rescan: bool,
    settle_at: Option<Instant>,
    rescan_at: Instant,
}

impl Task {
    /// Subscribes (or picks polling), scans, and reports the first reading. `None` if the daemon
    /// no longer listens.
    async fn start(
        tracker: TrackId,
        spec: &ProcessSpec,
        sink: ReportSender,
        mode: Mode,
    ) -> Option<Task> {
        let name = spec.name.clone();
        let connector = open_connector(&name, mode);
        let netns = if spec.same_netns {
            own_netns(&name)
        } else {
            None
        };
        let pattern = Pattern::new(&spec.name, spec.args.as_deref(), spec.param_match);
        let matcher = Arc::new(Matcher::new(pattern, netns));
        // Subscribed first, scanned second: a process that starts meanwhile is in one or the other.
        let counted = scan(&matcher).await;
        let delays = (spec.fork_delay, spec.terminate_delay);
        let hold = Hold::new(spec.quorum, spec.quorum_max, delays, counted.len());
        let mut task = Task {
            tracker,
            name,
            sink,
            matcher,
            connector,
            counted,
            hold,
            batch: HashSet::new(),
            rescan: false,
            settle_at: None,
            rescan_at: Instant::now(),
        };
        task.rescan_at += task.rescan_every();
        let first = task.hold.reported();
        task.report(first).await.then_some(task)
    }

    fn rescan_every(&self) -> Duration {
        if self.connector.is_some() {
            RESCAN_EVERY
        } else {
            POLL_EVERY
        }
    }

    async fn run(mut self) {
        loop {
            let due = self.hold.due_at();
            let state = tokio::select! {
                events = recv(self.connector.as_ref()) => self.on_events(events),
                () = sleep_until(self.settle_at) => self.settle().await,
                () = tokio::time::sleep_until(self.rescan_at) => {
                    self.rescan = true;
                    self.settle().await
                }
                () = sleep_until(due) => self.hold.poll(Instant::now()),
                () = self.sink.closed() => return,
            };
            if let Some(state) = state
                && !self.report(state).await
            {
                return;
            }
        }
    }

    /// Notes what the events ask to check (exits count at once); the state to report now, if any.
    fn on_events(&mut self, events: std::io::Result<Vec<ProcEvent>>) -> Option<bool> {
        let events = match events {
            Ok(events) => events,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                debug!(process = %self.name, "process events lost; rescanning /proc");
                self.rescan = true;
                self.settle_at
                    .get_or_insert_with(|| Instant::now() + SETTLE);
                return None;
            }
            Err(e) => {
                warn!(process = %self.name, error = %e, poll_ms = POLL_EVERY.as_millis(),
                    "track_process: proc connector failed; polling /proc from now on");
                self.connector = None;
                self.rescan_at = Instant::now();
                return None;
            }
        };
        let before = self.counted.len();
        for event in events {
            self.note(event);
        }
        if !self.batch.is_empty() {
            self.settle_at
                .get_or_insert_with(|| Instant::now() + SETTLE);
        }
        self.count_changed(before)
    }

    /// keepalived's handling of each event, as PIDs to check.
    fn note(&mut self, event: ProcEvent) {
        match event {
            // Threads (pid != tgid) are not processes; a child matches only if its parent did.
            ProcEvent::Fork {
                parent_tgid,
                child_pid,
                child_tgid,
            } if child_pid == child_tgid
                && (self.counted.contains(&parent_tgid) || self.batch.contains(&parent_tgid)) =>
            {
                self.batch.insert(child_tgid);
            }
            ProcEvent::Exec { tgid } => {
                self.batch.insert(tgid);
            }
            ProcEvent::Comm { pid, tgid } if pid == tgid => {
                self.batch.insert(tgid);
            }
            ProcEvent::Exit { pid, tgid } if pid == tgid => {
                self.batch.remove(&tgid);
                self.counted.remove(&tgid);
            }
            _ => {}
        }
    }

    /// Checks the gathered PIDs (or rescans everything) and applies the result; the state to
    /// report now, if any.
    async fn settle(&mut self) -> Option<bool> {
        self.settle_at = None;
        let before = self.counted.len();
        if std::mem::take(&mut self.rescan) {
            self.rescan_at = Instant::now() + self.rescan_every();
            self.batch.clear();
            self.counted = scan(&self.matcher).await;
        } else {
            let pids: Vec<i32> = self.batch.drain().collect();
            let matcher = Arc::clone(&self.matcher);
            let checked = tokio::task::spawn_blocking(move || {
                let check = |pid| (pid, matcher.matches(pid));
                pids.into_iter().map(check).collect::<Vec<_>>()
            });
            for (pid, counts) in checked.await.unwrap_or_default() {
                if counts {
                    self.counted.insert(pid);
                } else {
                    self.counted.remove(&pid);
                }
            }
        }
        self.count_changed(before)
    }

    /// Feeds a count change to the quorum rules; the state to report now, if any.
    fn count_changed(&mut self, before: usize) -> Option<bool> {
        let now = self.counted.len();
        if now != before {
            debug!(process = %self.name, before, now, "track_process count changed");
        }
        self.hold.count_changed(before, now, Instant::now())
    }

    async fn report(&mut self, ok: bool) -> bool {
        let count = self.counted.len();
        info!(process = %self.name, count, state = if ok { "OK" } else { "KO" }, "track_process");
        let reading = if ok { Reading::Ok } else { Reading::Ko };
        let report = Report {
            tracker: self.tracker,
            reading,
        };
        self.sink.send(report).await.is_ok()
    }
}

fn open_connector(name: &str, mode: Mode) -> Option<Connector> {
    if mode == Mode::Poll {
        info!(process = %name, poll_ms = POLL_EVERY.as_millis(), "track_process: polling /proc");
        return None;
    }
    match Connector::open() {
        Ok(c) => {
            info!(process = %name, rescan_s = RESCAN_EVERY.as_secs(),
                "track_process: process events from the proc connector");
            Some(c)
        }
        Err(e) => {
            warn!(process = %name, error = %e, poll_ms = POLL_EVERY.as_millis(),
                "track_process: proc connector unavailable; polling /proc");
            None
        }
    }
}

fn own_netns(name: &str) -> Option<std::ffi::OsString> {
    match procfs::own_netns() {
        Ok(ns) => Some(ns),
        Err(e) => {
            warn!(process = %name, error = %e,
                "track_process: own network namespace unknown; counting processes in all");
            None
        }
    }
}

/// A full /proc scan on the blocking pool.
async fn scan(matcher: &Arc<Matcher>) -> HashSet<i32> {
    let matcher = Arc::clone(matcher);
    tokio::task::spawn_blocking(move || matcher.scan())
        .await
        .unwrap_or_default()
}

/// The connector's next events, or never when there is no connector.
async fn recv(connector: Option<&Connector>) -> std::io::Result<Vec<ProcEvent>> {
    match connector {
        Some(c) => c.recv().await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `at`, or forever when there is no `at`.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
