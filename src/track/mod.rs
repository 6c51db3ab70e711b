//! Trackers: the conditions an instance's priority follows (keepalived's `track_script`,
//! `track_interface`, `track_file`, `track_process`). Each tracker runs on its own task (or, for
//! interfaces, is fed by the daemon's link monitor) and reports a [`Reading`]; the daemon turns a
//! reading into core inputs for every instance that tracks it. The core alone turns readings and
//! weights into the effective priority or FAULT.

pub mod file;
pub mod process;
pub mod registry;
pub mod script;

/// A tracker of the running daemon, by its index in the daemon's tracker list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrackId(pub usize);

/// What a tracker says now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    Ok,
    Ko,
    /// A number read from a tracked file (`track_file`): the core multiplies it by the weight.
    Value(i64),
}

/// One reading of one tracker, sent to the daemon's loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub tracker: TrackId,
    pub reading: Reading,
}

/// Where tracker tasks send their reports.
pub type ReportSender = tokio::sync::mpsc::Sender<Report>;
