//! Effective priority and the FAULT conditions (link, source address, weight-0 trackers): the one home
//! of keepalived's tracker rules and of the clamping rule.
//!
//! A tracker with weight `w` (and `reverse` flipping the sign of what it adds):
//! - OK/KO trackers (scripts, interfaces, processes): `w > 0` adds `w` while OK, `w < 0` adds `w` while
//!   KO; `w == 0` means FAULT while KO (while OK with `reverse`).
//! - value trackers (files): `w == 0` means FAULT while the value is not 0 (while it is 0 with
//!   `reverse`); otherwise `value * w` (negated with `reverse`) is added, at most 253, and at or below
//!   -254 it means FAULT.
//! - The sum is added to the base priority and clamped to 1..=254; an owner (255) never changes and
//!   ignores weighted trackers altogether (a file's -254 included), but its weight-0 trackers still
//!   put it in FAULT.

use crate::config::{OWNER_PRIORITY, TrackerConfig, TrackerId};

/// At or below this, a value tracker's contribution means FAULT (keepalived's rule).
const VALUE_FAULT_AT: i64 = -254;
/// A value tracker adds at most this.
const VALUE_MAX: i64 = 253;

/// What a tracker last reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackerStatus {
    Ok(bool),
    Value(i64),
}

/// The live status of a router's trackers, link and source address, from which effective priority and
/// FAULT follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    base: u8,
    trackers: Vec<TrackerConfig>,
    status: Vec<TrackerStatus>,
    link_up: bool,
    source_present: bool,
}

/// A tracker's effect now: a priority delta, or FAULT.
enum Effect {
    Add(i64),
    Fault,
}

fn effect(tracker: &TrackerConfig, status: TrackerStatus) -> Effect {
    let weight = i64::from(tracker.weight);
    let sign = if tracker.reverse { -1 } else { 1 };
    match status {
        TrackerStatus::Ok(ok) if weight == 0 => {
            if ok == tracker.reverse {
                Effect::Fault
            } else {
                Effect::Add(0)
            }
        }
        TrackerStatus::Ok(ok) => {
            let applies = if weight > 0 { ok } else { !ok };
            Effect::Add(if applies { sign * weight } else { 0 })
        }
        TrackerStatus::Value(value) if weight == 0 => {
            if (value != 0) != tracker.reverse {
                Effect::Fault
            } else {
                Effect::Add(0)
            }
        }
        TrackerStatus::Value(value) => {
            let contribution = value.saturating_mul(weight).saturating_mul(sign);
            if contribution <= VALUE_FAULT_AT {
                Effect::Fault
            } else {
                Effect::Add(contribution.min(VALUE_MAX))
            }
        }
    }
}

fn initial(tracker: &TrackerConfig) -> TrackerStatus {
    TrackerStatus::Ok(tracker.initially_ok)
}

impl Health {
    pub fn new(base: u8, trackers: &[TrackerConfig]) -> Health {
        Health {
            base,
            trackers: trackers.to_vec(),
            status: trackers.iter().map(initial).collect(),
            link_up: true,
            source_present: true,
        }
    }

    /// Records a tracker update; false if the id is unknown or nothing changed.
    pub fn set_tracker(&mut self, tracker: TrackerId, status: TrackerStatus) -> bool {
        match self.status.get_mut(tracker.0) {
            Some(slot) if *slot != status => {
                *slot = status;
                true
            }
            _ => false,
        }
    }

    /// Replaces the tracker list (reload): a tracker at an index that existed keeps its status, a new
    /// one starts at its `initially_ok`. True if the effective priority or a FAULT condition may
    /// have changed.
    pub fn set_trackers(&mut self, trackers: &[TrackerConfig]) -> bool {
        if self.trackers == trackers {
            return false;
        }
        let status = trackers
            .iter()
            .enumerate()
            .map(|(i, t)| self.status.get(i).copied().unwrap_or_else(|| initial(t)))
            .collect();
        self.trackers = trackers.to_vec();
        self.status = status;
        true
    }

    /// Replaces the tracker list with each tracker's status known by the caller (`status[i]` for
    /// `trackers[i]`; `None` or missing: its `initially_ok`). True if the effective priority or a FAULT
    /// condition may have changed.
    pub fn set_trackers_with(
        &mut self,
        trackers: &[TrackerConfig],
        status: &[Option<TrackerStatus>],
    ) -> bool {
        let new_status: Vec<TrackerStatus> = trackers
            .iter()
            .enumerate()
            .map(|(i, t)| {
                status
                    .get(i)
                    .copied()
                    .flatten()
                    .unwrap_or_else(|| initial(t))
            })
            .collect();
        if self.trackers == trackers && self.status == new_status {
            return false;
        }
        self.trackers = trackers.to_vec();
        self.status = new_status;
        true
    }

    /// Takes what `old` observed (link, source address, tracker readings by position) into a health
    /// built from a new config, so a restarted router does not forget a dead link or a failed check.
    pub fn inherit(&mut self, old: &Health) {
        self.link_up = old.link_up;
        self.source_present = old.source_present;
        for (status, old_status) in self.status.iter_mut().zip(&old.status) {
            *status = *old_status;
        }
    }

    /// Records a new base priority (reload); false if refused (owner, 0, 255) or unchanged.
    pub fn set_base(&mut self, base: u8) -> bool {
        if self.base == OWNER_PRIORITY || base == 0 || base == OWNER_PRIORITY || base == self.base {
            return false;
        }
        self.base = base;
        true
    }

    /// Records the link state; false if unchanged.
    pub fn set_link(&mut self, up: bool) -> bool {
        let changed = self.link_up != up;
        self.link_up = up;
        changed
    }

    pub fn link_up(&self) -> bool {
        self.link_up
    }

    /// Records whether the primary (source) address is usable; false if unchanged.
    pub fn set_source_present(&mut self, present: bool) -> bool {
        let changed = self.source_present != present;
        self.source_present = present;
        changed
    }

    pub fn source_present(&self) -> bool {
        self.source_present
    }

    /// Base plus every tracker's contribution, clamped to 1..=254. An owner (255) never changes.
    pub fn effective_priority(&self) -> u8 {
        if self.base == OWNER_PRIORITY {
            return OWNER_PRIORITY;
        }
        let delta: i64 = self
            .trackers
            .iter()
            .zip(&self.status)
            .map(|(tracker, &status)| match effect(tracker, status) {
                Effect::Add(n) => n,
                Effect::Fault => 0,
            })
            .sum();
        let clamped = (i64::from(self.base) + delta).clamp(1, 254);
        u8::try_from(clamped).unwrap_or(1)
    }

    /// The first tracker whose state means FAULT. An owner heeds only its weight-0 trackers
    /// (keepalived drops weighted ones from an owner, files' -254 included).
    pub fn failed_fault_tracker(&self) -> Option<TrackerId> {
        let owner = self.base == OWNER_PRIORITY;
        self.trackers
            .iter()
            .zip(&self.status)
            .position(|(tracker, &status)| {
                (!owner || tracker.weight == 0) && matches!(effect(tracker, status), Effect::Fault)
            })
            .map(TrackerId)
    }

    /// Each tracker's last status, in [`crate::Config::trackers`] order.
    pub fn tracker_status(&self) -> &[TrackerStatus] {
        &self.status
    }
}
