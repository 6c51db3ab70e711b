//! Reload without a flap: the settings a running router can take in place. Not in the RFC; the rule
//! is that an in-place change never resigns, restarts a timer or re-announces what did not change.

use crate::config::Config;
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
            ..c.clone()
        };
        old.is_owner() == new.is_owner() && comparable(old) == comparable(new)
    }

    /// Takes `new` (see [`Router::can_update_in_place`]; the caller checked). A master swaps the VIPs
    /// that changed, removing the old ones first and announcing only the new ones; a priority or
    /// tracker change acts like the matching input.
    pub fn update_in_place(&mut self, now: Instant, new: Config, out: &mut Vec<Action>) {
        let before = self.effective_priority();
        let (old_vips, new_vips) = (self.config.vip_set(), new.vip_set());
        let mut health_changed = self.health.set_trackers(&new.trackers);
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
}
