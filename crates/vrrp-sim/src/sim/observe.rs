//! What the simulator shows: the snapshot the checks look at (rebuilt after every event) and the
//! trace header.

use vrrp_core::{Instant, Micros, StateKind};

use super::Sim;
use crate::check::{Invariant, RouterView};
use crate::trace::{self, Trace};

impl Sim {
    /// Builds the snapshot and runs every check that applies now.
    pub(super) fn check(&mut self) {
        if self.violation.is_some() {
            return;
        }
        let mut views = std::mem::take(&mut self.views);
        views.clear();
        let settle = self.checker.settle();
        let mut wrong_priority = None;
        for (id, host) in self.hosts.iter().enumerate() {
            for (slot_id, slot) in host.slots.iter().enumerate() {
                let Some(router) = host.router(slot_id) else {
                    continue;
                };
                let priority = router.effective_priority();
                if priority != slot.modeled_priority() && wrong_priority.is_none() {
                    wrong_priority = Some(format!(
                        "{} reports effective priority {priority}, the model says {}",
                        trace::router(id, slot.config.vrid),
                        slot.modeled_priority()
                    ));
                }
                views.push(RouterView {
                    host: id,
                    vrid: slot.config.vrid,
                    side: self.net.side(id),
                    address: slot.config.primary_address,
                    state: if host.running() {
                        router.state().kind()
                    } else {
                        StateKind::Initialize
                    },
                    priority,
                    preempting: slot
                        .preempt_from
                        .is_some_and(|from| self.now >= from + settle),
                    sync_group: host.sync_group,
                    vips: host.holding(slot_id),
                });
            }
        }
        views.sort_by_key(|v| (v.vrid, v.side, v.host));
        let mut masters = 0;
        let mut previous = None;
        for view in views.iter().filter(|v| v.state == StateKind::Master) {
            masters = if previous == Some(view.vrid) {
                masters + 1
            } else {
                1
            };
            previous = Some(view.vrid);
            self.stats.max_masters = self.stats.max_masters.max(masters);
        }
        let result = self.checker.check(self.now, &views);
        self.views = views;
        if let Some(detail) = wrong_priority {
            self.fail(Invariant::EffectivePriority, detail);
        }
        if let Some(detail) = self.stray_vip() {
            self.fail(Invariant::VipsOnlyOnMaster, detail);
        }
        if let Err(violation) = result {
            self.fail_with(violation);
        }
        self.check_takeover_deadlines();
        self.check_incumbents();
    }

    /// Records a readable trace from now on (see [`Sim::trace`]).
    pub fn enable_trace(&mut self) {
        let mut trace = Trace::default();
        for (id, host) in self.hosts.iter().enumerate() {
            for slot in &host.slots {
                let c = &slot.config;
                let line = format!(
                    "{} v{} {:?} prio {} int {}cs preempt {}{} fast {} readvert {} trackers {:?}{}{}",
                    trace::host(id, c.primary_address),
                    c.vrid,
                    c.version,
                    c.priority,
                    c.advert_interval.get(),
                    c.preempt,
                    if c.preempt_delay > Micros::ZERO {
                        format!(" (delay {})", trace::time(Instant::ZERO + c.preempt_delay))
                    } else {
                        String::new()
                    },
                    c.fast_handover,
                    c.readvertise_on_lower_priority,
                    c.trackers.iter().map(|t| t.weight).collect::<Vec<_>>(),
                    if host.sync_group { " sync-group" } else { "" },
                    if c.unicast_peers.is_empty() {
                        String::new()
                    } else {
                        format!(" unicast to {:?}", c.unicast_peers)
                    },
                );
                trace.line(self.now, &line);
            }
        }
        let line = format!(
            "network: delay 0..={}us, {}; settle time {}",
            self.net.delay_max().as_micros(),
            crate::model::Event::Weather(self.net.weather()),
            trace::time(Instant::ZERO + self.checker.settle())
        );
        trace.line(self.now, &line);
        self.trace = Some(trace);
    }
}
