//! Preempt_Mode off and preempt delay are honoured: a router that does not preempt (Preempt_Mode off,
//! not the owner) and starts while its side of the network has a settled master leaves that master
//! alone (RFC 5798 §6.4.2 (445): with Preempt_Mode False every advert is followed) — at the next
//! settled check the master is the same router. With a preempt delay instead, the master must be the
//! same when the delay ends. Only when the newcomer must hear the master before its first
//! Master_Down_Interval (computed with its own interval) runs out.

use vrrp_core::{Instant, Micros, StateKind};

use super::Sim;
use crate::check::Invariant;
use crate::model::HostId;
use crate::oracle::master_down_interval;
use crate::trace;

/// The master a starting non-preempting router must not displace.
#[derive(Debug, Clone)]
pub(crate) struct Incumbent {
    vrid: u8,
    side: u8,
    master: HostId,
    newcomer: HostId,
    /// When to check: the end of the newcomer's preempt delay, or (`None`) the next settled check.
    until: Option<Instant>,
}

impl Sim {
    /// Before `host` starts (or a reload adds its router for `only`): what its non-preempting routers
    /// must leave alone.
    pub(super) fn plan_incumbents(
        &self,
        settled: bool,
        host: HostId,
        only: Option<u8>,
    ) -> Vec<Incumbent> {
        let h = &self.hosts[host];
        if !settled || h.sync_group || !h.link_up {
            return Vec::new();
        }
        let side = self.net.side(host);
        let mut plans = Vec::new();
        // A router a reload adds is not in the config yet.
        let starting = |s: &&super::host::Slot| only.map_or(s.present, |v| v == s.config.vrid);
        for slot in h.slots.iter().filter(starting) {
            let config = &slot.config;
            let delayed = config.preempt && config.preempt_delay > Micros::ZERO;
            if (config.preempt && !delayed) || config.is_owner() {
                continue;
            }
            let masters: Vec<HostId> = self
                .running_hosts()
                .filter(|&m| m != host && self.net.side(m) == side)
                .filter(|&m| self.state(m, config.vrid) == Some(StateKind::Master))
                .collect();
            let [master] = masters.as_slice() else {
                continue;
            };
            let m = &self.hosts[*master];
            let Some(m_slot) = m.slot_of(config.vrid) else {
                continue;
            };
            let heard_by = Micros::from_centisecs(m.slots[m_slot].config.advert_interval)
                + self.net.delay_max();
            let own_mdi = master_down_interval(
                config.version,
                slot.modeled_priority(),
                config.advert_interval,
            );
            if m.sync_group || own_mdi <= heard_by {
                continue;
            }
            plans.push(Incumbent {
                vrid: config.vrid,
                side,
                master: *master,
                newcomer: host,
                until: delayed.then(|| self.now + config.preempt_delay),
            });
        }
        plans
    }

    /// At the first settled check after the start: the master must be unchanged.
    pub(super) fn check_incumbents(&mut self) {
        if self.incumbents.is_empty() || !self.checker.is_settled(self.now) {
            return;
        }
        for expected in std::mem::take(&mut self.incumbents) {
            if expected.until.is_none() {
                self.check_incumbent(&expected);
            }
        }
    }

    /// A preempt delay ended (a disturbance): the newcomer's master must still be in place; every
    /// other expectation is dropped.
    pub(super) fn incumbents_at_window_end(&mut self, host: HostId) {
        for expected in std::mem::take(&mut self.incumbents) {
            if expected.newcomer == host && expected.until == Some(self.now) {
                self.check_incumbent(&expected);
            }
        }
    }

    fn check_incumbent(&mut self, expected: &Incumbent) {
        let masters: Vec<HostId> = self
            .running_hosts()
            .filter(|&h| self.net.side(h) == expected.side)
            .filter(|&h| self.state(h, expected.vrid) == Some(StateKind::Master))
            .collect();
        if masters != [expected.master] {
            let detail = format!(
                "{} (no preemption {}) started next to master h{}; now the masters are {masters:?}",
                trace::router(expected.newcomer, expected.vrid),
                match expected.until {
                    Some(until) => format!("until {}", trace::time(until)),
                    None => "at all".to_string(),
                },
                expected.master
            );
            return self.fail(Invariant::PreemptOffHonoured, detail);
        }
        self.stats.incumbents_kept += 1;
    }
}
