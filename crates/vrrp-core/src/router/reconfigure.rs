//! Reload without a flap: the settings a running router can take in place. Not in the RFC; the rule
//! is that an in-place change never resigns, restarts a timer or re-announces what did not change.

use crate::config::Config;
use crate::health::TrackerStatus;
use crate::input::Action;
use crate::time::Instant;

use super::{Router, State};

impl Router {
    /// Whether `new` differs from the running config only in settings [`Router::update_in_place`]
    /// takes: base priority (not to or from owner), VIPs, trackers, preempt, preempt delay, accept
    /// mode, checksum mode. Anything else (version, interval, source address, authentication, behaviour options)
    /// needs a restart.
    pub fn can_update_in_place(&self, new: &Config) -> bool {
        let old = &self.config;
        let comparable = |c: &Config| Config {
            priority: 0,
            addresses: new.addresses.clone(),
            excluded_addresses: Vec::new(),
            trackers: Vec::new(),
            preempt: false,
            preempt_delay: crate::Micros::ZERO,
            accept_mode: false,
            checksum_mode: vrrp_wire::ChecksumMode::PseudoHeader,
            // Read at Startup only: a running router has no use for it.
            startup_delay: crate::Micros::ZERO,
            ..c.clone()
        };
        old.is_owner() == new.is_owner() && comparable(old) == comparable(new)
    }

    /// Takes `new` (see [`Router::can_update_in_place`]; the caller checked). A master swaps the VIPs
    /// that changed, removing the old ones first and announcing only the new ones; a priority or
    /// tracker change acts like the matching input.
    pub fn update_in_place(&mut self, now: Instant, new: Config, out: &mut Vec<Action>) {
        self.update_in_place_with(now, new, None, out);
    }

    /// [`Router::update_in_place`] where the caller knows each new tracker's status (`status[i]` for
    /// `new.trackers[i]`; `None`: not known yet, it starts at its `initially_ok`), so a tracker list
    /// that was reordered or shortened never lends one tracker's status to another.
    pub fn update_in_place_with(
        &mut self,
        now: Instant,
        new: Config,
        status: Option<&[Option<TrackerStatus>]>,
        out: &mut Vec<Action>,
    ) {
        let before = self.effective_priority();
        let (old_vips, new_vips) = (self.config.vip_set(), new.vip_set());
        let mut health_changed = match status {
            Some(status) => self.health.set_trackers_with(&new.trackers, status),
            None => self.health.set_trackers(&new.trackers),
        };
        health_changed |= self.health.set_base(new.priority);
        self.config = new;
        if matches!(self.state, State::Master { .. }) && old_vips != new_vips {
            let gone = old_vips.without(&new_vips);
            let added = new_vips.without(&old_vips);
            if !gone.is_empty() {
                out.push(Action::RemoveVips(gone));
            }
            if !added.is_empty() {
                out.push(Action::AddVips(added.clone()));
                out.push(Action::AnnounceVips(added));
            }
        }
        if health_changed {
            self.on_health_changed(now, before, out);
        }
    }

    /// A router replacing `old` (a restart for a changed config) starts from what `old` observed:
    /// link, source address and tracker readings.
    pub(crate) fn inherit_health(&mut self, old: &Router) {
        self.health.inherit(&old.health);
    }

    /// A router replacing `old` keeps `old`'s startup hold: a restart during `startup_delay` does not
    /// end it early, and one after it does not start a new one.
    pub(crate) fn inherit_startup_hold(&mut self, old: &Router) {
        self.startup_hold_until = old.startup_hold_until;
    }

    /// Sets every tracker's status at once (`None`: its `initially_ok`), for a restarted router whose
    /// caller knows the readings.
    pub(crate) fn set_tracker_status(&mut self, status: &[Option<TrackerStatus>]) {
        let trackers = self.config.trackers.clone();
        self.health.set_trackers_with(&trackers, status);
    }
}
