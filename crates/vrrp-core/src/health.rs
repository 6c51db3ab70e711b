//! Effective priority and the FAULT conditions (link, source address, weight-0 trackers): the one home
//! for the clamping rule.

use crate::config::{OWNER_PRIORITY, TrackerConfig, TrackerId};

/// The live status of a router's trackers, link and source address, from which effective priority and FAULT follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    base: u8,
    trackers: Vec<TrackerConfig>,
    ok: Vec<bool>,
    link_up: bool,
    source_present: bool,
}

impl Health {
    pub fn new(base: u8, trackers: &[TrackerConfig]) -> Health {
        Health {
            base,
            trackers: trackers.to_vec(),
            ok: trackers.iter().map(|t| t.initially_ok).collect(),
            link_up: true,
            source_present: true,
        }
    }

    /// Records a tracker update; false if the id is unknown or nothing changed.
    pub fn set_tracker(&mut self, tracker: TrackerId, ok: bool) -> bool {
        match self.ok.get_mut(tracker.0) {
            Some(slot) if *slot != ok => {
                *slot = ok;
                true
            }
            _ => false,
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

    /// Replaces the tracker list (reload): a tracker at an index that existed keeps its status, a new
    /// one starts at its `initially_ok`. True if the effective priority or a FAULT condition may
    /// have changed.
    pub fn set_trackers(&mut self, trackers: &[TrackerConfig]) -> bool {
        if self.trackers == trackers {
            return false;
        }
        let ok = trackers
            .iter()
            .enumerate()
            .map(|(i, t)| self.ok.get(i).copied().unwrap_or(t.initially_ok))
            .collect();
        self.trackers = trackers.to_vec();
        self.ok = ok;
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

    /// keepalived semantics: base + weights of OK trackers with weight > 0 + weights of KO trackers with
    /// weight < 0, clamped to 1..=254. An owner (255) never changes.
    pub fn effective_priority(&self) -> u8 {
        if self.base == OWNER_PRIORITY {
            return OWNER_PRIORITY;
        }
        let delta: i32 = self
            .trackers
            .iter()
            .zip(&self.ok)
            .map(|(tracker, &ok)| match (tracker.weight, ok) {
                (w, true) if w > 0 => i32::from(w),
                (w, false) if w < 0 => i32::from(w),
                _ => 0,
            })
            .sum();
        let clamped = (i32::from(self.base) + delta).clamp(1, 254);
        u8::try_from(clamped).unwrap_or(1)
    }

    /// The first weight-0 tracker that is KO: such a tracker means FAULT.
    pub fn failed_fault_tracker(&self) -> Option<TrackerId> {
        self.trackers
            .iter()
            .zip(&self.ok)
            .position(|(tracker, &ok)| tracker.weight == 0 && !ok)
            .map(TrackerId)
    }
}
