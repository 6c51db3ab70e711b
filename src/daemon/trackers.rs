//! Tracker readings into node inputs: every reading a tracker reports (scripts, files, processes on
//! their tasks; interfaces from the daemon's own link events) goes to each instance that tracks it, as
//! `Input::Tracker` (OK/KO) or `Input::TrackerValue` (a file's number). The core turns them into
//! priority and FAULT.

use tracing::error;
use vrrp_core::{Input, NodeInput, TrackerId};

use super::state::Daemon;
use super::tracker_setup::{describe, kind_name};
use crate::logging::events;
use crate::track::{Reading, Report, TrackId};

impl Daemon {
    /// A tracker's reading: recorded, and given to every instance that tracks it if it changed.
    pub(super) async fn handle_report(&mut self, report: Report) {
        let previous = self.trackers.get(report.tracker).and_then(|t| t.reading);
        if self.trackers.record(report) {
            self.feed_reading_after(report, previous).await;
        }
    }

    /// Gives a first reading to every instance that tracks it.
    pub(super) async fn feed_reading(&mut self, report: Report) {
        self.feed_reading_after(report, None).await;
    }

    /// Gives a reading that follows `previous` to every instance that tracks it, logging the change.
    async fn feed_reading_after(&mut self, report: Report, previous: Option<Reading>) {
        let Some(tracker) = self.trackers.get(report.tracker) else {
            return;
        };
        let instances: Vec<&str> = tracker
            .watchers
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        events::tracker_change(
            &tracker.name,
            kind_name(tracker.kind),
            previous.map(describe).as_deref(),
            &describe(report.reading),
            &instances,
        );
        let targets: Vec<(vrrp_core::InstanceId, usize)> = tracker
            .watchers
            .iter()
            .filter_map(|(name, index)| Some((self.table.find(name)?, *index)))
            .collect();
        let now = self.clock.now();
        for (id, index) in targets {
            let tracker = TrackerId(index);
            let input = match report.reading {
                Reading::Ok => Input::Tracker { tracker, ok: true },
                Reading::Ko => Input::Tracker { tracker, ok: false },
                Reading::Value(value) => Input::TrackerValue { tracker, value },
            };
            self.feed(now, NodeInput::Instance(id, input)).await;
        }
    }

    /// An interface's link state, if that interface is tracked (up means IFF_UP and IFF_RUNNING).
    pub(super) async fn track_interface(&mut self, name: &str, up: bool) {
        if let Some(tracker) = self.trackers.interface(name) {
            let reading = if up { Reading::Ok } else { Reading::Ko };
            self.handle_report(Report { tracker, reading }).await;
        }
    }
}

impl Daemon {
    /// A tracker's task ended: it reads KO from now on, loudly.
    pub(super) async fn tracker_ended(&mut self, tracker: TrackId) {
        let name = self.trackers.get(tracker).map_or("?", |t| t.name.as_str());
        error!(tracker = %name, "tracker task ended: it reads KO from now on");
        let report = Report {
            tracker,
            reading: Reading::Ko,
        };
        self.handle_report(report).await;
    }
}
